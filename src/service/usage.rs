//! The figures of docs/design.md §3 for one unit type, one bundle and a date range inside it,
//! computed on demand from rollup sums with `domain::metrics`. A fixed number of
//! statements whatever the number of tenants: tenants, allocations in effect at the end
//! of the range, and two grouped sums (before the range, inside it).

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::license::{LicensedBundle, bundles_of};
use super::tenant::state_of;
use super::{AppContext, organization, unit_type, zone_of};
use crate::domain::{
    Quantity,
    access::Actor,
    ids::OrganizationId,
    metrics::{QuotaView, TenantSums, Usage, quota_view, usage},
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

/// The figures of a range of a bundle, with the tenants in the order of the figures.
#[derive(Clone, Debug)]
pub struct BundleFigures {
    pub tenants: Vec<entity::tenant::Model>,
    pub sums: Vec<TenantSums>,
    pub usage: Usage,
}

/// Figures for the days `from..=to` of a bundle, every tenant included.
pub async fn figures(
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
    let usage = usage(bundle.bundle.capacity, &sums);
    Ok(BundleFigures { tenants, sums, usage })
}

/// Figures for the bundle from its start to `to` (inclusive).
pub async fn bundle_to_date(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    unit_type: uuid::Uuid,
    bundle: &LicensedBundle,
    to: NaiveDate,
) -> AppResult<BundleFigures> {
    figures(db, organization, unit_type, bundle, bundle.bundle.start, to).await
}

/// What a usage query asks for.
pub struct UsageQuery {
    pub organization_id: OrganizationId,
    pub unit_type: String,
    /// A bundle's start date; default: the current bundle.
    pub bundle: Option<NaiveDate>,
    /// Inclusive calendar days inside the bundle; default: the whole bundle to date.
    pub range: Option<(NaiveDate, NaiveDate)>,
}

/// The answer to a usage query.
#[derive(Clone, Debug)]
pub struct UsageReport {
    pub organization_id: uuid::Uuid,
    pub unit_type: entity::unit_type::Model,
    pub bundle: LicensedBundle,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: BundleFigures,
}

/// What the usage and quota figures of one organization and unit type start from: the
/// unit type, today in the organization's zone and the bundles of its licenses. A request
/// that asks for both (a dashboard) reads these once.
#[derive(Clone, Debug)]
pub struct Basis {
    pub organization: entity::organization::Model,
    pub unit_type: entity::unit_type::Model,
    pub today: NaiveDate,
    pub bundles: Vec<LicensedBundle>,
}

impl Basis {
    fn current(&self) -> AppResult<&LicensedBundle> {
        self.bundles.iter().find(|b| b.current).ok_or_else(|| {
            AppError::bad_input(format!(
                "no license for unit type '{}' covers today ({})",
                self.unit_type.code, self.today
            ))
        })
    }
}

/// Reads the basis of an organization the caller was already found to see (through
/// [`organization::visible`] or [`organization::get`]).
pub async fn basis(ctx: &AppContext, organization: entity::organization::Model, unit_type: &str) -> AppResult<Basis> {
    let unit = unit_type::by_code(&ctx.db, "unitType", unit_type).await?;
    let today = ctx.clock.today_in(zone_of(&organization)?);
    let licenses = store::license::list(&ctx.db, organization.id, Some(unit.id)).await?;
    let bundles = bundles_of(&licenses, today)?;
    Ok(Basis {
        organization,
        unit_type: unit,
        today,
        bundles,
    })
}

/// The usage of one bundle (default: current) over a range (default: the bundle to date).
pub async fn report(ctx: &AppContext, actor: &Actor, query: UsageQuery) -> AppResult<UsageReport> {
    let org = organization::visible(ctx, actor, query.organization_id).await?;
    let basis = basis(ctx, org, &query.unit_type).await?;
    report_on(ctx, &basis, query.bundle, query.range).await
}

/// [`report`] from a basis already read.
pub async fn report_on(
    ctx: &AppContext,
    basis: &Basis,
    bundle: Option<NaiveDate>,
    range: Option<(NaiveDate, NaiveDate)>,
) -> AppResult<UsageReport> {
    let unit = &basis.unit_type;
    let bundle =
        match bundle {
            Some(start) => basis.bundles.iter().find(|b| b.bundle.start == start).ok_or_else(|| {
                AppError::bad_input(format!("bundle: no bundle of '{}' starts on {start}", unit.code))
            })?,
            None => basis.current()?,
        }
        .clone();
    let last_day = bundle.bundle.end.pred_opt().unwrap_or(bundle.bundle.start);
    let (from, to) = match range {
        Some((from, to)) => {
            if from > to {
                return Err(AppError::bad_input(format!("range: from {from} is after to {to}")));
            }
            if from < bundle.bundle.start || to > last_day {
                return Err(AppError::bad_input(format!(
                    "range: {from}..{to} is not inside the bundle {}..{last_day}",
                    bundle.bundle.start
                )));
            }
            (from, to)
        }
        None => (
            bundle.bundle.start,
            if bundle.current {
                basis.today.min(last_day)
            } else {
                last_day
            },
        ),
    };
    let figures = figures(&ctx.db, basis.organization.id, unit.id, &bundle, from, to).await?;
    Ok(UsageReport {
        organization_id: basis.organization.id,
        unit_type: unit.clone(),
        bundle,
        from,
        to,
        figures,
    })
}

/// The quota view of a unit type's current bundle (organization-wide).
pub async fn quota(
    ctx: &AppContext,
    actor: &Actor,
    organization_id: OrganizationId,
    unit_type: &str,
) -> AppResult<(entity::unit_type::Model, LicensedBundle, QuotaView)> {
    let org = organization::visible(ctx, actor, organization_id).await?;
    may_read_quota(actor)?;
    let basis = basis(ctx, org, unit_type).await?;
    quota_on(ctx, &basis).await
}

/// The quota view is organization-wide: a key limited to a tenant may not read it.
pub fn may_read_quota(actor: &Actor) -> AppResult<()> {
    if actor.sees_whole_organization() {
        Ok(())
    } else {
        Err(AppError::forbidden("read organization-wide figures"))
    }
}

/// [`quota`] from a basis already read, for a caller [`may_read_quota`] admitted.
pub async fn quota_on(
    ctx: &AppContext,
    basis: &Basis,
) -> AppResult<(entity::unit_type::Model, LicensedBundle, QuotaView)> {
    let bundle = basis.current()?.clone();
    let (org, unit) = (basis.organization.id, basis.unit_type.id);
    let used: i64 = store::usage::consumed_by_tenant(&ctx.db, org, unit, bundle.bundle.start, bundle.bundle.end)
        .await?
        .values()
        .sum();
    let view = quota_view(&bundle.terms, &bundle.bundle, Quantity::from_scaled(used));
    Ok((basis.unit_type.clone(), bundle, view))
}

/// One raw usage event, with the names the caller used for its service and job.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub event: entity::usage_event::Model,
    pub service: String,
    pub job: Option<String>,
}

