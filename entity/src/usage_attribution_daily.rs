//! Per-day rollup of EXECUTION consumption by where it ran and whom it is owed to, kept in
//! the same transaction as the events. The nil UUID stands for "none" (no folder, no
//! process), since primary-key columns cannot be NULL.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_attribution_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// EXECUTION attribution: the folder the run executed in.
    #[sea_orm(primary_key, auto_increment = false)]
    pub folder_id: Uuid,
    /// The process whose own consumption this is.
    #[sea_orm(primary_key, auto_increment = false)]
    pub process_id: Uuid,
    /// OWNERSHIP attribution: the folder owning the chain's root process.
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_folder_id: Uuid,
    /// The run's node in the merged chain tree.
    #[sea_orm(primary_key, auto_increment = false)]
    pub node_id: Uuid,
    pub organization_id: Uuid,
    pub quantity: i64,
    pub events: i64,
}

impl ActiveModelBehavior for ActiveModel {}
