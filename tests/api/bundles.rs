//! Bundle arithmetic (docs/design.md §2) as clients see it through `Organization.bundles`
//! and `Organization.licenses`: period starts clamped to short months and computed from
//! the start date, upgrades that cut a bundle short and restart the burst, YEAR and
//! TERM licenses, and the burst limit.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, create_license, create_organization, create_unit_type};

const BUNDLES: &str = "query($org: ID!, $unit: String!) {
    organization(id: $org) {
        bundles(unitType: $unit) {
            startDate endDate capacity limit burstActive current
            unitType { code } license { id }
        }
    }
}";

const LICENSES: &str = "query($org: ID!, $unit: String) {
    organization(id: $org) { licenses(unitType: $unit) { id startsOn endsOn capacity replaces { id } } }
}";

/// Creates unit type `unit` (if new) and organization `slug` in `zone`; returns its id.
async fn organization(app: &TestApp, slug: &str, zone: &str, unit: &str) -> String {
    create_unit_type(app, unit, unit).await;
    create_organization(app, slug, zone).await
}

async fn bundles(app: &TestApp, org: &str, unit: &str) -> Vec<Value> {
    let data = app.ok(SYSTEM_KEY, BUNDLES, json!({ "org": org, "unit": unit })).await;
    data["organization"]["bundles"].as_array().expect("bundles").clone()
}

/// `(startDate, endDate, current)` of each bundle, in the order given.
fn spans(bundles: &[Value]) -> Vec<(String, String, bool)> {
    bundles
        .iter()
        .map(|b| {
            (
                b["startDate"].as_str().expect("startDate").to_owned(),
                b["endDate"].as_str().expect("endDate").to_owned(),
                b["current"].as_bool().expect("current"),
            )
        })
        .collect()
}

fn span(start: &str, end: &str, current: bool) -> (String, String, bool) {
    (start.to_owned(), end.to_owned(), current)
}

/// `(limit, burstActive)` of each bundle, in the order given.
fn limits(bundles: &[Value]) -> Vec<(String, bool)> {
    bundles
        .iter()
        .map(|b| {
            (
                b["limit"].as_str().expect("limit").to_owned(),
                b["burstActive"].as_bool().expect("burstActive"),
            )
        })
        .collect()
}

fn limit(amount: &str, burst: bool) -> (String, bool) {
    (amount.to_owned(), burst)
}

#[tokio::test]
async fn monthly_bundles_start_on_the_start_day_clamped_to_short_months() {
    let app = TestApp::spawn_at("2027-05-15T12:00:00Z").await;
    let org = organization(&app, "acme", "UTC", "units").await;
    let id = create_license(
        &app,
        &org,
        json!({ "capacity": "500", "period": "MONTH", "startsOn": "2027-01-31" }),
    )
    .await;

    let all = bundles(&app, &org, "units").await;
    // Newest first; each start is computed from Jan 31, not from the previous start.
    assert_eq!(
        spans(&all),
        vec![
            span("2027-04-30", "2027-05-31", true),
            span("2027-03-31", "2027-04-30", false),
            span("2027-02-28", "2027-03-31", false),
            span("2027-01-31", "2027-02-28", false),
        ]
    );
    for bundle in &all {
        assert_eq!(bundle["capacity"], "500");
        assert_eq!(bundle["limit"], "500");
        assert_eq!(bundle["burstActive"], false);
        assert_eq!(bundle["unitType"]["code"], "units");
        assert_eq!(bundle["license"]["id"], id.as_str());
    }
    app.finish().await;
}

