//! Per-day rollup of EXECUTION consumption by service, where it ran and whom it is owed to,
//! kept in the same transaction as the events: what a folder's distribution and by-service
//! figures read. The nil UUID stands for "no folder", since primary-key columns cannot be
//! NULL.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_attribution_services_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    /// EXECUTION attribution: the folder the run executed in.
    #[sea_orm(primary_key, auto_increment = false)]
    pub folder_id: Uuid,
    /// OWNERSHIP attribution: the folder owning the chain's root process.
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_folder_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: Uuid,
    pub quantity: i64,
}

impl ActiveModelBehavior for ActiveModel {}
