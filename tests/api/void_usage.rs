//! Voiding usage (docs/design.md §15.6): voided events stop counting everywhere, so an
//! organization that recorded events and voided some answers every figure, view and
//! export (but `events.csv`) exactly as one that recorded only the others; they stay in
//! `events.csv`, marked; their keys stay taken; the void is audited, refused whole for an
//! unknown key, and announced as any change of figures is.

use std::collections::BTreeMap;

use futures_util::future::join_all;
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::*;

/// The unit types the documented dashboard views read.
const UNITS: [&str; 2] = ["test-executions", "platform-units"];

/// An organization with two tenants, three folders (one a subfolder) and a process in each.
struct Org {
    id: String,
    tenants: [String; 2],
    /// f0 and its subfolder f1 in t0, f2 in t1.
    folders: [String; 3],
    /// p0 in f0, p1 in f1, p2 in f2.
    processes: [String; 3],
}

impl Org {
    /// Ids of this organization's things and the same things of `other`, to compare exports.
    fn ids_to(&self, other: &Org) -> Vec<(String, String)> {
        let mut pairs = vec![(self.id.clone(), other.id.clone())];
        for (a, b) in [
            (&self.tenants[..], &other.tenants[..]),
            (&self.folders[..], &other.folders[..]),
            (&self.processes[..], &other.processes[..]),
        ] {
            pairs.extend(a.iter().cloned().zip(b.iter().cloned()));
        }
        pairs
    }
}

/// Creates both unit types once per server.
async fn unit_types(app: &TestApp) {
    for unit in UNITS {
        create_unit_type(app, unit, unit).await;
    }
}

/// An organization licensed for both unit types (100 test executions a year, so that
/// statuses move), with its tree and 40 test executions allocated to t0.
async fn organization(app: &TestApp, slug: &str) -> Org {
    let id = create_organization(app, slug, "UTC").await;
    // A yearly bundle: its figures to date read whole months from the monthly rollups.
    for (unit, capacity, period) in [("test-executions", "100", "YEAR"), ("platform-units", "1000", "MONTH")] {
        create_license(
            app,
            &id,
            json!({ "unitType": unit, "capacity": capacity, "period": period }),
        )
        .await;
    }
    let t0 = tenant(app, &id, "t0").await;
    let t1 = tenant(app, &id, "t1").await;
    let f0 = create_folder(app, &t0, None, "f0").await;
    let f1 = create_folder(app, &t0, Some(&f0), "f1").await;
    let f2 = create_folder(app, &t1, None, "f2").await;
    let p0 = create_process(app, &f0, "p0").await;
    let p1 = create_process(app, &f1, "p1").await;
    let p2 = create_process(app, &f2, "p2").await;
    let input = json!({ "tenantId": t0, "unitType": "test-executions", "amount": "40", "effectiveOn": "2026-11-01" });
    app.mutate(SYSTEM_KEY, "setAllocation", input).await;
    Org {
        id,
        tenants: [t0, t1],
        folders: [f0, f1, f2],
        processes: [p0, p1, p2],
    }
}

/// One event to record, by index into an [`Org`]'s tenants, folders and processes.
#[derive(Clone, Debug)]
struct Spec {
    key: String,
    tenant: usize,
    unit: &'static str,
    upload: bool,
    /// Ten-thousandths.
    quantity: i64,
    /// Day of November 2026, or of October when `october`.
    day: u32,
    october: bool,
    service: &'static str,
    /// An index into the tenant's processes (t0: p0, p1; t1: p2).
    process: Option<usize>,
    folder: Option<usize>,
    job: Option<String>,
    parent: Option<String>,
    duration_ms: Option<i64>,
}

