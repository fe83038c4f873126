//! The data set the cases run against: two organizations, tenants in every state, folders,
//! processes, usage, allocations, a consumption control, and keys of every role.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, create_folder, create_process, event, key_with_id, licensed_organization,
    organization_with_license, record, set_tenant_state, tenant,
};

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Scope {
    /// The operator's key.
    System,
    /// A key of organization A or B.
    Org(char),
    /// No valid key.
    Nobody,
}

#[derive(Clone, Debug)]
pub(super) struct Key {
    pub(super) label: &'static str,
    /// The `Authorization` value (chars up to U+00FF are sent as single bytes).
    pub(super) header: Option<String>,
    pub(super) scope: Scope,
    /// The one tenant the key is limited to.
    pub(super) tenant: Option<String>,
    /// VIEWER and TENANT_ADMIN make no change at all.
    pub(super) read_only: bool,
    /// INGEST only records usage and starts executions.
    pub(super) ingest_only: bool,
}

/// One stored object: its kind, organization and (for things inside one) tenant.
#[derive(Clone, Debug)]
pub(super) struct Object {
    pub(super) kind: &'static str,
    pub(super) org: char,
    pub(super) tenant: Option<String>,
    pub(super) id: String,
}

pub(super) struct World {
    pub(super) org_a: String,
    pub(super) org_b: String,
    pub(super) objects: Vec<Object>,
    pub(super) keys: Vec<(u32, Key)>,
}

impl World {
    pub(super) fn ids(&self, filter: impl Fn(&Object) -> bool) -> Vec<Value> {
        self.objects
            .iter()
            .filter(|o| filter(o))
            .map(|o| Value::String(o.id.clone()))
            .collect()
    }

    /// Ids of `kind` the key may name, and ids of `kind` it must not see.
    pub(super) fn own_and_foreign(&self, kind: &str, key: &Key) -> (Vec<Value>, Vec<Value>) {
        let visible = |o: &Object| match &key.scope {
            Scope::System => true,
            Scope::Org(org) => {
                o.org == *org
                    && match (&key.tenant, &o.tenant) {
                        (Some(limit), Some(tenant)) => limit == tenant,
                        _ => true,
                    }
                    && !(key.tenant.is_some() && o.kind == "Tenant" && key.tenant.as_ref() != Some(&o.id))
            }
            Scope::Nobody => o.org == 'A',
        };
        let own = self.ids(|o| o.kind == kind && visible(o));
        let foreign = match key.scope {
            Scope::Org(_) => self.ids(|o| o.kind == kind && !visible(o)),
            _ => Vec::new(),
        };
        (own, foreign)
    }
}

async fn data(app: &TestApp, query: &str, variables: Value) -> Value {
    app.ok(SYSTEM_KEY, query, variables).await
}

