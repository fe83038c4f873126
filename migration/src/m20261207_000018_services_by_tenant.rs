//! The daily rollup by service keyed tenant before day, as every other rollup is: led by
//! the day, its key made a folder's view read every tenant's rows of the bundle's days to
//! find its own tenant's. The rows are copied into a table with the new key, which then
//! takes the old one's name (SQLite cannot change a primary key in place).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "usage_attribution_services_daily";
const COPY: &str = "usage_attribution_services_daily_rekeyed";
const COLUMNS: &str = "organization_id, unit_type_id, day, tenant_id, folder_id, owner_folder_id, service_id, quantity";

/// The table with `key` as its primary key, named `name`.
fn table(name: &'static str, key: [&'static str; 7]) -> TableCreateStatement {
    let mut primary = Index::create();
    for column in key {
        primary.col(column);
    }
    Table::create()
        .table(name)
        .col(uuid("organization_id"))
        .col(uuid("unit_type_id"))
        .col(date("day"))
        .col(uuid("tenant_id"))
        .col(uuid("folder_id"))
        .col(uuid("owner_folder_id"))
        .col(uuid("service_id"))
        .col(big_integer("quantity"))
        .primary_key(&mut primary)
        .to_owned()
}

/// Moves the rows into a table keyed by `key`, under the same name.
async fn rekey(manager: &SchemaManager<'_>, key: [&'static str; 7]) -> Result<(), DbErr> {
    manager.create_table(table(COPY, key)).await?;
    manager
        .get_connection()
        .execute_unprepared(&format!("INSERT INTO {COPY} ({COLUMNS}) SELECT {COLUMNS} FROM {TABLE}"))
        .await?;
    manager.drop_table(Table::drop().table(TABLE).to_owned()).await?;
    manager
        .rename_table(Table::rename().table(COPY, TABLE).to_owned())
        .await
}

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too: the copy, the drop and the rename on one connection, all or nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(
            manager,
            [
                "organization_id",
                "tenant_id",
                "unit_type_id",
                "day",
                "folder_id",
                "owner_folder_id",
                "service_id",
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rekey(
            manager,
            [
                "organization_id",
                "unit_type_id",
                "day",
                "tenant_id",
                "folder_id",
                "owner_folder_id",
                "service_id",
            ],
        )
        .await
    }
}
