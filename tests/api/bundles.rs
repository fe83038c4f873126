//! Bundle arithmetic (docs/design.md §2) as clients see it through `Organization.bundles`
//! and `Organization.licenses`: period starts clamped to short months and computed from
//! the start date, upgrades that cut a bundle short and restart the burst, YEAR and
//! TERM licenses, and the burst limit.

use serde_json::{Value, json};

use crate::helpers::{DEFAULT_NOW, SYSTEM_KEY, TestApp, create_license, create_organization, create_unit_type};

const BUNDLES: &str = "bundles(unitType: $unit) {
    startDate endDate capacity limit burstActive current unitType { code } license { id }
}";

/// Creates unit type `unit` (if new) and organization `slug` in `zone`; returns its id.
async fn organization(app: &TestApp, slug: &str, zone: &str, unit: &str) -> String {
    create_unit_type(app, unit, unit).await;
    create_organization(app, slug, zone).await
}

/// A server at `now` whose organization "acme" (UTC) has a license of "units" made of
/// `license`'s fields; returns the server, the organization and the license.
async fn licensed(now: &str, license: Value) -> (TestApp, String, String) {
    let app = TestApp::spawn_at(now).await;
    let org = organization(&app, "acme", "UTC", "units").await;
    let id = create_license(&app, &org, license).await;
    (app, org, id)
}

fn bundles_query() -> String {
    format!("query($org: ID!, $unit: String!) {{ organization(id: $org) {{ {BUNDLES} }} }}")
}

async fn bundles(app: &TestApp, org: &str, unit: &str) -> Vec<Value> {
    let data = app
        .ok(SYSTEM_KEY, &bundles_query(), json!({ "org": org, "unit": unit }))
        .await;
    data["organization"]["bundles"].as_array().expect("bundles").clone()
}

/// `startDate..endDate` of each bundle, in the order given, the current one marked `*`.
fn spans(bundles: &[Value]) -> Vec<String> {
    bundles
        .iter()
        .map(|b| {
            let current = if b["current"].as_bool().expect("current") {
                "*"
            } else {
                ""
            };
            format!("{}..{}{current}", text(b, "startDate"), text(b, "endDate"))
        })
        .collect()
}

/// `limit` of each bundle, in the order given, marked `+` where the burst is active.
fn limits(bundles: &[Value]) -> Vec<String> {
    bundles
        .iter()
        .map(|b| {
            let burst = if b["burstActive"].as_bool().expect("burstActive") {
                "+"
            } else {
                ""
            };
            format!("{}{burst}", text(b, "limit"))
        })
        .collect()
}

/// `field` of each bundle, in the order given.
fn each<'a>(bundles: &'a [Value], field: &str) -> Vec<&'a str> {
    bundles.iter().map(|b| text(b, field)).collect()
}

fn text<'a>(bundle: &'a Value, field: &str) -> &'a str {
    bundle[field].as_str().unwrap_or_else(|| panic!("{field}: {bundle}"))
}

