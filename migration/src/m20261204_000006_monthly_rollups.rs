//! Per-month totals beside the per-day rollups: EXECUTION consumption per tenant, unit
//! type and month, and the attribution rollup per month. A bundle's sums read its whole
//! months from these instead of every day's rows. Existing rollups are summed into them.

use sea_orm_migration::{prelude::*, schema::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The rows both tables are keyed by besides the month, in primary-key order.
const ATTRIBUTION_KEYS: [&str; 4] = ["folder_id", "process_id", "owner_folder_id", "node_id"];

// `SchemaManager<'_>` does not match the trait's async_trait signature, so the lifetime stays elided.
#[expect(elided_lifetimes_in_paths)]
#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table("usage_monthly")
                    .col(uuid("tenant_id"))
                    .col(uuid("unit_type_id"))
                    .col(date("month"))
                    .col(uuid("organization_id"))
                    .col(big_integer("quantity"))
                    .primary_key(Index::create().col("tenant_id").col("unit_type_id").col("month"))
                    .to_owned(),
            )
            .await?;
        let mut attribution = Table::create();
        attribution
            .table("usage_attribution_monthly")
            .col(uuid("tenant_id"))
            .col(uuid("unit_type_id"))
            .col(date("month"));
        for key in ATTRIBUTION_KEYS {
            attribution.col(uuid(key));
        }
        let mut primary = Index::create();
        for key in ["tenant_id", "unit_type_id", "month"]
            .into_iter()
            .chain(ATTRIBUTION_KEYS)
        {
            primary.col(key);
        }
        manager
            .create_table(
                attribution
                    .col(uuid("organization_id"))
                    .col(big_integer("quantity"))
                    .col(big_integer("events"))
                    .primary_key(&mut primary)
                    .to_owned(),
            )
            .await?;
        for table in ["usage_monthly", "usage_attribution_monthly"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_{table}_organization_unit_type_month"))
                        .table(table)
                        .col("organization_id")
                        .col("unit_type_id")
                        .col("month")
                        .to_owned(),
                )
                .await?;
        }

        let month = match manager.get_database_backend() {
            // SQLite stores dates as 'YYYY-MM-DD' text.
            DatabaseBackend::Sqlite => "substr(day, 1, 8) || '01'",
            _ => "CAST(date_trunc('month', day) AS date)",
        };
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "INSERT INTO usage_monthly (tenant_id, unit_type_id, month, organization_id, quantity) \
             SELECT tenant_id, unit_type_id, {month}, organization_id, CAST(SUM(quantity) AS BIGINT) FROM usage_daily \
             WHERE kind = 'EXECUTION' GROUP BY tenant_id, unit_type_id, {month}, organization_id"
        ))
        .await?;
        let keys = ATTRIBUTION_KEYS.join(", ");
        db.execute_unprepared(&format!(
            "INSERT INTO usage_attribution_monthly \
             (tenant_id, unit_type_id, month, {keys}, organization_id, quantity, events) \
             SELECT tenant_id, unit_type_id, {month}, {keys}, organization_id, \
             CAST(SUM(quantity) AS BIGINT), CAST(SUM(events) AS BIGINT) \
             FROM usage_attribution_daily GROUP BY tenant_id, unit_type_id, {month}, {keys}, organization_id"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["usage_attribution_monthly", "usage_monthly"] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
