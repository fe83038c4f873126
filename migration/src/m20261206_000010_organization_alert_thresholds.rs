//! An organization's alert thresholds per unit type (docs/design.md §15.3): fractions of
//! the capacity at which the watcher announces THRESHOLD_CROSSED; no row = the defaults.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("organization_alert_thresholds")
                    .col(uuid("organization_id"))
                    .col(uuid("unit_type_id"))
                    .col(text("thresholds"))
                    .col(timestamp_with_time_zone("updated_at"))
                    .primary_key(Index::create().col("organization_id").col("unit_type_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("organization_alert_thresholds", "organization_id")
                            .to("organizations", "id"),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("organization_alert_thresholds").to_owned())
            .await
    }
}
