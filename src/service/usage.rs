//! The figures of docs/design.md §3 for one unit type, one bundle and a date range inside it,
//! computed on demand from rollup sums with `domain::metrics`. A fixed number of
//! statements whatever the number of tenants: tenants, allocations in effect at the end
//! of the range, and two grouped sums (before the range, inside it).

use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;

use super::{
    AppContext, OrgScope, Seen,
    bundle::{LicensedBundle, bundles_on},
    figures::{BundleFigures, figures},
    memo::FiguresKey,
    organization, unit_type, zone_of,
};
use crate::domain::{
    Quantity,
    access::Actor,
    forecast::{self, Forecast},
    ids::OrganizationId,
    metrics::{QuotaView, quota_view},
};
use crate::error::{AppError, AppResult};
use crate::store;

/// What a usage query asks for.
#[derive(Clone, Debug)]
pub struct UsageQuery {
    pub organization_id: OrganizationId,
    pub unit_type: String,
    /// A bundle's start date; default: the current bundle.
    pub bundle: Option<NaiveDate>,
    /// Inclusive calendar days inside the bundle; default: the whole bundle to date.
    pub range: Option<(NaiveDate, NaiveDate)>,
}

/// The answer to a usage query, for the caller who asked.
#[derive(Clone, Debug)]
pub struct UsageReport {
    scope: OrgScope,
    pub organization_id: uuid::Uuid,
    /// The organization's slug, as file names carry it.
    pub organization_slug: String,
    pub unit_type: entity::unit_type::Model,
    pub bundle: LicensedBundle,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub figures: Arc<BundleFigures>,
}

impl UsageReport {
    /// The rows of this report's organization the caller may read, narrowed to one tenant
    /// when asked.
    pub(super) fn rows(&self, tenant: Option<uuid::Uuid>) -> store::Scope {
        self.scope.rows_of(tenant)
    }

    /// The one tenant an answer covers, if any: `asked` (NOT_FOUND unless it is a tenant of
    /// the report the caller sees), else a key limited to a tenant's own.
    pub fn tenant_filter(&self, asked: Option<uuid::Uuid>) -> AppResult<Option<uuid::Uuid>> {
        match asked {
            Some(id) => {
                let known = self.figures.tenants.iter().any(|t| t.id == id);
                if known && self.scope.sees_tenant(crate::domain::ids::TenantId(id)) {
                    Ok(Some(id))
                } else {
                    Err(AppError::NotFound("tenant: tenant not found".into()))
                }
            }
            None => Ok(self.scope.only_tenant()),
        }
    }

    /// The caller's scope.
    pub fn scope(&self) -> &OrgScope {
        &self.scope
    }

    /// The tenant of the figures at `index`, if the caller sees it.
    pub fn tenant(&self, index: usize) -> Option<Seen<entity::tenant::Model>> {
        let tenant = self.figures.tenants.get(index)?;
        self.scope
            .sees_tenant(crate::domain::ids::TenantId(tenant.id))
            .then(|| self.scope.seen(tenant.clone()))
    }
}

/// The report of the current bundle from its start to `today`, from figures a use case
/// computed itself (in its own transaction): what `setAllocations` answers.
pub(super) fn current_report(
    scope: OrgScope,
    organization: &entity::organization::Model,
    unit_type: entity::unit_type::Model,
    bundle: LicensedBundle,
    today: NaiveDate,
    figures: BundleFigures,
) -> UsageReport {
    UsageReport {
        scope,
        organization_id: organization.id,
        organization_slug: organization.slug.clone(),
        unit_type,
        from: bundle.bundle.start,
        to: today,
        bundle,
        figures: Arc::new(figures),
    }
}

/// Every tenant's consumption over the days a forecast measures its rate
/// ([`forecast::window`], ending on the report's `to`), in ten-thousandths.
#[derive(Clone, Debug, Default)]
pub struct RecentConsumption(std::collections::HashMap<uuid::Uuid, i64>);