async fn licenses_of(app: &TestApp, org: &str) -> Vec<String> {
    data(
        app,
        "query($o: ID!) { organization(id: $o) { licenses { id } } }",
        json!({ "o": org }),
    )
    .await["organization"]["licenses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap().to_owned())
        .collect()
}

impl World {
    pub(super) async fn build(app: &TestApp) -> World {
        // B: the helper's organization (UTC, 1000 units a month, not enforced); it also
        // makes the unit type `units`.
        let org_b = organization_with_license(app, "fuzz-b", "1000").await.org;
        // A: in Europe/Paris, 1000 units a month, enforced.
        let org_a = licensed_organization(
            app,
            "fuzz-a",
            "Europe/Paris",
            json!({ "capacity": "1000", "burstPercent": 130, "burstPeriods": 2, "enforced": true }),
        )
        .await
        .org;
        let unit_type = data(app, "{ unitTypes { id code } }", json!({})).await["unitTypes"][0]["id"]
            .as_str()
            .unwrap()
            .to_owned();

        let t_alloc = tenant(app, &org_a, "alpha").await;
        let t_plain = tenant(app, &org_a, "beta").await;
        let t_disabled = tenant(app, &org_a, "gamma").await;
        let t_deleted = tenant(app, &org_a, "delta").await;
        let t_b = tenant(app, &org_b, "bravo").await;
        set_tenant_state(app, &t_disabled, "DISABLED").await;
        set_tenant_state(app, &t_deleted, "DELETED").await;
        let f1 = create_folder(app, &t_alloc, None, "ops").await;
        let f1c = create_folder(app, &t_alloc, Some(&f1), "nightly").await;
        let f2 = create_folder(app, &t_plain, None, "qa").await;
        let f_b = create_folder(app, &t_b, None, "b-ops").await;
        let p1 = create_process(app, &f1, "invoice").await;
        let p2 = create_process(app, &f2, "payroll").await;
        let p_b = create_process(app, &f_b, "b-proc").await;

        data(
            app,
            "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\", amount: \"400\"}) { allocation { amount } } }",
            json!({ "t": t_alloc }),
        )
        .await;
        let seed = |key: &str, tenant: &str, quantity: &str| event(key, tenant, quantity, "2026-11-10T10:00:00Z");
        record(
            app,
            [
                seed("seed-1", &t_alloc, "120").with(json!({ "jobId": "job-1", "processId": p1, "folderId": f1 })),
                seed("seed-2", &t_plain, "30.5")
                    .with(json!({ "jobId": "job-2", "parentJobId": null, "processId": p2 })),
                seed("seed-3", &t_alloc, "5").with(json!({ "kind": "UPLOAD", "durationMs": 1200 })),
                seed("seed-4", &t_b, "10").with(json!({ "processId": p_b })),
            ],
        )
        .await;
        data(
            app,
            "mutation($t: ID!) { setConsumptionControl(input: {tenantId: $t, unitType: \"units\", stopAtAllocation: [\"robots\"], alertThresholds: [0.5, 0.9]}) { consumptionControl { stopAtAllocation } } }",
            json!({ "t": t_alloc }),
        )
        .await;

        let (owner, owner_id) = key_with_id(app, "OWNER", Some(&org_a), None).await;
        let (admin, _) = key_with_id(app, "ADMIN", Some(&org_a), None).await;
        let (billing, _) = key_with_id(app, "BILLING_MANAGER", Some(&org_a), None).await;
        let (viewer, _) = key_with_id(app, "VIEWER", Some(&org_a), None).await;
        let (tenant_admin, _) = key_with_id(app, "TENANT_ADMIN", Some(&org_a), Some(&t_alloc)).await;
        let (ingest, _) = key_with_id(app, "INGEST", Some(&org_a), None).await;
        let (ingest_t, _) = key_with_id(app, "INGEST", Some(&org_a), Some(&t_alloc)).await;
        let (admin_b, admin_b_id) = key_with_id(app, "ADMIN", Some(&org_b), None).await;
        let (revoked, revoked_id) = key_with_id(app, "ADMIN", Some(&org_a), None).await;
        data(
            app,
            "mutation($k: ID!) { revokeApiKey(input: {apiKeyId: $k}) { apiKey { id } } }",
            json!({ "k": revoked_id }),
        )
        .await;

        let mut objects = Vec::new();
        let mut add = |kind: &'static str, org: char, tenant: Option<&str>, id: &str| {
            objects.push(Object {
                kind,
                org,
                tenant: tenant.map(str::to_owned),
                id: id.to_owned(),
            });
        };
        add("Organization", 'A', None, &org_a);
        add("Organization", 'B', None, &org_b);
        for t in [&t_alloc, &t_plain, &t_disabled, &t_deleted] {
            add("Tenant", 'A', Some(t), t);
        }
        add("Tenant", 'B', Some(&t_b), &t_b);
        for (f, t) in [(&f1, &t_alloc), (&f1c, &t_alloc), (&f2, &t_plain)] {
            add("Folder", 'A', Some(t), f);
        }
        add("Folder", 'B', Some(&t_b), &f_b);
        add("Process", 'A', Some(&t_alloc), &p1);
        add("Process", 'A', Some(&t_plain), &p2);
        add("Process", 'B', Some(&t_b), &p_b);
        for l in licenses_of(app, &org_a).await {
            add("License", 'A', None, &l);
        }
        for l in licenses_of(app, &org_b).await {
            add("License", 'B', None, &l);
        }
        add("ApiKey", 'A', None, &owner_id);
        add("ApiKey", 'A', None, &revoked_id);
        add("ApiKey", 'B', None, &admin_b_id);
        add("UnitType", 'A', None, &unit_type);

        let key = |label, secret: &str, scope, tenant: Option<&str>, read_only, ingest_only| Key {
            label,
            header: Some(format!("Bearer {secret}")),
            scope,
            tenant: tenant.map(str::to_owned),
            read_only,
            ingest_only,
        };
        let nobody = |label, header: Option<&str>| Key {
            label,
            header: header.map(str::to_owned),
            scope: Scope::Nobody,
            tenant: None,
            read_only: true,
            ingest_only: false,
        };
        let long = format!("Bearer qg_{}", "x".repeat(4000));
        let keys = vec![
            (12, key("SYSTEM", SYSTEM_KEY, Scope::System, None, false, false)),
            (6, key("OWNER", &owner, Scope::Org('A'), None, false, false)),
            (6, key("ADMIN", &admin, Scope::Org('A'), None, false, false)),
            (4, key("BILLING_MANAGER", &billing, Scope::Org('A'), None, false, false)),
            (5, key("VIEWER", &viewer, Scope::Org('A'), None, true, false)),
            (
                5,
                key(
                    "TENANT_ADMIN",
                    &tenant_admin,
                    Scope::Org('A'),
                    Some(&t_alloc),
                    true,
                    false,
                ),
            ),
            (5, key("INGEST", &ingest, Scope::Org('A'), None, false, true)),
            (
                4,
                key(
                    "INGEST(tenant)",
                    &ingest_t,
                    Scope::Org('A'),
                    Some(&t_alloc),
                    false,
                    true,
                ),
            ),
            (5, key("ADMIN of B", &admin_b, Scope::Org('B'), None, false, false)),
            (2, nobody("revoked", Some(&format!("Bearer {revoked}")))),
            (2, nobody("no header", None)),
            (1, nobody("empty bearer", Some("Bearer "))),
            (1, nobody("basic", Some("Basic dXNlcjpwYXNz"))),
            (1, nobody("wrong secret", Some("Bearer qg_wrong"))),
            (1, nobody("long secret", Some(&long))),
            (1, nobody("latin-1 bytes", Some("Bearer \u{ff}\u{fe}qg"))),
            (1, nobody("scheme only", Some("Bearer"))),
            (
                2,
                Key {
                    label: "SYSTEM, lower-case scheme and spaces",
                    header: Some(format!("bearer  {SYSTEM_KEY} ")),
                    scope: Scope::System,
                    tenant: None,
                    read_only: false,
                    ingest_only: false,
                },
            ),
        ];
        World {
            org_a,
            org_b,
            objects,
            keys,
        }
    }
}
