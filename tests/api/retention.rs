//! Event retention (docs/design.md §15.7): with `QUOTAGRAPH_EVENT_RETENTION_DAYS`, raw
//! usage events older than the retention are deleted by the watcher off the request path;
//! every figure stays as it was, and an event older than the retention is refused, since
//! its key could no longer be checked for duplicates.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::helpers::*;

/// The figures of November's bundle to the 23rd (today, before the clock moves) a dashboard reads.
const FIGURES: &str = r#"usage(unitType: "units", bundle: "2026-11-01", range: {from: "2026-11-01", to: "2026-11-23"}) {
  consumed remaining allocated status
  tenants { displayName consumed remaining status }
  distribution(granularity: DAY) { start consumed }
  byService { total services { service { code } consumed } }
  folders(attribution: OWNERSHIP) { consumed }
}"#;

async fn raw_events(app: &TestApp, org: &str) -> i64 {
    let db = quotagraph::store::connect(&app.database_url).await.unwrap();
    let org =
        quotagraph::graphql::node::decode::<quotagraph::domain::ids::OrganizationId>(&async_graphql::ID(org.into()))
            .unwrap()
            .0;
    quotagraph::store::usage::raw_totals(&db, org).await.unwrap().0
}

#[tokio::test]
async fn old_raw_events_go_and_every_figure_stays() {
    let app = TestApp::spawn_with_event_retention(30).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let a = tenant(&app, &fx.org, "a").await;
    let b = tenant(&app, &fx.org, "b").await;
    allocate(&app, &a, Some("300")).await;
    record(
        &app,
        [
            event("nov-1", &a, "120", "2026-11-03T10:00:00Z"),
            event("nov-2", &b, "45.5", "2026-11-12T23:30:00Z"),
            event("nov-3", &a, "7", "2026-11-20T08:00:00Z"),
        ],
    )
    .await;
    let before = app.organization(SYSTEM_KEY, &fx.org, FIGURES).await;
    assert_eq!(raw_events(&app, &fx.org).await, 3);

    // Fifty days on, November's raw events are past the 30 days kept.
    let later: DateTime<Utc> = "2027-01-10T12:00:00Z".parse().unwrap();
    app.clock.set(later);
    let mut waited = Duration::ZERO;
    while raw_events(&app, &fx.org).await > 0 {
        assert!(waited < Duration::from_secs(10), "the raw events were not deleted");
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += Duration::from_millis(50);
    }
    assert_eq!(app.organization(SYSTEM_KEY, &fx.org, FIGURES).await, before);
    let (_, rows) = export(
        &app,
        SYSTEM_KEY,
        "events",
        &[
            ("organization", &fx.org),
            ("unitType", "units"),
            ("bundle", "2026-11-01"),
        ],
    )
    .await;
    assert!(rows.is_empty(), "{rows:?}");

    // A resend of a deleted event, or any event older than the retention, is refused.
    let resend: Value = json!({ "events": [event("nov-1", &a, "120", "2026-11-03T10:00:00Z")] });
    app.mutate_refused(
        SYSTEM_KEY,
        "recordUsage",
        resend,
        "BAD_USER_INPUT",
        &["occurredAt", "30 days"],
    )
    .await;
    let void = json!({ "organizationId": fx.org, "idempotencyKeys": ["nov-2"], "reason": "too late" });
    app.mutate_refused(SYSTEM_KEY, "voidUsage", void, "BAD_USER_INPUT", &["nov-2"])
        .await;
    // Within the retention, events are taken and kept.
    record(&app, [event("jan-1", &a, "3", "2027-01-09T10:00:00Z")]).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(raw_events(&app, &fx.org).await, 1);
    app.finish().await;
}
