//! On PostgreSQL, every table distributed by organization (docs/operator.md, "Scaling out
//! with Citus") gets a primary key led by `organization_id`, and the foreign keys between
//! such tables carry it, as Citus requires of a table distributed by that column. A lookup
//! of a folder, process, webhook endpoint or delivery by its bare id (to learn its
//! organization) keeps an index on the id.
//!
//! SQLite is left as it is: it never joins a Citus cluster, and changing a key there means
//! copying every table (and every table another one's foreign key names).

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DbBackend},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Each table and its key after `organization_id`: the key it had before.
const KEYS: [(&str, &[&str]); 17] = [
    ("allocations", &["id"]),
    ("capacity_top_ups", &["id"]),
    ("chain_nodes", &["id"]),
    ("consumption_controls", &["tenant_id", "unit_type_id"]),
    ("folders", &["id"]),
    ("processes", &["id"]),
    ("jobs", &["id"]),
    ("usage_events", &["id"]),
    ("notifications", &["seq"]),
    (
        "usage_daily",
        &["tenant_id", "unit_type_id", "day", "service_id", "kind"],
    ),
    ("usage_monthly", &["tenant_id", "unit_type_id", "month"]),
    (
        "usage_attribution_daily",
        &[
            "tenant_id",
            "unit_type_id",
            "day",
            "folder_id",
            "process_id",
            "owner_folder_id",
            "node_id",
        ],
    ),
    (
        "usage_attribution_monthly",
        &[
            "tenant_id",
            "unit_type_id",
            "month",
            "folder_id",
            "process_id",
            "owner_folder_id",
            "node_id",
        ],
    ),
    (
        "usage_process_daily",
        &[
            "tenant_id",
            "unit_type_id",
            "day",
            "folder_id",
            "process_id",
            "owner_folder_id",
        ],
    ),
    (
        "usage_process_monthly",
        &[
            "tenant_id",
            "unit_type_id",
            "month",
            "folder_id",
            "process_id",
            "owner_folder_id",
        ],
    ),
    ("webhook_deliveries", &["id"]),
    ("webhook_endpoints", &["id"]),
];

/// Foreign keys between distributed tables: (table, column, the table it names).
const LINKS: [(&str, &str, &str); 6] = [
    ("folders", "parent_id", "folders"),
    ("processes", "folder_id", "folders"),
    ("jobs", "process_id", "processes"),
    ("jobs", "folder_id", "folders"),
    ("jobs", "parent_id", "jobs"),
    ("usage_events", "job_id", "jobs"),
];

/// Tables a request may name by a bare id.
const FOUND_BY_ID: [&str; 4] = ["folders", "processes", "webhook_endpoints", "webhook_deliveries"];

fn quoted(columns: &[&str]) -> String {
    columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Replaces a table's primary key (whatever its constraint is named).
async fn set_key(db: &impl ConnectionTrait, table: &str, columns: &[&str]) -> Result<(), DbErr> {
    db.execute_unprepared(&format!(
        "DO $$ DECLARE name text; BEGIN \
         SELECT conname INTO name FROM pg_constraint WHERE conrelid = '{table}'::regclass AND contype = 'p'; \
         EXECUTE format('ALTER TABLE {table} DROP CONSTRAINT %I', name); END $$"
    ))
    .await?;
    db.execute_unprepared(&format!("ALTER TABLE {table} ADD PRIMARY KEY ({})", quoted(columns)))
        .await?;
    Ok(())
}

async fn drop_links(db: &impl ConnectionTrait) -> Result<(), DbErr> {
    for (table, column, _) in LINKS {
        db.execute_unprepared(&format!("ALTER TABLE {table} DROP CONSTRAINT fk_{table}_{column}"))
            .await?;
    }
    Ok(())
}

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        drop_links(db).await?;
        for (table, key) in KEYS {
            let mut columns = vec!["organization_id"];
            columns.extend_from_slice(key);
            set_key(db, table, &columns).await?;
        }
        db.execute_unprepared(
            "ALTER TABLE notifications DROP CONSTRAINT notifications_id_key, \
             ADD CONSTRAINT notifications_organization_id_key UNIQUE (organization_id, id)",
        )
        .await?;
        for (table, column, parent) in LINKS {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column} \
                 FOREIGN KEY (organization_id, {column}) REFERENCES {parent} (organization_id, id)"
            ))
            .await?;
        }
        for table in FOUND_BY_ID {
            db.execute_unprepared(&format!("CREATE INDEX ix_{table}_id ON {table} (id)"))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        let db = manager.get_connection();
        for table in FOUND_BY_ID {
            db.execute_unprepared(&format!("DROP INDEX ix_{table}_id")).await?;
        }
        drop_links(db).await?;
        db.execute_unprepared(
            "ALTER TABLE notifications DROP CONSTRAINT notifications_organization_id_key, \
             ADD CONSTRAINT notifications_id_key UNIQUE (id)",
        )
        .await?;
        for (table, key) in KEYS {
            set_key(db, table, key).await?;
        }
        for (table, column, parent) in LINKS {
            db.execute_unprepared(&format!(
                "ALTER TABLE {table} ADD CONSTRAINT fk_{table}_{column} FOREIGN KEY ({column}) REFERENCES {parent} (id)"
            ))
            .await?;
        }
        Ok(())
    }
}
