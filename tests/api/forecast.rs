//! Forecasts over real HTTP (docs/design.md §15.6): the figures of the organization and of
//! its tenants, days counted in the organization's time zone (east of UTC here), the
//! consumption measured from the bundle's start whatever the range, and one read for every
//! card.

use serde_json::{Value, json};

use crate::helpers::{
    DEFAULT_NOW, SYSTEM_KEY, TestApp, allocate, event, licensed_organization, organization_with_tenants, record,
    tenant, tenant_card,
};

const FORECAST: &str = "forecast { dailyRate projected runsOutOn }";

async fn usage(app: &TestApp, org: &str, arguments: &str) -> Value {
    let field = format!(
        "usage(unitType: \"units\"{arguments}) {{ to consumed {FORECAST} tenants {{ tenant {{ id }} consumed {FORECAST} distribution(granularity: DAY) {{ start consumed }} }} }}"
    );
    app.organization(SYSTEM_KEY, org, &field).await["usage"].clone()
}

/// The consumption of the day `day` in a card's distribution.
fn on_day<'a>(card: &'a Value, day: &str) -> &'a Value {
    let buckets = card["distribution"].as_array().unwrap();
    &buckets.iter().find(|b| b["start"] == day).unwrap()["consumed"]
}

#[tokio::test]
async fn days_fall_in_the_organizations_zone_east_of_utc() {
    // Tokyo is UTC+9: the clock's 2026-11-23T10:00Z is 19:00 on 2026-11-23 there.
    let app = TestApp::spawn().await;
    let (org, [t, u]) =
        organization_with_tenants(&app, "tokyo", "Asia/Tokyo", json!({ "capacity": "200" }), ["t", "u"]).await;
    allocate(&app, &t, Some("50")).await;
    record(
        &app,
        [
            // 2026-11-09 23:30 in Tokyo: before the 14 days ending today (11-10 to 11-23).
            event("t1", &t, "14", "2026-11-09T14:30:00Z"),
            // 2026-11-10 00:30 in Tokyo: the first of the 14 days, though still 11-09 in UTC.
            event("t2", &t, "28", "2026-11-09T15:30:00Z"),
            // 2026-11-23 00:10 in Tokyo: today, though still yesterday in UTC.
            event("t3", &t, "7", "2026-11-22T15:10:00Z"),
            event("u1", &u, "140", "2026-11-20T03:00:00Z"),
        ],
    )
    .await;
    let now = usage(&app, &org, "").await;
    assert_eq!(now["to"], "2026-11-23");
    let card = tenant_card(&now, &t);
    assert_eq!(on_day(card, "2026-11-09"), "14");
    assert_eq!(on_day(card, "2026-11-10"), "28");
    assert_eq!(on_day(card, "2026-11-23"), "7");
    // t: 35 in the 14 days, 2.5 a day; 49 consumed, 7 days after today: 49 + 17.5. Its
    // allocation of 50 is exceeded on the first day (49 + 2.5 > 50).
    assert_eq!(
        card["forecast"],
        json!({ "dailyRate": "2.5", "projected": "66.5", "runsOutOn": "2026-11-24" })
    );
    // u has no allocation: nothing to run out of.
    assert_eq!(
        tenant_card(&now, &u)["forecast"],
        json!({ "dailyRate": "10", "projected": "210", "runsOutOn": null })
    );
    // The organization: 175 in the 14 days, 12.5 a day; 189 consumed, limit 200.
    assert_eq!(
        now["forecast"],
        json!({ "dailyRate": "12.5", "projected": "276.5", "runsOutOn": "2026-11-24" })
    );

    // A range ending 2026-11-12: N = 12 days (11-01 to 11-12), 42 in them, 3.5 a day. The
    // consumption so far counts from the bundle's start, not from the range's: 42, though
    // the range itself saw none. 42 + 3.5 × 18 = 105; past 50 on the third day.
    let range = usage(&app, &org, ", range: {from: \"2026-11-11\", to: \"2026-11-12\"}").await;
    let card = tenant_card(&range, &t);
    assert_eq!(card["consumed"], "0");
    assert_eq!(
        card["forecast"],
        json!({ "dailyRate": "3.5", "projected": "105", "runsOutOn": "2026-11-15" })
    );
    app.finish().await;
}

#[tokio::test]
async fn the_first_day_of_a_bundle_and_consumption_already_over() {
    // 2026-11-01 10:00 UTC: the first day of the November bundle, N = 1.
    let app = TestApp::spawn_at("2026-11-01T10:00:00Z").await;
    let fx = licensed_organization(&app, "acme", "UTC", json!({ "capacity": "100" })).await;
    let t = tenant(&app, &fx.org, "t").await;
    allocate(&app, &t, Some("20")).await;
    record(&app, [event("t1", &t, "30", "2026-11-01T08:00:00Z")]).await;
    let now = usage(&app, &fx.org, "").await;
    assert_eq!(
        tenant_card(&now, &t)["forecast"],
        json!({ "dailyRate": "30", "projected": "900", "runsOutOn": "2026-11-01" }),
        "over its allocation already: it runs out on `to`"
    );
    // 30 + 30 × 3 = 120 > 100 on 11-04; 30 + 30 × 2 = 90 is not over.
    assert_eq!(
        now["forecast"],
        json!({ "dailyRate": "30", "projected": "900", "runsOutOn": "2026-11-04" })
    );
    app.finish().await;
}

/// The statements a usage answer with every card's forecast costs.
async fn forecast_statements(app: &TestApp, org: &str) -> u64 {
    let query = format!(
        "query($o: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ {FORECAST} tenants {{ {FORECAST} }} }} }} }}"
    );
    // Past this age nothing kept in memory is answered (docs/design.md §11): all is read.
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
    let before = app.statements.get();
    app.ok(SYSTEM_KEY, &query, json!({ "o": org })).await;
    app.statements.get() - before
}

#[tokio::test]
async fn every_cards_forecast_costs_one_read() {
    // The period watcher would add its own statements to the count: keep it quiet.
    let app = TestApp::spawn_with(DEFAULT_NOW, 3_600_000).await;
    let (org, tenants) =
        organization_with_tenants(&app, "acme", "UTC", json!({ "capacity": "1000" }), ["a", "b"]).await;
    for (i, t) in tenants.iter().enumerate() {
        record(&app, [event(&format!("e{i}"), t, "1", "2026-11-20T10:00:00Z")]).await;
    }
    let small = forecast_statements(&app, &org).await;
    for i in 0..8 {
        let t = tenant(&app, &org, &format!("t{i}")).await;
        record(&app, [event(&format!("f{i}"), &t, "1", "2026-11-21T10:00:00Z")]).await;
    }
    let large = forecast_statements(&app, &org).await;
    assert_eq!(small, large, "statements for 2 tenants: {small}, for 10: {large}");
    app.finish().await;
}
