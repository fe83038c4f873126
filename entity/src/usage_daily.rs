//! Per-day rollup of usage events, kept in the same transaction as the events: one row per tenant, unit type, service, organization-local day and kind.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_daily")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub service_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub day: Date,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: String,
    pub organization_id: Uuid,
    pub quantity: i64,
    pub events: i64,
    pub duration_ms: i64,
}

impl ActiveModelBehavior for ActiveModel {}
