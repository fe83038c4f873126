//! Consumption controls (docs/design.md §6, §15.3): per tenant and unit type, the services
//! that stop at 100% of the allocation and the tenant's alert thresholds; per organization
//! and unit type, its alert thresholds. All can be read back.

use super::{
    AppContext, Seen, audit,
    figures::{controls_of, organization_thresholds_in},
    organization, require, state_of, tenant, unit_type, zone_of,
};
use crate::domain::{
    access::Actor,
    admission::{MOST_ORGANIZATION_THRESHOLDS, MOST_TENANT_THRESHOLDS, check_thresholds},
    ids::{OrganizationId, TenantId},
    ingestion::check_code,
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::consumption_control::Model;

/// A tenant's controls as read back.
#[derive(Clone, Debug, PartialEq)]
pub struct Controls {
    pub tenant: super::Seen<entity::tenant::Model>,
    pub unit_type: entity::unit_type::Model,
    pub stop_at_allocation: Vec<String>,
    pub alert_thresholds: Vec<f64>,
}

/// What a caller asks to change; a list left out keeps its current value.
pub struct ControlChange {
    pub tenant_id: TenantId,
    pub unit_type: String,
    pub stop_at_allocation: Option<Vec<String>>,
    pub alert_thresholds: Option<Vec<f64>>,
}

pub async fn set(ctx: &AppContext, actor: &Actor, change: ControlChange) -> AppResult<Controls> {
    let tx = store::begin_write(&ctx.writer).await?;
    let tenant = tenant::visible(&tx, actor, change.tenant_id).await?;
    require(
        actor.manage_tenant(OrganizationId(tenant.organization_id), change.tenant_id),
        "tenant",
        "set consumption controls",
    )?;
    if state_of(&tenant)? != TenantState::Active {
        return Err(AppError::bad_input(format!(
            "tenant is {}: only an ACTIVE tenant has consumption controls",
            tenant.state
        )));
    }
    let unit = unit_type::by_code(&tx, "unitType", &change.unit_type).await?;
    let org = store::organization::find(&tx, tenant.organization_id)
        .await?
        .ok_or_else(|| AppError::not_found("organization"))?;
    let today = ctx.clock.today_in(zone_of(&org)?);
    let allocation = store::allocation::in_effect(&tx, org.id, tenant.id, unit.id, today).await?;
    if allocation.and_then(|a| a.amount).is_none() {
        return Err(AppError::bad_input(format!(
            "the tenant has no allocation of '{}': set one before its consumption controls",
            unit.code
        )));
    }
    let stored = store::control::find(&tx, org.id, tenant.id, unit.id).await?;
    let (mut stop, mut thresholds) = controls_of(stored.as_ref())?;
    let before = serde_json::json!({ "unitType": unit.code, "stopAtAllocation": stop, "alertThresholds": thresholds });
    if let Some(codes) = change.stop_at_allocation {
        for (i, code) in codes.iter().enumerate() {
            check_code(code).map_err(|m| AppError::bad_input(format!("stopAtAllocation[{i}]: {m}")))?;
        }
        stop = codes;
        stop.sort();
        stop.dedup();
    }
    if let Some(given) = change.alert_thresholds {
        thresholds =
            check_thresholds("alertThresholds", &given, MOST_TENANT_THRESHOLDS).map_err(AppError::bad_input)?;
    }
    let model = Model {
        organization_id: tenant.organization_id,
        tenant_id: tenant.id,
        unit_type_id: unit.id,
        stop_at_allocation: serde_json::to_string(&stop).map_err(anyhow::Error::from)?,
        alert_thresholds: serde_json::to_string(&thresholds).map_err(anyhow::Error::from)?,
        updated_at: ctx.clock.now(),
    };
    store::control::upsert(&tx, model).await?;
    let change = audit::Change::of(
        Some(tenant.organization_id),
        "setConsumptionControl",
        "Tenant",
        Some(tenant.id),
    )
    .before(before)
    .after(serde_json::json!({ "unitType": unit.code, "stopAtAllocation": stop, "alertThresholds": thresholds }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(Controls {
        tenant,
        unit_type: unit,
        stop_at_allocation: stop,
        alert_thresholds: thresholds,
    })
}

/// A tenant's controls of a unit type as stored; `None` when it has none (the defaults:
/// nothing stops, and the default thresholds).
pub async fn get(
    ctx: &AppContext,
    tenant: &Seen<entity::tenant::Model>,
    unit_type: &str,
) -> AppResult<Option<Controls>> {
    let unit = unit_type::by_code(&ctx.db, "unitType", unit_type).await?;
    let Some(stored) = store::control::find(&ctx.db, tenant.organization_id, tenant.id, unit.id).await? else {
        return Ok(None);
    };
    let (stop_at_allocation, alert_thresholds) = controls_of(Some(&stored))?;
    Ok(Some(Controls {
        tenant: tenant.clone(),
        unit_type: unit,
        stop_at_allocation,
        alert_thresholds,
    }))
}

/// An organization's alert thresholds for a unit type: fractions of the capacity, sorted.
pub async fn organization_thresholds(
    ctx: &AppContext,
    organization: &Seen<entity::organization::Model>,
    unit_type: &str,
) -> AppResult<Vec<f64>> {
    let unit = unit_type::by_code(&ctx.db, "unitType", unit_type).await?;
    organization_thresholds_in(&ctx.db, organization.id, unit.id).await
}

/// What an organization's new thresholds are.
pub struct OrganizationThresholds {
    pub organization_id: OrganizationId,
    pub unit_type: String,
    pub thresholds: Vec<f64>,
}

/// Sets an organization's alert thresholds for a unit type (OWNER, ADMIN): each in
/// (0, 10], at most 10, stored sorted.
pub async fn set_organization_thresholds(
    ctx: &AppContext,
    actor: &Actor,
    change: OrganizationThresholds,
) -> AppResult<Seen<entity::organization::Model>> {
    require(
        actor.administer(change.organization_id),
        "organization",
        "set the organization's alert thresholds",
    )?;
    let thresholds = check_thresholds("thresholds", &change.thresholds, MOST_ORGANIZATION_THRESHOLDS)
        .map_err(AppError::bad_input)?;
    let org = organization::visible(ctx, actor, change.organization_id).await?;
    let unit = unit_type::by_code(&ctx.db, "unitType", &change.unit_type).await?;
    let tx = store::begin_write(&ctx.writer).await?;
    let before = organization_thresholds_in(&tx, org.id, unit.id).await?;
    let model = entity::organization_alert_threshold::Model {
        organization_id: org.id,
        unit_type_id: unit.id,
        thresholds: serde_json::to_string(&thresholds).map_err(anyhow::Error::from)?,
        updated_at: ctx.clock.now(),
    };
    store::control::upsert_organization_thresholds(&tx, model).await?;
    let change = audit::Change::of(
        Some(org.id),
        "setOrganizationAlertThresholds",
        "Organization",
        Some(org.id),
    )
    .before(serde_json::json!({ "unitType": unit.code, "thresholds": before }))
    .after(serde_json::json!({ "unitType": unit.code, "thresholds": thresholds }));
    audit::record(&tx, ctx, actor, change).await?;
    tx.commit().await?;
    Ok(org)
}
