//! The audit log: every change made through the API, for OWNER, ADMIN and SYSTEM keys.

use async_graphql::{ID, Json, Object};

use super::{
    admin::Role,
    node::{Kind, encode},
    scalars::DateTime,
};
use crate::domain::access;

/// One change: who made it, what, when, and the object before and after.
pub struct AuditEntry(pub entity::audit_entry::Model);

fn kind_of(name: &str) -> Option<Kind> {
    match name {
        "Organization" => Some(Kind::Organization),
        "UnitType" => Some(Kind::UnitType),
        "License" => Some(Kind::License),
        "Tenant" => Some(Kind::Tenant),
        "Folder" => Some(Kind::Folder),
        "Process" => Some(Kind::Process),
        "ApiKey" => Some(Kind::ApiKey),
        _ => None,
    }
}

/// The global id of an entry's target, when its kind has global ids.
pub fn target_id(kind: &str, id: Option<uuid::Uuid>) -> Option<ID> {
    Some(encode(kind_of(kind)?, id?))
}

fn json(text: Option<&str>) -> Option<Json<serde_json::Value>> {
    text.and_then(|t| serde_json::from_str(t).ok()).map(Json)
}

#[Object]
impl AuditEntry {
    /// The entry's id (entries are listed in the order they were made).
    async fn id(&self) -> ID {
        ID(self.0.id.to_string())
    }

    /// When the change was made.
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }

    /// The mutation, e.g. `setAllocation`.
    async fn action(&self) -> &str {
        &self.0.action
    }

    /// The API key that made it.
    async fn api_key_id(&self) -> ID {
        encode(Kind::ApiKey, self.0.key_id)
    }

    /// That key's role at the time.
    async fn role(&self) -> Option<Role> {
        self.0.role.parse::<access::Role>().ok().map(Into::into)
    }

    /// What kind of object changed, e.g. `Tenant`.
    async fn target_kind(&self) -> &str {
        &self.0.target_kind
    }

    /// The object's global id, when it has one.
    async fn target_id(&self) -> Option<ID> {
        target_id(&self.0.target_kind, self.0.target_id)
    }

    /// The object before the change; null when it was created.
    async fn before(&self) -> Option<Json<serde_json::Value>> {
        json(self.0.before.as_deref())
    }

    /// The object after the change.
    async fn after(&self) -> Option<Json<serde_json::Value>> {
        json(self.0.after.as_deref())
    }
}
