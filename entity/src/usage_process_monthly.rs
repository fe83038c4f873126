//! [`super::usage_process_daily`] summed per calendar month, kept in the same transaction:
//! a bundle's folder and EXECUTION process figures read whole months here.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_process_monthly")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    /// The first day of the organization-local month.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
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