impl Spec {
    fn event(&self, org: &Org) -> Event {
        let month = if self.october { 10 } else { 11 };
        let at = format!("2026-{month:02}-{:02}T12:00:00Z", self.day);
        let quantity = format!("{}.{:04}", self.quantity / 10_000, self.quantity % 10_000);
        let mut extra = json!({
            "unitType": self.unit,
            "service": self.service,
            "kind": if self.upload { "UPLOAD" } else { "EXECUTION" },
        });
        let owned = |i: usize| if self.tenant == 0 { i } else { 2 };
        if let Some(p) = self.process {
            extra["processId"] = json!(org.processes[owned(p)]);
        }
        if let Some(f) = self.folder {
            extra["folderId"] = json!(org.folders[owned(f)]);
        }
        if let Some(job) = &self.job {
            extra["jobId"] = json!(job);
        }
        if let Some(parent) = &self.parent {
            extra["parentJobId"] = json!(parent);
        }
        if let Some(duration) = self.duration_ms {
            extra["durationMs"] = json!(duration);
        }
        event(&self.key, &org.tenants[self.tenant], &quantity, &at).with(extra)
    }
}

async fn record_specs(app: &TestApp, org: &Org, specs: &[&Spec]) {
    if !specs.is_empty() {
        record(app, specs.iter().map(|s| s.event(org))).await;
    }
}

async fn void(app: &TestApp, key: &str, org: &str, keys: &[&str], reason: &str) -> Value {
    let input = json!({ "organizationId": org, "idempotencyKeys": keys, "reason": reason });
    app.mutate(key, "voidUsage", input).await
}

/// The GraphQL views of docs/dashboard.md (the dashboard's own queries), figures only.
fn dashboard_views() -> Vec<&'static str> {
    include_str!("../../docs/dashboard.md")
        .split("```graphql\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter(|view| !view.trim_start().starts_with("mutation"))
        // The notifications are a history: a voided event's alerts stay sent.
        .filter(|view| !view.contains("notifications("))
        .collect()
}

/// What the dashboard views leave out: the organization's own folder and process figures
/// in both modes, over a range with a whole month (read from the monthly rollups).
const ORGANIZATION_FIGURES: &str = r#"query($org: ID!) { organization(id: $org) {
  whole: usage(unitType: "test-executions", range: {from: "2026-10-01", to: "2026-11-23"}) { consumed
    tenants { displayName consumed remaining status }
    distribution(granularity: DAY) { start end consumed }
    byService { total services { service { code } consumed share } } }
  usage(unitType: "test-executions") {
    execution: folders(attribution: EXECUTION) { folder { name } consumed children { folder { name } consumed }
      processes { process { name } own consumed } distribution(granularity: DAY) { start consumed }
      byService { total services { service { code } consumed } } }
    ownership: folders(attribution: OWNERSHIP) { folder { name } consumed children { folder { name } consumed }
      processes { process { name } own consumed children { process { name } own consumed } }
      distribution(granularity: DAY) { start consumed } byService { total services { service { code } consumed } } }
    byExecution: processes(attribution: EXECUTION, first: 50) { edges { node { process { name } own consumed } } }
    byOwnership: processes(attribution: OWNERSHIP, first: 50) { edges { node { process { name } own consumed
      children { process { name } own consumed children { process { name } own consumed } } } } }
  }
  platform: usage(unitType: "platform-units") { consumed tenants { displayName consumed }
    distribution(granularity: WEEK) { start consumed } }
  activity(unitType: "platform-units", weeks: 8) { weeks { weekStart runs executions uploads durationSeconds } }
} }"#;

