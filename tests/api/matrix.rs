//! The authorization matrix (src/domain/authorization.rs), tested from its data.
//!
//! - Every field of schema.graphql must have an entry, and every entry a field.
//! - Every entry is called with a key of each role, through a path from the root that this
//!   file knows for each type (a type without one fails the test). The answer must be
//!   what the matrix says along that path: the fields answered, or FORBIDDEN at the first
//!   field of the path the role may not use. Export routes likewise.
//! - Ids outside a caller's scope must read exactly as unknown ids, in every query,
//!   mutation, export and subscription that takes one.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};

use async_graphql::parser::{
    parse_schema,
    types::{BaseType, Type, TypeKind, TypeSystemDefinition},
};
use quotagraph::domain::access::Role;
use quotagraph::domain::authorization::{EXPORTS, FIELDS, field_rule};
use quotagraph::graphql::node::{decode_any, encode};
use serde_json::{Value, json};

use crate::events::{Protocol, SETTLE, Subscriber, within_ms};
use crate::helpers::{
    SYSTEM_KEY, TestApp, allocate, create_folder, create_license, create_process, create_unit_type, event, key,
    key_with_id, organization_with_license, record, tenant,
};

/// A field of schema.graphql: the arguments that need a value and the type it returns.
struct SdlField {
    name: String,
    required_args: Vec<String>,
    returns: String,
}

/// The object and interface types of schema.graphql.
struct Sdl {
    types: BTreeMap<String, Vec<SdlField>>,
}

fn base_name(ty: &Type) -> String {
    match &ty.base {
        BaseType::Named(name) => name.to_string(),
        BaseType::List(inner) => base_name(inner),
    }
}

impl Sdl {
    fn read() -> Sdl {
        let document = parse_schema(include_str!("../../schema.graphql")).expect("schema.graphql parses");
        let mut types = BTreeMap::new();
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let fields = match &ty.node.kind {
                TypeKind::Object(object) => &object.fields,
                TypeKind::Interface(interface) => &interface.fields,
                _ => continue,
            };
            let fields = fields
                .iter()
                .map(|f| SdlField {
                    name: f.node.name.node.to_string(),
                    required_args: f
                        .node
                        .arguments
                        .iter()
                        .filter(|a| !a.node.ty.node.nullable && a.node.default_value.is_none())
                        .map(|a| a.node.name.node.to_string())
                        .collect(),
                    returns: base_name(&f.node.ty.node),
                })
                .collect();
            types.insert(ty.node.name.node.to_string(), fields);
        }
        Sdl { types }
    }

    fn is_composite(&self, type_name: &str) -> bool {
        self.types.contains_key(type_name)
    }
}

