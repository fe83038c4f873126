//! Tenants and their allocations.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject, connection::Connection};

use std::sync::Arc;

use super::{
    admin::UnitType,
    admission::ConsumptionControl,
    folder::{Folder, Under, folder_page},
    node::{Kind, decode_field, encode},
    organization::Organization,
    scalars::{Date, DateTime, Decimal},
    session,
    siblings::Siblings,
    usage::OrganizationUsage,
};
use crate::domain::{
    Quantity,
    ids::{OrganizationId, TenantId},
};
use crate::error::AppError;
use crate::service::{
    self, Seen,
    allocation::{AllocationChange, Batch, BatchTenantChange},
};

/// The lifecycle state of a tenant.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(remote = "crate::domain::tenant::TenantState")]
pub enum TenantState {
    /// In use.
    Active,
    /// Switched off for now; its usage still counts.
    Disabled,
    /// Soft-deleted: its history stays and still counts; it cannot come back.
    Deleted,
}

/// A division of an organization, with the other tenants of its page (their folders load
/// together).
pub struct Tenant(pub Seen<entity::tenant::Model>, Arc<Siblings>);

impl Tenant {
    /// A tenant on its own.
    pub fn one(model: Seen<entity::tenant::Model>) -> Tenant {
        let siblings = Siblings::of(vec![model.id]);
        Tenant(model, siblings)
    }

    /// A tenant of a page.
    pub fn sibling(model: Seen<entity::tenant::Model>, siblings: Arc<Siblings>) -> Tenant {
        Tenant(model, siblings)
    }
}

#[Object]
impl Tenant {
    /// The tenant's global id.
    pub async fn id(&self) -> ID {
        encode(Kind::Tenant, self.0.id)
    }

