//! Voided usage events (docs/design.md §15.6): an event stays stored, with when and why
//! it was voided, and stops counting. No index: an event is voided by its idempotency key,
//! which is indexed already.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // SQLite adds one column per ALTER TABLE.
        manager
            .alter_table(
                Table::alter()
                    .table("usage_events")
                    .add_column(timestamp_with_time_zone_null("voided_at"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table("usage_events")
                    .add_column(text_null("void_reason"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in ["void_reason", "voided_at"] {
            manager
                .alter_table(Table::alter().table("usage_events").drop_column(column).to_owned())
                .await?;
        }
        Ok(())
    }
}
