//! Admission (`startExecution`) and consumption controls over real HTTP: never over-grant
//! under concurrency (also across two server processes on one database), refusals record
//! nothing, idempotency, "stop at 100%" per service, and the control rules.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, ServerProcess, TestApp, allocate, assert_error, document, event, key, organization_with_tenants,
    set_tenant_state,
};

/// A server whose organization has a monthly license of `capacity` (enforced or not) and
/// one tenant; returns the server, the organization and the tenant.
async fn organization(capacity: &str, enforced: bool) -> (TestApp, String, String) {
    let app = TestApp::spawn().await;
    let license = json!({ "capacity": capacity, "enforced": enforced });
    let (org, [t]) = organization_with_tenants(&app, "org", "UTC", license, ["t"]).await;
    (app, org, t)
}

/// `startExecution`'s input: `quantity` units of `service` for `tenant`, under `key`.
fn start(tenant: &str, key: &str, service: &str, quantity: &str) -> Value {
    json!({ "idempotencyKey": key, "tenantId": tenant, "unitType": "units", "service": service, "quantity": quantity })
}

/// Expects the admission `input` refused as QUOTA_EXCEEDED, with a message naming each of
/// `words`; returns the error's extensions (the figures it tells).
async fn quota_exceeded(app: &TestApp, input: Value, words: &[&str]) -> Value {
    let answer = app
        .gql(SYSTEM_KEY, &document("startExecution"), json!({ "input": input }))
        .await;
    assert_error(&answer, "QUOTA_EXCEEDED", words);
    answer["errors"][0]["extensions"].clone()
}

/// Records one event and returns `recordUsage`'s answer (accepted, duplicates).
async fn record(app: &TestApp, tenant: &str, key: &str, quantity: &str, kind: &str) -> Value {
    let event = event(key, tenant, quantity, "2026-11-20T10:00:00Z").with(json!({ "kind": kind }));
    app.mutate(SYSTEM_KEY, "recordUsage", json!({ "events": [event] }))
        .await
}

async fn used(app: &TestApp, org: &str) -> String {
    let quota = app
        .organization(SYSTEM_KEY, org, "quota(unitType: \"units\") { used }")
        .await;
    quota["quota"]["used"].as_str().unwrap().to_owned()
}

/// `setConsumptionControl`'s input for `tenant`'s "units", with `fields` added.
fn control(tenant: &str, fields: Value) -> Value {
    let mut input = json!({ "tenantId": tenant, "unitType": "units" });
    input
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    input
}

/// Fires `calls` admissions of one unit at once, spread over the given servers; returns
/// how many were granted and how many refused with QUOTA_EXCEEDED.
async fn stampede(servers: &[(&str, &reqwest::Client)], tenant: &str, calls: usize) -> (usize, usize) {
    let requests = (0..calls).map(|i| {
        let (address, client) = servers[i % servers.len()];
        let input = start(tenant, &format!("run-{i}"), "robots", "1");
        let body = json!({ "query": document("startExecution"), "variables": { "input": input } });
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
                assert_error(&answer, "QUOTA_EXCEEDED", &[]);
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
    let (app, org, t) = organization("100", true).await;
    record(&app, &t, "before", "90", "EXECUTION").await;
    let (granted, refused) = stampede(&[(&app.address, &app.client)], &t, 64).await;
    assert_eq!((granted, refused), (10, 54));
    assert_eq!(used(&app, &org).await, "100", "the stored sum is exactly at the limit");
    app.finish().await;
}

#[tokio::test]
async fn two_server_processes_on_one_database_never_over_grant() {
    let (app, org, t) = organization("100", true).await;
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
    let (app, org, t) = organization("10", true).await;
    let granted = app
        .mutate(SYSTEM_KEY, "startExecution", start(&t, "a", "robots", "8"))
        .await;
    assert_eq!(
        granted,
        json!({ "granted": true, "quota": { "used": "8", "limit": "10", "remaining": "2", "enforced": true } })
    );
    let extensions = quota_exceeded(&app, start(&t, "b", "robots", "3"), &["limit of 10"]).await;
    assert_eq!(extensions["limit"], "10");
    assert_eq!(extensions["used"], "8");
    assert_eq!(extensions["remaining"], "2");
    assert_eq!(used(&app, &org).await, "8");
    // The refused key was not taken: it can be granted once it fits.
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "b", "robots", "2"))
        .await;
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
    let (app, org, t) = organization("10", true).await;
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "run-1", "robots", "4"))
        .await;
    // The same request again is granted again without recording anything.
    let again = app
        .mutate(SYSTEM_KEY, "startExecution", start(&t, "run-1", "robots", "4"))
        .await;
    assert_eq!(again["granted"], true);
    assert_eq!(used(&app, &org).await, "4");
    // The same key for something else is a CONFLICT.
    app.mutate_refused(
        SYSTEM_KEY,
        "startExecution",
        start(&t, "run-1", "robots", "5"),
        "CONFLICT",
        &[],
    )
    .await;
    // And recordUsage with a key taken by an admission is a CONFLICT too.
    let events = json!({ "events": [event("run-1", &t, "4", "2026-11-20T10:00:00Z")] });
    app.mutate_refused(SYSTEM_KEY, "recordUsage", events, "CONFLICT", &[])
        .await;
    app.finish().await;
}