#[test]
fn every_field_of_the_schema_has_one_matrix_entry() {
    let sdl = Sdl::read();
    let missing: Vec<String> = sdl
        .types
        .iter()
        .flat_map(|(t, fields)| {
            fields
                .iter()
                .filter(|f| field_rule(t, &f.name).is_none())
                .map(move |f| format!("{t}.{}", f.name))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "give these fields a rule in src/domain/authorization.rs: {missing:?}"
    );
    let stale: Vec<String> = FIELDS
        .iter()
        .flat_map(|(t, fields, _)| fields.iter().map(move |f| (*t, *f)))
        .filter(|(t, f)| !sdl.types.get(*t).is_some_and(|fs| fs.iter().any(|x| x.name == *f)))
        .map(|(t, f)| format!("{t}.{f}"))
        .collect();
    assert!(stale.is_empty(), "matrix entries the schema does not have: {stale:?}");
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Query,
    Mutation,
    Subscription,
}

/// How to reach an object of a type from the root: the fields on the way, and the
/// document with `HOLE` where the type's fields go. `%name%` stands for a fixture value.
struct Reach {
    op: Op,
    steps: Vec<(&'static str, &'static str)>,
    template: String,
}

/// A mutation's input, valid for the fixture and repeatable.
fn mutation_input(mutation: &str) -> Option<&'static str> {
    Some(match mutation {
        "createOrganization" => r#"{name: "Org %unique%", slug: "org-%unique%"}"#,
        "createUnitType" => r#"{code: "unit-%unique%", name: "Unit %unique%"}"#,
        "createApiKey" => r#"{organizationId: %org%, role: VIEWER, name: "key %unique%"}"#,
        "revokeApiKey" => "{apiKeyId: %fresh_key%}",
        "createLicense" => {
            r#"{organizationId: %org%, unitType: %fresh_unit%, planName: "Plan", capacity: "10", period: MONTH, startsOn: "2026-01-01"}"#
        }
        "upgradeLicense" => r#"{licenseId: %fresh_license%, planName: "Bigger", capacity: "20"}"#,
        "addCapacity" => r#"{licenseId: %fresh_license%, amount: "1"}"#,
        "createTenant" => r#"{organizationId: %org%, name: "Tenant %unique%"}"#,
        "updateTenant" => r#"{tenantId: %tenant%, name: "Alpha %unique%"}"#,
        "setAllocation" => r#"{tenantId: %tenant%, unitType: "units", amount: "100", effectiveOn: "2026-11-23"}"#,
        "createFolder" => r#"{tenantId: %tenant%, name: "Folder %unique%"}"#,
        "createProcess" => r#"{folderId: %folder%, name: "Process %unique%"}"#,
        "recordUsage" => {
            r#"{events: [{idempotencyKey: "k-%unique%", tenantId: %tenant%, unitType: "units", service: "robots", quantity: "1", occurredAt: "2026-11-20T10:00:00Z"}]}"#
        }
        "startExecution" => {
            r#"{idempotencyKey: "s-%unique%", tenantId: %tenant%, unitType: "units", service: "robots", quantity: "1"}"#
        }
        "setConsumptionControl" => r#"{tenantId: %tenant%, unitType: "units", alertThresholds: [0.5]}"#,
        // The same duration again changes nothing, so every allowed role may send it.
        "finishExecution" => r#"{tenantId: %tenant%, idempotencyKey: "e1", durationMs: 1000}"#,
        "updateService" => r#"{code: "robots", name: "Robots"}"#,
        "setOrganizationAlertThresholds" => r#"{organizationId: %org%, unitType: "units", thresholds: [0.5, 1.0]}"#,
        // A public address literal: no DNS; the delivery to it may fail, which is fine here.
        "createWebhookEndpoint" => {
            r#"{organizationId: %org%, url: "http://203.0.113.10/hook", kinds: [THRESHOLD_CROSSED]}"#
        }
        "deleteWebhookEndpoint" => "{id: %fresh_webhook%}",
        "retryWebhookDelivery" => "{id: %delivery%}",
        "createExportLink" => r#"{report: "tenants", organizationId: %org%, unitType: "units"}"#,
        // The first allowed role voids it; the others find it voided already.
        "voidUsage" => r#"{organizationId: %org%, idempotencyKeys: ["v1"], reason: "matrix"}"#,
        "setAllocations" | "previewAllocations" => {
            r#"{organizationId: %org%, unitType: "units", changes: [{tenantId: %tenant%, amount: "100"}]}"#
        }
        _ => return None,
    })
}

/// The value of a required argument.
fn argument(type_name: &str, field: &str, arg: &str) -> Option<String> {
    let value = match (type_name, field, arg) {
        (_, _, "unitType") => "\"units\"",
        (_, _, "granularity") => "WEEK",
        (_, _, "attribution") => "EXECUTION",
        ("Query", "node", "id") | ("OrganizationUsage", "tenant", "id") => "%tenant%",
        ("OrganizationUsage", "folder", "id") => "%folder%",
        ("Query", "organization", "id") | ("Subscription", _, "organizationId") => "%org%",
        ("Mutation", mutation, "input") => return mutation_input(mutation).map(str::to_owned),
        _ => return None,
    };
    Some(value.to_owned())
}

/// The mutation that answers each payload type.
fn payload_mutation(type_name: &str) -> Option<&'static str> {
    Some(match type_name {
        "OrganizationPayload" => "createOrganization",
        "UnitTypePayload" => "createUnitType",
        "CreateApiKeyPayload" => "createApiKey",
        "RevokeApiKeyPayload" => "revokeApiKey",
        "LicensePayload" => "createLicense",
        "TenantPayload" => "createTenant",
        "AllocationPayload" => "setAllocation",
        "FolderPayload" => "createFolder",
        "ProcessPayload" => "createProcess",
        "RecordUsagePayload" => "recordUsage",
        "StartExecutionPayload" => "startExecution",
        "FinishExecutionPayload" => "finishExecution",
        "ConsumptionControlPayload" => "setConsumptionControl",
        "ServicePayload" => "updateService",
        "CreateWebhookEndpointPayload" => "createWebhookEndpoint",
        "DeleteWebhookEndpointPayload" => "deleteWebhookEndpoint",
        "WebhookDeliveryPayload" => "retryWebhookDelivery",
        "ExportLink" => "createExportLink",
        "VoidUsagePayload" => "voidUsage",
        "SetAllocationsPayload" => "setAllocations",
        _ => return None,
    })
}

