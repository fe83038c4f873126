//! Setting a tenant's allocation (docs/design.md §6): only for an ACTIVE tenant, not below
//! what it consumed in the current bundle, not above its current allocation plus what the
//! organization can still allocate; effective on a day of the current bundle up to today.

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    AppContext, Seen, audit, bundle::current_bundle, figures::bundle_to_date, require, state_of, tenant, unit_type,
    watch, zone_of,
};
use crate::domain::{
    Quantity,
    access::Actor,
    allocation::check_new_allocation,
    events::QuotaEventKind,
    ids::{OrganizationId, TenantId},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::events::QuotaEvent;
use crate::store;
use entity::allocation::Model;

/// Later than any effective day (and stored the same way on every backend, unlike `NaiveDate::MAX`).
const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(9999, 12, 31).expect("a valid date");

/// A change of allocation asked for by a caller.
pub struct AllocationChange {
    pub tenant_id: TenantId,
    pub unit_type: String,
    /// None removes the allocation (N/A).
    pub amount: Option<String>,
    pub effective_on: Option<NaiveDate>,
}

/// An allocation change as the audit log shows it.
fn allocation_json(allocation: &Model, unit_type: &str) -> serde_json::Value {
    serde_json::json!({
        "unitType": unit_type,
        "amount": allocation.amount.map(|a| Quantity::from_scaled(a).to_string()),
        "effectiveOn": allocation.effective_from,
    })
}

/// Only an ACTIVE tenant gets an allocation; a DISABLED one, no longer actively consuming,
/// may still have its allocation released (set to none), giving it back to the pool.
fn check_state(state: TenantState, releasing: bool) -> AppResult<()> {
    match state {
        TenantState::Active => Ok(()),
        TenantState::Disabled if releasing => Ok(()),
        TenantState::Disabled => Err(AppError::bad_input(
            "tenant is DISABLED: only an ACTIVE tenant gets an allocation; a DISABLED one may only have its allocation released (amount: null)",
        )),
        TenantState::Deleted => Err(AppError::bad_input(
            "tenant is DELETED: only an ACTIVE tenant gets an allocation",
        )),
    }
}

/// ALLOCATION_CHANGED with the tenant's figures after the change: stored with the change.
async fn allocation_changed(
    ctx: &AppContext,
    tx: &sea_orm::DatabaseTransaction,
    bundle: &super::bundle::LicensedBundle,
    tenant: Uuid,
    today: NaiveDate,
) -> AppResult<QuotaEvent> {
    let license = &bundle.license;
    let figures = bundle_to_date(tx, license.organization_id, license.unit_type_id, bundle, today).await?;
    let card = figures
        .tenants
        .iter()
        .zip(&figures.usage.tenants)
        .find(|(t, _)| t.id == tenant)
        .map(|(_, card)| card)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("tenant missing from its organization's figures")))?;
    let unit_code = store::unit_type::find(tx, license.unit_type_id)
        .await?
        .map(|u| u.code)
        .unwrap_or_default();
    Ok(QuotaEvent {
        tenant_id: Some(tenant),
        consumed: Some(card.consumed.scaled()),
        remaining: Some(card.remaining.scaled()),
        ..QuotaEvent::new(
            QuotaEventKind::AllocationChanged,
            ctx.clock.now(),
            license.organization_id,
            &unit_code,
        )
    })
}

pub async fn set(ctx: &AppContext, actor: &Actor, change: AllocationChange) -> AppResult<Model> {
    let tx = store::begin_write(&ctx.writer).await?;
    let tenant = tenant::visible(&tx, actor, change.tenant_id).await?;
    let org_id = OrganizationId(tenant.organization_id);
    require(
        actor.manage_tenant(org_id, change.tenant_id),
        "tenant",
        "set allocations",
    )?;
    store::organization::lock(&tx, org_id.0).await?;
    check_state(state_of(&tenant)?, change.amount.is_none())?;
    let org = store::organization::find(&tx, org_id.0)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let today = ctx.clock.today_in(zone_of(&org)?);
    let unit = unit_type::by_code(&tx, "unitType", &change.unit_type).await?;
    let bundle = current_bundle(&tx, org.id, &unit, today).await?;
    let effective_on = change.effective_on.unwrap_or(today);
    if effective_on < bundle.bundle.start || effective_on > today {
        return Err(AppError::bad_input(format!(
            "effectiveOn {effective_on} must be a day of the current bundle up to today ({} to {today})",
            bundle.bundle.start
        )));
    }
    let latest = store::allocation::in_effect(&tx, org.id, tenant.id, unit.id, LAST_DAY).await?;
    let before = latest.as_ref().map(|l| allocation_json(l, &unit.code));
    if let Some(latest) = latest.filter(|l| l.effective_from > effective_on) {
        return Err(AppError::bad_input(format!(
            "effectiveOn {effective_on} is before the latest change, effective on {}: a change may not be back-dated behind a later one",
            latest.effective_from
        )));
    }
    let amount = match &change.amount {
        Some(text) => {
            let amount = Quantity::parse_non_negative(text).map_err(|e| AppError::bad_input(format!("amount: {e}")))?;
            let figures = bundle_to_date(&tx, org.id, unit.id, &bundle, today).await?;
            let index =
                figures.tenants.iter().position(|t| t.id == tenant.id).ok_or_else(|| {
                    AppError::Internal(anyhow::anyhow!("tenant missing from its organization's figures"))
                })?;
            let sums = &figures.sums[index];
            check_new_allocation(
                sums.allocated,
                amount,
                sums.consumed_in_range,
                figures.usage.organization.available_for_allocation,
            )
            .map_err(|e| AppError::bad_input(e.to_string()))?;
            Some(amount.scaled())
        }
        None => None,
    };
    let model = Model {
        id: Uuid::now_v7(),
        tenant_id: tenant.id,
        unit_type_id: unit.id,
        amount,
        effective_from: effective_on,
        created_at: ctx.clock.now(),
    };
    let model = store::allocation::insert(&tx, model).await?;
    let change = audit::Change {
        before,
        ..audit::Change::of(Some(org.id), "setAllocation", "Tenant", Some(tenant.id))
            .after(allocation_json(&model, &unit.code))
    };
    audit::record(&tx, ctx, actor, change).await?;
    let mut changed = [allocation_changed(ctx, &tx, &bundle, tenant.id, today).await?];
    super::notification::store(ctx, &tx, &mut changed).await?;
    tx.commit().await?;
    watch::after(
        ctx,
        watch::Change {
            organization: org.id,
            unit_type: unit.id,
            usage_tenants: Vec::new(),
            events: changed.to_vec(),
        },
    )
    .await;
    Ok(model)
}

/// The allocation in effect today for a tenant the caller sees.
pub async fn current(
    ctx: &AppContext,
    tenant: &Seen<entity::tenant::Model>,
    unit_type: &str,
) -> AppResult<Option<Model>> {
    let org = store::organization::find(&ctx.db, tenant.organization_id)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let unit = unit_type::by_code(&ctx.db, "unitType", unit_type).await?;
    let today = ctx.clock.today_in(zone_of(&org)?);
    Ok(store::allocation::in_effect(&ctx.db, org.id, tenant.id, unit.id, today).await?)
}
