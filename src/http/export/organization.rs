//! The exports of an organization that are not one range of one bundle: its audit log,
//! its weekly activity, its quota bundle by bundle, and its stored notifications.

use super::{CsvFile, EVENTS_PAGE, Params, csv, global_id, id, paged};
use crate::domain::{Quantity, access::Actor, ids::TenantId};
use crate::error::{AppError, AppResult};
use crate::graphql::node::Kind;
use crate::service::{
    self, AppContext,
    notification::{HistoryQuery, Wanted},
};

const AUDIT_HEADER: [&str; 9] = [
    "at",
    "action",
    "api_key_id",
    "role",
    "target_id",
    "target_kind",
    "before",
    "after",
    "entry_id",
];

/// `audit.csv?organization=ID`: the audit log, oldest first, streamed a page at a time,
/// for OWNER, ADMIN and SYSTEM keys (the same rule as GraphQL's `auditLog`).
pub(super) async fn audit(ctx: &AppContext, actor: &Actor, pairs: Vec<(String, String)>) -> AppResult<CsvFile> {
    let params = Params::parse(pairs, "audit")?;
    let organization = params.organization()?;
    let (ctx, actor) = (ctx.clone(), *actor);
    // Refusals must come before the 200 that starts the stream.
    let check = crate::service::PageRequest { after: None, limit: 0 };
    service::audit::list(&ctx, &actor, organization, check).await?;
    let slug = service::organization::visible(&ctx, &actor, organization)
        .await?
        .slug
        .clone();
    let body = paged(&AUDIT_HEADER, move |after| {
        let ctx = ctx.clone();
        async move {
            let request = crate::service::PageRequest {
                after,
                limit: EVENTS_PAGE,
            };
            let page = service::audit::list(&ctx, &actor, organization, request).await?;
            let next = page.has_next.then(|| page.rows.last().map(|e| e.id)).flatten();
            let records = page
                .rows
                .into_iter()
                .map(|e| {
                    vec![
                        e.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                        e.action,
                        id(Kind::ApiKey, e.key_id),
                        e.role,
                        crate::graphql::audit::target_id(&e.target_kind, e.target_id)
                            .map(|t| t.0)
                            .unwrap_or_default(),
                        e.target_kind,
                        e.before.unwrap_or_default(),
                        e.after.unwrap_or_default(),
                        e.id.to_string(),
                    ]
                })
                .collect();
            Ok((records, next))
        }
    })?;
    Ok(CsvFile::new(body, &slug, "audit", None))
}

/// `activity.csv?organization=ID&unitType=CODE[&weeks=N]`: the weekly activity as GraphQL's
/// `activity` answers it, one row a week oldest first; the last complete week before the
/// current one is marked `preceding`. A TENANT_ADMIN gets its own tenant's.
pub(super) async fn activity(ctx: &AppContext, actor: &Actor, pairs: Vec<(String, String)>) -> AppResult<CsvFile> {
    let params = Params::parse(pairs, "activity")?;
    let org = service::organization::visible(ctx, actor, params.organization()?).await?;
    let unit_type = params.required("unitType")?;
    let weeks = match params.get("weeks") {
        Some(text) => text
            .parse()
            .map_err(|_| AppError::bad_input(format!("weeks: '{text}' is not a number of weeks")))?,
        None => 12,
    };
    let (weeks, preceding) = service::analytics::activity(ctx, &org, unit_type, weeks).await?;
    let rows = weeks.iter().map(|w| {
        vec![
            w.week_start.to_string(),
            (w.week_start == preceding.week_start).to_string(),
            w.runs.to_string(),
            w.executions.to_string(),
            w.uploads.to_string(),
            // Whole milliseconds: far below f64's exact-integer range.
            (w.duration_ms as f64 / 1000.0).to_string(),
        ]
    });
    let body = csv(
        &[
            "week_start",
            "preceding",
            "runs",
            "executions",
            "uploads",
            "duration_seconds",
        ],
        rows,
    )?;
    let first = weeks.first().map_or(preceding.week_start, |w| w.week_start);
    let last = weeks.last().map_or(preceding.week_start, |w| w.week_start) + chrono::Days::new(6);
    Ok(CsvFile::new(
        body,
        &org.slug,
        "activity",
        Some((unit_type, first, last)),
    ))
}