/// How to reach `type_name`: a root, a mutation's payload, or a field of a type reached
/// before it (see [`below`]).
fn reach(type_name: &str) -> Option<Reach> {
    let root = |op: Op| Reach {
        op,
        steps: Vec::new(),
        template: "HOLE".into(),
    };
    if let Some(mutation) = payload_mutation(type_name) {
        let input = mutation_input(mutation)?;
        return Some(Reach {
            op: Op::Mutation,
            steps: vec![("Mutation", mutation)],
            template: format!("{mutation}(input: {input}) {{ HOLE }}"),
        });
    }
    match type_name {
        "Query" => Some(root(Op::Query)),
        "Mutation" => Some(root(Op::Mutation)),
        "Subscription" => Some(root(Op::Subscription)),
        "QuotaEvent" => below(
            "Subscription",
            "quotaEvents",
            "quotaEvents(organizationId: %org%) { HOLE }",
        ),
        "ConsumptionControl" => below(
            "ConsumptionControlPayload",
            "consumptionControl",
            "consumptionControl { HOLE }",
        ),
        "Viewer" => below("Query", "viewer", "viewer { HOLE }"),
        "ApiKey" => below("Viewer", "apiKey", "apiKey { HOLE }"),
        "UnitType" => below("Query", "unitTypes", "unitTypes { HOLE }"),
        "Node" => below("Query", "node", "node(id: %tenant%) { HOLE }"),
        "Organization" => below("Query", "organization", "organization(id: %org%) { HOLE }"),
        "OrganizationConnection" => below("Query", "organizations", "organizations(first: 1) { HOLE }"),
        "OrganizationEdge" => below("OrganizationConnection", "edges", "edges { HOLE }"),
        "PageInfo" => below("OrganizationConnection", "pageInfo", "pageInfo { HOLE }"),
        "License" => below("Organization", "licenses", "licenses { HOLE }"),
        "Bundle" => below("Organization", "bundles", "bundles(unitType: \"units\") { HOLE }"),
        "QuotaBalance" => below("Organization", "quota", "quota(unitType: \"units\") { HOLE }"),
        "Activity" => below("Organization", "activity", "activity(unitType: \"units\") { HOLE }"),
        "WeeklyActivity" => below("Activity", "weeks", "weeks { HOLE }"),
        "AuditEntryConnection" => below("Organization", "auditLog", "auditLog { HOLE }"),
        "AuditEntryEdge" => below("AuditEntryConnection", "edges", "edges { HOLE }"),
        "AuditEntry" => below("AuditEntryConnection", "nodes", "nodes { HOLE }"),
        "TenantConnection" => below("Organization", "tenants", "tenants { HOLE }"),
        "TenantEdge" => below("TenantConnection", "edges", "edges { HOLE }"),
        "OrganizationUsage" => below("Organization", "usage", "usage(unitType: \"units\") { HOLE }"),
        "CapacityCard" => below("OrganizationUsage", "capacityCard", "capacityCard { HOLE }"),
        "CapacityBreakdown" => below("OrganizationUsage", "breakdown", "breakdown { HOLE }"),
        "TenantUsage" => below("OrganizationUsage", "tenant", "tenant(id: %tenant%) { HOLE }"),
        "UsageBucket" => below(
            "TenantUsage",
            "distribution",
            "distribution(granularity: WEEK) { HOLE }",
        ),
        "ServiceBreakdown" => below("TenantUsage", "byService", "byService { HOLE }"),
        "Forecast" => below("TenantUsage", "forecast", "forecast { HOLE }"),
        "ServiceUsage" => below("ServiceBreakdown", "services", "services { HOLE }"),
        "Service" => below("ServiceUsage", "service", "service { HOLE }"),
        "FolderUsage" => below("TenantUsage", "folders", "folders(attribution: EXECUTION) { HOLE }"),
        "ProcessUsageConnection" => below("TenantUsage", "processes", "processes(attribution: EXECUTION) { HOLE }"),
        "ProcessUsageEdge" => below("ProcessUsageConnection", "edges", "edges { HOLE }"),
        "ProcessUsage" => below("ProcessUsageConnection", "nodes", "nodes { HOLE }"),
        "Tenant" => below("Query", "node", "node(id: %tenant%) { ... on Tenant { HOLE } }"),
        "Allocation" => below("Tenant", "allocation", "allocation(unitType: \"units\") { HOLE }"),
        "FolderConnection" => below("Tenant", "folders", "folders { HOLE }"),
        "FolderEdge" => below("FolderConnection", "edges", "edges { HOLE }"),
        "Folder" => below("Query", "node", "node(id: %folder%) { ... on Folder { HOLE } }"),
        "ProcessConnection" => below("Folder", "processes", "processes { HOLE }"),
        "ProcessEdge" => below("ProcessConnection", "edges", "edges { HOLE }"),
        "Process" => below("Query", "node", "node(id: %process%) { ... on Process { HOLE } }"),
        "QuotaEventConnection" => below("Organization", "notifications", "notifications { HOLE }"),
        "QuotaEventEdge" => below("QuotaEventConnection", "edges", "edges { HOLE }"),
        "WebhookEndpoint" => below("Organization", "webhookEndpoints", "webhookEndpoints { HOLE }"),
        "WebhookDeliveryConnection" => below("WebhookEndpoint", "deliveries", "deliveries { HOLE }"),
        "WebhookDeliveryEdge" => below("WebhookDeliveryConnection", "edges", "edges { HOLE }"),
        "WebhookDelivery" => below("WebhookDeliveryEdge", "node", "node { HOLE }"),
        _ => None,
    }
}

