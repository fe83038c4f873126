//! The caller's own key for a folder or a process (docs/design.md §15.3), unique per tenant.
//! A plain unique index suffices: SQLite and PostgreSQL both treat NULLs as distinct in one,
//! so any number of rows may have no key.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLES: [&str; 2] = ["folders", "processes"];

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .alter_table(
                    Table::alter()
                        .table(table)
                        .add_column(text_null("external_key"))
                        .to_owned(),
                )
                .await?;
            manager
                .create_index(
                    Index::create()
                        .name(format!("ux_{table}_external_key"))
                        .table(table)
                        .col("tenant_id")
                        .col("external_key")
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in TABLES {
            manager
                .drop_index(
                    Index::drop()
                        .name(format!("ux_{table}_external_key"))
                        .table(table)
                        .to_owned(),
                )
                .await?;
            manager
                .alter_table(Table::alter().table(table).drop_column("external_key").to_owned())
                .await?;
        }
        Ok(())
    }
}