#[tokio::test]
async fn monthly_bundles_use_february_29_in_a_leap_year() {
    let app = TestApp::spawn_at("2028-03-10T08:00:00Z").await;
    let org = organization(&app, "acme", "UTC", "units").await;
    create_license(
        &app,
        &org,
        json!({ "capacity": "100", "period": "MONTH", "startsOn": "2027-12-31" }),
    )
    .await;
    assert_eq!(
        spans(&bundles(&app, &org, "units").await),
        vec![
            span("2028-02-29", "2028-03-31", true),
            span("2028-01-31", "2028-02-29", false),
            span("2027-12-31", "2028-01-31", false),
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn the_current_bundle_turns_over_at_midnight_in_the_organizations_time_zone() {
    // 2027-04-29T22:30Z is already 2027-04-30 in Paris (UTC+2), still 2027-04-29 in UTC.
    let app = TestApp::spawn_at("2027-04-29T22:30:00Z").await;
    let paris = organization(&app, "paris", "Europe/Paris", "units").await;
    let utc = organization(&app, "utc", "UTC", "units").await;
    for org in [&paris, &utc] {
        create_license(
            &app,
            org,
            json!({ "capacity": "100", "period": "MONTH", "startsOn": "2027-01-31" }),
        )
        .await;
    }
    let current = |all: Vec<Value>| -> Vec<(String, String, bool)> {
        spans(&all).into_iter().filter(|(_, _, current)| *current).collect()
    };
    assert_eq!(
        current(bundles(&app, &paris, "units").await),
        vec![span("2027-04-30", "2027-05-31", true)]
    );
    assert_eq!(
        current(bundles(&app, &utc, "units").await),
        vec![span("2027-03-31", "2027-04-30", true)]
    );
    app.finish().await;
}

#[tokio::test]
async fn an_upgrade_mid_period_cuts_the_old_bundle_and_restarts_the_burst() {
    let app = TestApp::spawn_at("2027-05-15T12:00:00Z").await;
    let org = organization(&app, "acme", "UTC", "units").await;
    let old = create_license(
        &app,
        &org,
        json!({
            "capacity": "1000", "period": "MONTH", "startsOn": "2027-01-31",
            "burstPercent": 130, "burstPeriods": 2,
        }),
    )
    .await;
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($id: ID!) { upgradeLicense(input: {licenseId: $id, planName: \"Pro\", capacity: \"2000\",
                effectiveOn: \"2027-05-10\"}) { license { id burstPercent burstPeriods } } }",
            json!({ "id": old }),
        )
        .await;
    let new = &data["upgradeLicense"]["license"];
    assert_eq!(new["burstPercent"], 130, "the burst is inherited");
    assert_eq!(new["burstPeriods"], 2);
    let new = new["id"].as_str().expect("id").to_owned();

    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        vec![
            // The new license's first bundle starts on the effective day, a month long.
            span("2027-05-10", "2027-06-10", true),
            // The old license's last bundle ends on the effective day.
            span("2027-04-30", "2027-05-10", false),
            span("2027-03-31", "2027-04-30", false),
            span("2027-02-28", "2027-03-31", false),
            span("2027-01-31", "2027-02-28", false),
        ]
    );
    let owners: Vec<&str> = all
        .iter()
        .map(|b| b["license"]["id"].as_str().expect("license id"))
        .collect();
    assert_eq!(owners, [new.as_str(), &old, &old, &old, &old]);
    let capacities: Vec<&str> = all.iter().map(|b| b["capacity"].as_str().expect("capacity")).collect();
    assert_eq!(capacities, ["2000", "1000", "1000", "1000", "1000"]);
    // The burst applies again to the new license's first periods.
    assert_eq!(
        limits(&all),
        vec![
            limit("2600", true),
            limit("1000", false),
            limit("1000", false),
            limit("1300", true),
            limit("1300", true),
        ]
    );

    let listed = app
        .ok(SYSTEM_KEY, LICENSES, json!({ "org": org, "unit": "units" }))
        .await;
    assert_eq!(
        listed["organization"]["licenses"],
        json!([
            { "id": old, "startsOn": "2027-01-31", "endsOn": "2027-05-10", "capacity": "1000", "replaces": null },
            { "id": new, "startsOn": "2027-05-10", "endsOn": null, "capacity": "2000", "replaces": { "id": old } },
        ])
    );
    app.finish().await;
}

#[tokio::test]
async fn an_upgrade_effective_today_makes_the_new_bundle_current_from_today() {
    let app = TestApp::spawn_at("2027-05-15T12:00:00Z").await;
    let org = organization(&app, "acme", "UTC", "units").await;
    let old = create_license(
        &app,
        &org,
        json!({ "capacity": "1000", "period": "MONTH", "startsOn": "2027-04-30" }),
    )
    .await;
    app.ok(
        SYSTEM_KEY,
        "mutation($id: ID!) { upgradeLicense(input: {licenseId: $id, planName: \"Pro\", capacity: \"1500\"}) {
            license { id } } }",
        json!({ "id": old }),
    )
    .await;
    assert_eq!(
        spans(&bundles(&app, &org, "units").await),
        vec![
            span("2027-05-15", "2027-06-15", true),
            span("2027-04-30", "2027-05-15", false),
        ]
    );
    app.finish().await;
}

#[tokio::test]
async fn yearly_bundles_from_february_29_start_on_february_28_in_common_years() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    create_license(
        &app,
        &org,
        json!({ "capacity": "12000", "period": "YEAR", "startsOn": "2024-02-29" }),
    )
    .await;
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        vec![
            span("2026-02-28", "2027-02-28", true),
            span("2025-02-28", "2026-02-28", false),
            span("2024-02-29", "2025-02-28", false),
        ]
    );
    assert!(all.iter().all(|b| b["capacity"] == "12000"));
    app.finish().await;
}

#[tokio::test]
async fn a_term_license_is_one_bundle_ending_on_its_end_date() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    create_license(
        &app,
        &org,
        json!({ "capacity": "5000", "period": "TERM", "startsOn": "2026-06-15", "endsOn": "2027-03-01" }),
    )
    .await;
    let all = bundles(&app, &org, "units").await;
    assert_eq!(spans(&all), vec![span("2026-06-15", "2027-03-01", true)]);
    assert_eq!(all[0]["capacity"], "5000");
    assert_eq!(all[0]["limit"], "5000");
    app.finish().await;
}