/// A type reached as the field `field` of a `parent` reached first, selected as
/// `selection` (with `HOLE` where the type's own fields go).
fn below(parent: &'static str, field: &'static str, selection: &str) -> Option<Reach> {
    let mut reach = reach(parent)?;
    reach.steps.push((parent, field));
    reach.template = reach.template.replace("HOLE", selection);
    Some(reach)
}

/// A document to send and what the matrix says its answer must be.
struct Call {
    op: Op,
    document: String,
    /// Paths (field names only) that must answer FORBIDDEN; empty: no error at all.
    forbidden: BTreeSet<Vec<String>>,
    /// When allowed: where the reached object is (it must be there, not null or empty)...
    parent: Vec<String>,
    /// ...and the fields it must answer.
    fields: Vec<String>,
}

fn path_names(steps: &[(&str, &str)]) -> Vec<String> {
    steps.iter().map(|(_, f)| (*f).to_owned()).collect()
}

fn selection(sdl: &Sdl, type_name: &str, field: &SdlField) -> String {
    let args: Vec<String> = field
        .required_args
        .iter()
        .map(|arg| {
            let value = argument(type_name, &field.name, arg)
                .unwrap_or_else(|| panic!("give {type_name}.{}({arg}:) a value in tests/api/matrix.rs", field.name));
            format!("{arg}: {value}")
        })
        .collect();
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({})", args.join(", "))
    };
    let sub = if sdl.is_composite(&field.returns) {
        " { __typename }"
    } else {
        ""
    };
    format!("{}{args}{sub}", field.name)
}

fn document(op: Op, body: String) -> String {
    let keyword = match op {
        Op::Query => "query",
        Op::Mutation => "mutation",
        Op::Subscription => "subscription",
    };
    format!("{keyword} {{ {body} }}")
}

/// The calls that check every field of `type_name` for `role`.
fn calls(sdl: &Sdl, role: Role, type_name: &str) -> Vec<Call> {
    let reach = reach(type_name).unwrap_or_else(|| panic!("tell tests/api/matrix.rs how to reach {type_name}"));
    let fields = &sdl.types[type_name];
    let rule = |t: &str, f: &str| field_rule(t, f).unwrap_or_else(|| panic!("{t}.{f} has no rule"));
    let denied_step = reach.steps.iter().position(|(t, f)| !rule(t, f).admits(role));
    let call = |chosen: Vec<&SdlField>, allowed: bool| {
        let body = reach.template.replace(
            "HOLE",
            &chosen
                .iter()
                .map(|f| selection(sdl, type_name, f))
                .collect::<Vec<_>>()
                .join(" "),
        );
        let forbidden = match (denied_step, allowed) {
            (Some(step), _) => BTreeSet::from([path_names(&reach.steps[..=step])]),
            (None, true) => BTreeSet::new(),
            (None, false) => chosen
                .iter()
                .map(|f| {
                    let mut path = path_names(&reach.steps);
                    path.push(f.name.clone());
                    path
                })
                .collect(),
        };
        Call {
            op: reach.op,
            document: document(reach.op, body),
            forbidden,
            parent: path_names(&reach.steps),
            fields: chosen.iter().map(|f| f.name.clone()).collect(),
        }
    };
    let one_root_each = reach.steps.is_empty() && reach.op != Op::Query;
    let (allowed, denied): (Vec<&SdlField>, Vec<&SdlField>) =
        fields.iter().partition(|f| rule(type_name, &f.name).admits(role));
    if one_root_each {
        // A mutation or subscription is sent alone.
        return allowed
            .into_iter()
            .map(|f| call(vec![f], true))
            .chain(denied.into_iter().map(|f| call(vec![f], false)))
            .collect();
    }
    if denied_step.is_some() {
        return vec![call(fields.iter().collect(), false)];
    }
    let mut calls = Vec::new();
    if !allowed.is_empty() {
        calls.push(call(allowed, true));
    }
    if !denied.is_empty() {
        calls.push(call(denied, false));
    }
    calls
}

/// One server with an organization, two tenants, a folder tree, a process and usage.
struct World {
    app: TestApp,
    values: BTreeMap<&'static str, String>,
    next: AtomicUsize,
}

