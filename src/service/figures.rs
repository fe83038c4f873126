//! The figures of docs/design.md §3 of one bundle, for every tenant of an organization,
//! computed from rollup sums with `domain::metrics`: a fixed number of statements whatever
//! the number of tenants (tenants, allocations in effect at the end of the range, and two
//! grouped sums, before the range and inside it). Also how the stored alert controls read: a
//! tenant's, and an organization's thresholds.

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::{bundle::LicensedBundle, state_of};
use crate::domain::{
    Quantity,
    admission::{ORGANIZATION_THRESHOLDS, TENANT_THRESHOLDS},
    metrics::{TenantSums, Usage, usage},
};
use crate::error::{AppError, AppResult};
use crate::store;

/// The figures of a range of a bundle, with the tenants in the order of the figures.
#[derive(Clone, Debug)]
pub struct BundleFigures {
    pub tenants: Vec<entity::tenant::Model>,
    pub sums: Vec<TenantSums>,
    pub usage: Usage,
}

/// Figures for the days `from..=to` of a bundle, every tenant included.
pub(super) async fn figures(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: uuid::Uuid,
    bundle: &LicensedBundle,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<BundleFigures> {
    let until = to.succ_opt().unwrap_or(to).min(bundle.bundle.end);
    let tenants = store::tenant::all_of(db, organization).await?;
    let allocations = store::allocation::in_effect_for_organization(db, organization, unit_type, to).await?;
    let before = if from > bundle.bundle.start {
        store::usage::consumed_by_tenant(db, organization, unit_type, bundle.bundle.start, from).await?
    } else {
        Default::default()
    };
    let inside = store::usage::consumed_by_tenant(db, organization, unit_type, from, until).await?;
    let scaled =
        |map: &std::collections::HashMap<uuid::Uuid, i64>, id| Quantity::from_scaled(map.get(id).copied().unwrap_or(0));
    let mut sums = Vec::with_capacity(tenants.len());
    for tenant in &tenants {
        sums.push(TenantSums {
            state: state_of(tenant)?,
            allocated: allocations
                .get(&tenant.id)
                .and_then(|a| a.amount)
                .map(Quantity::from_scaled),
            consumed_before: scaled(&before, &tenant.id),
            consumed_in_range: scaled(&inside, &tenant.id),
        });
    }
    let usage = usage(bundle.bundle.capacity, bundle.terms.limit(&bundle.bundle), &sums);
    Ok(BundleFigures { tenants, sums, usage })
}

/// Figures for the bundle from its start to `to` (inclusive), for the service's own
/// decisions (an allocation's limits, the watcher's statuses).
pub(super) async fn bundle_to_date(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: uuid::Uuid,
    bundle: &LicensedBundle,
    to: NaiveDate,
) -> AppResult<BundleFigures> {
    figures(db, organization, unit_type, bundle, bundle.bundle.start, to).await
}

/// Reads stored controls; a tenant without any stops nothing and alerts at the defaults.
pub(super) fn controls_of(model: Option<&entity::consumption_control::Model>) -> AppResult<(Vec<String>, Vec<f64>)> {
    let Some(model) = model else {
        return Ok((Vec::new(), TENANT_THRESHOLDS.to_vec()));
    };
    let bad = |e: serde_json::Error| AppError::Internal(anyhow::anyhow!("stored controls are not JSON: {e}"));
    Ok((
        serde_json::from_str(&model.stop_at_allocation).map_err(bad)?,
        serde_json::from_str(&model.alert_thresholds).map_err(bad)?,
    ))
}

/// The thresholds the watcher measures an organization's consumption of a unit type by.
pub(super) async fn organization_thresholds_in(
    db: &impl sea_orm::ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: uuid::Uuid,
) -> AppResult<Vec<f64>> {
    match store::control::organization_thresholds(db, organization, unit_type).await? {
        Some(stored) => serde_json::from_str(&stored.thresholds)
            .map_err(|e| AppError::Internal(anyhow::anyhow!("stored thresholds are not JSON: {e}"))),
        None => Ok(ORGANIZATION_THRESHOLDS.to_vec()),
    }
}
