//! One change made through the API: who (the key and its role), what (the action and the
//! object), when, and the object before and after, as JSON text.

use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_log")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The organization the change belongs to; none for operator-wide ones (unit types).
    pub organization_id: Option<Uuid>,
    pub key_id: Uuid,
    pub role: String,
    /// The mutation, e.g. `setAllocation`.
    pub action: String,
    pub target_kind: String,
    pub target_id: Option<Uuid>,
    pub before: Option<String>,
    pub after: Option<String>,
    pub at: DateTimeUtc,
}

impl ActiveModelBehavior for ActiveModel {}
