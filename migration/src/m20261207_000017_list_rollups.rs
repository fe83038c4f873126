//! The attribution rollups summed by each list a view shows, per day and per month: per
//! tenant and unit type, a row per run folder (list 0), per owning folder (list 1) and per
//! process (list 2). The rollups without the chain node still hold a row per (run folder,
//! process, owning folder), and a busy tenant's processes run in and are owed to most of
//! its folders, so a tenant view read far more rows than it shows. Existing rollups are
//! summed into them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The new table, the rollup it is summed from, and their period column.
const TABLES: [(&str, &str, &str); 2] = [
    ("usage_list_daily", "usage_process_daily", "day"),
    ("usage_list_monthly", "usage_process_monthly", "month"),
];

/// Each list's number and the column of the source it sums by.
const LISTS: [(i16, &str); 3] = [(0, "folder_id"), (1, "owner_folder_id"), (2, "process_id")];

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, source, period) in TABLES {
            manager
                .create_table(
                    Table::create()
                        .table(table)
                        .col(uuid("organization_id"))
                        .col(uuid("tenant_id"))
                        .col(uuid("unit_type_id"))
                        .col(date(period))
                        .col(small_integer("list"))
                        .col(uuid("item_id"))
                        .col(big_integer("quantity"))
                        .col(big_integer("events"))
                        .primary_key(
                            Index::create()
                                .col("organization_id")
                                .col("tenant_id")
                                .col("unit_type_id")
                                .col(period)
                                .col("list")
                                .col("item_id"),
                        )
                        .to_owned(),
                )
                .await?;
            for (list, column) in LISTS {
                let keys = format!("organization_id, tenant_id, unit_type_id, {period}");
                manager
                    .get_connection()
                    .execute_unprepared(&format!(
                        "INSERT INTO {table} ({keys}, list, item_id, quantity, events) \
                         SELECT {keys}, {list}, {column}, CAST(SUM(quantity) AS BIGINT), CAST(SUM(events) AS BIGINT) \
                         FROM {source} GROUP BY {keys}, {column}"
                    ))
                    .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, _, _) in TABLES {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
