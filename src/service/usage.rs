//! The figures of one bundle, computed on demand from rollup sums with `domain::metrics`.

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::license::{LicensedBundle, bundles_of};
use super::tenant::state_of;
use crate::domain::{
    Quantity,
    metrics::{TenantSums, Usage, usage},
};
use crate::error::{AppError, AppResult};
use crate::store;

/// The current bundle of an organization's licenses of a unit type on `today`.
pub async fn current_bundle(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: &entity::unit_type::Model,
    today: NaiveDate,
) -> AppResult<LicensedBundle> {
    let licenses = store::license::list(db, organization, Some(unit_type.id)).await?;
    bundles_of(&licenses, today)?
        .into_iter()
        .find(|b| b.current)
        .ok_or_else(|| {
            AppError::bad_input(format!(
                "no license for unit type '{}' covers today ({today})",
                unit_type.code
            ))
        })
}

/// The figures of the whole bundle to date, with the tenants in the order of the figures.
pub struct BundleFigures {
    pub tenants: Vec<entity::tenant::Model>,
    pub sums: Vec<TenantSums>,
    pub usage: Usage,
}

/// Figures for the bundle from its start to `to` (inclusive), every tenant included.
pub async fn bundle_to_date(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: uuid::Uuid,
    bundle: &LicensedBundle,
    to: NaiveDate,
) -> AppResult<BundleFigures> {
    let until = to.succ_opt().unwrap_or(to).min(bundle.bundle.end);
    let tenants = store::tenant::all_of(db, organization).await?;
    let allocations = store::allocation::in_effect_for_organization(db, organization, unit_type, to).await?;
    let consumed = store::usage::consumed_by_tenant(db, organization, unit_type, bundle.bundle.start, until).await?;
    let mut sums = Vec::with_capacity(tenants.len());
    for tenant in &tenants {
        sums.push(TenantSums {
            state: state_of(tenant)?,
            allocated: allocations
                .get(&tenant.id)
                .and_then(|a| a.amount)
                .map(Quantity::from_scaled),
            consumed_before: Quantity::ZERO,
            consumed_in_range: Quantity::from_scaled(consumed.get(&tenant.id).copied().unwrap_or(0)),
        });
    }
    let usage = usage(bundle.bundle.capacity, &sums);
    Ok(BundleFigures { tenants, sums, usage })
}
