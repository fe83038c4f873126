//! Relay global ids and the `Node` interface. A global id is the base64 of
//! "Kind:uuid": opaque to clients, and it says which table to look in.

use async_graphql::{Context, ID, Interface, Object};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use uuid::Uuid;

use super::{
    admin::{ApiKey, UnitType},
    folder::{Folder, Process},
    license::License,
    organization::Organization,
    session,
    tenant::Tenant,
};
use crate::domain::ids::{ApiKeyId, FolderId, LicenseId, OrganizationId, ProcessId, TenantId, UnitTypeId};
use crate::error::AppError;
use crate::service;

/// The kinds of object a global id can name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Organization,
    UnitType,
    License,
    Tenant,
    Folder,
    Process,
    ApiKey,
}

impl Kind {
    const ALL: [Kind; 7] = [
        Kind::Organization,
        Kind::UnitType,
        Kind::License,
        Kind::Tenant,
        Kind::Folder,
        Kind::Process,
        Kind::ApiKey,
    ];

    fn prefix(self) -> &'static str {
        match self {
            Kind::Organization => "Organization",
            Kind::UnitType => "UnitType",
            Kind::License => "License",
            Kind::Tenant => "Tenant",
            Kind::Folder => "Folder",
            Kind::Process => "Process",
            Kind::ApiKey => "ApiKey",
        }
    }

    /// What a person calls it, for "not found" messages.
    pub fn noun(self) -> &'static str {
        match self {
            Kind::Organization => "organization",
            Kind::UnitType => "unit type",
            Kind::License => "license",
            Kind::Tenant => "tenant",
            Kind::Folder => "folder",
            Kind::Process => "process",
            Kind::ApiKey => "API key",
        }
    }
}

/// The global id of a row.
pub fn encode(kind: Kind, id: Uuid) -> ID {
    ID(crate::domain::webhook::global_id(kind.prefix(), id))
}

/// Reads any global id.
pub fn decode_any(id: &ID) -> Option<(Kind, Uuid)> {
    let bytes = URL_SAFE_NO_PAD.decode(id.as_str()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (prefix, uuid) = text.split_once(':')?;
    let kind = Kind::ALL.into_iter().find(|k| k.prefix() == prefix)?;
    Some((kind, uuid.parse().ok()?))
}

/// A typed id that a global id can name, by its kind.
pub trait GlobalId: From<Uuid> {
    const KIND: Kind;
}

macro_rules! global_ids {
    ($($id:ty => $kind:ident),* $(,)?) => {$(
        impl GlobalId for $id {
            const KIND: Kind = Kind::$kind;
        }
    )*};
}

global_ids!(
    OrganizationId => Organization,
    UnitTypeId => UnitType,
    LicenseId => License,
    TenantId => Tenant,
    FolderId => Folder,
    ProcessId => Process,
    ApiKeyId => ApiKey,
);

/// The typed id a global id names, if it names a `T`.
pub fn decode_as<T: GlobalId>(id: &ID) -> Option<T> {
    match decode_any(id) {
        Some((kind, uuid)) if kind == T::KIND => Some(T::from(uuid)),
        _ => None,
    }
}

/// Reads a global id that must name a `T`; anything else is NOT_FOUND, like a missing row.
pub fn decode<T: GlobalId>(id: &ID) -> Result<T, AppError> {
    decode_as(id).ok_or_else(|| AppError::NotFound(format!("{} not found", T::KIND.noun())))
}

/// Like [`decode`], naming the input field in the error.
pub fn decode_field<T: GlobalId>(id: &ID, field: &str) -> Result<T, AppError> {
    decode_as(id).ok_or_else(|| AppError::NotFound(format!("{field}: {} not found", T::KIND.noun())))
}

/// An optional id input.
pub fn decode_optional<T: GlobalId>(id: Option<&ID>, field: &str) -> Result<Option<T>, AppError> {
    id.map(|id| decode_field(id, field)).transpose()
}

/// An object with a global id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "The object's global id."))]
pub enum Node {
    Organization(Organization),
    UnitType(UnitType),
    License(License),
    Tenant(Tenant),
    Folder(Folder),
    Process(Process),
    ApiKey(ApiKey),
}

/// `node(id:)`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when it does not exist or is outside your scope.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        let (app, actor) = session(ctx)?;
        let Some((kind, uuid)) = decode_any(&id) else {
            return Ok(None);
        };
        let node = match kind {
            Kind::Organization => service::organization::get(app, actor, OrganizationId(uuid))
                .await?
                .map(|m| Node::Organization(Organization::new(m))),
            Kind::UnitType => service::unit_type::get(app, uuid)
                .await?
                .map(|m| Node::UnitType(UnitType(m))),
            Kind::License => service::license::get(app, actor, LicenseId(uuid))
                .await?
                .map(|m| Node::License(License(m))),
            Kind::Tenant => service::tenant::get(app, actor, TenantId(uuid))
                .await?
                .map(|m| Node::Tenant(Tenant::one(m))),
            Kind::Folder => hidden_is_none(service::folder::visible_folder(app, actor, FolderId(uuid)).await)?
                .map(|m| Node::Folder(Folder::one(m))),
            Kind::Process => hidden_is_none(service::folder::visible_process(app, actor, ProcessId(uuid)).await)?
                .map(|m| Node::Process(Process(m))),
            Kind::ApiKey => service::api_key::get(app, actor, ApiKeyId(uuid))
                .await?
                .map(|m| Node::ApiKey(ApiKey(m))),
        };
        Ok(node)
    }
}

/// A hidden or missing object is no node at all.
fn hidden_is_none<T>(result: Result<T, AppError>) -> Result<Option<T>, AppError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_keep_their_kind() {
        let uuid = Uuid::now_v7();
        let id = encode(Kind::Tenant, uuid);
        assert_eq!(decode_any(&id), Some((Kind::Tenant, uuid)));
        assert_eq!(decode::<TenantId>(&id).unwrap(), TenantId(uuid));
        assert!(decode::<FolderId>(&id).is_err());
        assert!(decode::<TenantId>(&ID("not-an-id".into())).is_err());
    }
}