/// Every read of `org`: the dashboard views (each tenant's and folder's), the
/// organization's figures, and every export but `events.csv`, their ids written as `names`'.
async fn everything(app: &TestApp, org: &Org, names: &[(String, String)]) -> BTreeMap<String, String> {
    let mut answers = BTreeMap::new();
    for (v, view) in dashboard_views().into_iter().chain([ORGANIZATION_FIGURES]).enumerate() {
        let tenants: Vec<Option<&String>> = if view.contains("$tenant") {
            org.tenants.iter().map(Some).collect()
        } else {
            vec![None]
        };
        let folders: Vec<Option<&String>> = if view.contains("$folder") {
            org.folders.iter().map(Some).collect()
        } else {
            vec![None]
        };
        for (t, tenant) in tenants.iter().enumerate() {
            for (f, folder) in folders.iter().enumerate() {
                let mut variables = json!({ "org": org.id, "tenant": tenant, "folder": folder });
                // The reference dashboard's queries take the view's choices as variables.
                for (name, value) in [
                    ("unit", "test-executions"),
                    ("granularity", "WEEK"),
                    ("attribution", "OWNERSHIP"),
                ] {
                    if view.contains(&format!("${name}:")) {
                        variables[name] = json!(value);
                    }
                }
                let mut answer = app.ok(SYSTEM_KEY, view, variables).await.to_string();
                for (id, name) in names {
                    answer = answer.replace(id.as_str(), name);
                }
                answers.insert(format!("view {v} t{t} f{f}"), answer);
            }
        }
    }
    let range = [("from", "2026-10-01"), ("to", "2026-11-23")];
    for report in [
        "tenants",
        "distribution",
        "services",
        "folders",
        "processes",
        "activity",
        "quota",
        "summary",
    ] {
        for attribution in ["EXECUTION", "OWNERSHIP"] {
            let mut query = vec![("organization", org.id.as_str()), ("unitType", "test-executions")];
            if !matches!(report, "activity" | "quota" | "summary") {
                query.extend(range);
                query.push(("attribution", attribution));
            }
            if report == "distribution" {
                query.push(("granularity", "DAY"));
            }
            let (header, rows) = export(app, SYSTEM_KEY, report, &query).await;
            let mut text = format!("{header:?} {rows:?}");
            for (id, name) in names {
                text = text.replace(id.as_str(), name);
            }
            answers.insert(format!("{report}.csv {attribution}"), text);
        }
    }
    answers
}

/// Asserts that `voided` (which recorded everything and voided some) answers exactly as
/// `fresh` (which recorded only the rest).
async fn assert_same_figures(app: &TestApp, voided: &Org, fresh: &Org) {
    let names: Vec<(String, String)> = voided
        .ids_to(fresh)
        .into_iter()
        .enumerate()
        .map(|(i, (a, _))| (a, format!("<id {i}>")))
        .collect();
    let fresh_names: Vec<(String, String)> = fresh
        .ids_to(voided)
        .into_iter()
        .enumerate()
        .map(|(i, (b, _))| (b, format!("<id {i}>")))
        .collect();
    let got = everything(app, voided, &names).await;
    let expected = everything(app, fresh, &fresh_names).await;
    for (what, answer) in &expected {
        assert_eq!(got.get(what), Some(answer), "{what} differs once voided");
    }
}

/// The events of the example: a job chain across folders, runs without a job, an upload,
/// October usage, two unit types and services.
fn example() -> Vec<Spec> {
    let base = Spec {
        key: String::new(),
        tenant: 0,
        unit: "test-executions",
        upload: false,
        quantity: 10_000,
        day: 20,
        october: false,
        service: "robots",
        process: None,
        folder: None,
        job: None,
        parent: None,
        duration_ms: None,
    };
    let spec = |key: &str, change: &dyn Fn(&mut Spec)| {
        let mut s = Spec {
            key: key.to_owned(),
            ..base.clone()
        };
        change(&mut s);
        s
    };
    vec![
        spec("root", &|s| {
            s.quantity = 50_000;
            s.process = Some(0);
            s.folder = Some(0);
            s.job = Some("j1".into());
            s.duration_ms = Some(1000);
        }),
        spec("child", &|s| {
            s.quantity = 120_000;
            s.process = Some(1);
            s.folder = Some(1);
            s.job = Some("j2".into());
            s.parent = Some("j1".into());
            s.duration_ms = Some(2000);
        }),
        spec("root-again", &|s| {
            s.quantity = 2_500;
            s.job = Some("j1".into());
        }),
        spec("loose", &|s| {
            s.quantity = 300_000;
            s.process = Some(1);
            s.day = 21;
            s.service = "orchestrator";
        }),
        spec("plain", &|s| {
            s.quantity = 70_000;
            s.day = 3;
        }),
        spec("other-tenant", &|s| {
            s.tenant = 1;
            s.quantity = 90_000;
            s.process = Some(2);
            s.folder = Some(2);
        }),
        spec("october", &|s| {
            s.quantity = 40_000;
            s.october = true;
            s.day = 15;
            s.process = Some(0);
        }),
        spec("upload", &|s| {
            s.upload = true;
            s.unit = "platform-units";
            s.service = "uploads";
            s.duration_ms = Some(500);
        }),
        spec("platform", &|s| {
            s.unit = "platform-units";
            s.quantity = 80_000;
            s.folder = Some(1);
            s.duration_ms = Some(750);
        }),
    ]
}

