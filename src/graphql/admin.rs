//! The caller (`viewer`), the unit-type and service catalogues, and API keys.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};

use super::{
    analytics::Service,
    node::{Kind, decode, decode_optional, encode},
    organization::Organization,
    scalars::DateTime,
    session,
    tenant::Tenant,
};
use crate::domain::{
    access,
    ids::{ApiKeyId, OrganizationId, TenantId},
};
use crate::service::{self, api_key::NewKey};

/// What an API key may do (see the README's access table).
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::access::Role")]
pub enum Role {
    /// The operator: creates organizations and unit types, acts in any organization.
    System,
    /// Sees and manages its organization, its keys included.
    Owner,
    /// Sees and manages its organization; cannot make OWNER keys.
    Admin,
    /// Sees and manages its organization's licenses, tenants and allocations.
    BillingManager,
    /// Reads its organization.
    Viewer,
    /// Reads its own tenant only.
    TenantAdmin,
    /// Records usage and starts executions only.
    Ingest,
}

/// What capacity is counted in.
pub struct UnitType(pub entity::unit_type::Model);

#[Object]
impl UnitType {
    /// The unit type's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::UnitType, self.0.id)
    }

    /// Unique code, e.g. "test-executions".
    async fn code(&self) -> &str {
        &self.0.code
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }
}

/// An API key. Its secret is shown only once, when it is made.
pub struct ApiKey(pub entity::api_key::Model);

#[Object]
impl ApiKey {
    /// The key's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::ApiKey, self.0.id)
    }

    /// A name to recognise it by.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What it may do.
    async fn role(&self) -> async_graphql::Result<Role> {
        Ok(service::api_key::actor_of(&self.0)?.role.into())
    }

    /// Its organization; null for SYSTEM.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let (app, actor) = session(ctx)?;
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(service::organization::get(app, actor, OrganizationId(id))
            .await?
            .map(Organization::new))
    }

    /// The tenant it is limited to, if any.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tenant>> {
        let (app, actor) = session(ctx)?;
        let Some(id) = self.0.tenant_id else { return Ok(None) };
        Ok(service::tenant::get(app, actor, TenantId(id)).await?.map(Tenant::one))
    }

    /// When it was made.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// When it was revoked; null while it works.
    async fn revoked_at(&self) -> Option<DateTime> {
        self.0.revoked_at.map(Into::into)
    }

    /// When it was last used (to the minute); null when never.
    async fn last_used_at(&self) -> Option<DateTime> {
        self.0.last_used_at.map(Into::into)
    }
}

/// Who is calling: the API key's role and scope.
pub struct Viewer(access::Actor);

#[Object]
impl Viewer {
    /// The caller's role.
    async fn role(&self) -> Role {
        self.0.role.into()
    }

    /// The caller's organization; null for SYSTEM (and for INGEST, which reads nothing).
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let (app, actor) = session(ctx)?;
        let Some(id) = self.0.organization_id else {
            return Ok(None);
        };
        Ok(service::organization::get(app, actor, id).await?.map(Organization::new))
    }

    /// The tenant the caller is limited to, if any.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tenant>> {
        let (app, actor) = session(ctx)?;
        let Some(id) = self.0.tenant_id else { return Ok(None) };
        Ok(service::tenant::get(app, actor, id).await?.map(Tenant::one))
    }

    /// The key used for this request.
    async fn api_key(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<ApiKey>> {
        let (app, actor) = session(ctx)?;
        Ok(service::api_key::get(app, actor, self.0.key_id).await?.map(ApiKey))
    }
}

/// The caller and the catalogue.
#[derive(Default)]
pub struct AdminQuery;

#[Object]
impl AdminQuery {
    /// Who is calling.
    async fn viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Viewer> {
        let (_, actor) = session(ctx)?;
        Ok(Viewer(*actor))
    }

    /// Every unit type, by code.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn unit_types(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<UnitType>> {
        let (app, _) = session(ctx)?;
        Ok(service::unit_type::all(app).await?.into_iter().map(UnitType).collect())
    }

    /// Every service seen (a service is made the first time usage names it), by code.
    #[graphql(complexity = "super::limits::list_cost(child_complexity)")]
    async fn services(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Service>> {
        let (app, _) = session(ctx)?;
        Ok(service::service_catalog::all(app)
            .await?
            .into_iter()
            .map(Service)
            .collect())
    }
}

