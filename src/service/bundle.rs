//! The bundles of an organization's licenses (docs/design.md §2), read from the stored
//! licenses: what the figures, the admission and the watcher all start from.

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use crate::domain::{
    Quantity,
    period::{Bundle, LicenseTerms, Period, TopUp},
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::license::Model;

/// The period rules of a stored license.
pub fn terms(license: &Model) -> AppResult<LicenseTerms> {
    let period = license
        .period
        .parse::<Period>()
        .map_err(|_| AppError::Internal(anyhow::anyhow!("stored period '{}' is unknown", license.period)))?;
    Ok(LicenseTerms {
        period,
        starts_on: license.starts_on,
        ends_on: license.ends_on,
        capacity: Quantity::from_scaled(license.capacity),
        burst_percent: u32::try_from(license.burst_percent).unwrap_or(100),
        burst_periods: u32::try_from(license.burst_periods).unwrap_or(0),
    })
}

/// A bundle with the license it belongs to.
#[derive(Clone, Debug)]
pub struct LicensedBundle {
    pub license: Model,
    pub terms: LicenseTerms,
    pub bundle: Bundle,
    pub current: bool,
}

/// Every bundle of the licenses given that started by `today`, with their top-ups,
/// current first, then older.
pub fn bundles_of(
    licenses: &[Model],
    top_ups: &[entity::capacity_top_up::Model],
    today: NaiveDate,
) -> AppResult<Vec<LicensedBundle>> {
    let mut all = Vec::new();
    for license in licenses {
        let terms = terms(license)?;
        let topped: Vec<TopUp> = top_ups
            .iter()
            .filter(|t| t.license_id == license.id)
            .map(|t| TopUp {
                effective_on: t.effective_on,
                amount: Quantity::from_scaled(t.amount),
            })
            .collect();
        for bundle in terms.bundles_until(today) {
            let bundle = bundle.topped_up(&topped);
            let current = bundle.start <= today && today < bundle.end;
            all.push(LicensedBundle {
                license: license.clone(),
                terms,
                bundle,
                current,
            });
        }
    }
    all.sort_by(|a, b| b.current.cmp(&a.current).then(b.bundle.start.cmp(&a.bundle.start)));
    Ok(all)
}

/// The bundles of an organization's licenses of a unit type that started by `today`,
/// current first.
pub(super) async fn bundles_on(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: uuid::Uuid,
    today: NaiveDate,
) -> AppResult<Vec<LicensedBundle>> {
    let licenses = store::license::list(db, organization, Some(unit_type)).await?;
    let ids: Vec<uuid::Uuid> = licenses.iter().map(|l| l.id).collect();
    let top_ups = store::license::top_ups(db, organization, &ids).await?;
    bundles_of(&licenses, &top_ups, today)
}

/// The current bundle of an organization's licenses of a unit type on `today`.
pub(super) async fn current_bundle(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: &entity::unit_type::Model,
    today: NaiveDate,
) -> AppResult<LicensedBundle> {
    bundles_on(db, organization, unit_type.id, today)
        .await?
        .into_iter()
        .find(|b| b.current)
        .ok_or_else(|| {
            AppError::bad_input(format!(
                "no license for unit type '{}' covers today ({today})",
                unit_type.code
            ))
        })
}
