//! Checks on the stored rollups themselves, beside the figures read through the API.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use sea_orm::EntityTrait;
use uuid::Uuid;

type Key = (Uuid, Uuid, NaiveDate, Uuid, Uuid, Uuid);
type ListKey = (Uuid, Uuid, NaiveDate, i16, Uuid);

/// Asserts that the rollups without the chain node hold exactly the rollups by node summed
/// over their nodes, and the rollups by list the same summed by each list, per day and per
/// month, with no row left at zero.
pub async fn assert_derived_rollups_match(database_url: &str) {
    use entity::{
        usage_attribution_daily, usage_attribution_monthly, usage_list_daily, usage_list_monthly, usage_process_daily,
        usage_process_monthly,
    };
    let db = sea_orm::Database::connect(database_url).await.unwrap();
    let summed = |rows: Vec<(Key, i64, i64)>| {
        let mut sums: BTreeMap<Key, (i64, i64)> = BTreeMap::new();
        for (key, quantity, events) in rows {
            let sum = sums.entry(key).or_default();
            sum.0 += quantity;
            sum.1 += events;
        }
        sums.retain(|_, sum| *sum != (0, 0));
        sums
    };
    let by_node_days = summed(
        usage_attribution_daily::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    (
                        r.tenant_id,
                        r.unit_type_id,
                        r.day,
                        r.folder_id,
                        r.process_id,
                        r.owner_folder_id,
                    ),
                    r.quantity,
                    r.events,
                )
            })
            .collect(),
    );
    let days: BTreeMap<Key, (i64, i64)> = usage_process_daily::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (
                    r.tenant_id,
                    r.unit_type_id,
                    r.day,
                    r.folder_id,
                    r.process_id,
                    r.owner_folder_id,
                ),
                (r.quantity, r.events),
            )
        })
        .collect();
    assert_eq!(
        days, by_node_days,
        "usage_process_daily is not usage_attribution_daily without its nodes"
    );
    let by_node_months = summed(
        usage_attribution_monthly::Entity::find()
            .all(&db)
            .await
            .unwrap()
            .into_iter()
            .map(|r| {
                (
                    (
                        r.tenant_id,
                        r.unit_type_id,
                        r.month,
                        r.folder_id,
                        r.process_id,
                        r.owner_folder_id,
                    ),
                    r.quantity,
                    r.events,
                )
            })
            .collect(),
    );
    let months: BTreeMap<Key, (i64, i64)> = usage_process_monthly::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (
                    r.tenant_id,
                    r.unit_type_id,
                    r.month,
                    r.folder_id,
                    r.process_id,
                    r.owner_folder_id,
                ),
                (r.quantity, r.events),
            )
        })
        .collect();
    assert_eq!(
        months, by_node_months,
        "usage_process_monthly is not usage_attribution_monthly without its nodes"
    );
    let by_list = |sums: &BTreeMap<Key, (i64, i64)>| {
        let mut lists: BTreeMap<ListKey, (i64, i64)> = BTreeMap::new();
        for ((tenant, unit_type, period, folder, process, owner), (quantity, events)) in sums {
            for (list, item) in [(0, folder), (1, owner), (2, process)] {
                let sum = lists.entry((*tenant, *unit_type, *period, list, *item)).or_default();
                sum.0 += quantity;
                sum.1 += events;
            }
        }
        lists
    };
    let list_days: BTreeMap<ListKey, (i64, i64)> = usage_list_daily::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (r.tenant_id, r.unit_type_id, r.day, r.list, r.item_id),
                (r.quantity, r.events),
            )
        })
        .collect();
    assert_eq!(
        list_days,
        by_list(&days),
        "usage_list_daily is not usage_process_daily summed by list"
    );
    let list_months: BTreeMap<ListKey, (i64, i64)> = usage_list_monthly::Entity::find()
        .all(&db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                (r.tenant_id, r.unit_type_id, r.month, r.list, r.item_id),
                (r.quantity, r.events),
            )
        })
        .collect();
    assert_eq!(
        list_months,
        by_list(&months),
        "usage_list_monthly is not usage_process_monthly summed by list"
    );
    db.close().await.unwrap();
}