/// A page of the raw events of an organization (or one tenant) and unit type on the days
/// `from..=to`, in recording order after `after`. The caller has checked access.
pub async fn event_rows(
    db: &impl ConnectionTrait,
    organization: uuid::Uuid,
    tenant: Option<uuid::Uuid>,
    unit_type: uuid::Uuid,
    (from, to): (NaiveDate, NaiveDate),
    after: Option<uuid::Uuid>,
    limit: u64,
) -> AppResult<Vec<EventRow>> {
    let until = to.succ_opt().unwrap_or(to);
    let events = store::usage::events_page(db, organization, tenant, unit_type, (from, until), after, limit).await?;
    let mut service_ids: Vec<uuid::Uuid> = events.iter().map(|e| e.service_id).collect();
    service_ids.sort();
    service_ids.dedup();
    let services: std::collections::HashMap<uuid::Uuid, String> = store::service_catalog::find_many(db, &service_ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s.code))
        .collect();
    let job_ids: Vec<uuid::Uuid> = events.iter().filter_map(|e| e.job_id).collect();
    let jobs: std::collections::HashMap<uuid::Uuid, String> = if job_ids.is_empty() {
        Default::default()
    } else {
        store::job::find_many(db, &job_ids)
            .await?
            .into_iter()
            .map(|j| (j.id, j.external_id))
            .collect()
    };
    Ok(events
        .into_iter()
        .map(|event| EventRow {
            service: services.get(&event.service_id).cloned().unwrap_or_default(),
            job: event.job_id.and_then(|j| jobs.get(&j).cloned()),
            event,
        })
        .collect())
}