#[tokio::test]
async fn monthly_bundles_start_on_the_start_day_clamped_to_short_months() {
    let license = json!({ "capacity": "500", "period": "MONTH", "startsOn": "2027-01-31" });
    let (app, org, id) = licensed("2027-05-15T12:00:00Z", license).await;
    let all = bundles(&app, &org, "units").await;
    // Newest first; each start is computed from Jan 31, not from the previous start.
    assert_eq!(
        spans(&all),
        [
            "2027-04-30..2027-05-31*",
            "2027-03-31..2027-04-30",
            "2027-02-28..2027-03-31",
            "2027-01-31..2027-02-28",
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
    let license = json!({ "capacity": "100", "period": "MONTH", "startsOn": "2027-12-31" });
    let (app, org, _) = licensed("2028-03-10T08:00:00Z", license).await;
    assert_eq!(
        spans(&bundles(&app, &org, "units").await),
        [
            "2028-02-29..2028-03-31*",
            "2028-01-31..2028-02-29",
            "2027-12-31..2028-01-31"
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
        let license = json!({ "capacity": "100", "period": "MONTH", "startsOn": "2027-01-31" });
        create_license(&app, org, license).await;
    }
    let current = |all: Vec<Value>| -> Vec<String> { spans(&all).into_iter().filter(|s| s.ends_with('*')).collect() };
    assert_eq!(
        current(bundles(&app, &paris, "units").await),
        ["2027-04-30..2027-05-31*"]
    );
    assert_eq!(current(bundles(&app, &utc, "units").await), ["2027-03-31..2027-04-30*"]);
    app.finish().await;
}

#[tokio::test]
async fn an_upgrade_mid_period_cuts_the_old_bundle_and_restarts_the_burst() {
    let license = json!({
        "capacity": "1000", "period": "MONTH", "startsOn": "2027-01-31", "burstPercent": 130, "burstPeriods": 2,
    });
    let (app, org, old) = licensed("2027-05-15T12:00:00Z", license).await;
    let input = json!({ "licenseId": old, "planName": "Pro", "capacity": "2000", "effectiveOn": "2027-05-10" });
    let new = app.mutate(SYSTEM_KEY, "upgradeLicense", input).await["license"].clone();
    assert_eq!(new["burstPercent"], 130, "the burst is inherited");
    assert_eq!(new["burstPeriods"], 2);
    let new = new["id"].as_str().expect("id").to_owned();

    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        [
            // The new license's first bundle starts on the effective day, a month long.
            "2027-05-10..2027-06-10*",
            // The old license's last bundle ends on the effective day.
            "2027-04-30..2027-05-10",
            "2027-03-31..2027-04-30",
            "2027-02-28..2027-03-31",
            "2027-01-31..2027-02-28",
        ]
    );
    let owners: Vec<&str> = all
        .iter()
        .map(|b| b["license"]["id"].as_str().expect("license id"))
        .collect();
    assert_eq!(owners, [new.as_str(), &old, &old, &old, &old]);
    assert_eq!(each(&all, "capacity"), ["2000", "1000", "1000", "1000", "1000"]);
    // The burst applies again to the new license's first periods.
    assert_eq!(limits(&all), ["2600+", "1000", "1000", "1300+", "1300+"]);

    let fields = "licenses(unitType: \"units\") { id startsOn endsOn capacity replaces { id } }";
    assert_eq!(
        app.organization(SYSTEM_KEY, &org, fields).await["licenses"],
        json!([
            { "id": old, "startsOn": "2027-01-31", "endsOn": "2027-05-10", "capacity": "1000", "replaces": null },
            { "id": new, "startsOn": "2027-05-10", "endsOn": null, "capacity": "2000", "replaces": { "id": old } },
        ])
    );
    app.finish().await;
}

#[tokio::test]
async fn an_upgrade_effective_today_makes_the_new_bundle_current_from_today() {
    let license = json!({ "capacity": "1000", "period": "MONTH", "startsOn": "2027-04-30" });
    let (app, org, old) = licensed("2027-05-15T12:00:00Z", license).await;
    let input = json!({ "licenseId": old, "planName": "Pro", "capacity": "1500" });
    app.mutate(SYSTEM_KEY, "upgradeLicense", input).await;
    assert_eq!(
        spans(&bundles(&app, &org, "units").await),
        ["2027-05-15..2027-06-15*", "2027-04-30..2027-05-15"]
    );
    app.finish().await;
}

#[tokio::test]
async fn yearly_bundles_from_february_29_start_on_february_28_in_common_years() {
    let license = json!({ "capacity": "12000", "period": "YEAR", "startsOn": "2024-02-29" });
    let (app, org, _) = licensed(DEFAULT_NOW, license).await; // 2026-11-23
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        [
            "2026-02-28..2027-02-28*",
            "2025-02-28..2026-02-28",
            "2024-02-29..2025-02-28"
        ]
    );
    assert!(all.iter().all(|b| b["capacity"] == "12000"));
    app.finish().await;
}

#[tokio::test]
async fn a_term_license_is_one_bundle_ending_on_its_end_date() {
    let license = json!({ "capacity": "5000", "period": "TERM", "startsOn": "2026-06-15", "endsOn": "2027-03-01" });
    let (app, org, _) = licensed(DEFAULT_NOW, license).await; // 2026-11-23
    let all = bundles(&app, &org, "units").await;
    assert_eq!(spans(&all), ["2026-06-15..2027-03-01*"]);
    assert_eq!(all[0]["capacity"], "5000");
    assert_eq!(all[0]["limit"], "5000");
    app.finish().await;
}

#[tokio::test]
async fn ended_licenses_keep_their_bundles_and_future_ones_have_none_yet() {
    // A TERM that ended, then a monthly license that ended mid-period, then the current TERM.
    let ended = json!({ "capacity": "10", "period": "TERM", "startsOn": "2025-01-01", "endsOn": "2025-07-01" });
    let (app, org, _) = licensed(DEFAULT_NOW, ended).await; // 2026-11-23
    for license in [
        json!({ "capacity": "20", "period": "MONTH", "startsOn": "2025-07-01", "endsOn": "2025-09-15" }),
        json!({ "capacity": "30", "period": "TERM", "startsOn": "2025-09-15", "endsOn": "2027-01-01" }),
        // Starts after today: no bundle has started yet.
        json!({ "capacity": "40", "period": "MONTH", "startsOn": "2027-01-01" }),
    ] {
        create_license(&app, &org, license).await;
    }
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        [
            "2025-09-15..2027-01-01*",
            "2025-09-01..2025-09-15",
            "2025-08-01..2025-09-01",
            "2025-07-01..2025-08-01",
            "2025-01-01..2025-07-01",
        ]
    );
    assert_eq!(each(&all, "capacity"), ["30", "20", "20", "20", "10"]);
    app.finish().await;
}

