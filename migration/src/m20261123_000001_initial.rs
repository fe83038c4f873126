//! The domain of docs/design.md §1 and the per-day usage rollup, with the indexes the reads need.
//! Quantities are BIGINT ten-thousandths so sums are exact on SQLite and PostgreSQL.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

fn fk(table: &'static str, column: &'static str, target: &'static str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_{column}"))
        .from(table, column)
        .to(target, "id")
        .to_owned()
}

fn index(table: &'static str, name: &str, columns: &[&'static str]) -> IndexCreateStatement {
    let mut statement = Index::create();
    statement.name(format!("ix_{table}_{name}")).table(table);
    for column in columns {
        statement.col(*column);
    }
    statement.to_owned()
}

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            Table::create()
                .table("organizations")
                .col(pk_uuid("id"))
                .col(string("name"))
                .col(string_uniq("slug"))
                .col(string("time_zone"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("unit_types")
                .col(pk_uuid("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .to_owned(),
            Table::create()
                .table("licenses")
                .col(pk_uuid("id"))
                .col(uuid("organization_id"))
                .col(uuid("unit_type_id"))
                .col(string("plan_name"))
                .col(big_integer("capacity"))
                .col(string("period"))
                .col(date("starts_on"))
                .col(date_null("ends_on"))
                .col(integer("burst_percent"))
                .col(integer("burst_periods"))
                .col(boolean("enforced"))
                .col(uuid_null("replaces_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("licenses", "organization_id", "organizations"))
                .foreign_key(&mut fk("licenses", "unit_type_id", "unit_types"))
                .foreign_key(&mut fk("licenses", "replaces_id", "licenses"))
                .to_owned(),
            Table::create()
                .table("tenants")
                .col(pk_uuid("id"))
                .col(uuid("organization_id"))
                .col(string("name"))
                .col(string("state"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .foreign_key(&mut fk("tenants", "organization_id", "organizations"))
                .to_owned(),
            Table::create()
                .table("allocations")
                .col(pk_uuid("id"))
                .col(uuid("tenant_id"))
                .col(uuid("unit_type_id"))
                .col(big_integer_null("amount"))
                .col(date("effective_from"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("allocations", "tenant_id", "tenants"))
                .foreign_key(&mut fk("allocations", "unit_type_id", "unit_types"))
                .to_owned(),
            Table::create()
                .table("consumption_controls")
                .col(uuid("tenant_id"))
                .col(uuid("unit_type_id"))
                .col(text("stop_at_allocation"))
                .col(text("alert_thresholds"))
                .col(timestamp_with_time_zone("updated_at"))
                .primary_key(Index::create().col("tenant_id").col("unit_type_id"))
                .foreign_key(&mut fk("consumption_controls", "tenant_id", "tenants"))
                .foreign_key(&mut fk("consumption_controls", "unit_type_id", "unit_types"))
                .to_owned(),
            Table::create()
                .table("folders")
                .col(pk_uuid("id"))
                .col(uuid("tenant_id"))
                .col(uuid_null("parent_id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("folders", "tenant_id", "tenants"))
                .foreign_key(&mut fk("folders", "parent_id", "folders"))
                .to_owned(),
            Table::create()
                .table("processes")
                .col(pk_uuid("id"))
                .col(uuid("tenant_id"))
                .col(uuid("folder_id"))
                .col(string("name"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("processes", "tenant_id", "tenants"))
                .foreign_key(&mut fk("processes", "folder_id", "folders"))
                .to_owned(),
            Table::create()
                .table("services")
                .col(pk_uuid("id"))
                .col(string_uniq("code"))
                .col(string("name"))
                .to_owned(),
            Table::create()
                .table("jobs")
                .col(pk_uuid("id"))
                .col(uuid("tenant_id"))
                .col(string("external_id"))
                .col(uuid_null("process_id"))
                .col(uuid_null("folder_id"))
                .col(uuid_null("parent_id"))
                .col(uuid("root_id"))
                .col(uuid_null("root_process_id"))
                .col(timestamp_with_time_zone("created_at"))
                .foreign_key(&mut fk("jobs", "tenant_id", "tenants"))
                .foreign_key(&mut fk("jobs", "process_id", "processes"))
                .foreign_key(&mut fk("jobs", "folder_id", "folders"))
                .foreign_key(&mut fk("jobs", "parent_id", "jobs"))
                .to_owned(),
            Table::create()
                .table("usage_events")
                .col(pk_uuid("id"))
                .col(uuid("organization_id"))
                .col(string("idempotency_key"))
                .col(string("fingerprint"))
                .col(uuid("tenant_id"))
                .col(uuid("unit_type_id"))
                .col(uuid("service_id"))
                .col(big_integer("quantity"))
                .col(timestamp_with_time_zone("occurred_at"))
                .col(date("day"))
                .col(string("kind"))
                .col(uuid_null("job_id"))
                .col(uuid_null("process_id"))
                .col(uuid_null("folder_id"))
                .col(big_integer_null("duration_ms"))
                .col(timestamp_with_time_zone("recorded_at"))
                .foreign_key(&mut fk("usage_events", "organization_id", "organizations"))
                .foreign_key(&mut fk("usage_events", "tenant_id", "tenants"))
                .foreign_key(&mut fk("usage_events", "unit_type_id", "unit_types"))
                .foreign_key(&mut fk("usage_events", "service_id", "services"))
                .foreign_key(&mut fk("usage_events", "job_id", "jobs"))
                .to_owned(),
            Table::create()
                .table("usage_daily")
                .col(uuid("tenant_id"))
                .col(uuid("unit_type_id"))
                .col(uuid("service_id"))
                .col(date("day"))
                .col(string("kind"))
                .col(uuid("organization_id"))
                .col(big_integer("quantity"))
                .col(big_integer("events"))
                .col(big_integer("duration_ms"))
                .primary_key(
                    Index::create()
                        .col("tenant_id")
                        .col("unit_type_id")
                        .col("day")
                        .col("service_id")
                        .col("kind"),
                )
                .to_owned(),
            Table::create()
                .table("api_keys")
                .col(pk_uuid("id"))
                .col(string("name"))
                .col(string("role"))
                .col(uuid_null("organization_id"))
                .col(uuid_null("tenant_id"))
                .col(string_uniq("secret_hash"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(timestamp_with_time_zone_null("last_used_at"))
                .foreign_key(&mut fk("api_keys", "organization_id", "organizations"))
                .foreign_key(&mut fk("api_keys", "tenant_id", "tenants"))
                .to_owned(),
        ];
        for table in tables {
            manager.create_table(table).await?;
        }

        let indexes = [
            index(
                "licenses",
                "organization_unit_type",
                &["organization_id", "unit_type_id"],
            ),
            index("tenants", "organization", &["organization_id"]),
            index(
                "allocations",
                "tenant_unit_type_from",
                &["tenant_id", "unit_type_id", "effective_from"],
            ),
            index("folders", "tenant_parent", &["tenant_id", "parent_id"]),
            index("folders", "parent", &["parent_id"]),
            index("processes", "folder", &["folder_id"]),
            index("processes", "tenant", &["tenant_id"]),
            index("jobs", "tenant_external", &["tenant_id", "external_id"])
                .unique()
                .to_owned(),
            index(
                "usage_events",
                "organization_key",
                &["organization_id", "idempotency_key"],
            )
            .unique()
            .to_owned(),
            index(
                "usage_events",
                "tenant_unit_type_day",
                &["tenant_id", "unit_type_id", "day"],
            ),
            index("usage_events", "job", &["job_id"]),
            index(
                "usage_daily",
                "organization_unit_type_day",
                &["organization_id", "unit_type_id", "day"],
            ),
            index("api_keys", "organization", &["organization_id"]),
        ];
        for statement in indexes {
            manager.create_index(statement).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            "api_keys",
            "usage_daily",
            "usage_events",
            "jobs",
            "services",
            "processes",
            "folders",
            "consumption_controls",
            "allocations",
            "tenants",
            "licenses",
            "unit_types",
            "organizations",
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
