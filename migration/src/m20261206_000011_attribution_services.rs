//! The attribution rollup per day by service (docs/design.md §15.3): EXECUTION consumption
//! per tenant, day, run folder, owning folder and service, so a folder's distribution and
//! by-service figures read rollups in either attribution mode. It starts empty: the
//! start-up attribution backfill rebuilds it from the events (`needs_backfill`).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "usage_attribution_services_daily";

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The organization leads the primary key (§15.7), which also serves every read: one
        // organization's unit type over a range of days.
        manager
            .create_table(
                Table::create()
                    .table(TABLE)
                    .col(uuid("organization_id"))
                    .col(uuid("unit_type_id"))
                    .col(date("day"))
                    .col(uuid("tenant_id"))
                    .col(uuid("folder_id"))
                    .col(uuid("owner_folder_id"))
                    .col(uuid("service_id"))
                    .col(big_integer("quantity"))
                    .primary_key(
                        Index::create()
                            .col("organization_id")
                            .col("unit_type_id")
                            .col("day")
                            .col("tenant_id")
                            .col("folder_id")
                            .col("owner_folder_id")
                            .col("service_id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(TABLE).to_owned()).await
    }
}
