//! Setting a tenant's allocation (docs/design.md §6): only for an ACTIVE tenant, not below
//! what it consumed in the current bundle, not above its current allocation plus what the
//! organization can still allocate; effective on a day of the current bundle up to today.
//! Several changes at once (`setAllocations`), checked against the state they leave, and
//! the same batch previewed without writing anything (`previewAllocations`).

use chrono::NaiveDate;
use uuid::Uuid;

use super::{
    AppContext, OrgScope, Seen, audit,
    bundle::{LicensedBundle, current_bundle},
    figures::{BundleFigures, bundle_to_date},
    require, state_of, tenant, unit_type,
    usage::{UsageReport, current_report},
    watch, zone_of,
};
use crate::domain::{
    Quantity,
    access::Actor,
    allocation::{BatchChange, BatchRefusal, ChangeRefusal, check_batch, check_new_allocation},
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
    bundle: &LicensedBundle,
    tenant: Uuid,
    today: NaiveDate,
) -> AppResult<QuotaEvent> {
    let license = &bundle.license;
    let figures = bundle_to_date(tx, license.organization_id, license.unit_type_id, bundle, today).await?;
    let unit_code = store::unit_type::find(tx, license.unit_type_id)
        .await?
        .map(|u| u.code)
        .unwrap_or_default();
    changed_event(ctx, bundle, &figures, tenant, &unit_code)
}