#[tokio::test]
async fn an_unenforced_license_grants_past_its_limit() {
    let (app, org, t) = organization("2", false).await;
    for i in 0..3 {
        app.mutate(SYSTEM_KEY, "startExecution", start(&t, &format!("r{i}"), "robots", "1"))
            .await;
    }
    assert_eq!(used(&app, &org).await, "3");
    app.finish().await;
}

#[tokio::test]
async fn a_service_under_stop_at_allocation_stops_at_the_tenants_allocation() {
    let (app, org, t) = organization("100", false).await;
    allocate(&app, &t, Some("5")).await;
    let stop = json!({ "stopAtAllocation": ["robots", "robots"], "alertThresholds": [0.9, 0.5] });
    let set = app.mutate(SYSTEM_KEY, "setConsumptionControl", control(&t, stop)).await;
    assert_eq!(set["consumptionControl"]["stopAtAllocation"], json!(["robots"]));
    assert_eq!(set["consumptionControl"]["alertThresholds"], json!([0.5, 0.9]));
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "a", "robots", "4"))
        .await;
    let extensions = quota_exceeded(&app, start(&t, "b", "robots", "2"), &[]).await;
    assert_eq!(
        (&extensions["limit"], &extensions["used"], &extensions["remaining"]),
        (&json!("5"), &json!("4"), &json!("1"))
    );
    // Another service goes on drawing from the organization's pool.
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "c", "orchestrator", "20"))
        .await;
    assert_eq!(used(&app, &org).await, "24");
    // Leaving a list out keeps it; an empty list lifts the stop.
    let lift = control(&t, json!({ "stopAtAllocation": [] }));
    app.mutate(SYSTEM_KEY, "setConsumptionControl", lift).await;
    let kept = app
        .mutate(SYSTEM_KEY, "setConsumptionControl", control(&t, json!({})))
        .await;
    assert_eq!(kept["consumptionControl"]["alertThresholds"], json!([0.5, 0.9]));
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "d", "robots", "2"))
        .await;
    app.finish().await;
}

