//! The attribution rollup per day without the chain node: EXECUTION consumption by run
//! folder, process and owning folder, kept in the same transaction as the events. Folder
//! figures and EXECUTION process figures read it, so a tenant view reads a row per folder
//! and process that ran, however many job chains a busy tenant's runs formed.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_process_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    /// The folder the runs executed in (nil: none).
    #[sea_orm(primary_key, auto_increment = false)]
    pub folder_id: Uuid,
    /// The process whose own consumption this is (nil: none).
    #[sea_orm(primary_key, auto_increment = false)]
    pub process_id: Uuid,
    /// The folder the runs' chains are owed to (nil: none).
    #[sea_orm(primary_key, auto_increment = false)]
    pub owner_folder_id: Uuid,
    pub organization_id: Uuid,
    pub quantity: i64,
    pub events: i64,
}

impl ActiveModelBehavior for ActiveModel {}
