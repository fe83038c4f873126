//! The attribution rollup per day summed by each list a view shows: per tenant, unit type
//! and day, one row per run folder, one per owning folder and one per process (EXECUTION).
//! A tenant view reads a row per row it shows, however many folders each process ran in
//! and was owed to. Kept in the same transaction as the events.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_list_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    /// The organization-local day.
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
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
