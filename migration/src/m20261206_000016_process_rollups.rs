//! The attribution rollups without the chain node, per day and per month: EXECUTION
//! consumption by run folder, process and owning folder. A busy tenant's job chains make
//! many more chain nodes than processes, so folder and EXECUTION process figures read these
//! instead of the rollups by node. Existing rollups are summed into them.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The new table, the rollup it is summed from, and their period column.
const TABLES: [(&str, &str, &str); 2] = [
    ("usage_process_daily", "usage_attribution_daily", "day"),
    ("usage_process_monthly", "usage_attribution_monthly", "month"),
];

const KEYS: &str = "tenant_id, unit_type_id, {period}, folder_id, process_id, owner_folder_id";

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
                        .col(uuid("tenant_id"))
                        .col(uuid("unit_type_id"))
                        .col(date(period))
                        .col(uuid("folder_id"))
                        .col(uuid("process_id"))
                        .col(uuid("owner_folder_id"))
                        .col(uuid("organization_id"))
                        .col(big_integer("quantity"))
                        .col(big_integer("events"))
                        .primary_key(
                            Index::create()
                                .col("tenant_id")
                                .col("unit_type_id")
                                .col(period)
                                .col("folder_id")
                                .col("process_id")
                                .col("owner_folder_id"),
                        )
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_{table}_organization_unit_type_{period}"))
                        .table(table)
                        .col("organization_id")
                        .col("unit_type_id")
                        .col(period)
                        .to_owned(),
                )
                .await?;
            let keys = KEYS.replace("{period}", period);
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "INSERT INTO {table} ({keys}, organization_id, quantity, events) \
                     SELECT {keys}, organization_id, CAST(SUM(quantity) AS BIGINT), CAST(SUM(events) AS BIGINT) \
                     FROM {source} GROUP BY {keys}, organization_id"
                ))
                .await?;
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