/// The keys voided in the example: the child of a chain (its parent stays), a run without
/// a job, a repeat of a job's run, usage of a whole month, an upload and another unit.
const VOIDED: [&str; 6] = ["child", "loose", "root-again", "october", "upload", "platform"];

#[tokio::test]
async fn voided_events_count_nowhere_and_the_keys_stay_taken() {
    let app = TestApp::spawn().await;
    unit_types(&app).await;
    let voided = organization(&app, "voided").await;
    let fresh = organization(&app, "fresh").await;
    let specs = example();
    record_specs(&app, &voided, &specs.iter().collect::<Vec<_>>()).await;
    let kept: Vec<&Spec> = specs.iter().filter(|s| !VOIDED.contains(&s.key.as_str())).collect();
    record_specs(&app, &fresh, &kept).await;

    let done = void(&app, SYSTEM_KEY, &voided.id, &VOIDED, "  recorded twice by the agent ").await;
    assert_eq!(done, json!({ "voided": 6, "alreadyVoided": 0 }));
    assert_same_figures(&app, &voided, &fresh).await;

    // Again (a key twice, one new): the voided ones change nothing.
    let again = void(
        &app,
        SYSTEM_KEY,
        &voided.id,
        &["child", "child", "plain", "upload"],
        "cleanup",
    )
    .await;
    assert_eq!(again, json!({ "voided": 1, "alreadyVoided": 2 }));
    void(&app, SYSTEM_KEY, &fresh.id, &["plain"], "cleanup").await;
    assert_same_figures(&app, &voided, &fresh).await;

    // A voided key stays taken: the same event again is a duplicate and counts nowhere;
    // other content under it is a CONFLICT.
    let child = specs.iter().find(|s| s.key == "child").unwrap();
    let again = app
        .mutate(SYSTEM_KEY, "recordUsage", json!({ "events": [child.event(&voided)] }))
        .await;
    assert_eq!(again, json!({ "accepted": 0, "duplicates": 1 }));
    let mut other = child.clone();
    other.quantity += 1;
    app.mutate_refused(
        SYSTEM_KEY,
        "recordUsage",
        json!({ "events": [other.event(&voided)] }),
        "CONFLICT",
        &["child"],
    )
    .await;
    assert_same_figures(&app, &voided, &fresh).await;
    // A voided run takes no duration.
    let finish = json!({ "tenantId": voided.tenants[0], "idempotencyKey": "loose", "durationMs": 5 });
    app.mutate_refused(
        SYSTEM_KEY,
        "finishExecution",
        finish,
        "BAD_USER_INPUT",
        &["loose", "voided"],
    )
    .await;

    // events.csv keeps every event, the voided ones marked with when and why.
    let query = [
        ("organization", voided.id.as_str()),
        ("unitType", "test-executions"),
        ("from", "2026-10-01"),
        ("to", "2026-11-23"),
    ];
    let (header, rows) = export(&app, SYSTEM_KEY, "events", &query).await;
    assert_eq!(header[header.len() - 2..], ["voided_at", "void_reason"]);
    let key = header.iter().position(|h| h == "idempotency_key").unwrap();
    let marks: BTreeMap<&str, (&str, &str)> = rows
        .iter()
        .map(|r| (r[key].as_str(), (r[r.len() - 2].as_str(), r[r.len() - 1].as_str())))
        .collect();
    assert_eq!(marks.len(), 7, "{rows:?}");
    assert_eq!(marks["child"], (DEFAULT_NOW, "recorded twice by the agent"));
    assert_eq!(marks["plain"], (DEFAULT_NOW, "cleanup"));
    assert_eq!(marks["root"], ("", ""));
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_key_voids_nothing_and_bad_requests_are_refused() {
    let (app, fx, [a, b]) = acme_with_tenants(["a", "b"]).await;
    let (globex, globex_owner) = globex_owner(&app).await;
    let t = tenant(&app, &globex.org, "g").await;
    record(&app, [event("g1", &t, "1", "2026-11-20T10:00:00Z")]).await;
    record(
        &app,
        [
            event("a1", &a, "5", "2026-11-20T10:00:00Z"),
            event("b1", &b, "7", "2026-11-20T10:00:00Z"),
        ],
    )
    .await;
    let consumed = || async {
        app.organization(SYSTEM_KEY, &fx.org, "usage(unitType: \"units\") { consumed }")
            .await["usage"]["consumed"]
            .clone()
    };
    let input =
        |keys: Value, reason: &str| json!({ "organizationId": fx.org, "idempotencyKeys": keys, "reason": reason });
    // Another organization's key is unknown here; the known ones are not voided either.
    let message = app
        .mutate_refused(
            SYSTEM_KEY,
            "voidUsage",
            input(json!(["a1", "g1", "nope"]), "x"),
            "BAD_USER_INPUT",
            &["'g1', 'nope'", "nothing was voided"],
        )
        .await;
    assert!(!message.contains("a1"), "{message}");
    let many: Vec<String> = (0..8).map(|i| format!("m{i}")).collect();
    app.mutate_refused(
        SYSTEM_KEY,
        "voidUsage",
        input(json!(many), "x"),
        "BAD_USER_INPUT",
        &["'m0', 'm1', 'm2', 'm3', 'm4' and 3 more"],
    )
    .await;
    for (keys, reason, words) in [
        (json!([]), "x", &["idempotencyKeys", "at least one"][..]),
        (json!(["a1"]), " \n ", &["reason", "empty"][..]),
        (json!(["a1"]), &"x".repeat(501), &["reason", "500"][..]),
    ] {
        app.mutate_refused(SYSTEM_KEY, "voidUsage", input(keys, reason), "BAD_USER_INPUT", words)
            .await;
    }
    let too_many: Vec<String> = (0..=10_000).map(|i| format!("k{i}")).collect();
    app.mutate_refused(
        SYSTEM_KEY,
        "voidUsage",
        input(json!(too_many), "x"),
        "BAD_USER_INPUT",
        &["at most 10000"],
    )
    .await;
    assert_eq!(consumed().await, "12");
    // Another organization's owner does not see this one.
    app.mutate_refused(
        &globex_owner,
        "voidUsage",
        input(json!(["a1"]), "x"),
        "NOT_FOUND",
        &["organization"],
    )
    .await;
    // An INGEST key limited to a tenant voids that tenant's events only: others are unknown.
    let ingest_a = key(&app, "INGEST", Some(&fx.org), Some(&a)).await;
    app.mutate_refused(
        &ingest_a,
        "voidUsage",
        input(json!(["b1"]), "x"),
        "BAD_USER_INPUT",
        &["'b1'"],
    )
    .await;
    let done = app.mutate(&ingest_a, "voidUsage", input(json!(["a1"]), "typo")).await;
    assert_eq!(done, json!({ "voided": 1, "alreadyVoided": 0 }));
    assert_eq!(consumed().await, "7");
    app.finish().await;
}

#[tokio::test]
async fn roles_that_record_usage_void_it_and_the_void_is_audited() {
    let (app, fx, [a]) = acme_with_tenants(["a"]).await;
    record(&app, [event("a1", &a, "5", "2026-11-20T10:00:00Z")]).await;
    let input = json!({ "organizationId": fx.org, "idempotencyKeys": ["a1"], "reason": "typo" });
    for role in ["BILLING_MANAGER", "VIEWER"] {
        let k = key(&app, role, Some(&fx.org), None).await;
        app.mutate_refused(&k, "voidUsage", input.clone(), "FORBIDDEN", &[])
            .await;
    }
    let tenant_admin = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&a)).await;
    app.mutate_refused(&tenant_admin, "voidUsage", input.clone(), "FORBIDDEN", &[])
        .await;
    let mut voided = 0;
    for role in ["OWNER", "ADMIN", "INGEST"] {
        let k = key(&app, role, Some(&fx.org), None).await;
        voided += app.mutate(&k, "voidUsage", input.clone()).await["voided"]
            .as_i64()
            .unwrap();
    }
    assert_eq!(voided, 1, "voided once, then found voided");
    let log = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "auditLog(first: 100) { nodes { action role targetKind after } }",
        )
        .await;
    let entries: Vec<&Value> = log["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "voidUsage")
        .collect();
    assert_eq!(entries.len(), 3, "{log:#}");
    assert_eq!(entries[0]["role"], "OWNER");
    assert_eq!(entries[0]["targetKind"], "UsageBatch");
    assert_eq!(
        entries[0]["after"],
        json!({ "keys": 1, "voided": 1, "alreadyVoided": 0, "reason": "typo" })
    );
    app.finish().await;
}