#[tokio::test]
async fn bundles_are_per_unit_type() {
    let license = json!({ "capacity": "100", "period": "MONTH", "startsOn": "2026-11-01" });
    let (app, org, _) = licensed(DEFAULT_NOW, license).await; // 2026-11-23
    organization(&app, "unused", "UTC", "robots").await;
    let robots = json!({ "unitType": "robots", "capacity": "7", "period": "YEAR", "startsOn": "2026-01-15" });
    create_license(&app, &org, robots).await;
    assert_eq!(spans(&bundles(&app, &org, "units").await), ["2026-11-01..2026-12-01*"]);
    let robots = bundles(&app, &org, "robots").await;
    assert_eq!(spans(&robots), ["2026-01-15..2027-01-15*"]);
    assert_eq!(robots[0]["unitType"]["code"], "robots");
    assert_eq!(robots[0]["capacity"], "7");

    let unknown = json!({ "org": org, "unit": "no-such-unit" });
    app.refused(SYSTEM_KEY, &bundles_query(), unknown, "BAD_USER_INPUT", &[])
        .await;
    app.finish().await;
}

#[tokio::test]
async fn the_burst_raises_the_limit_during_the_first_burst_periods_only() {
    let license = json!({
        "capacity": "1000", "period": "MONTH", "startsOn": "2026-08-01", "burstPercent": 130, "burstPeriods": 2,
    });
    let (app, org, _) = licensed(DEFAULT_NOW, license).await; // 2026-11-23
    let all = bundles(&app, &org, "units").await;
    assert_eq!(
        spans(&all),
        [
            "2026-11-01..2026-12-01*",
            "2026-10-01..2026-11-01",
            "2026-09-01..2026-10-01",
            "2026-08-01..2026-09-01",
        ]
    );
    assert_eq!(limits(&all), ["1000", "1000", "1300+", "1300+"]);
    assert!(
        all.iter().all(|b| b["capacity"] == "1000"),
        "the capacity itself never changes"
    );
    app.finish().await;
}

#[tokio::test]
async fn the_burst_is_active_in_the_current_bundle_while_it_lasts() {
    let license = json!({
        "capacity": "10.5", "period": "MONTH", "startsOn": "2026-10-23", "burstPercent": 130, "burstPeriods": 3,
    });
    let (app, org, _) = licensed(DEFAULT_NOW, license).await; // 2026-11-23
    let all = bundles(&app, &org, "units").await;
    assert_eq!(spans(&all), ["2026-11-23..2026-12-23*", "2026-10-23..2026-11-23"]);
    // 10.5 × 130 % = 13.65, exactly.
    assert_eq!(limits(&all), ["13.65+", "13.65+"]);
    app.finish().await;
}

#[tokio::test]
async fn no_burst_without_burst_periods_or_above_one_hundred_percent() {
    // 150 % but for no period.
    let license = json!({ "capacity": "100", "period": "MONTH", "startsOn": "2026-11-01", "burstPercent": 150 });
    let (app, org, _) = licensed(DEFAULT_NOW, license).await; // 2026-11-23
    organization(&app, "other", "UTC", "robots").await;
    // Burst periods at 100 %: nothing to raise.
    let robots = json!({ "unitType": "robots", "capacity": "100", "period": "MONTH", "startsOn": "2026-11-01", "burstPeriods": 3 });
    create_license(&app, &org, robots).await;
    for unit in ["units", "robots"] {
        assert_eq!(limits(&bundles(&app, &org, unit).await), ["100"], "{unit}");
    }
    app.finish().await;
}

#[tokio::test]
async fn with_no_license_today_usage_and_quota_answer_the_latest_started_bundle() {
    // A TERM that ended on 2026-10-01 and a monthly license from 2027-01-01: nothing covers
    // today (2026-11-23).
    let ended = json!({ "capacity": "500", "period": "TERM", "startsOn": "2026-04-01", "endsOn": "2026-10-01" });
    let (app, org, _) = licensed(DEFAULT_NOW, ended).await;
    let later = json!({ "capacity": "40", "period": "MONTH", "startsOn": "2027-01-01" });
    create_license(&app, &org, later).await;
    let fields = "usage(unitType: $unit) { totalCapacity consumed bundle { startDate endDate current } }
        quota(unitType: $unit) { quota used periodStart periodEnd }";
    let query = format!("query($org: ID!, $unit: String!) {{ organization(id: $org) {{ {fields} }} }}");
    let data = app.ok(SYSTEM_KEY, &query, json!({ "org": org, "unit": "units" })).await;
    assert_eq!(
        data["organization"]["usage"],
        json!({ "totalCapacity": "500", "consumed": "0",
            "bundle": { "startDate": "2026-04-01", "endDate": "2026-10-01", "current": false } })
    );
    assert_eq!(
        data["organization"]["quota"],
        json!({ "quota": "500", "used": "0", "periodStart": "2026-04-01", "periodEnd": "2026-10-01" })
    );
    // A unit type never licensed is still refused.
    create_unit_type(&app, "spare", "Spare").await;
    let (code, message) = app
        .err(SYSTEM_KEY, &query, json!({ "org": org, "unit": "spare" }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("spare"), "{message}");
    app.finish().await;
}
