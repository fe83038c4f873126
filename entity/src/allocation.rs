//! One effective-dated change of a tenant's allocation; `amount` none means N/A. Ids are UUID v7, so they order changes made on the same day.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "allocations")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub tenant_id: Uuid,
    pub unit_type_id: Uuid,
    pub amount: Option<i64>,
    pub effective_from: Date,
    pub created_at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