#[tokio::test]
async fn a_status_that_goes_back_down_is_announced_and_thresholds_stay_sent() {
    let (app, fx, [a]) = acme_with_tenants(["a"]).await;
    allocate(&app, &a, Some("100")).await;
    record(&app, [event("a80", &a, "80", "2026-11-20T10:00:00Z")]).await;
    record(&app, [event("a10", &a, "10", "2026-11-20T11:00:00Z")]).await;
    void(&app, SYSTEM_KEY, &fx.org, &["a80"], "billed twice").await;
    let page = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "notifications(first: 100) { edges { node { kind tenantId threshold previousStatus status consumed } } }",
        )
        .await;
    let nodes: Vec<Value> = page["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["tenantId"] == json!(a))
        .collect();
    let last = nodes.last().unwrap();
    assert_eq!(last["kind"], "STATUS_CHANGED", "{nodes:#?}");
    assert_eq!(last["status"], "HEALTHY", "{nodes:#?}");
    assert_eq!(last["consumed"], "10");
    // The 70% mark was sent and stays sent: going over it again says nothing new.
    let crossed = |nodes: &[Value]| nodes.iter().filter(|n| n["kind"] == "THRESHOLD_CROSSED").count();
    let before = crossed(&nodes);
    record(&app, [event("a65", &a, "65", "2026-11-21T10:00:00Z")]).await;
    let page = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "notifications(first: 100) { edges { node { kind tenantId threshold status } } }",
        )
        .await;
    let nodes: Vec<Value> = page["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .filter(|n| n["tenantId"] == json!(a))
        .collect();
    assert_eq!(crossed(&nodes), before, "{nodes:#?}");
    assert_eq!(nodes.last().unwrap()["kind"], "STATUS_CHANGED", "{nodes:#?}");
    app.finish().await;
}

