//! Capacity bought for one unit type. Quantities are ten-thousandths of a unit; `ends_on` is exclusive.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "licenses")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub unit_type_id: Uuid,
    pub plan_name: String,
    pub capacity: i64,
    /// `MONTH`, `YEAR` or `TERM`.
    pub period: String,
    pub starts_on: Date,
    pub ends_on: Option<Date>,
    pub burst_percent: i32,
    pub burst_periods: i32,
    pub enforced: bool,
    /// The license this one upgraded, if any.
    pub replaces_id: Option<Uuid>,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