/// Reads [`RecentConsumption`] for every tenant of a report at once: the forecasts of all
/// its cards cost the statements of one grouped sum.
pub async fn recent_consumption(db: &impl ConnectionTrait, report: &UsageReport) -> AppResult<RecentConsumption> {
    let window = forecast::window(report.bundle.bundle.start, report.to);
    let until = report.to.succ_opt().unwrap_or(report.to);
    let sums =
        store::usage::consumed_by_tenant(db, report.organization_id, report.unit_type.id, window.first, until).await?;
    Ok(RecentConsumption(sums))
}

impl UsageReport {
    fn forecast(&self, consumed: Quantity, in_window: i64, limit: Option<Quantity>) -> Forecast {
        forecast::forecast(forecast::Basis {
            bundle_start: self.bundle.bundle.start,
            bundle_end: self.bundle.bundle.end,
            to: self.to,
            consumed,
            consumed_in_window: Quantity::from_scaled(in_window),
            limit,
        })
    }

    /// The organization's forecast: its consumption from the bundle's start to `to` (every
    /// tenant's) heading for its limit L.
    pub fn organization_forecast(&self, recent: &RecentConsumption) -> Forecast {
        let consumed = self.figures.sums.iter().map(|s| s.consumed_to_date()).sum();
        let limit = self.figures.usage.organization.limit;
        self.forecast(consumed, recent.0.values().sum(), Some(limit))
    }

    /// The forecast of the tenant at `index` of the figures, heading for its allocation.
    pub fn tenant_forecast(&self, index: usize, recent: &RecentConsumption) -> Forecast {
        let sums = &self.figures.sums[index];
        let id = self.figures.tenants[index].id;
        let in_window = recent.0.get(&id).copied().unwrap_or(0);
        self.forecast(sums.consumed_to_date(), in_window, sums.allocated)
    }
}

/// What the usage and quota figures of one organization and unit type start from: the
/// unit type, today in the organization's zone and the bundles of its licenses. A request
/// that asks for both (a dashboard) reads these once.
#[derive(Clone, Debug)]
pub struct Basis {
    scope: OrgScope,
    organization: entity::organization::Model,
    unit_type: entity::unit_type::Model,
    today: NaiveDate,
    bundles: Vec<LicensedBundle>,
}

impl Basis {
    /// Today in the organization's time zone.
    pub fn today(&self) -> NaiveDate {
        self.today
    }

    /// The bundle a query names none of: the current one, else (no license covers today)
    /// the latest that has started.
    fn latest(&self) -> AppResult<&LicensedBundle> {
        // Bundles come current first, then the others newest first.
        self.bundles.first().ok_or_else(|| {
            AppError::bad_input(format!(
                "unitType: the organization has no license of '{}' that has started by today ({})",
                self.unit_type.code, self.today
            ))
        })
    }

    /// The bundle that starts on `start`, or the latest one.
    fn bundle(&self, start: Option<NaiveDate>) -> AppResult<&LicensedBundle> {
        match start {
            Some(start) => self.bundles.iter().find(|b| b.bundle.start == start).ok_or_else(|| {
                AppError::bad_input(format!(
                    "bundle: no bundle of '{}' starts on {start}",
                    self.unit_type.code
                ))
            }),
            None => self.latest(),
        }
    }
}

/// Reads the basis of an organization the caller sees.
pub async fn basis(
    ctx: &AppContext,
    organization: &Seen<entity::organization::Model>,
    unit_type: &str,
) -> AppResult<Basis> {
    let unit = Arc::unwrap_or_clone(unit_type::kept_by_code(ctx, "unitType", unit_type).await?);
    let today = ctx.clock.today_in(zone_of(organization)?);
    let read = bundles_on(&ctx.db, organization.id, unit.id, today);
    let bundles = ctx
        .memo
        .kept_or_read(
            &ctx.memo.bundles,
            organization.id,
            (organization.id, unit.id, today),
            async { read.await.map(Arc::new) },
        )
        .await?;
    Ok(Basis {
        scope: *organization.scope(),
        organization: (**organization).clone(),
        unit_type: unit,
        today,
        bundles: bundles.to_vec(),
    })
}

