//! The notification outbox (docs/design.md §15.4): every alerting quota event, stored in
//! the transaction that raised it. `seq` is the order readers follow (the cursor); it
//! never goes back, also after old rows are deleted (AUTOINCREMENT on SQLite, a sequence
//! on PostgreSQL).

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
                    .table("notifications")
                    .col(big_pk_auto("seq"))
                    .col(uuid_uniq("id"))
                    .col(uuid("organization_id"))
                    .col(uuid_null("tenant_id"))
                    .col(string("unit_type"))
                    .col(string("kind"))
                    .col(timestamp_with_time_zone("at"))
                    .col(text("event"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_organization")
                    .table("notifications")
                    .col("organization_id")
                    .col("seq")
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_notifications_at")
                    .table("notifications")
                    .col("at")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("notifications").to_owned())
            .await
    }
}
