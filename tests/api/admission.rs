//! Admission (`startExecution`) and consumption controls over real HTTP: never over-grant
//! under concurrency (also across two server processes on one database), refusals record
//! nothing, idempotency, "stop at 100%" per service, and the control rules.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, ServerProcess, TestApp, event, key, licensed_organization, set_tenant_state, tenant};

const START: &str = "mutation($i: StartExecutionInput!) { startExecution(input: $i) { granted quota { used limit remaining enforced } } }";
const RECORD: &str =
    "mutation($events: [UsageEventInput!]!) { recordUsage(input: {events: $events}) { accepted duplicates } }";
const QUOTA: &str = "query($o: ID!) { organization(id: $o) { quota(unitType: \"units\") { used limit remaining } } }";
const CONTROL: &str = "mutation($i: SetConsumptionControlInput!) { setConsumptionControl(input: $i) { consumptionControl { stopAtAllocation alertThresholds tenant { id } unitType { code } } } }";

/// An organization with a monthly license of `capacity` (enforced or not) and one tenant.
async fn organization(app: &TestApp, capacity: &str, enforced: bool) -> (String, String) {
    let org = licensed_organization(app, "org", "UTC", json!({ "capacity": capacity, "enforced": enforced }))
        .await
        .org;
    let t = tenant(app, &org, "t").await;
    (org, t)
}

fn start_input(tenant: &str, key: &str, service: &str, quantity: &str) -> Value {
    json!({ "i": { "idempotencyKey": key, "tenantId": tenant, "unitType": "units", "service": service, "quantity": quantity } })
}

/// Records one event and returns `recordUsage`'s answer (accepted, duplicates).
async fn record(app: &TestApp, tenant: &str, key: &str, quantity: &str, kind: &str) -> Value {
    let event = event(key, tenant, quantity, "2026-11-20T10:00:00Z").with(json!({ "kind": kind }));
    app.ok(SYSTEM_KEY, RECORD, json!({ "events": [event] })).await["recordUsage"].clone()
}

async fn used(app: &TestApp, org: &str) -> String {
    app.ok(SYSTEM_KEY, QUOTA, json!({ "o": org })).await["organization"]["quota"]["used"]
        .as_str()
        .unwrap()
        .to_owned()
}

/// Fires `calls` admissions of one unit at once, spread over the given servers; returns
/// how many were granted and how many refused with QUOTA_EXCEEDED.
async fn stampede(servers: &[(&str, &reqwest::Client)], tenant: &str, calls: usize) -> (usize, usize) {
    let requests = (0..calls).map(|i| {
        let (address, client) = servers[i % servers.len()];
        let body = json!({ "query": START, "variables": start_input(tenant, &format!("run-{i}"), "robots", "1") });
        async move {
            let answer: Value = client
                .post(format!("http://{address}/graphql"))
                .bearer_auth(SYSTEM_KEY)
                .json(&body)
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            if answer["data"]["startExecution"]["granted"] == true {
                (1, 0)
            } else {
                assert_eq!(answer["errors"][0]["extensions"]["code"], "QUOTA_EXCEEDED", "{answer}");
                (0, 1)
            }
        }
    });
    join_all(requests)
        .await
        .into_iter()
        .fold((0, 0), |(g, r), (dg, dr)| (g + dg, r + dr))
}

#[tokio::test]
async fn sixty_four_concurrent_admissions_grant_exactly_what_is_left() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "100", true).await;
    record(&app, &t, "before", "90", "EXECUTION").await;
    let (granted, refused) = stampede(&[(&app.address, &app.client)], &t, 64).await;
    assert_eq!((granted, refused), (10, 54));
    assert_eq!(used(&app, &org).await, "100", "the stored sum is exactly at the limit");
    app.finish().await;
}

#[tokio::test]
async fn two_server_processes_on_one_database_never_over_grant() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "100", true).await;
    record(&app, &t, "before", "90", "EXECUTION").await;
    let quiet = [("RUST_LOG", "warn")];
    let (a, b) = (
        ServerProcess::on(&app.database_url, &quiet).await,
        ServerProcess::on(&app.database_url, &quiet).await,
    );
    let client = reqwest::Client::new();
    let (granted, refused) = stampede(&[(&a.address, &client), (&b.address, &client)], &t, 64).await;
    assert_eq!((granted, refused), (10, 54));
    drop((a, b));
    assert_eq!(used(&app, &org).await, "100");
    app.finish().await;
}

#[tokio::test]
async fn a_refusal_records_nothing_and_tells_the_figures() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "10", true).await;
    let granted = app.ok(SYSTEM_KEY, START, start_input(&t, "a", "robots", "8")).await;
    assert_eq!(
        granted["startExecution"],
        json!({ "granted": true, "quota": { "used": "8", "limit": "10", "remaining": "2", "enforced": true } })
    );
    let answer = app.gql(SYSTEM_KEY, START, start_input(&t, "b", "robots", "3")).await;
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "QUOTA_EXCEEDED");
    assert_eq!(error["extensions"]["limit"], "10");
    assert_eq!(error["extensions"]["used"], "8");
    assert_eq!(error["extensions"]["remaining"], "2");
    assert!(error["message"].as_str().unwrap().contains("limit of 10"), "{error}");
    assert_eq!(used(&app, &org).await, "8");
    // The refused key was not taken: it can be granted once it fits.
    app.ok(SYSTEM_KEY, START, start_input(&t, "b", "robots", "2")).await;
    assert_eq!(used(&app, &org).await, "10");
    // Uploads are accepted whatever the quota, and never counted.
    assert_eq!(record(&app, &t, "upload", "50", "UPLOAD").await["accepted"], 1);
    // Recording runs that already happened is never refused either.
    assert_eq!(record(&app, &t, "late", "5", "EXECUTION").await["accepted"], 1);
    assert_eq!(used(&app, &org).await, "15");
    app.finish().await;
}

