//! Analytics (docs/design.md §5) over real HTTP: consumption over time in day, week and month
//! buckets (the organization's calendar), consumption by service, weekly activity, the
//! TENANT_ADMIN's scope, and a property test against figures recomputed from the events.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;
use quotagraph::domain::Quantity;
use serde_json::{Value, json};

use crate::helpers::{
    Event, SYSTEM_KEY, TestApp, acme, acme_with_tenants, create_unit_type, event, key, organization_with_tenants,
    record, tenant, tenant_card,
};

const BUCKETS: &str = "start end consumed";
const SERVICES: &str = "total services { service { code name } consumed percent }";
const WEEK: &str = "weekStart runs executions uploads durationSeconds";

fn scaled(text: &str) -> i64 {
    text.parse::<Quantity>().unwrap().scaled()
}

fn text(scaled: i64) -> String {
    Quantity::from_scaled(scaled).to_string()
}

fn date(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// `usage(unitType: "units"<arguments>) { <fields> }` of an organization, with a key.
async fn usage(app: &TestApp, key: &str, org: &str, arguments: &str, fields: &str) -> Value {
    let field = format!("usage(unitType: \"units\"{arguments}) {{ {fields} }}");
    app.organization(key, org, &field).await["usage"].clone()
}

/// The consumption and every granularity's buckets of an organization (see
/// [`distributions`]), as SYSTEM, with `arguments` (a [`range`], a bundle...).
async fn figures(app: &TestApp, org: &str, arguments: &str) -> Value {
    usage(app, SYSTEM_KEY, org, arguments, &distributions()).await
}

fn range(from: &str, to: &str) -> String {
    format!(", range: {{from: \"{from}\", to: \"{to}\"}}")
}

/// Every granularity's buckets at once, aliased `day`, `week`, `month`.
fn distributions() -> String {
    format!(
        "consumed day: distribution(granularity: DAY) {{ {BUCKETS} }} week: distribution(granularity: WEEK) {{ {BUCKETS} }} month: distribution(granularity: MONTH) {{ {BUCKETS} }}"
    )
}

/// Buckets as `start..end consumed` lines.
fn buckets(value: &Value) -> Vec<String> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            format!(
                "{}..{} {}",
                b["start"].as_str().unwrap(),
                b["end"].as_str().unwrap(),
                b["consumed"].as_str().unwrap()
            )
        })
        .collect()
}

fn lines(expected: &[&str]) -> Vec<String> {
    expected.iter().map(|s| (*s).to_owned()).collect()
}

/// One-day buckets over `from..=to`, with the given figures on some days and 0 elsewhere.
fn days(from: &str, to: &str, figures: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    let mut day = date(from);
    while day <= date(to) {
        let next = day.succ_opt().unwrap();
        let figure = figures.iter().find(|(d, _)| date(d) == day).map_or("0", |(_, f)| *f);
        out.push(format!("{day}..{next} {figure}"));
        day = next;
    }
    out
}