async fn run(app: &TestApp, document: &str) -> Value {
    let answer = app.gql(SYSTEM_KEY, document, json!({})).await;
    assert!(answer.get("errors").is_none(), "{document}: {answer:#}");
    answer["data"].clone()
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let fx = organization_with_license(&app, "acme", "1000").await;
        let alpha = tenant(&app, &fx.org, "Alpha").await;
        let beta = tenant(&app, &fx.org, "Beta").await;
        // An endpoint that the allocations give deliveries (to a public address literal:
        // they may fail, which is fine here).
        let hook = format!(
            r#"mutation {{ createWebhookEndpoint(input: {{organizationId: "{}", url: "http://203.0.113.10/hook", kinds: [ALLOCATION_CHANGED]}}) {{ endpoint {{ id }} }} }}"#,
            fx.org
        );
        run(&app, &hook).await;
        for t in [&alpha, &beta] {
            allocate(&app, t, Some("100")).await;
        }
        let deliveries = run(
            &app,
            &format!(
                r#"{{ organization(id: "{}") {{ webhookEndpoints {{ deliveries {{ edges {{ node {{ id }} }} }} }} }} }}"#,
                fx.org
            ),
        )
        .await;
        let delivery = deliveries["organization"]["webhookEndpoints"][0]["deliveries"]["edges"][0]["node"]["id"]
            .as_str()
            .expect("an allocation is delivered")
            .to_owned();
        let folder = create_folder(&app, &alpha, None, "Build").await;
        let child = create_folder(&app, &alpha, Some(&folder), "Nightly").await;
        let process = create_process(&app, &folder, "Robot").await;
        record(
            &app,
            [
                event("e1", &alpha, "5", "2026-11-20T10:00:00Z")
                    .with(json!({ "jobId": "j1", "processId": process, "folderId": folder })),
                event("e2", &alpha, "3", "2026-11-20T11:00:00Z")
                    .with(json!({ "jobId": "j2", "parentJobId": "j1", "processId": process, "folderId": child })),
                event("e3", &beta, "2", "2026-11-21T10:00:00Z").with(json!({ "service": "uploads", "kind": "UPLOAD" })),
                event("v1", &beta, "1", "2026-11-21T11:00:00Z"),
            ],
        )
        .await;
        let values = BTreeMap::from([
            ("org", fx.org),
            ("tenant", alpha),
            ("other_tenant", beta),
            ("folder", folder),
            ("process", process),
            ("license", fx.license),
            ("delivery", delivery),
        ]);
        World {
            app,
            values,
            next: AtomicUsize::new(0),
        }
    }

    fn unique(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    /// A new unit type without a license; its code.
    async fn fresh_unit(&self) -> String {
        let code = format!("fresh-{}", self.unique());
        create_unit_type(&self.app, &code, "Fresh").await;
        code
    }

    /// Fills the `%name%` placeholders of a document, making what `%fresh_…%` asks for.
    async fn fill(&self, text: &str) -> String {
        let mut text = text.replace("%unique%", &self.unique().to_string());
        if text.contains("%fresh_unit%") {
            let code = self.fresh_unit().await;
            text = text.replace("%fresh_unit%", &format!("\"{code}\""));
        }
        if text.contains("%fresh_license%") {
            let code = self.fresh_unit().await;
            let fields = json!({ "unitType": code, "planName": "P", "capacity": "5" });
            let id = create_license(&self.app, &self.values["org"], fields).await;
            text = text.replace("%fresh_license%", &format!("\"{id}\""));
        }
        if text.contains("%fresh_key%") {
            let (_, id) = key_with_id(&self.app, "VIEWER", Some(&self.values["org"]), None).await;
            text = text.replace("%fresh_key%", &format!("\"{id}\""));
        }
        if text.contains("%fresh_webhook%") {
            let document = format!(
                r#"mutation {{ createWebhookEndpoint(input: {{organizationId: "{}", url: "http://203.0.113.10/hook", kinds: [QUOTA_EXHAUSTED]}}) {{ endpoint {{ id }} }} }}"#,
                self.values["org"]
            );
            let data = run(&self.app, &document).await;
            let id = data["createWebhookEndpoint"]["endpoint"]["id"]
                .as_str()
                .unwrap_or_default();
            text = text.replace("%fresh_webhook%", &format!("\"{id}\""));
        }
        for (name, value) in &self.values {
            text = text.replace(&format!("%{name}%"), &format!("\"{value}\""));
        }
        assert!(!text.contains('%'), "a placeholder is left in {text}");
        text
    }

    /// The key of a caller of `role` (a TENANT_ADMIN of the first tenant).
    async fn key_of(&self, role: Role) -> String {
        let org = Some(self.values["org"].as_str());
        match role {
            Role::System => SYSTEM_KEY.to_owned(),
            Role::TenantAdmin => key(&self.app, role.as_str(), org, Some(&self.values["tenant"])).await,
            _ => key(&self.app, role.as_str(), org, None).await,
        }
    }

    /// Some usage, so that every subscriber hears an event.
    async fn record(&self) {
        let document = self
            .fill(&format!(
                "mutation {{ recordUsage(input: {}) {{ accepted }} }}",
                mutation_input("recordUsage").unwrap_or_default()
            ))
            .await;
        run(&self.app, &document).await;
    }
}