#[tokio::test]
async fn admissions_are_idempotent_by_key() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "10", true).await;
    app.ok(SYSTEM_KEY, START, start_input(&t, "run-1", "robots", "4")).await;
    // The same request again is granted again without recording anything.
    let again = app.ok(SYSTEM_KEY, START, start_input(&t, "run-1", "robots", "4")).await;
    assert_eq!(again["startExecution"]["granted"], true);
    assert_eq!(used(&app, &org).await, "4");
    // The same key for something else is a CONFLICT.
    let (code, _) = app
        .err(SYSTEM_KEY, START, start_input(&t, "run-1", "robots", "5"))
        .await;
    assert_eq!(code, "CONFLICT");
    // And recordUsage with a key taken by an admission is a CONFLICT too.
    let event = json!({
        "idempotencyKey": "run-1", "tenantId": t, "unitType": "units", "service": "robots",
        "quantity": "4", "occurredAt": "2026-11-20T10:00:00Z",
    });
    let (code, _) = app.err(SYSTEM_KEY, RECORD, json!({ "events": [event] })).await;
    assert_eq!(code, "CONFLICT");
    app.finish().await;
}

#[tokio::test]
async fn an_unenforced_license_grants_past_its_limit() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "2", false).await;
    for i in 0..3 {
        app.ok(SYSTEM_KEY, START, start_input(&t, &format!("r{i}"), "robots", "1"))
            .await;
    }
    assert_eq!(used(&app, &org).await, "3");
    app.finish().await;
}

#[tokio::test]
async fn a_service_under_stop_at_allocation_stops_at_the_tenants_allocation() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "100", false).await;
    app.ok(
        SYSTEM_KEY,
        "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\", amount: \"5\", effectiveOn: \"2026-11-01\"}) { allocation { amount } } }",
        json!({ "t": t }),
    )
    .await;
    let set = app
        .ok(
            SYSTEM_KEY,
            CONTROL,
            json!({ "i": { "tenantId": t, "unitType": "units", "stopAtAllocation": ["robots", "robots"], "alertThresholds": [0.9, 0.5] } }),
        )
        .await;
    assert_eq!(
        set["setConsumptionControl"]["consumptionControl"]["stopAtAllocation"],
        json!(["robots"])
    );
    assert_eq!(
        set["setConsumptionControl"]["consumptionControl"]["alertThresholds"],
        json!([0.5, 0.9])
    );
    app.ok(SYSTEM_KEY, START, start_input(&t, "a", "robots", "4")).await;
    let answer = app.gql(SYSTEM_KEY, START, start_input(&t, "b", "robots", "2")).await;
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "QUOTA_EXCEEDED", "{answer}");
    assert_eq!(
        (
            &error["extensions"]["limit"],
            &error["extensions"]["used"],
            &error["extensions"]["remaining"]
        ),
        (&json!("5"), &json!("4"), &json!("1"))
    );
    // Another service goes on drawing from the organization's pool.
    app.ok(SYSTEM_KEY, START, start_input(&t, "c", "orchestrator", "20"))
        .await;
    assert_eq!(used(&app, &org).await, "24");
    // Leaving a list out keeps it; an empty list lifts the stop.
    app.ok(
        SYSTEM_KEY,
        CONTROL,
        json!({ "i": { "tenantId": t, "unitType": "units", "stopAtAllocation": [] } }),
    )
    .await;
    let data = app
        .ok(
            SYSTEM_KEY,
            CONTROL,
            json!({ "i": { "tenantId": t, "unitType": "units" } }),
        )
        .await;
    assert_eq!(
        data["setConsumptionControl"]["consumptionControl"]["alertThresholds"],
        json!([0.5, 0.9])
    );
    app.ok(SYSTEM_KEY, START, start_input(&t, "d", "robots", "2")).await;
    app.finish().await;
}

#[tokio::test]
async fn consumption_controls_follow_the_rules() {
    let app = TestApp::spawn().await;
    let (org, t) = organization(&app, "100", false).await;
    let input = |thresholds: Value, stop: Value| json!({ "i": { "tenantId": t, "unitType": "units", "stopAtAllocation": stop, "alertThresholds": thresholds } });
    // No allocation yet.
    let (code, message) = app.err(SYSTEM_KEY, CONTROL, input(json!([0.5]), json!([]))).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("allocation"), "{message}");
    app.ok(
        SYSTEM_KEY,
        "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\", amount: \"5\"}) { allocation { amount } } }",
        json!({ "t": t }),
    )
    .await;
    for (thresholds, stop) in [
        (json!([0]), json!([])),
        (json!([10.5]), json!([])),
        (json!([-1]), json!([])),
        (json!([0.5, 0.5]), json!([])),
        (json!([0.5]), json!(["not a code"])),
    ] {
        let (code, _) = app
            .err(SYSTEM_KEY, CONTROL, input(thresholds.clone(), stop.clone()))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{thresholds} {stop}");
    }
    app.ok(SYSTEM_KEY, CONTROL, input(json!([10]), json!(["robots"]))).await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    let (code, _) = app.err(&viewer, CONTROL, input(json!([0.5]), json!([]))).await;
    assert_eq!(code, "FORBIDDEN");
    set_tenant_state(&app, &t, "DISABLED").await;
    let (code, message) = app.err(SYSTEM_KEY, CONTROL, input(json!([0.5]), json!([]))).await;
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("ACTIVE"), "{message}");
    app.finish().await;
}