/// The usage of one bundle (default: current) over a range (default: the bundle to date).
pub async fn report(ctx: &AppContext, actor: &Actor, query: UsageQuery) -> AppResult<UsageReport> {
    let org = organization::visible(ctx, actor, query.organization_id).await?;
    let basis = basis(ctx, &org, &query.unit_type).await?;
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
    let bundle = basis.bundle(bundle)?.clone();
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
    let key = FiguresKey {
        organization: basis.organization.id,
        unit_type: unit.id,
        bundle: bundle.bundle.start,
        from,
        to,
    };
    let read = figures(&ctx.db, key.organization, key.unit_type, &bundle, from, to);
    let figures = ctx
        .memo
        .kept_or_read(&ctx.memo.figures, key.organization, key, async {
            read.await.map(Arc::new)
        })
        .await?;
    Ok(UsageReport {
        scope: basis.scope,
        organization_id: basis.organization.id,
        organization_slug: basis.organization.slug.clone(),
        unit_type: unit.clone(),
        bundle,
        from,
        to,
        figures,
    })
}

/// The quota view of a unit type's bundle that starts on `bundle` (default: the current
/// one). It is organization-wide: a key limited to a tenant may not read it.
pub async fn quota_on(
    ctx: &AppContext,
    basis: &Basis,
    bundle: Option<NaiveDate>,
) -> AppResult<(entity::unit_type::Model, LicensedBundle, QuotaView)> {
    if !basis.scope.actor().sees_whole_organization() {
        return Err(AppError::forbidden("read organization-wide figures"));
    }
    let bundle = basis.bundle(bundle)?.clone();
    let key = FiguresKey {
        organization: basis.organization.id,
        unit_type: basis.unit_type.id,
        bundle: bundle.bundle.start,
        from: bundle.bundle.start,
        to: bundle.bundle.end,
    };
    let read = store::usage::consumed_by_tenant(&ctx.db, key.organization, key.unit_type, key.from, key.to);
    let used = ctx
        .memo
        .kept_or_read(&ctx.memo.consumed, key.organization, key, async {
            Ok(read.await?.values().sum())
        })
        .await?;
    let view = quota_view(&bundle.terms, &bundle.bundle, Quantity::from_scaled(used));
    Ok((basis.unit_type.clone(), bundle, view))
}

/// The quota view of every bundle of the basis's unit type that has started, oldest first:
/// one read of the daily consumption over all of them. Organization-wide, as [`quota_on`].
pub async fn quota_history(ctx: &AppContext, basis: &Basis) -> AppResult<Vec<(LicensedBundle, QuotaView)>> {
    if !basis.scope.actor().sees_whole_organization() {
        return Err(AppError::forbidden("read organization-wide figures"));
    }
    let mut bundles = basis.bundles.clone();
    bundles.sort_by_key(|b| b.bundle.start);
    let (Some(first), Some(last)) = (bundles.first(), bundles.last()) else {
        return Ok(Vec::new());
    };
    let scope = basis.scope.rows();
    let days =
        store::usage::consumed_by_day(&ctx.db, scope, basis.unit_type.id, first.bundle.start, last.bundle.end).await?;
    Ok(bundles
        .into_iter()
        .map(|bundle| {
            let used: i64 = days
                .iter()
                .filter(|(day, _)| bundle.bundle.contains(*day))
                .map(|(_, quantity)| quantity)
                .sum();
            let view = quota_view(&bundle.terms, &bundle.bundle, Quantity::from_scaled(used));
            (bundle, view)
        })
        .collect())
}

/// One raw usage event, with the names the caller used for its service and job.
#[derive(Clone, Debug)]
pub struct EventRow {
    pub event: entity::usage_event::Model,
    pub service: String,
    pub job: Option<String>,
}

/// A page of the raw events of a report's range (of one tenant, or all the caller sees),
/// in recording order after `after`.
pub async fn event_rows(
    db: &impl ConnectionTrait,
    report: &UsageReport,
    tenant: Option<uuid::Uuid>,
    after: Option<uuid::Uuid>,
    limit: u64,
) -> AppResult<Vec<EventRow>> {
    let rows = report.rows(tenant);
    let until = report.to.succ_opt().unwrap_or(report.to);
    let days = (report.from, until);
    let events = store::usage::events_page(db, rows, report.unit_type.id, days, after, limit).await?;
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
        store::job::find_many(db, rows, &job_ids)
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
