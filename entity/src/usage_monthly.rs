//! Per-month totals of EXECUTION consumption per tenant and unit type, kept in the same
//! transaction as the events and the per-day rollup: a bundle's sums read whole months here.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_monthly")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    /// The first day of the organization-local month.
    #[sea_orm(primary_key, auto_increment = false)]
    pub month: Date,
    pub organization_id: Uuid,
    pub quantity: i64,
}

impl ActiveModelBehavior for ActiveModel {}
