//! One stored quota event (the outbox): the event as JSON text, and what readers filter on.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// The order readers follow; a cursor names one.
    #[sea_orm(primary_key)]
    pub seq: i64,
    /// The event's id (also a webhook's `webhook-id`).
    #[sea_orm(unique)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub tenant_id: Option<Uuid>,
    pub unit_type: String,
    /// The kind, as the API spells it (`THRESHOLD_CROSSED`).
    pub kind: String,
    pub at: DateTimeUtc,
    pub event: String,
}

impl ActiveModelBehavior for ActiveModel {}