    /// The organization it belongs to.
    async fn organization(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Organization>> {
        let (app, actor) = session(ctx)?;
        Ok(
            service::organization::get(app, actor, OrganizationId(self.0.organization_id))
                .await?
                .map(Organization::new),
        )
    }

    /// The tenant's UUID, hyphenated: the stable key integrators store, and what a DELETED
    /// tenant's card shows as its name.
    async fn key(&self) -> String {
        self.0.id.to_string()
    }

    /// Display name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Lifecycle state.
    async fn state(&self) -> async_graphql::Result<TenantState> {
        Ok(service::state_of(&self.0)?.into())
    }

    /// When it was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// The allocation of a unit type in effect today; null when it has none (N/A).
    async fn allocation(&self, ctx: &Context<'_>, unit_type: String) -> async_graphql::Result<Option<Allocation>> {
        let (app, _) = session(ctx)?;
        let row = service::allocation::current(app, &self.0, &unit_type).await?;
        Ok(row.filter(|a| a.amount.is_some()).map(Allocation))
    }

    /// Its consumption controls of a unit type; null when it has none (the defaults: no
    /// service stops at 100%, thresholds 0.7, 0.9 and 1.0 of its allocation).
    async fn consumption_control(
        &self,
        ctx: &Context<'_>,
        unit_type: String,
    ) -> async_graphql::Result<Option<ConsumptionControl>> {
        let (app, _) = session(ctx)?;
        Ok(service::control::get(app, &self.0, &unit_type)
            .await?
            .map(ConsumptionControl))
    }

    /// Its top-level folders.
    #[graphql(complexity = "super::limits::page_cost(first, child_complexity)")]
    async fn folders(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<String, Folder>> {
        folder_page(ctx, self.0.scope(), &self.1, self.0.id, Under::Tenant, (first, after)).await
    }
}

/// Units of a unit type reserved to a tenant, effective from a day.
pub struct Allocation(pub entity::allocation::Model);

#[Object]
impl Allocation {
    /// The tenant.
    async fn tenant(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Tenant>> {
        let (app, actor) = session(ctx)?;
        Ok(service::tenant::get(app, actor, TenantId(self.0.tenant_id))
            .await?
            .map(Tenant::one))
    }

    /// The unit type.
    async fn unit_type(&self, ctx: &Context<'_>) -> async_graphql::Result<UnitType> {
        let (app, _) = session(ctx)?;
        let unit = service::unit_type::get(app, self.0.unit_type_id)
            .await?
            .ok_or_else(|| AppError::Internal(anyhow::anyhow!("allocation without unit type")))?;
        Ok(UnitType(unit))
    }

    /// The amount; null means none (N/A).
    async fn amount(&self) -> Option<Decimal> {
        self.0.amount.map(|a| Quantity::from_scaled(a).into())
    }

    /// The first day it applies.
    async fn effective_on(&self) -> Date {
        Date(self.0.effective_from)
    }
}

/// A new tenant.
#[derive(InputObject)]
pub struct CreateTenantInput {
    /// The organization.
    pub organization_id: ID,
    /// Display name.
    pub name: String,
}

/// Renames a tenant or changes its state (DISABLED, ACTIVE again, or DELETED for good).
#[derive(InputObject)]
pub struct UpdateTenantInput {
    /// The tenant.
    pub tenant_id: ID,
    /// A new name.
    pub name: Option<String>,
    /// A new state.
    pub state: Option<TenantState>,
}

/// Sets a tenant's allocation of a unit type; `amount: null` removes it (N/A).
#[derive(InputObject)]
pub struct SetAllocationInput {
    /// The tenant (must be ACTIVE).
    pub tenant_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// The new amount, or null for none.
    pub amount: Option<Decimal>,
    /// A day of the current bundle up to today; default today.
    pub effective_on: Option<Date>,
}

/// Several allocation changes of one unit type in one organization, effective today and
/// checked together against the state they leave.
#[derive(InputObject)]
pub struct SetAllocationsInput {
    /// The organization.
    pub organization_id: ID,
    /// The unit type's code.
    pub unit_type: String,
    /// One change per tenant; a refusal names a change by its index.
    pub changes: Vec<AllocationChangeInput>,
}

/// One tenant's new allocation in a batch.
#[derive(InputObject)]
pub struct AllocationChangeInput {
    /// The tenant (ACTIVE; DISABLED only to release its allocation).
    pub tenant_id: ID,
    /// The new amount, or null for none.
    pub amount: Option<Decimal>,
}

impl SetAllocationsInput {
    fn batch(self) -> Result<Batch, AppError> {
        let organization_id = decode_field(&self.organization_id, "organizationId")?;
        let changes = self
            .changes
            .into_iter()
            .enumerate()
            .map(|(index, change)| {
                Ok(BatchTenantChange {
                    tenant_id: decode_field(&change.tenant_id, &format!("changes[{index}].tenantId"))?,
                    amount: change.amount.map(|a| a.0),
                })
            })
            .collect::<Result<_, AppError>>()?;
        Ok(Batch {
            organization_id,
            unit_type: self.unit_type,
            changes,
        })
    }
}

/// The organization's usage after a batch of allocation changes.
#[derive(SimpleObject)]
pub struct SetAllocationsPayload {
    /// The current bundle from its start to today, as `Organization.usage` answers it.
    pub usage: OrganizationUsage,
}

/// The tenant made or changed.
#[derive(SimpleObject)]
pub struct TenantPayload {
    /// The tenant.
    pub tenant: Tenant,
}

/// The allocation change made.
#[derive(SimpleObject)]
pub struct AllocationPayload {
    /// The change.
    pub allocation: Allocation,
}

/// Managing tenants and their allocations.
#[derive(Default)]
pub struct TenantMutation;

#[Object]
impl TenantMutation {
    /// Creates an ACTIVE tenant.
    async fn create_tenant(&self, ctx: &Context<'_>, input: CreateTenantInput) -> async_graphql::Result<TenantPayload> {
        let (app, actor) = session(ctx)?;
        let organization: OrganizationId = decode_field(&input.organization_id, "organizationId")?;
        let model = service::tenant::create(app, actor, organization, input.name).await?;
        Ok(TenantPayload {
            tenant: Tenant::one(model),
        })
    }

    /// Renames, disables, enables or deletes (soft) a tenant.
    async fn update_tenant(&self, ctx: &Context<'_>, input: UpdateTenantInput) -> async_graphql::Result<TenantPayload> {
        let (app, actor) = session(ctx)?;
        let tenant: TenantId = decode_field(&input.tenant_id, "tenantId")?;
        let model = service::tenant::update(app, actor, tenant, input.name, input.state.map(Into::into)).await?;
        Ok(TenantPayload {
            tenant: Tenant::one(model),
        })
    }

    /// Sets or removes a tenant's allocation (docs/design.md §6).
    async fn set_allocation(
        &self,
        ctx: &Context<'_>,
        input: SetAllocationInput,
    ) -> async_graphql::Result<AllocationPayload> {
        let (app, actor) = session(ctx)?;
        let tenant: TenantId = decode_field(&input.tenant_id, "tenantId")?;
        let model = service::allocation::set(
            app,
            actor,
            AllocationChange {
                tenant_id: tenant,
                unit_type: input.unit_type,
                amount: input.amount.map(|a| a.0),
                effective_on: input.effective_on.map(|d| d.0),
            },
        )
        .await?;
        Ok(AllocationPayload {
            allocation: Allocation(model),
        })
    }

    /// Applies several allocation changes of one unit type at once, effective today,
    /// checked against the state they leave (docs/design.md §15.6): units move from one
    /// tenant to another in one step. All or nothing.
    async fn set_allocations(
        &self,
        ctx: &Context<'_>,
        input: SetAllocationsInput,
    ) -> async_graphql::Result<SetAllocationsPayload> {
        let (app, actor) = session(ctx)?;
        let report = service::allocation::set_many(app, actor, input.batch()?).await?;
        Ok(SetAllocationsPayload {
            usage: OrganizationUsage::new(report),
        })
    }

    /// The organization's usage as if `setAllocations` applied these changes today,
    /// refused as it would refuse them; writes nothing. The cards (allocations, remaining,
    /// statuses, forecasts) show the changes; fields read on demand from stored rows
    /// (a tenant's `allocation`) show what is stored.
    async fn preview_allocations(
        &self,
        ctx: &Context<'_>,
        input: SetAllocationsInput,
    ) -> async_graphql::Result<OrganizationUsage> {
        let (app, actor) = session(ctx)?;
        let report = service::allocation::preview(app, actor, input.batch()?).await?;
        Ok(OrganizationUsage::new(report))
    }
}