/// Service rows as `code consumed` lines, after checking names, totals and percents.
fn services(breakdown: &Value) -> Vec<String> {
    let rows = breakdown["services"].as_array().unwrap();
    let total = scaled(breakdown["total"].as_str().unwrap());
    let sum: i64 = rows.iter().map(|r| scaled(r["consumed"].as_str().unwrap())).sum();
    assert_eq!(sum, total, "services add up to the total: {breakdown:#}");
    let percents: f64 = rows.iter().map(|r| r["percent"].as_f64().unwrap()).sum();
    if total > 0 {
        assert!((percents - 100.0).abs() < 1e-9, "percents add up to 100: {breakdown:#}");
    }
    for row in rows {
        assert_eq!(
            row["service"]["name"], row["service"]["code"],
            "named after its code on first use"
        );
        let consumed = scaled(row["consumed"].as_str().unwrap());
        let expected = if total == 0 {
            0.0
        } else {
            consumed as f64 * 100.0 / total as f64
        };
        assert!((row["percent"].as_f64().unwrap() - expected).abs() < 1e-9, "{row:#}");
    }
    rows.iter()
        .map(|r| {
            format!(
                "{} {}",
                r["service"]["code"].as_str().unwrap(),
                r["consumed"].as_str().unwrap()
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------
// Distribution and services, UTC

/// Organization `acme` (UTC, monthly bundles): tenants a and b.
///
/// | tenant | service      | quantity | at (UTC)              | note |
/// |--------|--------------|----------|-----------------------|------|
/// | a      | robots       | 50       | 2026-10-31 12:00      | previous bundle |
/// | a      | robots       | 10       | 2026-11-02 12:00 (Mon)|      |
/// | a      | orchestrator | 5        | 2026-11-04 12:00      |      |
/// | a      | robots       | 2.5      | 2026-11-09 00:00 (Mon)|      |
/// | a      | uploader     | 100      | 2026-11-10 12:00      | UPLOAD: never consumption |
/// | b      | test-manager | 7        | 2026-11-16 23:59:59   |      |
/// | b      | robots       | 0.25     | 2026-11-22 23:59:59 (Sun) |  |
/// | a      | robots       | 1        | 2026-11-23 09:00 (today, Mon) | |
///
/// Bundle to date (11-01..11-23): 10 + 5 + 2.5 + 7 + 0.25 + 1 = 25.75; a 18.5, b 7.25.
async fn services_and_days() -> (TestApp, String, String, String) {
    let (app, fx, [a, b]) = acme_with_tenants(["a", "b"]).await;
    record(
        &app,
        vec![
            event("1", &a, "50", "2026-10-31T12:00:00Z"),
            event("2", &a, "10", "2026-11-02T12:00:00Z"),
            event("3", &a, "5", "2026-11-04T12:00:00Z").with(json!({ "service": "orchestrator" })),
            event("4", &a, "2.5", "2026-11-09T00:00:00Z"),
            event("5", &a, "100", "2026-11-10T12:00:00Z").with(json!({ "service": "uploader", "kind": "UPLOAD" })),
            event("6", &b, "7", "2026-11-16T23:59:59Z").with(json!({ "service": "test-manager" })),
            event("7", &b, "0.25", "2026-11-22T23:59:59Z"),
            event("8", &a, "1", "2026-11-23T09:00:00Z"),
        ],
    )
    .await;
    (app, fx.org, a, b)
}

#[tokio::test]
async fn distribution_by_day_week_and_month_keeps_empty_buckets_and_cuts_to_the_range() {
    let (app, org, a, b) = services_and_days().await;
    let fields = format!("{} tenants {{ tenant {{ id }} {} }}", distributions(), distributions());
    let u = usage(&app, SYSTEM_KEY, &org, "", &fields).await;
    assert_eq!(u["consumed"], "25.75");
    assert_eq!(
        buckets(&u["day"]),
        days(
            "2026-11-01",
            "2026-11-23",
            &[
                ("2026-11-02", "10"),
                ("2026-11-04", "5"),
                ("2026-11-09", "2.5"),
                ("2026-11-16", "7"),
                ("2026-11-22", "0.25"),
                ("2026-11-23", "1"),
            ]
        )
    );
    // 2026-11-01 is a Sunday: its ISO week is cut to the range's first day.
    assert_eq!(
        buckets(&u["week"]),
        lines(&[
            "2026-11-01..2026-11-02 0",
            "2026-11-02..2026-11-09 15",
            "2026-11-09..2026-11-16 2.5",
            "2026-11-16..2026-11-23 7.25",
            "2026-11-23..2026-11-24 1",
        ])
    );
    assert_eq!(buckets(&u["month"]), lines(&["2026-11-01..2026-11-24 25.75"]));

    let (ca, cb) = (tenant_card(&u, &a), tenant_card(&u, &b));
    assert_eq!(
        (ca["consumed"].as_str(), cb["consumed"].as_str()),
        (Some("18.5"), Some("7.25"))
    );
    assert_eq!(
        buckets(&ca["week"]),
        lines(&[
            "2026-11-01..2026-11-02 0",
            "2026-11-02..2026-11-09 15",
            "2026-11-09..2026-11-16 2.5",
            "2026-11-16..2026-11-23 0",
            "2026-11-23..2026-11-24 1",
        ])
    );
    assert_eq!(
        buckets(&cb["day"]),
        days(
            "2026-11-01",
            "2026-11-23",
            &[("2026-11-16", "7"), ("2026-11-22", "0.25")]
        )
    );
    assert_eq!(buckets(&cb["month"]), lines(&["2026-11-01..2026-11-24 7.25"]));

    // 11-05 (Thursday) .. 11-17: 2.5 on 11-09, 7 on 11-16.
    let u = figures(&app, &org, &range("2026-11-05", "2026-11-17")).await;
    assert_eq!(u["consumed"], "9.5");
    assert_eq!(
        buckets(&u["day"]),
        days(
            "2026-11-05",
            "2026-11-17",
            &[("2026-11-09", "2.5"), ("2026-11-16", "7")]
        )
    );
    assert_eq!(
        buckets(&u["week"]),
        lines(&[
            "2026-11-05..2026-11-09 0",
            "2026-11-09..2026-11-16 2.5",
            "2026-11-16..2026-11-18 7",
        ])
    );
    assert_eq!(buckets(&u["month"]), lines(&["2026-11-05..2026-11-18 9.5"]));

    // One day; and a range with nothing in it still has every bucket.
    let u = figures(&app, &org, &range("2026-11-23", "2026-11-23")).await;
    for granularity in ["day", "week", "month"] {
        assert_eq!(buckets(&u[granularity]), lines(&["2026-11-23..2026-11-24 1"]));
    }
    let u = figures(&app, &org, &range("2026-11-17", "2026-11-21")).await;
    assert_eq!(buckets(&u["day"]), days("2026-11-17", "2026-11-21", &[]));
    assert_eq!(buckets(&u["week"]), lines(&["2026-11-17..2026-11-22 0"]));

    // The closed October bundle: 50 on 10-31.
    let u = figures(&app, &org, ", bundle: \"2026-10-01\"").await;
    assert_eq!(
        buckets(&u["day"]),
        days("2026-10-01", "2026-10-31", &[("2026-10-31", "50")])
    );
    assert_eq!(buckets(&u["month"]), lines(&["2026-10-01..2026-11-01 50"]));
    assert_eq!(
        buckets(&u["week"]).len(),
        5,
        "10-01 (Thursday) .. 10-31: five ISO weeks"
    );
    app.finish().await;
}

#[tokio::test]
async fn monthly_buckets_over_a_yearly_bundle() {
    let app = TestApp::spawn().await;
    let license = json!({ "capacity": "1000", "period": "YEAR", "startsOn": "2026-01-01" });
    let (org, [t]) = organization_with_tenants(&app, "yearly", "UTC", license, ["t"]).await;
    record(
        &app,
        vec![
            event("1", &t, "1", "2026-01-31T23:59:59Z"),
            event("2", &t, "2", "2026-02-01T00:00:00Z"),
            event("3", &t, "4", "2026-03-02T10:00:00Z"),
            event("4", &t, "8", "2026-03-03T10:00:00Z"),
            event("5", &t, "16", "2026-05-15T10:00:00Z"),
            event("6", &t, "32", "2026-11-20T10:00:00Z"),
        ],
    )
    .await;
    let u = figures(&app, &org, "").await;
    assert_eq!(u["consumed"], "63");
    assert_eq!(
        buckets(&u["month"]),
        lines(&[
            "2026-01-01..2026-02-01 1",
            "2026-02-01..2026-03-01 2",
            "2026-03-01..2026-04-01 12",
            "2026-04-01..2026-05-01 0",
            "2026-05-01..2026-06-01 16",
            "2026-06-01..2026-07-01 0",
            "2026-07-01..2026-08-01 0",
            "2026-08-01..2026-09-01 0",
            "2026-09-01..2026-10-01 0",
            "2026-10-01..2026-11-01 0",
            "2026-11-01..2026-11-24 32",
        ])
    );
    // 2026-01-01 is a Thursday; 2026-11-23 a Monday.
    let weeks = buckets(&u["week"]);
    assert_eq!(weeks.len(), 48);
    assert_eq!(weeks[0], "2026-01-01..2026-01-05 0");
    assert_eq!(weeks[4], "2026-01-26..2026-02-02 3");
    assert_eq!(weeks[46], "2026-11-16..2026-11-23 32");
    assert_eq!(weeks[47], "2026-11-23..2026-11-24 0");
    assert_eq!(buckets(&u["day"]).len(), 327);

    let u = figures(&app, &org, &range("2026-01-31", "2026-03-02")).await;
    assert_eq!(
        buckets(&u["month"]),
        lines(&[
            "2026-01-31..2026-02-01 1",
            "2026-02-01..2026-03-01 2",
            "2026-03-01..2026-03-03 4",
        ])
    );
    app.finish().await;
}

#[tokio::test]
async fn consumption_by_service_shares_the_total() {
    let (app, org, a, b) = services_and_days().await;
    let fields =
        format!("consumed byService {{ {SERVICES} }} tenants {{ tenant {{ id }} byService {{ {SERVICES} }} }}");
    let u = usage(&app, SYSTEM_KEY, &org, "", &fields).await;
    // robots 10 + 2.5 + 0.25 + 1 = 13.75; test-manager 7; orchestrator 5. The uploader's
    // upload is no consumption.
    assert_eq!(u["byService"]["total"], "25.75");
    assert_eq!(
        services(&u["byService"]),
        lines(&["robots 13.75", "test-manager 7", "orchestrator 5"])
    );
    let percents: Vec<f64> = u["byService"]["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["percent"].as_f64().unwrap())
        .collect();
    for (got, expected) in percents
        .iter()
        .zip([13.75 / 25.75 * 100.0, 7.0 / 25.75 * 100.0, 5.0 / 25.75 * 100.0])
    {
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
    }
    let (ca, cb) = (&tenant_card(&u, &a)["byService"], &tenant_card(&u, &b)["byService"]);
    assert_eq!(ca["total"], "18.5");
    assert_eq!(services(ca), lines(&["robots 13.5", "orchestrator 5"]));
    assert_eq!(cb["total"], "7.25");
    assert_eq!(services(cb), lines(&["test-manager 7", "robots 0.25"]));
    assert!((cb["services"][0]["percent"].as_f64().unwrap() - 7.0 / 7.25 * 100.0).abs() < 1e-9);

    let u = usage(&app, SYSTEM_KEY, &org, &range("2026-11-05", "2026-11-17"), &fields).await;
    assert_eq!(u["byService"]["total"], "9.5");
    assert_eq!(services(&u["byService"]), lines(&["test-manager 7", "robots 2.5"]));
    // Nothing in the range: total 0, no rows.
    let u = usage(&app, SYSTEM_KEY, &org, &range("2026-11-17", "2026-11-21"), &fields).await;
    assert_eq!(u["byService"], json!({ "total": "0", "services": [] }));
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admin_reads_its_own_cards_analytics_only() {
    let (app, org, a, _) = services_and_days().await;
    let admin = key(&app, "TENANT_ADMIN", Some(&org), Some(&a)).await;
    for field in [
        format!("distribution(granularity: DAY) {{ {BUCKETS} }}"),
        format!("distribution(granularity: WEEK) {{ {BUCKETS} }}"),
        format!("byService {{ {SERVICES} }}"),
    ] {
        let field = format!("usage(unitType: \"units\") {{ {field} }}");
        app.organization_refused(&admin, &org, &field, "FORBIDDEN", &[]).await;
    }
    let fields = format!(
        "tenants {{ tenant {{ id }} week: distribution(granularity: WEEK) {{ {BUCKETS} }} byService {{ {SERVICES} }} }}"
    );
    let u = usage(&app, &admin, &org, "", &fields).await;
    let cards = u["tenants"].as_array().unwrap();
    assert_eq!(cards.len(), 1);
    assert_eq!(cards[0]["tenant"]["id"], a.as_str());
    assert_eq!(
        buckets(&cards[0]["week"]),
        lines(&[
            "2026-11-01..2026-11-02 0",
            "2026-11-02..2026-11-09 15",
            "2026-11-09..2026-11-16 2.5",
            "2026-11-16..2026-11-23 0",
            "2026-11-23..2026-11-24 1",
        ])
    );
    assert_eq!(
        services(&cards[0]["byService"]),
        lines(&["robots 13.5", "orchestrator 5"])
    );
    let as_system = usage(&app, SYSTEM_KEY, &org, "", &fields).await;
    assert_eq!(&cards[0], tenant_card(&as_system, &a));
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// The organization's calendar

#[tokio::test]
async fn days_and_weeks_are_the_organizations_in_paris() {
    // 23:30 UTC on Sunday 11-22 is already Monday 11-23 in Paris: today, and a new week.
    let app = TestApp::spawn_at("2026-11-22T23:30:00Z").await;
    let license = json!({ "capacity": "1000", "period": "MONTH", "startsOn": "2026-01-01" });
    let (org, [t]) = organization_with_tenants(&app, "paris", "Europe/Paris", license, ["t"]).await;
    // Paris is UTC+2 until 2026-10-25 03:00, then UTC+1.
    record(
        &app,
        vec![
            // 10-25 00:30 (UTC+2) and 10-25 23:30 (UTC+1) in Paris: both on 10-25.
            event("d1", &t, "0.5", "2026-10-24T22:30:00Z"),
            event("d2", &t, "0.25", "2026-10-25T22:30:00Z"),
            // 10-31 23:30 in Paris: the October bundle.
            event("1", &t, "100", "2026-10-31T22:30:00Z"),
            // 11-01 00:30 in Paris.
            event("2", &t, "1", "2026-10-31T23:30:00Z"),
            // 11-09 23:59:59 in Paris.
            event("3", &t, "2", "2026-11-09T22:59:59Z"),
            // 11-10 00:30 in Paris.
            event("4", &t, "4", "2026-11-09T23:30:00Z"),
            // Sunday 11-15 23:30 in Paris: the week of 11-09.
            event("5", &t, "16", "2026-11-15T22:30:00Z").with(json!({ "durationMs": 1000 })),
            // Monday 11-16 00:30 in Paris: the week of 11-16.
            event("6", &t, "8", "2026-11-15T23:30:00Z").with(json!({ "durationMs": 3000 })),
            // Monday 11-23 00:10 in Paris: today, the current week.
            event("7", &t, "32", "2026-11-22T23:10:00Z").with(json!({ "durationMs": 500 })),
        ],
    )
    .await;
    let u = usage(&app, SYSTEM_KEY, &org, "", &format!("from to {}", distributions())).await;
    assert_eq!(
        (u["from"].as_str(), u["to"].as_str()),
        (Some("2026-11-01"), Some("2026-11-23"))
    );
    // 1 + 2 + 4 + 16 + 8 + 32.
    assert_eq!(u["consumed"], "63");
    assert_eq!(
        buckets(&u["day"]),
        days(
            "2026-11-01",
            "2026-11-23",
            &[
                ("2026-11-01", "1"),
                ("2026-11-09", "2"),
                ("2026-11-10", "4"),
                ("2026-11-15", "16"),
                ("2026-11-16", "8"),
                ("2026-11-23", "32"),
            ]
        )
    );
    assert_eq!(
        buckets(&u["week"]),
        lines(&[
            "2026-11-01..2026-11-02 1",
            "2026-11-02..2026-11-09 0",
            "2026-11-09..2026-11-16 22",
            "2026-11-16..2026-11-23 8",
            "2026-11-23..2026-11-24 32",
        ])
    );
    assert_eq!(buckets(&u["month"]), lines(&["2026-11-01..2026-11-24 63"]));
    let u = figures(&app, &org, &range("2026-11-10", "2026-11-10")).await;
    assert_eq!(buckets(&u["day"]), lines(&["2026-11-10..2026-11-11 4"]));
    let u = figures(&app, &org, ", bundle: \"2026-10-01\"").await;
    assert_eq!(buckets(&u["month"]), lines(&["2026-10-01..2026-11-01 100.75"]));
    assert_eq!(
        buckets(&u["day"]),
        days(
            "2026-10-01",
            "2026-10-31",
            &[("2026-10-25", "0.75"), ("2026-10-31", "100")]
        )
    );

    let activity = activity(&app, SYSTEM_KEY, &org, ", weeks: 2").await;
    assert_eq!(
        activity,
        json!({
            "weeks": [week("2026-11-16", 1, "8", "0", 3.0), week("2026-11-23", 1, "32", "0", 0.5)],
            "precedingWeek": week("2026-11-16", 1, "8", "0", 3.0),
        })
    );
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// Weekly activity

async fn activity(app: &TestApp, key: &str, org: &str, weeks: &str) -> Value {
    let field = format!("activity(unitType: \"units\"{weeks}) {{ weeks {{ {WEEK} }} precedingWeek {{ {WEEK} }} }}");
    app.organization(key, org, &field).await["activity"].clone()
}

fn week(start: &str, runs: i64, executions: &str, uploads: &str, seconds: f64) -> Value {
    json!({ "weekStart": start, "runs": runs, "executions": executions, "uploads": uploads, "durationSeconds": seconds })
}

fn quiet(start: NaiveDate) -> Value {
    week(&start.to_string(), 0, "0", "0", 0.0)
}

#[tokio::test]
async fn weekly_activity_counts_tests_by_quantity_and_runs_by_event() {
    let (app, fx) = acme().await;
    create_unit_type(&app, "other", "Other").await;
    let (a, b) = (tenant(&app, &fx.org, "a").await, tenant(&app, &fx.org, "b").await);
    let upload = |ms: i64| json!({ "kind": "UPLOAD", "durationMs": ms });
    record(
        &app,
        vec![
            // Sunday 08-30 and Monday 08-31: before the 12 weeks shown.
            event("1", &a, "1", "2026-08-30T12:00:00Z").with(json!({ "durationMs": 9999 })),
            event("2", &a, "1", "2026-08-31T00:00:00Z").with(json!({ "durationMs": 1500 })),
            // Sunday 09-13: the week of 09-07, the first shown.
            event("3", &b, "0", "2026-09-13T23:59:00Z").with(upload(2000)),
            // The week of 11-16, last week: three runs of one test each (one without duration)
            // and an upload of five tests.
            event("4", &a, "1", "2026-11-16T08:00:00Z").with(json!({ "durationMs": 1000 })),
            event("5", &a, "1", "2026-11-16T09:00:00Z").with(json!({ "service": "orchestrator", "durationMs": 250 })),
            event("6", &a, "1", "2026-11-17T09:00:00Z"),
            event("7", &b, "5", "2026-11-22T20:00:00Z").with(upload(500)),
            // Today.
            event("8", &a, "1", "2026-11-23T09:00:00Z").with(json!({ "durationMs": 60000 })),
            // Another unit type: not this activity.
            event("9", &a, "1", "2026-11-23T08:00:00Z").with(json!({ "unitType": "other", "durationMs": 7000 })),
        ],
    )
    .await;

    // Default: 12 weeks, 09-07 .. 11-23, oldest first.
    let all = activity(&app, SYSTEM_KEY, &fx.org, "").await;
    let mut expected: Vec<Value> = (0..12u64)
        .map(|k| quiet(date("2026-09-07") + Days::new(7 * k)))
        .collect();
    let last_week = week("2026-11-16", 4, "8", "5", 1.75);
    expected[0] = week("2026-09-07", 1, "0", "0", 2.0);
    expected[10] = last_week.clone();
    expected[11] = week("2026-11-23", 1, "1", "0", 60.0);
    assert_eq!(all["weeks"], json!(expected));
    // The preceding week is last week, whatever the number of weeks shown.
    assert_eq!(all["precedingWeek"], last_week);

    let two = activity(&app, SYSTEM_KEY, &fx.org, ", weeks: 2").await;
    assert_eq!(
        two,
        json!({ "weeks": [last_week, week("2026-11-23", 1, "1", "0", 60.0)], "precedingWeek": last_week })
    );
    let one = activity(&app, SYSTEM_KEY, &fx.org, ", weeks: 1").await;
    assert_eq!(
        one,
        json!({ "weeks": [week("2026-11-23", 1, "1", "0", 60.0)], "precedingWeek": last_week })
    );
    let most = activity(&app, SYSTEM_KEY, &fx.org, ", weeks: 520").await;
    let weeks = most["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 520);
    let first = date("2026-11-23") - Days::new(7 * 519);
    assert_eq!(weeks[0]["weekStart"], first.to_string());
    assert_eq!(most["precedingWeek"], last_week);
    assert_eq!(weeks[519], week("2026-11-23", 1, "1", "0", 60.0));
    let runs: i64 = weeks.iter().map(|w| w["runs"].as_i64().unwrap()).sum();
    assert_eq!(runs, 8, "every event of the unit type, once");
    let tests: i64 = weeks.iter().map(|w| scaled(w["executions"].as_str().unwrap())).sum();
    assert_eq!(text(tests), "11", "every test of the unit type, once");

    for weeks in [0, -1, 521] {
        let field = format!("activity(unitType: \"units\", weeks: {weeks}) {{ weeks {{ weekStart }} }}");
        app.organization_refused(SYSTEM_KEY, &fx.org, &field, "BAD_USER_INPUT", &[])
            .await;
    }

    // A TENANT_ADMIN gets its own tenant's activity.
    let admin = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&b)).await;
    let own = activity(&app, &admin, &fx.org, ", weeks: 12").await;
    let mut expected: Vec<Value> = (0..12u64)
        .map(|k| quiet(date("2026-09-07") + Days::new(7 * k)))
        .collect();
    expected[0] = week("2026-09-07", 1, "0", "0", 2.0);
    expected[10] = week("2026-11-16", 1, "5", "5", 0.5);
    assert_eq!(own["weeks"], json!(expected));
    assert_eq!(own["precedingWeek"], expected[10]);
    app.finish().await;
}

// ---------------------------------------------------------------------------------------
// Property: buckets, services and activity recomputed from generated events

const SERVICE_CODES: [&str; 3] = ["robots", "orchestrator", "test-manager"];

#[derive(Clone, Debug)]
struct Generated {
    tenant: usize,
    service: usize,
    /// Minutes after 2026-10-31T23:00Z (Paris, 11-01 00:00).
    minutes: i64,
    quantity: i64,
    upload: bool,
    duration_ms: Option<i64>,
}

fn events() -> impl Strategy<Value = Vec<Generated>> {
    prop::collection::vec(
        (
            0usize..3,
            0usize..SERVICE_CODES.len(),
            0i64..(22 * 24 * 60),
            0i64..100_000,
            prop::bool::weighted(0.2),
            prop::option::of(0i64..100_000),
        )
            .prop_map(|(tenant, service, minutes, quantity, upload, duration_ms)| Generated {
                tenant,
                service,
                minutes,
                quantity,
                upload,
                duration_ms,
            }),
        1..60,
    )
}

/// Checks one answer's buckets and services against events of `tenant` (None: all).
fn check_figures(
    answer: &Value,
    local: &[(NaiveDate, &Generated)],
    tenant: Option<usize>,
    from: NaiveDate,
    to: NaiveDate,
) {
    let counted: Vec<&(NaiveDate, &Generated)> = local
        .iter()
        .filter(|(day, e)| !e.upload && tenant.is_none_or(|t| t == e.tenant) && *day >= from && *day <= to)
        .collect();
    let consumed: i64 = counted.iter().map(|(_, e)| e.quantity).sum();
    assert_eq!(answer["consumed"], text(consumed), "tenant {tenant:?}");
    for granularity in ["day", "week", "month"] {
        let rows = answer[granularity].as_array().unwrap();
        let mut expected_start = from;
        let mut sum = 0;
        for row in rows {
            let start = date(row["start"].as_str().unwrap());
            let end = date(row["end"].as_str().unwrap());
            assert_eq!(start, expected_start, "{granularity}: buckets follow on");
            assert!(start < end);
            let boundary = match granularity {
                "day" => end == start.succ_opt().unwrap(),
                "week" => end.weekday() == chrono::Weekday::Mon && (end - start).num_days() <= 7,
                _ => end.day() == 1 && end > start && (end - start).num_days() <= 31,
            };
            assert!(
                boundary || end == to.succ_opt().unwrap(),
                "{granularity}: {start}..{end}"
            );
            let figure: i64 = counted
                .iter()
                .filter(|(day, _)| *day >= start && *day < end)
                .map(|(_, e)| e.quantity)
                .sum();
            assert_eq!(row["consumed"], text(figure), "{granularity} {start}..{end}");
            sum += scaled(row["consumed"].as_str().unwrap());
            expected_start = end;
        }
        assert_eq!(
            expected_start,
            to.succ_opt().unwrap(),
            "{granularity}: the last bucket ends the range"
        );
        assert_eq!(
            sum, consumed,
            "{granularity}: buckets add up to the range's consumption"
        );
    }
    let mut per_service: BTreeMap<&str, i64> = BTreeMap::new();
    for (_, e) in &counted {
        *per_service.entry(SERVICE_CODES[e.service]).or_default() += e.quantity;
    }
    let breakdown = &answer["byService"];
    assert_eq!(breakdown["total"], text(consumed));
    let rows = services(breakdown);
    let figures: Vec<i64> = breakdown["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| scaled(s["consumed"].as_str().unwrap()))
        .collect();
    assert!(figures.windows(2).all(|w| w[0] >= w[1]), "largest first: {rows:?}");
    let mut rows = rows;
    rows.sort();
    let expected: Vec<String> = per_service.iter().map(|(s, q)| format!("{s} {}", text(*q))).collect();
    assert_eq!(rows, expected, "tenant {tenant:?}");
}

async fn check(generated: Vec<Generated>, from: NaiveDate, to: NaiveDate, weeks: u32) {
    let app = TestApp::spawn().await;
    let license = json!({ "capacity": "1000", "period": "MONTH", "startsOn": "2026-11-01" });
    let (org, tenants) = organization_with_tenants(&app, "o", "Europe/Paris", license, ["t0", "t1", "t2"]).await;
    let start: DateTime<Utc> = "2026-10-31T23:00:00Z".parse().unwrap();
    let zone: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let local: Vec<(NaiveDate, &Generated)> = generated
        .iter()
        .map(|e| {
            (
                (start + TimeDelta::minutes(e.minutes))
                    .with_timezone(&zone)
                    .date_naive(),
                e,
            )
        })
        .collect();
    let mut payload: Vec<Event> = generated
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = start + TimeDelta::minutes(e.minutes);
            event(&format!("e{i}"), &tenants[e.tenant], &text(e.quantity), &at.to_rfc3339()).with(json!({ "service": SERVICE_CODES[e.service], "kind": if e.upload { "UPLOAD" } else { "EXECUTION" }, "durationMs": e.duration_ms }))
        })
        .collect();
    // Two batches, so that the second adds to the daily rows the first wrote.
    let second = payload.split_off(payload.len() / 2);
    for batch in [payload, second] {
        if !batch.is_empty() {
            record(&app, batch).await;
        }
    }

    let figures = format!("{} byService {{ {SERVICES} }}", distributions());
    let u = usage(
        &app,
        SYSTEM_KEY,
        &org,
        &range(&from.to_string(), &to.to_string()),
        &format!("{figures} tenants {{ tenant {{ id }} {figures} }}"),
    )
    .await;
    check_figures(&u, &local, None, from, to);
    for card in u["tenants"].as_array().unwrap() {
        let t = tenants
            .iter()
            .position(|id| card["tenant"]["id"] == id.as_str())
            .unwrap();
        check_figures(card, &local, Some(t), from, to);
    }

    // Activity per ISO week (Paris), up to 11-23: runs are events, executions the quantities
    // of both kinds, uploads those of UPLOAD events; the preceding week is last week.
    let answer = activity(&app, SYSTEM_KEY, &org, &format!(", weeks: {weeks}")).await;
    let current = date("2026-11-23");
    let figures = |monday: NaiveDate| {
        let mut week = (0, 0, 0, 0);
        for (day, e) in &local {
            if *day - Days::new(u64::from(day.weekday().num_days_from_monday())) == monday {
                week.0 += 1;
                week.1 += e.quantity;
                week.2 += if e.upload { e.quantity } else { 0 };
                week.3 += e.duration_ms.unwrap_or(0);
            }
        }
        let (runs, executions, uploads, ms) = week;
        self::week(
            &monday.to_string(),
            runs,
            &text(executions),
            &text(uploads),
            ms as f64 / 1000.0,
        )
    };
    let shown: Vec<Value> = (0..u64::from(weeks))
        .rev()
        .map(|k| figures(current - Days::new(7 * k)))
        .collect();
    assert_eq!(answer["weeks"], json!(shown));
    assert_eq!(answer["precedingWeek"], figures(current - Days::new(7)));
    app.finish().await;
}

proptest! {
    // Each case starts a server with a fresh database: few cases, many events each.
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn buckets_and_services_add_up_to_the_consumption(generated in events(), first in 1u32..=22, length in 0u32..=22, weeks in 1u32..=5) {
        let from = NaiveDate::from_ymd_opt(2026, 11, first).unwrap();
        let to = (from + TimeDelta::days(i64::from(length))).min(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(check(generated, from, to, weeks));
    }
}

#[tokio::test]
async fn on_a_wednesday_the_preceding_week_is_monday_to_sunday_before_it() {
    let app = TestApp::spawn_at("2026-11-25T10:00:00Z").await;
    let license = json!({ "capacity": "1000", "period": "MONTH", "startsOn": "2026-01-01" });
    let (org, [t]) = organization_with_tenants(&app, "acme", "UTC", license, ["t"]).await;
    record(
        &app,
        [
            event("sun-before", &t, "9", "2026-11-15T12:00:00Z"),
            event("mon", &t, "2", "2026-11-16T00:00:00Z"),
            event("sun", &t, "3", "2026-11-22T23:59:00Z").with(json!({ "kind": "UPLOAD" })),
            event("this-mon", &t, "7", "2026-11-23T08:00:00Z"),
        ],
    )
    .await;
    for weeks in [", weeks: 1", ", weeks: 4", ""] {
        let answer = activity(&app, SYSTEM_KEY, &org, weeks).await;
        assert_eq!(answer["precedingWeek"], week("2026-11-16", 2, "5", "3", 0.0), "{weeks}");
    }
    app.finish().await;
}