/// A new unit type (SYSTEM only).
#[derive(InputObject)]
pub struct CreateUnitTypeInput {
    /// Unique code: letters, digits, '-', '_' or '.'.
    pub code: String,
    /// Display name.
    pub name: String,
}

/// The unit type made.
#[derive(SimpleObject)]
pub struct UnitTypePayload {
    /// The new unit type.
    pub unit_type: UnitType,
}

/// A service's display name (SYSTEM only).
#[derive(InputObject)]
pub struct UpdateServiceInput {
    /// The service's code.
    pub code: String,
    /// Its display name, shown wherever the service appears.
    pub name: String,
}

/// The service named.
#[derive(SimpleObject)]
pub struct ServicePayload {
    pub service: Service,
}

/// A new API key. A key for a tenant is scoped to that tenant's organization.
#[derive(InputObject)]
pub struct CreateApiKeyInput {
    /// Its organization; omit only for a SYSTEM key.
    pub organization_id: Option<ID>,
    /// The tenant it is limited to (TENANT_ADMIN needs one, INGEST may have one).
    pub tenant_id: Option<ID>,
    /// What it may do.
    pub role: Role,
    /// A name to recognise it by.
    pub name: String,
}

/// The key made and its secret, shown only here.
#[derive(SimpleObject)]
pub struct CreateApiKeyPayload {
    /// The new key.
    pub api_key: ApiKey,
    /// The secret to send as `Authorization: Bearer <secret>`; it is never shown again.
    pub secret: String,
}

/// Revokes a key: it stops working on the next request.
#[derive(InputObject)]
pub struct RevokeApiKeyInput {
    /// The key.
    pub api_key_id: ID,
}

/// The key revoked.
#[derive(SimpleObject)]
pub struct RevokeApiKeyPayload {
    /// The revoked key.
    pub api_key: ApiKey,
}

/// The catalogue and API keys.
#[derive(Default)]
pub struct AdminMutation;

#[Object]
impl AdminMutation {
    /// Creates a unit type (SYSTEM only).
    async fn create_unit_type(
        &self,
        ctx: &Context<'_>,
        input: CreateUnitTypeInput,
    ) -> async_graphql::Result<UnitTypePayload> {
        let (app, actor) = session(ctx)?;
        let model = service::unit_type::create(app, actor, input.code, input.name).await?;
        Ok(UnitTypePayload {
            unit_type: UnitType(model),
        })
    }

    /// Gives a service its display name (SYSTEM only).
    async fn update_service(
        &self,
        ctx: &Context<'_>,
        input: UpdateServiceInput,
    ) -> async_graphql::Result<ServicePayload> {
        let (app, actor) = session(ctx)?;
        let model = service::service_catalog::rename(app, actor, &input.code, &input.name).await?;
        Ok(ServicePayload {
            service: Service(model),
        })
    }

    /// Creates an API key and shows its secret once.
    async fn create_api_key(
        &self,
        ctx: &Context<'_>,
        input: CreateApiKeyInput,
    ) -> async_graphql::Result<CreateApiKeyPayload> {
        let (app, actor) = session(ctx)?;
        let organization_id: Option<OrganizationId> =
            decode_optional(input.organization_id.as_ref(), "organizationId")?;
        let tenant_id: Option<TenantId> = decode_optional(input.tenant_id.as_ref(), "tenantId")?;
        let issued = service::api_key::create(
            app,
            actor,
            NewKey {
                organization_id,
                tenant_id,
                role: input.role.into(),
                name: input.name,
            },
        )
        .await?;
        Ok(CreateApiKeyPayload {
            api_key: ApiKey(issued.key),
            secret: issued.secret,
        })
    }

    /// Revokes an API key.
    async fn revoke_api_key(
        &self,
        ctx: &Context<'_>,
        input: RevokeApiKeyInput,
    ) -> async_graphql::Result<RevokeApiKeyPayload> {
        let (app, actor) = session(ctx)?;
        let id: ApiKeyId = decode(&input.api_key_id)?;
        let key = service::api_key::revoke(app, actor, id).await?;
        Ok(RevokeApiKeyPayload { api_key: ApiKey(key) })
    }
}
