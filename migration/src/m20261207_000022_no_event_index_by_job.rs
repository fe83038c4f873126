//! Raw events lose their index by job: no statement looks events up by their job (figures
//! come from the rollups, and attribution groups an organization's events whole), and it
//! cost about 30 bytes per event at scale M.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ix_usage_events_job")
                    .table("usage_events")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_events_job")
                    .table("usage_events")
                    .col("job_id")
                    .to_owned(),
            )
            .await
    }
}