/// ALLOCATION_CHANGED for `tenant`, with its card of `figures` (taken after the change).
fn changed_event(
    ctx: &AppContext,
    bundle: &LicensedBundle,
    figures: &BundleFigures,
    tenant: Uuid,
    unit_code: &str,
) -> AppResult<QuotaEvent> {
    let license = &bundle.license;
    let card = figures
        .tenants
        .iter()
        .zip(&figures.usage.tenants)
        .find(|(t, _)| t.id == tenant)
        .map(|(_, card)| card)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("tenant missing from its organization's figures")))?;
    Ok(QuotaEvent {
        tenant_id: Some(tenant),
        consumed: Some(card.consumed.scaled()),
        remaining: Some(card.remaining.scaled()),
        ..QuotaEvent::new(
            QuotaEventKind::AllocationChanged,
            ctx.clock.now(),
            license.organization_id,
            unit_code,
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
        organization_id: org.id,
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

/// Several allocation changes of one unit type in one organization, effective today.
pub struct Batch {
    pub organization_id: OrganizationId,
    pub unit_type: String,
    /// In the caller's order; the index of each is how a refusal names it.
    pub changes: Vec<BatchTenantChange>,
}

/// One change of a [`Batch`].
pub struct BatchTenantChange {
    pub tenant_id: TenantId,
    /// None removes the allocation (N/A).
    pub amount: Option<String>,
}

/// Applies a batch (`setAllocations`): every change or none, checked against the state it
/// leaves. Answers the organization's usage of the current bundle to today, after it.
pub async fn set_many(ctx: &AppContext, actor: &Actor, batch: Batch) -> AppResult<UsageReport> {
    let tx = store::begin_write(&ctx.writer).await?;
    let (report, events) = apply_batch(ctx, &tx, actor, batch).await?;
    tx.commit().await?;
    watch::after(
        ctx,
        watch::Change {
            organization: report.organization_id,
            unit_type: report.unit_type.id,
            usage_tenants: Vec::new(),
            events,
        },
    )
    .await;
    Ok(report)
}

/// What [`set_many`] would answer, from the very same steps in a transaction that is
/// rolled back (`previewAllocations`): nothing is written, no event goes out.
pub async fn preview(ctx: &AppContext, actor: &Actor, batch: Batch) -> AppResult<UsageReport> {
    let tx = store::begin_write(&ctx.writer).await?;
    let (report, _) = apply_batch(ctx, &tx, actor, batch).await?;
    tx.rollback().await?;
    Ok(report)
}

/// The steps of a batch inside `tx`: the checks, the new allocations, an audit entry and a
/// stored ALLOCATION_CHANGED per change; the report after it and the events to announce.
async fn apply_batch(
    ctx: &AppContext,
    tx: &sea_orm::DatabaseTransaction,
    actor: &Actor,
    batch: Batch,
) -> AppResult<(UsageReport, Vec<QuotaEvent>)> {
    let org_id = batch.organization_id;
    require(actor.manage_organization(org_id), "organization", "set allocations")?;
    let scope = OrgScope::check(actor, org_id).ok_or_else(|| AppError::not_found("organization"))?;
    if batch.changes.is_empty() {
        return Err(AppError::bad_input("changes: give at least one change"));
    }
    let mut seen = std::collections::HashMap::with_capacity(batch.changes.len());
    for (index, change) in batch.changes.iter().enumerate() {
        if let Some(first) = seen.insert(change.tenant_id, index) {
            return Err(AppError::bad_input(format!(
                "changes[{first}] and changes[{index}] name the same tenant: give each tenant one change"
            )));
        }
    }
    store::organization::lock(tx, org_id.0).await?;
    let org = store::organization::find(tx, org_id.0)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let today = ctx.clock.today_in(zone_of(&org)?);
    let unit = unit_type::by_code(tx, "unitType", &batch.unit_type).await?;
    let bundle = current_bundle(tx, org.id, &unit, today).await?;
    let before = bundle_to_date(tx, org.id, unit.id, &bundle, today).await?;
    let mut changes = Vec::with_capacity(batch.changes.len());
    for (index, change) in batch.changes.iter().enumerate() {
        // A tenant of another organization reads as an unknown one.
        let tenant = before
            .tenants
            .iter()
            .position(|t| t.id == change.tenant_id.0)
            .filter(|_| actor.can_see_tenant(org_id, change.tenant_id))
            .ok_or_else(|| AppError::NotFound(format!("changes[{index}].tenantId: tenant not found")))?;
        let amount = change
            .amount
            .as_deref()
            .map(Quantity::parse_non_negative)
            .transpose()
            .map_err(|e| AppError::bad_input(format!("changes[{index}].amount: {e}")))?;
        changes.push(BatchChange { tenant, amount });
    }
    check_batch(bundle.bundle.capacity, &before.sums, &changes).map_err(|refusal| match refusal {
        BatchRefusal::Change { index, reason } => {
            let name = &before.tenants[changes[index].tenant].name;
            let reason = match reason {
                ChangeRefusal::BelowConsumed { amount, consumed } => format!(
                    "allocation {amount} is below its consumption {consumed} in the bundle starting {}",
                    bundle.bundle.start
                ),
                other => other.to_string(),
            };
            AppError::bad_input(format!("changes[{index}]: tenant '{name}': {reason}"))
        }
        BatchRefusal::AboveCapacity {
            allocated,
            can_allocate,
            from_pool,
        } => AppError::bad_input(format!(
            "the changes allocate {allocated} in total but the organization can allocate {can_allocate} (capacity {} less {from_pool} consumed from its pool)",
            bundle.bundle.capacity,
        )),
    })?;
    // Changes are never dated after today, so today's are the latest: one read for all.
    let previous = store::allocation::in_effect_for_organization(tx, org.id, unit.id, today).await?;
    let mut entries = Vec::with_capacity(changes.len());
    for change in &changes {
        let tenant = &before.tenants[change.tenant];
        let model = store::allocation::insert(
            tx,
            Model {
                id: Uuid::now_v7(),
                organization_id: org.id,
                tenant_id: tenant.id,
                unit_type_id: unit.id,
                amount: change.amount.map(Quantity::scaled),
                effective_from: today,
                created_at: ctx.clock.now(),
            },
        )
        .await?;
        let entry = audit::Change {
            before: previous.get(&tenant.id).map(|p| allocation_json(p, &unit.code)),
            ..audit::Change::of(Some(org.id), "setAllocations", "Tenant", Some(tenant.id))
                .after(allocation_json(&model, &unit.code))
        };
        entries.push(audit::entry(ctx, actor, entry));
    }
    store::audit::insert_many(tx, entries).await?;
    let after = bundle_to_date(tx, org.id, unit.id, &bundle, today).await?;
    let mut events = changes
        .iter()
        .map(|c| changed_event(ctx, &bundle, &after, before.tenants[c.tenant].id, &unit.code))
        .collect::<AppResult<Vec<_>>>()?;
    super::notification::store(ctx, tx, &mut events).await?;
    Ok((current_report(scope, &org, unit, bundle, today, after), events))
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
