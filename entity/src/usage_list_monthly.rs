//! [`super::usage_list_daily`] summed per calendar month, kept in the same transaction: a
//! bundle's folder lists and EXECUTION process list read whole months here.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_list_monthly")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    /// The first day of the organization-local month.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    /// Which list the row is in: 0 by run folder, 1 by owning folder, 2 by process.
    #[sea_orm(primary_key, auto_increment = false)]
    pub list: i16,
    /// The folder or process the row sums (nil: none).
    #[sea_orm(primary_key, auto_increment = false)]
    pub item_id: Uuid,
    pub quantity: i64,
    pub events: i64,
}

impl ActiveModelBehavior for ActiveModel {}
