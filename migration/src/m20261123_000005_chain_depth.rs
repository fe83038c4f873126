//! Each job's depth in its chain, so ingestion can bound how deep chains grow. Jobs
//! recorded before count 0: the bound is a safety limit, and their children count on.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table("jobs")
                    .add_column(integer("depth").default(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table("jobs").drop_column("depth").to_owned())
            .await
    }
}
