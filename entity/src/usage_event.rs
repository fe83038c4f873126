//! One immutable consumption record. `day` is the calendar day of `occurred_at` in the organization's time zone; `fingerprint` identifies the content behind the idempotency key (the first 16 bytes of its SHA-256). Immutable but for a void, which keeps the row and its key.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "usage_events")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub organization_id: Uuid,
    pub idempotency_key: String,
    pub fingerprint: Vec<u8>,
    pub tenant_id: Uuid,
    pub unit_type_id: Uuid,
    pub service_id: Uuid,
    pub quantity: i64,
    pub occurred_at: DateTimeUtc,
    pub day: Date,
    /// `EXECUTION` or `UPLOAD`.
    pub kind: String,
    pub job_id: Option<Uuid>,
    pub process_id: Option<Uuid>,
    pub folder_id: Option<Uuid>,
    pub duration_ms: Option<i64>,
    pub recorded_at: DateTimeUtc,
    /// When the event was voided (`voidUsage`); a voided event counts nowhere.
    pub voided_at: Option<DateTimeUtc>,
    pub void_reason: Option<String>,
}

impl ActiveModelBehavior for ActiveModel {}
