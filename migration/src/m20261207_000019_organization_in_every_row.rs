//! Every row of an organization's data names the organization (docs/design.md §15.7): the
//! tables that reached it only through their tenant get an `organization_id`, copied from
//! the tenant, and the unique keys of jobs, folders and processes lead with it, so that a
//! database split by organization (Citus) keeps each organization's rows, and each
//! statement on them, on one node. The watcher's marks name their organization in their key
//! already; the column is filled from it.

use sea_orm_migration::{
    prelude::*,
    schema::*,
    sea_orm::{
        ConnectionTrait, DbBackend,
        prelude::{ChronoDateTimeUtc, Uuid},
    },
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Tables with a `tenant_id`, whose organization is the tenant's.
const BY_TENANT: [&str; 6] = [
    "allocations",
    "chain_nodes",
    "consumption_controls",
    "folders",
    "jobs",
    "processes",
];

/// Unique keys that get the organization in front: (table, index, columns after it).
const UNIQUE: [(&str, &str, &[&str]); 3] = [
    ("jobs", "ix_jobs_tenant_external", &["tenant_id", "external_id"]),
    ("folders", "ux_folders_external_key", &["tenant_id", "external_key"]),
    ("processes", "ux_processes_external_key", &["tenant_id", "external_key"]),
];

fn unique(
    table: &'static str,
    name: &'static str,
    columns: &[&'static str],
    with_organization: bool,
) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement.name(name).table(table).unique();
    if with_organization {
        statement.col("organization_id");
    }
    for column in columns {
        statement.col(*column);
    }
    statement.to_owned()
}

/// Adds the column (nullable, as SQLite adds columns), fills it from the tenant, and on
/// PostgreSQL makes it required.
async fn add_from_tenant(manager: &SchemaManager<'_>, table: &'static str) -> Result<(), DbErr> {
    manager
        .alter_table(
            Table::alter()
                .table(table)
                .add_column(uuid_null("organization_id"))
                .to_owned(),
        )
        .await?;
    let db = manager.get_connection();
    db.execute_unprepared(&format!(
        "UPDATE {table} SET organization_id = (SELECT organization_id FROM tenants WHERE tenants.id = {table}.tenant_id)"
    ))
    .await?;
    if manager.get_database_backend() == DbBackend::Postgres {
        db.execute_unprepared(&format!(
            "ALTER TABLE {table} ALTER COLUMN organization_id SET NOT NULL"
        ))
        .await?;
    }
    Ok(())
}

/// The organization a mark's key names: `<organization>:…`, or `expiring:<license>:…`,
/// whose license names it.
async fn mark_organization(db: &impl ConnectionTrait, key: &str) -> Result<Option<Uuid>, DbErr> {
    let mut parts = key.split(':');
    let first = parts.next().unwrap_or_default();
    if let Ok(organization) = Uuid::parse_str(first) {
        return Ok(Some(organization));
    }
    let Some(license) = parts.next().and_then(|l| Uuid::parse_str(l).ok()) else {
        return Ok(None);
    };
    let query = Query::select()
        .column("organization_id")
        .from("licenses")
        .and_where(Expr::col("id").eq(license))
        .to_owned();
    let row = db.query_one(&query).await?;
    row.map(|r| r.try_get::<Uuid>("", "organization_id")).transpose()
}

/// The marks move to a table keyed by organization and key (SQLite cannot change a primary
/// key in place); a mark whose organization is gone goes with it.
async fn rekey_marks(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .create_table(
            Table::create()
                .table("quota_marks_rekeyed")
                .col(uuid("organization_id"))
                .col(string("key"))
                .col(string("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("organization_id").col("key"))
                .to_owned(),
        )
        .await?;
    let db = manager.get_connection();
    let rows = db
        .query_all(
            &Query::select()
                .columns(["key", "value", "updated_at"])
                .from("quota_marks")
                .to_owned(),
        )
        .await?;
    for row in rows {
        let key: String = row.try_get("", "key")?;
        let Some(organization) = mark_organization(db, &key).await? else {
            continue;
        };
        let value: String = row.try_get("", "value")?;
        let updated_at: ChronoDateTimeUtc = row.try_get("", "updated_at")?;
        let insert = Query::insert()
            .into_table("quota_marks_rekeyed")
            .columns(["organization_id", "key", "value", "updated_at"])
            .values_panic([organization.into(), key.into(), value.into(), updated_at.into()])
            .to_owned();
        db.execute(&insert).await?;
    }
    manager
        .drop_table(Table::drop().table("quota_marks").to_owned())
        .await?;
    manager
        .rename_table(Table::rename().table("quota_marks_rekeyed", "quota_marks").to_owned())
        .await
}

async fn marks_keyed_by_key(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    let db = manager.get_connection();
    manager
        .create_table(
            Table::create()
                .table("quota_marks_rekeyed")
                .col(string("key").primary_key())
                .col(string("value"))
                .col(timestamp_with_time_zone("updated_at"))
                .to_owned(),
        )
        .await?;
    db.execute_unprepared(
        "INSERT INTO quota_marks_rekeyed (key, value, updated_at) SELECT key, value, updated_at FROM quota_marks",
    )
    .await?;
    manager
        .drop_table(Table::drop().table("quota_marks").to_owned())
        .await?;
    manager
        .rename_table(Table::rename().table("quota_marks_rekeyed", "quota_marks").to_owned())
        .await
}

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// On SQLite too: the marks' copy, drop and rename on one connection, all or nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in BY_TENANT {
            add_from_tenant(manager, table).await?;
        }
        for (table, name, columns) in UNIQUE {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
            manager.create_index(unique(table, name, columns, true)).await?;
        }
        rekey_marks(manager).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        marks_keyed_by_key(manager).await?;
        for (table, name, columns) in UNIQUE {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
            manager.create_index(unique(table, name, columns, false)).await?;
        }
        for table in BY_TENANT {
            manager
                .alter_table(Table::alter().table(table).drop_column("organization_id").to_owned())
                .await?;
        }
        Ok(())
    }
}
