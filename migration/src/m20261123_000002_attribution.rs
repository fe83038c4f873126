//! Attribution (docs/design.md §4): the merged job-chain tree, each job's place in it and the
//! folder its chain is owed to, and a per-day rollup of EXECUTION consumption by folder,
//! process, owning folder and chain node. Existing usage is filled in by the application
//! when it starts (`service::attribution::backfill`), with the same rules as ingestion.

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
                    .table("chain_nodes")
                    .col(pk_uuid("id"))
                    .col(uuid("tenant_id"))
                    .col(uuid_null("parent_id"))
                    .col(uuid_null("process_id"))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_chain_nodes_tenant_id")
                            .from("chain_nodes", "tenant_id")
                            .to("tenants", "id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_chain_nodes_tenant")
                    .table("chain_nodes")
                    .col("tenant_id")
                    .to_owned(),
            )
            .await?;
        // SQLite adds one column per ALTER TABLE.
        for column in ["node_id", "owner_folder_id"] {
            manager
                .alter_table(Table::alter().table("jobs").add_column(uuid_null(column)).to_owned())
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table("usage_attribution_daily")
                    .col(uuid("tenant_id"))
                    .col(uuid("unit_type_id"))
                    .col(date("day"))
                    .col(uuid("folder_id"))
                    .col(uuid("process_id"))
                    .col(uuid("owner_folder_id"))
                    .col(uuid("node_id"))
                    .col(uuid("organization_id"))
                    .col(big_integer("quantity"))
                    .col(big_integer("events"))
                    .primary_key(
                        Index::create()
                            .col("tenant_id")
                            .col("unit_type_id")
                            .col("day")
                            .col("folder_id")
                            .col("process_id")
                            .col("owner_folder_id")
                            .col("node_id"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_usage_attribution_daily_organization_unit_type_day")
                    .table("usage_attribution_daily")
                    .col("organization_id")
                    .col("unit_type_id")
                    .col("day")
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table("usage_attribution_daily").to_owned())
            .await?;
        for column in ["owner_folder_id", "node_id"] {
            manager
                .alter_table(Table::alter().table("jobs").drop_column(column).to_owned())
                .await?;
        }
        manager.drop_table(Table::drop().table("chain_nodes").to_owned()).await
    }
}
