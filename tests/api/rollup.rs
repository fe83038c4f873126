//! Figures read from the per-day rollup equal figures recomputed here from the raw events
//! the test generated, over organization-local days (Europe/Paris, so events near
//! midnight UTC land on the next local day).

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, tenant};

#[derive(Clone, Debug)]
struct Generated {
    tenant: usize,
    minutes: i64,
    quantity: i64,
    upload: bool,
}

fn events() -> impl Strategy<Value = Vec<Generated>> {
    prop::collection::vec(
        (
            0usize..3,
            0i64..(22 * 24 * 60),
            0i64..100_000,
            prop::bool::weighted(0.2),
        )
            .prop_map(|(tenant, minutes, quantity, upload)| Generated {
                tenant,
                minutes,
                quantity,
                upload,
            }),
        1..60,
    )
}

fn text(scaled: i64) -> String {
    quotagraph::domain::Quantity::from_scaled(scaled).to_string()
}

async fn check(generated: Vec<Generated>, from: NaiveDate, to: NaiveDate) {
    let app = TestApp::spawn().await;
    app.ok(
        SYSTEM_KEY,
        "mutation { createUnitType(input: {code: \"units\", name: \"Units\"}) { unitType { code } } }",
        json!({}),
    )
    .await;
    let org = app
        .ok(SYSTEM_KEY, "mutation { createOrganization(input: {name: \"O\", slug: \"o\", timeZone: \"Europe/Paris\"}) { organization { id } } }", json!({}))
        .await["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        SYSTEM_KEY,
        "mutation($o: ID!) { createLicense(input: {organizationId: $o, unitType: \"units\", planName: \"P\", capacity: \"1000\", period: MONTH, startsOn: \"2026-11-01\"}) { license { id } } }",
        json!({ "o": org }),
    )
    .await;
    let mut tenants = Vec::new();
    for i in 0..3 {
        tenants.push(tenant(&app, &org, &format!("t{i}")).await);
    }
    // Events from 2026-10-31T23:00Z (local Nov 1st, 00:00) over 22 days.
    let start: DateTime<Utc> = "2026-10-31T23:00:00Z".parse().unwrap();
    let zone: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let mut expected = [0i64; 3];
    let payload: Vec<Value> = generated
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = start + TimeDelta::minutes(e.minutes);
            let day = at.with_timezone(&zone).date_naive();
            if !e.upload && day >= from && day <= to {
                expected[e.tenant] += e.quantity;
            }
            json!({
                "idempotencyKey": format!("e{i}"), "tenantId": tenants[e.tenant], "unitType": "units",
                "service": "robots", "quantity": text(e.quantity), "occurredAt": at.to_rfc3339(),
                "kind": if e.upload { "UPLOAD" } else { "EXECUTION" },
            })
        })
        .collect();
    app.ok(
        SYSTEM_KEY,
        "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
        json!({ "e": payload }),
    )
    .await;
    let data = app
        .ok(
            SYSTEM_KEY,
            "query($o: ID!, $from: Date!, $to: Date!) { organization(id: $o) { usage(unitType: \"units\", range: {from: $from, to: $to}) { consumed tenants { consumed tenant { id } } } } }",
            json!({ "o": org, "from": from.to_string(), "to": to.to_string() }),
        )
        .await;
    let usage = &data["organization"]["usage"];
    assert_eq!(usage["consumed"], text(expected.iter().sum()));
    for (i, id) in tenants.iter().enumerate() {
        let card = usage["tenants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["tenant"]["id"] == id.as_str())
            .unwrap();
        assert_eq!(card["consumed"], text(expected[i]), "tenant {i}");
    }
    app.finish().await;
}

proptest! {
    // Each case starts a server with a fresh database: few cases, many events each.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn rollup_figures_equal_figures_recomputed_from_the_events(generated in events(), first in 1u32..=20, length in 0u32..=10) {
        let from = NaiveDate::from_ymd_opt(2026, 11, first).unwrap();
        let to = (from + TimeDelta::days(i64::from(length))).min(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap());
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(check(generated, from, to));
    }
}