#[tokio::test]
async fn ended_licenses_keep_their_bundles_and_future_ones_have_none_yet() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    // A TERM that ended, then a monthly license that ended mid-period, then the current TERM.
    create_license(
        &app,
        &org,
        json!({ "capacity": "10", "period": "TERM", "startsOn": "2025-01-01", "endsOn": "2025-07-01" }),
    )
    .await;
    create_license(
        &app,
        &org,
        json!({ "capacity": "20", "period": "MONTH", "startsOn": "2025-07-01", "endsOn": "2025-09-15" }),
    )
    .await;
    create_license(
        &app,
        &org,
        json!({ "capacity": "30", "period": "TERM", "startsOn": "2025-09-15", "endsOn": "2027-01-01" }),
    )
    .await;
    // Starts after today: no bundle has started yet.
    create_license(
        &app,
        &org,
        json!({ "capacity": "40", "period": "MONTH", "startsOn": "2027-01-01" }),
    )
    .await;
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        vec![
            span("2025-09-15", "2027-01-01", true),
            span("2025-09-01", "2025-09-15", false),
            span("2025-08-01", "2025-09-01", false),
            span("2025-07-01", "2025-08-01", false),
            span("2025-01-01", "2025-07-01", false),
        ]
    );
    let capacities: Vec<&str> = all.iter().map(|b| b["capacity"].as_str().expect("capacity")).collect();
    assert_eq!(capacities, ["30", "20", "20", "20", "10"]);
    app.finish().await;
}

#[tokio::test]
async fn bundles_are_per_unit_type() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    organization(&app, "unused", "UTC", "robots").await;
    create_license(
        &app,
        &org,
        json!({ "capacity": "100", "period": "MONTH", "startsOn": "2026-11-01" }),
    )
    .await;
    create_license(
        &app,
        &org,
        json!({ "unitType": "robots", "capacity": "7", "period": "YEAR", "startsOn": "2026-01-15" }),
    )
    .await;
    let units = bundles(&app, &org, "units").await;
    assert_eq!(spans(&units), vec![span("2026-11-01", "2026-12-01", true)]);
    let robots = bundles(&app, &org, "robots").await;
    assert_eq!(spans(&robots), vec![span("2026-01-15", "2027-01-15", true)]);
    assert_eq!(robots[0]["unitType"]["code"], "robots");
    assert_eq!(robots[0]["capacity"], "7");

    let (code, message) = app
        .err(SYSTEM_KEY, BUNDLES, json!({ "org": org, "unit": "no-such-unit" }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    app.finish().await;
}

#[tokio::test]
async fn the_burst_raises_the_limit_during_the_first_burst_periods_only() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    create_license(
        &app,
        &org,
        json!({
            "capacity": "1000", "period": "MONTH", "startsOn": "2026-08-01",
            "burstPercent": 130, "burstPeriods": 2,
        }),
    )
    .await;
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        vec![
            span("2026-11-01", "2026-12-01", true),
            span("2026-10-01", "2026-11-01", false),
            span("2026-09-01", "2026-10-01", false),
            span("2026-08-01", "2026-09-01", false),
        ]
    );
    assert_eq!(
        limits(&all),
        vec![
            limit("1000", false),
            limit("1000", false),
            limit("1300", true),
            limit("1300", true),
        ]
    );
    assert!(
        all.iter().all(|b| b["capacity"] == "1000"),
        "the capacity itself never changes"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_burst_is_active_in_the_current_bundle_while_it_lasts() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    create_license(
        &app,
        &org,
        json!({
            "capacity": "10.5", "period": "MONTH", "startsOn": "2026-10-23",
            "burstPercent": 130, "burstPeriods": 3,
        }),
    )
    .await;
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        vec![
            span("2026-11-23", "2026-12-23", true),
            span("2026-10-23", "2026-11-23", false),
        ]
    );
    // 10.5 × 130 % = 13.65, exactly.
    assert_eq!(limits(&all), vec![limit("13.65", true), limit("13.65", true)]);
    app.finish().await;
}

#[tokio::test]
async fn no_burst_without_burst_periods_or_above_one_hundred_percent() {
    let app = TestApp::spawn().await; // 2026-11-23
    let org = organization(&app, "acme", "UTC", "units").await;
    organization(&app, "other", "UTC", "robots").await;
    // 150 % but for no period.
    create_license(
        &app,
        &org,
        json!({ "capacity": "100", "period": "MONTH", "startsOn": "2026-11-01", "burstPercent": 150 }),
    )
    .await;
    // Burst periods at 100 %: nothing to raise.
    create_license(&app, &org, json!({ "unitType": "robots", "capacity": "100", "period": "MONTH", "startsOn": "2026-11-01", "burstPeriods": 3 }))
    .await;
    for unit in ["units", "robots"] {
        assert_eq!(
            limits(&bundles(&app, &org, unit).await),
            vec![limit("100", false)],
            "{unit}"
        );
    }
    app.finish().await;
}
