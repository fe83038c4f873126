//! Consumption controls (docs/design.md §6): per tenant and unit type, the services that stop
//! at 100% of the allocation and the tenant's alert thresholds.

use super::{AppContext, audit, figures::controls_of, require, state_of, tenant, unit_type, zone_of};
use crate::domain::{
    access::Actor,
    admission::check_thresholds,
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
        thresholds = check_thresholds(&given).map_err(AppError::bad_input)?;
    }
    let model = Model {
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
