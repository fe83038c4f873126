//! Tenants: create, rename, disable, enable, and delete (a soft delete: history stays).

use uuid::Uuid;

use super::{AppContext, OrgScope, Seen, audit, clean_name, organization, require, state_of, watch};
use crate::domain::{
    access::Actor,
    ids::{OrganizationId, TenantId},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::store::{self, Page, PageRequest};
use entity::tenant::Model;

pub async fn create(
    ctx: &AppContext,
    actor: &Actor,
    organization_id: OrganizationId,
    name: String,
) -> AppResult<Seen<Model>> {
    require(
        actor.manage_organization(organization_id),
        "organization",
        "create tenants",
    )?;
    let org = organization::visible(ctx, actor, organization_id).await?;
    let now = ctx.clock.now();
    let model = Model {
        id: Uuid::now_v7(),
        organization_id: org.id,
        name: clean_name("name", &name)?,
        state: TenantState::Active.as_str().to_owned(),
        created_at: now,
        updated_at: now,
    };
    let tx = store::begin_write(&ctx.writer).await?;
    let model = store::tenant::insert(&tx, model).await?;
    let change = audit::Change::of(Some(org.id), "createTenant", "Tenant", Some(model.id)).after(tenant_json(&model));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    // The dashboard shows every tenant, with or without usage.
    ctx.memo.forget(org.id);
    Ok(Seen::new(*org.scope(), model))
}

/// A tenant as the audit log shows it.
fn tenant_json(tenant: &Model) -> serde_json::Value {
    serde_json::json!({ "name": tenant.name, "state": tenant.state })
}

/// A tenant the caller may see, or NOT_FOUND.
pub async fn visible(db: &impl sea_orm::ConnectionTrait, actor: &Actor, id: TenantId) -> AppResult<Seen<Model>> {
    store::tenant::find(db, id.0)
        .await?
        .and_then(|tenant| {
            let scope = OrgScope::check(actor, OrganizationId(tenant.organization_id))?;
            scope.sees_tenant(id).then(|| Seen::new(scope, tenant))
        })
        .ok_or_else(|| AppError::not_found("tenant"))
}

pub async fn get(ctx: &AppContext, actor: &Actor, id: TenantId) -> AppResult<Option<Seen<Model>>> {
    match visible(&ctx.db, actor, id).await {
        Ok(tenant) => Ok(Some(tenant)),
        Err(AppError::NotFound(_)) => Ok(None),
        Err(other) => Err(other),
    }
}

/// Renames a tenant and/or changes its state. A deleted tenant cannot come back.
pub async fn update(
    ctx: &AppContext,
    actor: &Actor,
    id: TenantId,
    name: Option<String>,
    state: Option<TenantState>,
) -> AppResult<Seen<Model>> {
    let tx = store::begin_write(&ctx.writer).await?;
    let seen = visible(&tx, actor, id).await?;
    let scope = *seen.scope();
    let mut tenant = seen.into_row();
    let before = tenant_json(&tenant);
    require(
        actor.manage_tenant(OrganizationId(tenant.organization_id), id),
        "tenant",
        "change tenants",
    )?;
    let current = state_of(&tenant)?;
    if let Some(next) = state {
        if !current.may_become(next) {
            return Err(AppError::bad_input(format!(
                "tenant is DELETED and cannot become {next}"
            )));
        }
        tenant.state = next.as_str().to_owned();
    }
    if let Some(name) = name {
        if current == TenantState::Deleted {
            return Err(AppError::bad_input("a DELETED tenant cannot be renamed"));
        }
        tenant.name = clean_name("name", &name)?;
    }
    tenant.updated_at = ctx.clock.now();
    let tenant = store::tenant::update(&tx, tenant).await?;
    let change = audit::Change::of(Some(tenant.organization_id), "updateTenant", "Tenant", Some(tenant.id))
        .before(before)
        .after(tenant_json(&tenant));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    // The dashboard shows the tenant's name and state.
    ctx.memo.forget(tenant.organization_id);
    if state.is_some_and(|next| next != current) {
        // A state change moves the tenant's status for every licensed unit type.
        let mut unit_types: Vec<Uuid> = store::license::list(&ctx.db, tenant.organization_id, None)
            .await?
            .into_iter()
            .map(|l| l.unit_type_id)
            .collect();
        unit_types.sort();
        unit_types.dedup();
        for unit_type in unit_types {
            watch::after(ctx, watch::Change::of(tenant.organization_id, unit_type)).await;
        }
    }
    Ok(Seen::new(scope, tenant))
}

/// A page of the organization's tenants in the given states (default: all states).
/// A TENANT_ADMIN sees only its own tenant.
pub async fn list(
    ctx: &AppContext,
    scope: &OrgScope,
    states: &[TenantState],
    page: PageRequest,
) -> AppResult<Page<Seen<Model>>> {
    let states: Vec<&str> = if states.is_empty() {
        vec!["ACTIVE", "DISABLED", "DELETED"]
    } else {
        states.iter().map(|s| s.as_str()).collect()
    };
    let rows = scope.rows();
    let page = store::tenant::list(&ctx.db, rows.organization, &states, rows.tenant, page).await?;
    Ok(Page {
        rows: scope.seen_all(page.rows),
        has_next: page.has_next,
    })
}