#[tokio::test]
async fn concurrent_voids_of_one_key_take_it_off_once_beside_concurrent_recording() {
    let (app, fx, [a]) = acme_with_tenants(["a"]).await;
    let keys: Vec<String> = (0..20).map(|i| format!("v{i}")).collect();
    record(
        &app,
        keys.iter()
            .map(|k| event(k, &a, "1", "2026-11-20T10:00:00Z").with(json!({ "jobId": "j" }))),
    )
    .await;
    let key_refs: Vec<&str> = keys.iter().map(String::as_str).collect();
    let voids = (0..4).map(|_| void(&app, SYSTEM_KEY, &fx.org, &key_refs, "race"));
    let (app_ref, a_ref) = (&app, &a);
    let records = (0..4).map(|i| async move {
        let live = event(&format!("live{i}"), a_ref, "1", "2026-11-20T10:00:00Z").with(json!({ "jobId": "j" }));
        record(app_ref, [live]).await;
    });
    let (voided, _) = futures_util::join!(join_all(voids), join_all(records));
    let total: i64 = voided.iter().map(|v| v["voided"].as_i64().unwrap()).sum();
    assert_eq!(total, 20, "{voided:?}");
    let usage = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "usage(unitType: \"units\") { consumed processes(attribution: OWNERSHIP) { edges { node { consumed } } } }",
        )
        .await;
    assert_eq!(usage["usage"]["consumed"], "4", "{usage:#}");
    let activity = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "activity(unitType: \"units\", weeks: 2) { weeks { runs } }",
        )
        .await;
    let runs: i64 = activity["activity"]["weeks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["runs"].as_i64().unwrap())
        .sum();
    assert_eq!(runs, 4, "{activity:#}");
    app.finish().await;
}