#[tokio::test]
async fn consumption_controls_follow_the_rules() {
    let (app, org, t) = organization("100", false).await;
    let input = |thresholds: Value, stop: Value| {
        control(&t, json!({ "stopAtAllocation": stop, "alertThresholds": thresholds }))
    };
    let refused = async |key: &str, thresholds: Value, stop: Value, code: &str, words: &[&str]| {
        let input = input(thresholds, stop);
        app.mutate_refused(key, "setConsumptionControl", input, code, words)
            .await
    };
    // No allocation yet.
    refused(SYSTEM_KEY, json!([0.5]), json!([]), "BAD_USER_INPUT", &["allocation"]).await;
    let allocation = json!({ "tenantId": t, "unitType": "units", "amount": "5" });
    app.mutate(SYSTEM_KEY, "setAllocation", allocation).await;
    for (thresholds, stop) in [
        (json!([0]), json!([])),
        (json!([10.5]), json!([])),
        (json!([-1]), json!([])),
        (json!([0.5, 0.5]), json!([])),
        (json!([0.5]), json!(["not a code"])),
    ] {
        refused(SYSTEM_KEY, thresholds, stop, "BAD_USER_INPUT", &[]).await;
    }
    let allowed = input(json!([10]), json!(["robots"]));
    app.mutate(SYSTEM_KEY, "setConsumptionControl", allowed).await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    refused(&viewer, json!([0.5]), json!([]), "FORBIDDEN", &[]).await;
    set_tenant_state(&app, &t, "DISABLED").await;
    refused(SYSTEM_KEY, json!([0.5]), json!([]), "BAD_USER_INPUT", &["ACTIVE"]).await;
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_that_is_not_active_starts_no_run_and_nothing_is_recorded() {
    let (app, org, t) = organization("1000", true).await;
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "before", "robots", "5"))
        .await;
    for state in ["DISABLED", "DELETED"] {
        set_tenant_state(&app, &t, state).await;
        let answer = app
            .gql(
                SYSTEM_KEY,
                &document("startExecution"),
                json!({ "input": start(&t, &format!("while-{state}"), "robots", "1") }),
            )
            .await;
        assert_error(&answer, "TENANT_INACTIVE", &["tenantId", state]);
        assert_eq!(used(&app, &org).await, "5", "{state}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_disabled_tenant_still_reports_its_late_usage() {
    let (app, org, t) = organization("1000", true).await;
    set_tenant_state(&app, &t, "DISABLED").await;
    let answer = record(&app, &t, "late", "7", "EXECUTION").await;
    assert_eq!(answer["accepted"], 1);
    assert_eq!(used(&app, &org).await, "7");
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// finishExecution: a started run reports its duration, once

fn finish(tenant: &str, key: &str, duration_ms: i64) -> Value {
    json!({ "tenantId": tenant, "idempotencyKey": key, "durationMs": duration_ms })
}

#[tokio::test]
async fn a_started_run_reports_its_duration_once_and_it_shows_in_activity_and_the_events_export() {
    let (app, org, t) = organization("1000", true).await;
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "run-1", "robots", "5"))
        .await;
    let done = app
        .mutate(SYSTEM_KEY, "finishExecution", finish(&t, "run-1", 90_000))
        .await;
    assert_eq!(done["durationMs"], 90_000);
    // The same duration again changes nothing; another one is a conflict.
    app.mutate(SYSTEM_KEY, "finishExecution", finish(&t, "run-1", 90_000))
        .await;
    app.mutate_refused(
        SYSTEM_KEY,
        "finishExecution",
        finish(&t, "run-1", 1),
        "CONFLICT",
        &["90000", "1"],
    )
    .await;

    let week = app
        .organization(
            SYSTEM_KEY,
            &org,
            r#"activity(unitType: "units", weeks: 1) { weeks { runs executions durationSeconds } }"#,
        )
        .await["activity"]["weeks"][0]
        .clone();
    assert_eq!(week, json!({ "runs": 1, "executions": "5", "durationSeconds": 90.0 }));
    let (header, rows) = crate::helpers::export(
        &app,
        SYSTEM_KEY,
        "events",
        &[("organization", &org), ("unitType", "units")],
    )
    .await;
    let duration = header
        .iter()
        .position(|h| h == "duration_ms")
        .expect("a duration column");
    assert_eq!(rows[0][duration], "90000");
    // Starting the same run again still answers as the first time.
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "run-1", "robots", "5"))
        .await;
    app.finish().await;
}

#[tokio::test]
async fn finishing_an_unknown_run_or_with_a_bad_duration_or_without_the_right_is_refused() {
    let (app, org, t) = organization("1000", true).await;
    app.mutate(SYSTEM_KEY, "startExecution", start(&t, "run-1", "robots", "1"))
        .await;
    app.mutate_refused(
        SYSTEM_KEY,
        "finishExecution",
        finish(&t, "nope", 10),
        "NOT_FOUND",
        &["idempotencyKey", "nope"],
    )
    .await;
    app.mutate_refused(
        SYSTEM_KEY,
        "finishExecution",
        finish(&t, "run-1", -1),
        "BAD_USER_INPUT",
        &["durationMs", "-1"],
    )
    .await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    app.mutate_refused(&viewer, "finishExecution", finish(&t, "run-1", 10), "FORBIDDEN", &[])
        .await;
    // The run belongs to its tenant: another tenant's finish does not find it.
    let other = crate::helpers::tenant(&app, &org, "other").await;
    app.mutate_refused(
        SYSTEM_KEY,
        "finishExecution",
        finish(&other, "run-1", 10),
        "NOT_FOUND",
        &["run-1"],
    )
    .await;
    // An upload is no run to finish.
    record(&app, &t, "up", "3", "UPLOAD").await;
    app.mutate_refused(
        SYSTEM_KEY,
        "finishExecution",
        finish(&t, "up", 10),
        "NOT_FOUND",
        &["up"],
    )
    .await;
    // Nothing of that was recorded.
    app.mutate(SYSTEM_KEY, "finishExecution", finish(&t, "run-1", 10)).await;
    app.finish().await;
}
