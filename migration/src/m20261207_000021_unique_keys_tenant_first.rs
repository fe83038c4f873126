//! The unique keys of jobs, folders and processes hold the organization last, not first:
//! (tenant, external id or key, organization). Citus needs the organization somewhere in a
//! unique index; led by it, the index looked to SQLite's planner (which keeps no statistics)
//! like the best way to read a tenant's rows, so a lookup of processes by their ids read
//! every process of the tenant, or of the organization, instead of one row per id.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (table, index, the columns before the organization).
const UNIQUE: [(&str, &str, [&str; 2]); 3] = [
    ("jobs", "ix_jobs_tenant_external", ["tenant_id", "external_id"]),
    ("folders", "ux_folders_external_key", ["tenant_id", "external_key"]),
    ("processes", "ux_processes_external_key", ["tenant_id", "external_key"]),
];

async fn rebuild(manager: &SchemaManager<'_>, organization_last: bool) -> Result<(), DbErr> {
    for (table, name, [tenant, key]) in UNIQUE {
        manager
            .drop_index(Index::drop().name(name).table(table).to_owned())
            .await?;
        let mut index = Index::create();
        index.name(name).table(table).unique();
        if organization_last {
            index.col(tenant).col(key).col("organization_id");
        } else {
            index.col("organization_id").col(tenant).col(key);
        }
        manager.create_index(index).await?;
    }
    Ok(())
}

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too: an index is never left dropped by a migration stopped half-way.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, false).await
    }
}