/// A generated event: tenant, upload, platform unit, quantity (ten-thousandths), day,
/// October, process, folder, job, duration.
type Generated = (
    usize,
    bool,
    bool,
    i64,
    u32,
    bool,
    Option<usize>,
    Option<usize>,
    Option<u8>,
    Option<i64>,
);

/// A generated event of the property test: any tenant, folder, process, unit type,
/// service, kind and day, and a job of its own or shared with other events.
fn generated_spec() -> impl Strategy<Value = Generated> {
    (
        0usize..2,
        prop::bool::weighted(0.2),
        prop::bool::weighted(0.2),
        1i64..400_000,
        1u32..=23,
        prop::bool::weighted(0.15),
        prop::option::of(0usize..2),
        prop::option::of(0usize..2),
        prop::option::of(0u8..3),
        prop::option::of(0i64..5000),
    )
}

async fn property(generated: Vec<Generated>, voided_mask: Vec<bool>) {
    let app = TestApp::spawn().await;
    unit_types(&app).await;
    let voided = organization(&app, "voided").await;
    let fresh = organization(&app, "fresh").await;
    let specs: Vec<Spec> = generated
        .into_iter()
        .enumerate()
        .map(
            |(i, (tenant, upload, platform, quantity, day, october, process, folder, job, duration_ms))| {
                // Events of one job agree on what it ran: its process and folder are the job's.
                let (process, folder) = match job {
                    Some(j) => (Some(usize::from(j % 2)), Some(usize::from(j % 2))),
                    None => (process, folder),
                };
                Spec {
                    key: format!("e{i}"),
                    tenant,
                    unit: if platform { "platform-units" } else { "test-executions" },
                    upload,
                    quantity,
                    day: if october { day.min(28) } else { day.min(22) },
                    october,
                    service: if i % 3 == 0 { "orchestrator" } else { "robots" },
                    process,
                    folder,
                    job: job.map(|j| format!("job{tenant}-{j}")),
                    parent: None,
                    duration_ms,
                }
            },
        )
        .collect();
    let all: Vec<&Spec> = specs.iter().collect();
    let void_keys: Vec<&str> = specs
        .iter()
        .zip(voided_mask.iter().cycle())
        .filter(|(_, v)| **v)
        .map(|(s, _)| s.key.as_str())
        .collect();
    let kept: Vec<&Spec> = specs.iter().filter(|s| !void_keys.contains(&s.key.as_str())).collect();
    record_specs(&app, &voided, &all).await;
    record_specs(&app, &fresh, &kept).await;
    if !void_keys.is_empty() {
        let done = void(&app, SYSTEM_KEY, &voided.id, &void_keys, "generated").await;
        assert_eq!(done["voided"], void_keys.len());
    }
    assert_same_figures(&app, &voided, &fresh).await;
    crate::helpers::assert_derived_rollups_match(&app.database_url).await;
    app.finish().await;
}

proptest! {
    // Each case starts a server with a fresh database and reads everything twice: few cases.
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    #[test]
    fn voiding_some_events_answers_as_never_recording_them(
        generated in prop::collection::vec(generated_spec(), 1..14),
        voided_mask in prop::collection::vec(any::<bool>(), 1..8),
    ) {
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(property(generated, voided_mask));
    }
}
