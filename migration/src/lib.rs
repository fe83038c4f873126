//! quotagraph's schema, one change per migration file. A landed file is never edited:
//! a later change gets a new file.

pub use sea_orm_migration::prelude::*;

mod m20261123_000001_initial;
mod m20261123_000002_attribution;
mod m20261123_000003_quota_marks;
mod m20261123_000004_audit_log;
mod m20261123_000005_chain_depth;
mod m20261204_000006_monthly_rollups;
mod m20261206_000007_capacity_top_ups;
mod m20261206_000010_organization_alert_thresholds;
mod m20261206_000011_attribution_services;
mod m20261206_000012_external_keys;
mod m20261206_000013_notifications;
mod m20261206_000014_webhooks;
mod m20261206_000015_void_usage;
mod m20261206_000016_process_rollups;
mod m20261207_000017_list_rollups;
mod m20261207_000018_services_by_tenant;
mod m20261207_000019_organization_in_every_row;
mod m20261207_000020_keys_led_by_organization;
mod m20261207_000021_unique_keys_tenant_first;
mod m20261207_000022_no_event_index_by_job;
mod m20261207_000023_binary_fingerprints;

/// Every migration, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_initial::Migration),
            Box::new(m20261123_000002_attribution::Migration),
            Box::new(m20261123_000003_quota_marks::Migration),
            Box::new(m20261123_000004_audit_log::Migration),
            Box::new(m20261123_000005_chain_depth::Migration),
            Box::new(m20261204_000006_monthly_rollups::Migration),
            Box::new(m20261206_000007_capacity_top_ups::Migration),
            Box::new(m20261206_000010_organization_alert_thresholds::Migration),
            Box::new(m20261206_000011_attribution_services::Migration),
            Box::new(m20261206_000012_external_keys::Migration),
            Box::new(m20261206_000013_notifications::Migration),
            Box::new(m20261206_000014_webhooks::Migration),
            Box::new(m20261206_000015_void_usage::Migration),
            Box::new(m20261206_000016_process_rollups::Migration),
            Box::new(m20261207_000017_list_rollups::Migration),
            Box::new(m20261207_000018_services_by_tenant::Migration),
            Box::new(m20261207_000019_organization_in_every_row::Migration),
            Box::new(m20261207_000020_keys_led_by_organization::Migration),
            Box::new(m20261207_000021_unique_keys_tenant_first::Migration),
            Box::new(m20261207_000022_no_event_index_by_job::Migration),
            Box::new(m20261207_000023_binary_fingerprints::Migration),
        ]
    }
}