/// The answer of a subscription: its first result or error, shaped as an HTTP answer.
async fn subscribe(world: &World, key: &str, document: &str, allowed_at_root: bool) -> Value {
    let mut subscriber = Subscriber::connect(&world.app, Protocol::Transport, key).await;
    subscriber
        .send(json!({ "type": "subscribe", "id": "1", "payload": { "query": document } }))
        .await;
    if allowed_at_root {
        tokio::time::sleep(SETTLE).await;
        world.record().await;
    }
    let message = subscriber
        .message(within_ms(5000))
        .await
        .unwrap_or_else(|| panic!("no answer to {document}"));
    subscriber.close().await;
    match message["type"].as_str() {
        Some("error") => json!({ "errors": message["payload"] }),
        Some("next") => message["payload"].clone(),
        _ => panic!("unexpected message {message}"),
    }
}

/// The object at `path` in `data`, through the first item of each list.
fn at<'v>(data: &'v Value, path: &[String]) -> &'v Value {
    let mut value = data;
    for name in path {
        value = &value[name.as_str()];
        if let Some(items) = value.as_array() {
            value = items.first().unwrap_or(&Value::Null);
        }
    }
    value
}

fn check(call: &Call, role: Role, answer: &Value) {
    let context = format!("{role} → {}\n{answer:#}", call.document);
    let errors = answer["errors"].as_array().cloned().unwrap_or_default();
    if call.forbidden.is_empty() {
        assert!(errors.is_empty(), "expected an answer: {context}");
        let object = at(&answer["data"], &call.parent);
        assert!(object.is_object(), "the reached object is missing: {context}");
        for field in &call.fields {
            assert!(object.get(field).is_some(), "{field} is missing: {context}");
        }
        return;
    }
    let mut seen = BTreeSet::new();
    for error in &errors {
        assert_eq!(
            error["extensions"]["code"], "FORBIDDEN",
            "expected FORBIDDEN: {context}"
        );
        let path: Vec<String> = error["path"]
            .as_array()
            .map(|p| p.iter().filter_map(|s| s.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        seen.insert(path);
    }
    assert_eq!(seen, call.forbidden, "FORBIDDEN paths: {context}");
}

/// Every entry of the matrix, called with one role's key on a server of its own.
async fn check_role(sdl: &Sdl, role: Role) {
    let world = World::new().await;
    let key = world.key_of(role).await;
    let order = |op: Op| match op {
        Op::Query => 0,
        Op::Subscription => 1,
        Op::Mutation => 2,
    };
    let mut all: Vec<Call> = sdl.types.keys().flat_map(|t| calls(sdl, role, t)).collect();
    // Reads first, while the fixture is as built; then writes.
    all.sort_by_key(|c| order(c.op));
    for call in &all {
        let document = world.fill(&call.document).await;
        let answer = match call.op {
            Op::Subscription => {
                let root_denied = call.forbidden.iter().any(|p| p.len() == 1);
                subscribe(&world, &key, &document, !root_denied).await
            }
            _ => world.app.gql(&key, &document, json!({})).await,
        };
        check(call, role, &answer);
    }
    for (report, rule) in EXPORTS {
        let query = if *report == "audit" {
            format!("organization={}", world.values["org"])
        } else {
            format!("organization={}&unitType=units", world.values["org"])
        };
        let response = world
            .app
            .client
            .get(world.app.url(&format!("/export/{report}.csv?{query}")))
            .bearer_auth(&key)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let body = response.text().await.unwrap();
        if rule.admits(role) {
            assert_eq!(status, 200, "{role} → {report}.csv: {body}");
        } else {
            assert_eq!(status, 403, "{role} → {report}.csv: {body}");
            assert!(body.contains("\"FORBIDDEN\""), "{role} → {report}.csv: {body}");
        }
    }
    world.app.finish().await;
}

#[tokio::test]
async fn every_role_gets_what_the_matrix_says_for_every_field_and_export() {
    let sdl = Sdl::read();
    futures_util::future::join_all(Role::ALL.into_iter().map(|role| check_role(&sdl, role))).await;
}

/// Replaces each of `ids` (global id and uuid) in `text` with `<id>`.
fn without_ids(text: &str, ids: &[&str]) -> String {
    let mut text = text.to_owned();
    for id in ids {
        text = text.replace(id, "<id>");
        if let Some((_, uuid)) = decode_any(&async_graphql::ID((*id).to_owned())) {
            text = text.replace(&uuid.to_string(), "<id>");
        }
    }
    text
}

/// A well-formed id of the same kind that names nothing.
fn unknown_like(id: &str) -> String {
    let (kind, _) = decode_any(&async_graphql::ID(id.to_owned())).expect("a global id");
    encode(kind, uuid::Uuid::now_v7()).0
}

#[tokio::test]
async fn ids_out_of_scope_read_exactly_as_unknown_ones() {
    let world = World::new().await;
    let app = &world.app;
    let v = &world.values;
    let theirs = organization_with_license(app, "theirs", "1000").await;
    let their_tenant = tenant(app, &theirs.org, "Gamma").await;
    let stranger = key(app, "OWNER", Some(&theirs.org), None).await;
    let tenant_admin = world.key_of(Role::TenantAdmin).await;
    let tenant_ingest = key(app, "INGEST", Some(&v["org"]), Some(&v["tenant"])).await;
    let data = run(
        app,
        &format!("mutation {{ createApiKey(input: {{organizationId: \"{}\", role: VIEWER, name: \"x\"}}) {{ apiKey {{ id }} }} }}", v["org"]),
    )
    .await;
    let their_key = data["createApiKey"]["apiKey"]["id"].as_str().unwrap().to_owned();

    // (caller, id out of its scope, documents or export queries with %X% for the id)
    let graphql: Vec<(&str, &str, Vec<String>)> = vec![
        (
            stranger.as_str(),
            v["org"].as_str(),
            vec![
                "query { organization(id: %X%) { id } }".into(),
                "query { node(id: %X%) { id } }".into(),
                r#"mutation { createTenant(input: {organizationId: %X%, name: "n"}) { tenant { id } } }"#.into(),
                r#"mutation { createLicense(input: {organizationId: %X%, unitType: "units", planName: "p", capacity: "1", period: MONTH, startsOn: "2027-01-01"}) { license { id } } }"#.into(),
                r#"mutation { createApiKey(input: {organizationId: %X%, role: VIEWER, name: "n"}) { apiKey { id } } }"#.into(),
                r#"mutation { setAllocations(input: {organizationId: %X%, unitType: "units", changes: []}) { usage { allocated } } }"#.into(),
                "subscription { quotaEvents(organizationId: %X%) { kind } }".into(),
                r#"subscription { usage(organizationId: %X%, unitType: "units") { consumed } }"#.into(),
            ],
        ),
        (
            stranger.as_str(),
            v["tenant"].as_str(),
            vec![
                "query { node(id: %X%) { id } }".into(),
                r#"mutation { updateTenant(input: {tenantId: %X%, name: "n"}) { tenant { id } } }"#.into(),
                r#"mutation { setAllocation(input: {tenantId: %X%, unitType: "units", amount: "1", effectiveOn: "2026-11-23"}) { allocation { amount } } }"#.into(),
                format!(r#"mutation {{ setAllocations(input: {{organizationId: "{}", unitType: "units", changes: [{{tenantId: %X%, amount: "1"}}]}}) {{ usage {{ allocated }} }} }}"#, theirs.org),
                format!(r#"mutation {{ previewAllocations(input: {{organizationId: "{}", unitType: "units", changes: [{{tenantId: %X%, amount: "1"}}]}}) {{ allocated }} }}"#, theirs.org),
                r#"mutation { createFolder(input: {tenantId: %X%, name: "n"}) { folder { id } } }"#.into(),
                r#"mutation { setConsumptionControl(input: {tenantId: %X%, unitType: "units", alertThresholds: [0.5]}) { consumptionControl { alertThresholds } } }"#.into(),
                r#"mutation { recordUsage(input: {events: [{idempotencyKey: "x", tenantId: %X%, unitType: "units", service: "s", quantity: "1", occurredAt: "2026-11-20T10:00:00Z"}]}) { accepted } }"#.into(),
                r#"mutation { startExecution(input: {idempotencyKey: "x", tenantId: %X%, unitType: "units", service: "s"}) { granted } }"#.into(),
                r#"mutation { createApiKey(input: {tenantId: %X%, role: TENANT_ADMIN, name: "n"}) { apiKey { id } } }"#.into(),
            ],
        ),
        (
            stranger.as_str(),
            v["folder"].as_str(),
            vec![
                "query { node(id: %X%) { id } }".into(),
                r#"mutation { createProcess(input: {folderId: %X%, name: "n"}) { process { id } } }"#.into(),
                format!(r#"mutation {{ createFolder(input: {{tenantId: "{their_tenant}", parentId: %X%, name: "n"}}) {{ folder {{ id }} }} }}"#),
                format!(r#"query {{ organization(id: "{}") {{ usage(unitType: "units") {{ folder(id: %X%, attribution: OWNERSHIP) {{ consumed }} }} }} }}"#, theirs.org),
            ],
        ),
        (
            stranger.as_str(),
            v["process"].as_str(),
            vec![
                "query { node(id: %X%) { id } }".into(),
                format!(r#"mutation {{ recordUsage(input: {{events: [{{idempotencyKey: "y", tenantId: "{their_tenant}", unitType: "units", service: "s", quantity: "1", occurredAt: "2026-11-20T10:00:00Z", processId: %X%}}]}}) {{ accepted }} }}"#),
            ],
        ),
        (
            stranger.as_str(),
            v["license"].as_str(),
            vec![
                "query { node(id: %X%) { id } }".into(),
                r#"mutation { upgradeLicense(input: {licenseId: %X%, planName: "p", capacity: "2"}) { license { id } } }"#.into(),
            ],
        ),
        (
            stranger.as_str(),
            their_key.as_str(),
            vec![
                "query { node(id: %X%) { id } }".into(),
                "mutation { revokeApiKey(input: {apiKeyId: %X%}) { apiKey { id } } }".into(),
            ],
        ),
        (
            tenant_admin.as_str(),
            v["other_tenant"].as_str(),
            vec![
                "query { node(id: %X%) { id } }".into(),
                format!(r#"query {{ organization(id: "{}") {{ usage(unitType: "units") {{ tenant(id: %X%) {{ consumed }} }} }} }}"#, v["org"]),
                format!("subscription {{ quotaEvents(organizationId: \"{}\", tenantId: %X%) {{ kind }} }}", v["org"]),
                r#"mutation { updateTenant(input: {tenantId: %X%, name: "n"}) { tenant { id } } }"#.into(),
            ],
        ),
        (
            tenant_ingest.as_str(),
            v["other_tenant"].as_str(),
            vec![
                r#"mutation { recordUsage(input: {events: [{idempotencyKey: "z", tenantId: %X%, unitType: "units", service: "s", quantity: "1", occurredAt: "2026-11-20T10:00:00Z"}]}) { accepted } }"#.into(),
                r#"mutation { startExecution(input: {idempotencyKey: "z", tenantId: %X%, unitType: "units", service: "s"}) { granted } }"#.into(),
            ],
        ),
    ];
    for (caller, foreign, documents) in &graphql {
        let unknown = unknown_like(foreign);
        for document in documents {
            let mut answers = Vec::new();
            for id in [*foreign, unknown.as_str()] {
                let text = document.replace("%X%", &format!("\"{id}\""));
                let answer = if text.starts_with("subscription") {
                    subscribe(&world, caller, &text, false).await
                } else {
                    app.gql(caller, &text, json!({})).await
                };
                answers.push(without_ids(&answer.to_string(), &[foreign, &unknown]));
            }
            assert_eq!(answers[0], answers[1], "{document}: out of scope vs unknown");
        }
    }

    let exports: Vec<(&str, &str, String)> = vec![
        (
            stranger.as_str(),
            v["org"].as_str(),
            "tenants.csv?organization=%X%&unitType=units".into(),
        ),
        (
            stranger.as_str(),
            v["org"].as_str(),
            "events.csv?organization=%X%&unitType=units".into(),
        ),
        (
            stranger.as_str(),
            v["org"].as_str(),
            "audit.csv?organization=%X%".into(),
        ),
        (
            stranger.as_str(),
            v["tenant"].as_str(),
            format!("tenants.csv?organization={}&unitType=units&tenant=%X%", theirs.org),
        ),
        (
            tenant_admin.as_str(),
            v["other_tenant"].as_str(),
            format!("tenants.csv?organization={}&unitType=units&tenant=%X%", v["org"]),
        ),
        (
            tenant_admin.as_str(),
            v["other_tenant"].as_str(),
            format!("distribution.csv?organization={}&unitType=units&tenant=%X%", v["org"]),
        ),
        (
            tenant_admin.as_str(),
            v["other_tenant"].as_str(),
            format!("folders.csv?organization={}&unitType=units&tenant=%X%", v["org"]),
        ),
        (
            tenant_admin.as_str(),
            v["other_tenant"].as_str(),
            format!("events.csv?organization={}&unitType=units&tenant=%X%", v["org"]),
        ),
    ];
    for (caller, foreign, query) in &exports {
        let unknown = unknown_like(foreign);
        let mut answers = Vec::new();
        for id in [*foreign, unknown.as_str()] {
            let response = app
                .client
                .get(app.url(&format!("/export/{}", query.replace("%X%", id))))
                .bearer_auth(caller)
                .send()
                .await
                .unwrap();
            let status = response.status().as_u16();
            let body = response.text().await.unwrap();
            answers.push(format!("{status} {}", without_ids(&body, &[foreign, &unknown])));
        }
        assert_eq!(answers[0], answers[1], "{query}: out of scope vs unknown");
        assert!(answers[0].starts_with("404"), "{query}: {}", answers[0]);
    }
    world.app.finish().await;
}
