//! Capacity bought on top of a license (docs/design.md §15.1): each top-up raises the
//! capacity of the bundle holding its day and of every later bundle of its license.

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
                    .table("capacity_top_ups")
                    .col(pk_uuid("id"))
                    .col(uuid("organization_id"))
                    .col(uuid("license_id"))
                    .col(big_integer("amount"))
                    .col(date("effective_on"))
                    .col(timestamp_with_time_zone("created_at"))
                    .foreign_key(
                        ForeignKey::create()
                            .from("capacity_top_ups", "license_id")
                            .to("licenses", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_capacity_top_ups_organization_license")
                    .table("capacity_top_ups")
                    .col("organization_id")
                    .col("license_id")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("capacity_top_ups").to_owned())
            .await
    }
}