/// `quota.csv?organization=ID&unitType=CODE`: the quota view of every bundle of the unit
/// type that has started, oldest first (organization-wide, as GraphQL's `quota`).
pub(super) async fn quota(ctx: &AppContext, actor: &Actor, pairs: Vec<(String, String)>) -> AppResult<CsvFile> {
    let params = Params::parse(pairs, "quota")?;
    let org = service::organization::visible(ctx, actor, params.organization()?).await?;
    let unit_type = params.required("unitType")?;
    let basis = service::usage::basis(ctx, &org, unit_type).await?;
    let bundles = service::usage::quota_history(ctx, &basis).await?;
    let rows = bundles.iter().map(|(bundle, view)| {
        vec![
            view.period_start.to_string(),
            view.period_end.to_string(),
            bundle.current.to_string(),
            view.used.to_string(),
            view.quota.to_string(),
            view.limit.to_string(),
            view.remaining.to_string(),
            view.burst_active.to_string(),
            bundle.license.enforced.to_string(),
            bundle.license.plan_name.clone(),
        ]
    });
    let body = csv(
        &[
            "period_start",
            "period_end",
            "current",
            "used",
            "quota",
            "limit",
            "remaining",
            "burst_active",
            "enforced",
            "plan",
        ],
        rows,
    )?;
    let span = match (bundles.first(), bundles.last()) {
        (Some((first, _)), Some((last, _))) => (first.bundle.start, last.bundle.last_day()),
        _ => (basis.today(), basis.today()),
    };
    Ok(CsvFile::new(
        body,
        &org.slug,
        "quota",
        Some((unit_type, span.0, span.1)),
    ))
}

const NOTIFICATIONS_HEADER: [&str; 10] = [
    "at",
    "kind",
    "tenant_id",
    "unit_type",
    "threshold",
    "previous_status",
    "status",
    "consumed",
    "remaining",
    "id",
];

/// `notifications.csv?organization=ID[&unitType=CODE][&tenant=ID]`: the stored quota events,
/// oldest first, as GraphQL's `notifications` answers them (a TENANT_ADMIN gets its own
/// tenant's), streamed a page at a time.
pub(super) async fn notifications(ctx: &AppContext, actor: &Actor, pairs: Vec<(String, String)>) -> AppResult<CsvFile> {
    let params = Params::parse(pairs, "notifications")?;
    let organization = params.organization()?;
    let tenant_id = params
        .get("tenant")
        .map(|v| global_id::<TenantId>("tenant", v))
        .transpose()?;
    let query = HistoryQuery {
        organization_id: organization,
        after: 0,
        kinds: Vec::new(),
        tenant_id,
        unit_type: params.get("unitType").map(str::to_owned),
    };
    // Refusals (and an unknown tenant) come before the 200 that starts the stream.
    let wanted = std::sync::Arc::new(service::notification::wanted(ctx, actor, query).await?);
    let slug = service::organization::visible(ctx, actor, organization)
        .await?
        .slug
        .clone();
    let ctx = ctx.clone();
    let quantity = |q: Option<i64>| q.map(|q| Quantity::from_scaled(q).to_string()).unwrap_or_default();
    let body = paged(&NOTIFICATIONS_HEADER, move |after: Option<i64>| {
        let (ctx, wanted) = (ctx.clone(), wanted.clone());
        async move {
            let from = Wanted {
                after: after.unwrap_or(0),
                ..(*wanted).clone()
            };
            let (events, more) = service::notification::page(&ctx, &from, EVENTS_PAGE).await?;
            let next = more.then(|| events.last().and_then(|e| e.seq)).flatten();
            let records = events
                .into_iter()
                .map(|e| {
                    vec![
                        e.at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                        e.kind.as_str().to_owned(),
                        e.tenant_id.map(|t| id(Kind::Tenant, t)).unwrap_or_default(),
                        e.unit_type,
                        e.threshold.map(|t| t.to_string()).unwrap_or_default(),
                        e.previous_status.unwrap_or_default(),
                        e.status.unwrap_or_default(),
                        quantity(e.consumed),
                        quantity(e.remaining),
                        e.id.map(|i| i.to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            Ok((records, next))
        }
    })?;
    Ok(CsvFile::new(body, &slug, "notifications", None))
}
