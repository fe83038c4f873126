//! Consumption over time, by service, and weekly activity (docs/design.md §5), read from the
//! per-day rollup and computed by `domain::analytics`.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::{AppContext, Seen, memo::RangeKey, unit_type, usage::UsageReport, zone_of};
use crate::domain::{
    Quantity,
    analytics::{self, Bucket, DayActivity, Granularity, MAX_WEEKS, ServiceShare, WeekActivity},
    ingestion::UsageKind,
};
use crate::error::{AppError, AppResult};
use crate::store;
use entity::service;

/// A scope's EXECUTION consumption over a range, per tenant, day and service.
#[derive(Clone, Debug, Default)]
pub struct DailyUsage {
    rows: Vec<(Uuid, NaiveDate, Uuid, Quantity)>,
    services: HashMap<Uuid, service::Model>,
}

impl DailyUsage {
    pub(super) fn new(rows: Vec<(Uuid, NaiveDate, Uuid, Quantity)>, services: HashMap<Uuid, service::Model>) -> Self {
        DailyUsage { rows, services }
    }

    fn mine(&self, tenant: Option<Uuid>) -> impl Iterator<Item = &(Uuid, NaiveDate, Uuid, Quantity)> {
        self.rows
            .iter()
            .filter(move |(t, ..)| tenant.is_none_or(|only| only == *t))
    }

    /// Every bucket of `from..=to`, for one tenant or the whole scope.
    pub fn distribution(
        &self,
        granularity: Granularity,
        from: NaiveDate,
        to: NaiveDate,
        tenant: Option<Uuid>,
    ) -> Vec<Bucket> {
        let daily: Vec<(NaiveDate, Quantity)> = self.mine(tenant).map(|(_, day, _, q)| (*day, *q)).collect();
        analytics::distribution(granularity, from, to, &daily)
    }

    /// The total and each service's share, largest first (ties by code).
    pub fn by_service(&self, tenant: Option<Uuid>) -> (Quantity, Vec<ServiceShare<service::Model>>) {
        let mut rows: Vec<(service::Model, Quantity)> = self
            .mine(tenant)
            .filter_map(|(_, _, service, q)| self.services.get(service).map(|s| (s.clone(), *q)))
            .collect();
        rows.sort_by(|a, b| a.0.code.cmp(&b.0.code));
        analytics::by_service(&rows)
    }
}

/// Loads the consumption of a report's range, of one tenant or all the caller sees (kept
/// in memory, `service::memo`).
pub async fn daily(ctx: &AppContext, report: &UsageReport, tenant: Option<Uuid>) -> AppResult<Arc<DailyUsage>> {
    let key = RangeKey {
        scope: report.rows(tenant),
        unit_type: report.unit_type.id,
        from: report.from,
        until: report.to.succ_opt().unwrap_or(report.to),
    };
    ctx.memo
        .kept_or_read(&ctx.memo.daily, key.scope.organization, key, async {
            read_daily(&ctx.db, key).await.map(Arc::new)
        })
        .await
}

async fn read_daily(db: &impl ConnectionTrait, key: RangeKey) -> AppResult<DailyUsage> {
    let rows: Vec<(Uuid, NaiveDate, Uuid, Quantity)> =
        store::usage::consumed_by_day_and_service(db, key.scope, key.unit_type, key.from, key.until)
            .await?
            .into_iter()
            .map(|(t, day, service, q)| (t, day, service, Quantity::from_scaled(q)))
            .collect();
    let mut ids: Vec<Uuid> = rows.iter().map(|(_, _, s, _)| *s).collect();
    ids.sort();
    ids.dedup();
    let services = store::service_catalog::find_many(db, &ids)
        .await?
        .into_iter()
        .map(|s| (s.id, s))
        .collect();
    Ok(DailyUsage { rows, services })
}

/// Weekly activity of an organization's unit type: the last `weeks` weeks up to the
/// current one, and last week (the preceding week). A TENANT_ADMIN sees its own tenant's.
pub async fn activity(
    ctx: &AppContext,
    org: &Seen<entity::organization::Model>,
    unit_type: &str,
    weeks: i32,
) -> AppResult<(Vec<WeekActivity>, WeekActivity)> {
    let weeks = u32::try_from(weeks)
        .ok()
        .filter(|w| (1..=MAX_WEEKS).contains(w))
        .ok_or_else(|| AppError::bad_input(format!("weeks must be between 1 and {MAX_WEEKS}")))?;
    let unit = unit_type::by_code(&ctx.db, "unitType", unit_type).await?;
    let today = ctx.clock.today_in(zone_of(org)?);
    let start = analytics::activity_start(today, weeks);
    let until = analytics::week_start(today) + chrono::Days::new(7);
    let days: Vec<DayActivity> = store::usage::activity_by_day(&ctx.db, org.scope().rows(), unit.id, start, until)
        .await?
        .into_iter()
        .map(|(day, kind, events, quantity, duration)| {
            let upload = kind == UsageKind::Upload.as_str();
            DayActivity::of(day, upload, events, Quantity::from_scaled(quantity), duration)
        })
        .collect();
    Ok(analytics::activity(today, weeks, &days))
}
