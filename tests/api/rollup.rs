//! Figures read from the rollups equal figures recomputed here from the raw events the
//! test generated, over organization-local days (Europe/Paris, so events near midnight UTC
//! land on the next local day). The events span three months and the ranges cross month
//! boundaries, so a range reads whole months from the monthly totals and its other days
//! from the daily rows.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};
use proptest::prelude::*;
use serde_json::json;

use crate::helpers::{Event, SYSTEM_KEY, TestApp, event, organization_with_tenants, record, tenant_card};

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
            0i64..(69 * 24 * 60),
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
    let license = json!({ "capacity": "1000", "period": "YEAR", "startsOn": "2026-09-01" });
    let (org, tenants) = organization_with_tenants(&app, "o", "Europe/Paris", license, ["t0", "t1", "t2"]).await;
    // Events from 2026-09-14T22:00Z (local Sep 15th, 00:00) over 69 days, to Nov 22nd.
    let start: DateTime<Utc> = "2026-09-14T22:00:00Z".parse().unwrap();
    let zone: chrono_tz::Tz = "Europe/Paris".parse().unwrap();
    let mut expected = [0i64; 3];
    let events: Vec<Event> = generated
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let at = start + TimeDelta::minutes(e.minutes);
            let day = at.with_timezone(&zone).date_naive();
            if !e.upload && day >= from && day <= to {
                expected[e.tenant] += e.quantity;
            }
            event(
                &format!("e{i}"),
                &tenants[e.tenant],
                &text(e.quantity),
                &at.to_rfc3339(),
            )
            .with(json!({ "kind": if e.upload { "UPLOAD" } else { "EXECUTION" } }))
        })
        .collect();
    record(&app, events).await;
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
        assert_eq!(tenant_card(usage, id)["consumed"], text(expected[i]), "tenant {i}");
    }
    app.finish().await;
}

proptest! {
    // Each case starts a server with a fresh database: few cases, many events each.
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    #[test]
    fn rollup_figures_equal_figures_recomputed_from_the_events(generated in events(), first in 0i64..=75, length in 0i64..=80) {
        let from = NaiveDate::from_ymd_opt(2026, 9, 1).unwrap() + TimeDelta::days(first);
        let to = (from + TimeDelta::days(length)).min(NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()).max(from);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(check(generated, from, to));
    }
}

/// A database upgraded from before the monthly totals existed gets them summed from its
/// per-day rollups, so its figures stay the same.
#[tokio::test]
async fn the_upgrade_sums_existing_daily_rows_into_monthly_totals() {
    use migration::MigratorTrait;
    use sea_orm::{EntityTrait, IntoActiveModel};

    let database = crate::helpers::TestDatabase::new().await;
    let db = quotagraph::store::connect(&database.url).await.unwrap();
    // The five migrations before the monthly totals.
    migration::Migrator::up(&db, Some(5)).await.unwrap();
    let (org, tenant, unit, service) = (
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
        uuid::Uuid::now_v7(),
    );
    let (folder, process, node) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let days = [
        ("2026-09-30", 7),
        ("2026-10-01", 11),
        ("2026-10-31", 13),
        ("2026-11-02", 17),
    ];
    for (day, quantity) in days {
        let day: NaiveDate = day.parse().unwrap();
        for (kind, quantity) in [("EXECUTION", quantity), ("UPLOAD", 1000)] {
            entity::usage_daily::Entity::insert(
                entity::usage_daily::Model {
                    tenant_id: tenant,
                    unit_type_id: unit,
                    service_id: service,
                    day,
                    kind: kind.to_owned(),
                    organization_id: org,
                    quantity,
                    events: 1,
                    duration_ms: 0,
                }
                .into_active_model(),
            )
            .exec_without_returning(&db)
            .await
            .unwrap();
        }
        entity::usage_attribution_daily::Entity::insert(
            entity::usage_attribution_daily::Model {
                tenant_id: tenant,
                unit_type_id: unit,
                day,
                folder_id: folder,
                process_id: process,
                owner_folder_id: folder,
                node_id: node,
                organization_id: org,
                quantity,
                events: 1,
            }
            .into_active_model(),
        )
        .exec_without_returning(&db)
        .await
        .unwrap();
    }
    quotagraph::store::migrate(&db).await.unwrap();

    let date = |text: &str| -> NaiveDate { text.parse().unwrap() };
    // October is read from its monthly total, September 30th and November 2nd from days.
    let (from, until) = (date("2026-09-30"), date("2026-11-03"));
    let consumed = quotagraph::store::usage::consumed_by_tenant(&db, org, unit, from, until)
        .await
        .unwrap();
    assert_eq!(consumed.get(&tenant), Some(&(7 + 11 + 13 + 17)));
    let october = quotagraph::store::usage::consumed_by_tenant(&db, org, unit, date("2026-10-01"), date("2026-11-01"))
        .await
        .unwrap();
    assert_eq!(october.get(&tenant), Some(&(11 + 13)));
    let scope = quotagraph::store::Scope {
        organization: org,
        tenant: None,
    };
    let attributed = quotagraph::store::attribution::sums(&db, scope, unit, from, until, true, None)
        .await
        .unwrap();
    assert_eq!(
        attributed,
        vec![(tenant, folder, process, folder, node, 7 + 11 + 13 + 17)]
    );
    let by_folder = quotagraph::store::attribution::sums(&db, scope, unit, from, until, false, None)
        .await
        .unwrap();
    assert_eq!(
        by_folder,
        vec![(tenant, folder, process, folder, uuid::Uuid::nil(), 7 + 11 + 13 + 17)]
    );
    let elsewhere = [uuid::Uuid::now_v7()];
    let outside = quotagraph::store::attribution::sums(&db, scope, unit, from, until, false, Some(&elsewhere))
        .await
        .unwrap();
    assert!(outside.is_empty(), "no row ran in another folder");
    // The lists: by run folder (0), by owning folder (1) and by process (2).
    let lists = quotagraph::store::attribution::list_sums(&db, scope, unit, from, until)
        .await
        .unwrap();
    assert_eq!(
        lists,
        vec![
            (tenant, 0, folder, 48),
            (tenant, 1, folder, 48),
            (tenant, 2, process, 48)
        ]
    );
    assert_eq!(
        quotagraph::store::usage::rollup_totals(&db, org).await.unwrap(),
        (48, 48)
    );
    db.close().await.unwrap();
    database.remove().await;
}
