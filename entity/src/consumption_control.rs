//! A tenant's consumption controls for one unit type. The two lists are stored as JSON text.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "consumption_controls")]
pub struct Model {
    pub organization_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tenant_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub unit_type_id: Uuid,
    /// JSON array of service codes that stop at 100% of the allocation.
    pub stop_at_allocation: String,
    /// JSON array of alert thresholds (fractions of the allocation).
    pub alert_thresholds: String,
    pub updated_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
