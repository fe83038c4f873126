//! The exports of one unit type's usage over a bundle and a range, with GraphQL's filters:
//! the tenant cards, the distribution, the services, the folders and processes, the raw
//! events, and the organization's figures in one row.

use std::sync::Arc;

use axum::body::Body;
use uuid::Uuid;

use super::{CsvFile, EVENTS_PAGE, Params, csv, date, global_id, id, optional, paged};
use crate::domain::{
    Quantity,
    access::Actor,
    analytics::Granularity,
    attribution::{Attribution, CountedFolders, FolderFigure, ProcessFigure},
    ids::{FolderId, TenantId},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::graphql::node::Kind;
use crate::service::{
    self, AppContext,
    analytics::DailyUsage,
    attribution::{Attributed, Detail},
    usage::{EventRow, UsageQuery, UsageReport},
};

/// The query string of an export, checked.
struct Filters {
    query: UsageQuery,
    tenant: Option<Uuid>,
    /// The folder view's tables: only this folder's figures.
    folder: Option<Uuid>,
    attribution: Attribution,
    granularity: Granularity,
}

fn filters(params: &Params) -> AppResult<Filters> {
    let bundle = params.get("bundle").map(|v| date("bundle", v)).transpose()?;
    let range = match (params.get("from"), params.get("to")) {
        (Some(from), Some(to)) => Some((date("from", from)?, date("to", to)?)),
        (None, None) => None,
        _ => return Err(AppError::bad_input("give both 'from' and 'to', or neither")),
    };
    let tenant = params
        .get("tenant")
        .map(|v| global_id::<TenantId>("tenant", v).map(|t| t.0))
        .transpose()?;
    let folder = params
        .get("folder")
        .map(|v| global_id::<FolderId>("folder", v).map(|f| f.0))
        .transpose()?;
    let attribution = match params.get("attribution").map(|v| v.to_ascii_uppercase()).as_deref() {
        None | Some("EXECUTION") => Attribution::Execution,
        Some("OWNERSHIP") => Attribution::Ownership,
        Some(other) => {
            return Err(AppError::bad_input(format!(
                "attribution: '{other}' is not EXECUTION or OWNERSHIP"
            )));
        }
    };
    let granularity = match params.get("granularity").map(|v| v.to_ascii_uppercase()).as_deref() {
        None | Some("DAY") => Granularity::Day,
        Some("WEEK") => Granularity::Week,
        Some("MONTH") => Granularity::Month,
        Some(other) => {
            return Err(AppError::bad_input(format!(
                "granularity: '{other}' is not DAY, WEEK or MONTH"
            )));
        }
    };
    Ok(Filters {
        query: UsageQuery {
            organization_id: params.organization()?,
            unit_type: params.required("unitType")?.to_owned(),
            bundle,
            range,
        },
        tenant,
        folder,
        attribution,
        granularity,
    })
}

/// A report of one unit type's usage, with GraphQL's filters.
pub(super) async fn report(
    ctx: &AppContext,
    actor: &Actor,
    report: &str,
    pairs: Vec<(String, String)>,
) -> AppResult<CsvFile> {
    let filters = filters(&Params::parse(pairs, report)?)?;
    let usage = service::usage::report(ctx, actor, filters.query.clone()).await?;
    let (slug, unit, from, to) = (
        usage.organization_slug.clone(),
        usage.unit_type.code.clone(),
        usage.from,
        usage.to,
    );
    let body: Body = match filters.folder {
        Some(folder) => folder_report(ctx, &usage, report, &filters, folder).await?,
        None => usage_report(ctx, usage, report, &filters).await?,
    };
    Ok(CsvFile::new(body, &slug, report, Some((&unit, from, to))))
}

async fn usage_report(ctx: &AppContext, usage: UsageReport, report: &str, filters: &Filters) -> AppResult<Body> {
    let tenant = usage.tenant_filter(filters.tenant)?;
    Ok(match report {
        "tenants" => tenants(&usage, tenant)?.into(),
        "summary" => summary(&usage)?.into(),
        "distribution" => {
            let daily = service::analytics::daily(ctx, &usage, tenant).await?;
            distribution(&daily, &usage, filters.granularity, tenant)?.into()
        }
        "services" => {
            let daily = service::analytics::daily(ctx, &usage, tenant).await?;
            services(&daily, tenant)?.into()
        }
        "folders" | "processes" => {
            let attributed = service::attribution::load(ctx, &usage, tenant, detail(report, filters), None).await?;
            if report == "folders" {
                folders(&attributed, attributed.folders(filters.attribution, tenant), None)?.into()
            } else {
                processes(&attributed, attributed.processes(filters.attribution, tenant))?.into()
            }
        }
        _ => events(ctx.clone(), usage, tenant)?,
    })
}

/// The folder view's tables (docs/design.md §15.3): the figures of one folder the caller
/// sees, in the attribution mode asked for, as `OrganizationUsage.folder` answers them.
async fn folder_report(
    ctx: &AppContext,
    usage: &UsageReport,
    report: &str,
    filters: &Filters,
    folder: Uuid,
) -> AppResult<Body> {
    let tenant = service::attribution::folder_tenant(&ctx.db, usage, folder)
        .await?
        .filter(|t| filters.tenant.is_none_or(|only| only == *t))
        .ok_or_else(|| AppError::NotFound("folder: no such folder in this organization".into()))?;
    // Its EXECUTION rows lie in its subtree; OWNERSHIP rows are placed by owner.
    let subtree_of = (filters.attribution == Attribution::Execution).then_some(folder);
    let attributed = service::attribution::load(ctx, usage, Some(tenant), detail(report, filters), subtree_of).await?;
    let figure = attributed
        .folder_figure(filters.attribution, tenant, folder)
        .ok_or_else(|| AppError::NotFound("folder: no such folder in this organization".into()))?;
    let counted = attributed.counted(Some(tenant), Some(folder));
    let daily = || async {
        // The folder's own subtree's rows, as its view reads them.
        let subtree: Vec<Uuid> = match &counted {
            CountedFolders::Subtree(ids) => ids.iter().copied().collect(),
            CountedFolders::Unplaced { .. } => Vec::new(),
        };
        let only = Some((filters.attribution, subtree.as_slice()));
        let days = service::attribution::folder_days(&ctx.db, usage, Some(tenant), only).await?;
        AppResult::Ok(days.usage(filters.attribution, Some(tenant), &counted))
    };
    Ok(match report {
        "distribution" => distribution(&daily().await?, usage, filters.granularity, None)?.into(),
        "services" => services(&daily().await?, None)?.into(),
        "folders" => folders(&attributed, figure.children, Some(folder))?.into(),
        "processes" => processes(&attributed, figure.processes)?.into(),
        _ => return Err(AppError::bad_input(format!("{report}.csv takes no folder"))),
    })
}

/// OWNERSHIP's process rows carry their chains.
fn detail(report: &str, filters: &Filters) -> Detail {
    if report == "processes" && filters.attribution == Attribution::Ownership {
        Detail::Chains
    } else {
        Detail::Folders
    }
}

fn distribution(
    daily: &DailyUsage,
    usage: &UsageReport,
    granularity: Granularity,
    tenant: Option<Uuid>,
) -> AppResult<Vec<u8>> {
    let rows = daily
        .distribution(granularity, usage.from, usage.to, tenant)
        .into_iter()
        .map(|b| vec![b.start.to_string(), b.end.to_string(), b.consumed.to_string()]);
    csv(&["start", "end", "consumed"], rows)
}

fn services(daily: &DailyUsage, tenant: Option<Uuid>) -> AppResult<Vec<u8>> {
    let (_, shares) = daily.by_service(tenant);
    let rows = shares.into_iter().map(|s| {
        let percent = s.percent().to_string();
        vec![
            s.service.code,
            s.service.name,
            s.consumed.to_string(),
            s.share.to_string(),
            percent,
        ]
    });
    csv(&["service", "name", "consumed", "share", "percent"], rows)
}

/// Every organization figure of docs/design.md §3 and §15.1, in one row.
fn summary(usage: &UsageReport) -> AppResult<Vec<u8>> {
    if usage.scope().only_tenant().is_some() {
        return Err(AppError::forbidden("read organization-wide figures"));
    }
    let o = &usage.figures.usage.organization;
    let bundle = &usage.bundle;
    let row = vec![
        usage.unit_type.code.clone(),
        bundle.bundle.start.to_string(),
        bundle.bundle.end.to_string(),
        usage.from.to_string(),
        usage.to.to_string(),
        o.total_capacity.to_string(),
        o.limit.to_string(),
        bundle.terms.burst_active(&bundle.bundle).to_string(),
        o.consumed.to_string(),
        o.consumed_from_allocated.to_string(),
        o.consumed_from_organization.to_string(),
        o.remaining.to_string(),
        o.allocated.to_string(),
        o.available_for_allocation.to_string(),
        o.overage.to_string(),
        o.over_allocation.to_string(),
        o.capacity_card.mode.as_str().to_owned(),
        o.capacity_card.value.to_string(),
        o.status.as_str().to_owned(),
    ];
    csv(
        &[
            "unit_type",
            "bundle_start",
            "bundle_end",
            "from",
            "to",
            "total_capacity",
            "limit",
            "burst_active",
            "consumed",
            "consumed_from_allocated",
            "consumed_from_organization",
            "remaining",
            "allocated",
            "available_for_allocation",
            "overage",
            "over_allocation",
            "capacity_card_mode",
            "capacity_card_value",
            "status",
        ],
        [row],
    )
}

fn tenants(usage: &UsageReport, only: Option<Uuid>) -> AppResult<Vec<u8>> {
    let figures = &usage.figures;
    let rows = figures
        .tenants
        .iter()
        .zip(&figures.usage.tenants)
        .filter(|(t, _)| only.is_none_or(|o| o == t.id))
        .map(|(tenant, card)| {
            let display = if tenant.state == TenantState::Deleted.as_str() {
                tenant.id.to_string()
            } else {
                tenant.name.clone()
            };
            vec![
                id(Kind::Tenant, tenant.id),
                display,
                tenant.state.clone(),
                card.status.as_str().to_owned(),
                optional(card.allocated),
                card.consumed.to_string(),
                card.consumed_from_allocated.to_string(),
                card.consumed_from_organization.to_string(),
                card.consumption_rate.map(|r| r.to_string()).unwrap_or_default(),
                card.remaining.to_string(),
                card.overage.to_string(),
                card.available_for_allocation.to_string(),
            ]
        });
    csv(
        &[
            "tenant_id",
            "display_name",
            "state",
            "status",
            "allocated",
            "consumed",
            "consumed_from_allocated",
            "consumed_from_organization",
            "consumption_rate",
            "remaining",
            "overage",
            "available_for_allocation",
        ],
        rows,
    )
}

/// The folder tree depth first, its top rows under `parent` (a folder view's folder); the
/// "no folder" row has empty folder columns.
fn folders(attributed: &Attributed, figures: Vec<FolderFigure>, parent: Option<Uuid>) -> AppResult<Vec<u8>> {
    fn walk(
        attributed: &Attributed,
        figure: &FolderFigure,
        parent: Option<Uuid>,
        depth: usize,
        rows: &mut Vec<Vec<String>>,
    ) {
        let model = figure.folder.and_then(|f| attributed.folder(f));
        rows.push(vec![
            figure.folder.map(|f| id(Kind::Folder, f)).unwrap_or_default(),
            model.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            model
                .as_ref()
                .map(|m| id(Kind::Tenant, m.tenant_id))
                .unwrap_or_default(),
            parent.map(|p| id(Kind::Folder, p)).unwrap_or_default(),
            depth.to_string(),
            figure.consumed.to_string(),
        ]);
        for child in &figure.children {
            walk(attributed, child, figure.folder, depth + 1, rows);
        }
    }
    let mut rows = Vec::new();
    for figure in &figures {
        walk(attributed, figure, parent, 0, &mut rows);
    }
    csv(
        &[
            "folder_id",
            "folder",
            "tenant_id",
            "parent_folder_id",
            "depth",
            "consumed",
        ],
        rows,
    )
}

/// Every process row depth first: the top level, then (OWNERSHIP) the chains below.
fn processes(attributed: &Attributed, figures: Vec<ProcessFigure>) -> AppResult<Vec<u8>> {
    fn walk(
        attributed: &Attributed,
        figure: &ProcessFigure,
        parent: Option<Uuid>,
        depth: usize,
        rows: &mut Vec<Vec<String>>,
    ) {
        let model = attributed.process(figure.process);
        rows.push(vec![
            id(Kind::Process, figure.process),
            model.as_ref().map(|m| m.name.clone()).unwrap_or_default(),
            model
                .as_ref()
                .map(|m| id(Kind::Folder, m.folder_id))
                .unwrap_or_default(),
            model
                .as_ref()
                .map(|m| id(Kind::Tenant, m.tenant_id))
                .unwrap_or_default(),
            parent.map(|p| id(Kind::Process, p)).unwrap_or_default(),
            depth.to_string(),
            figure.own.to_string(),
            figure.consumed.to_string(),
        ]);
        for child in &figure.children {
            walk(attributed, child, Some(figure.process), depth + 1, rows);
        }
    }
    let mut rows = Vec::new();
    for figure in &figures {
        walk(attributed, figure, None, 0, &mut rows);
    }
    csv(
        &[
            "process_id",
            "process",
            "folder_id",
            "tenant_id",
            "parent_process_id",
            "depth",
            "own",
            "consumed",
        ],
        rows,
    )
}

const EVENT_HEADER: [&str; 14] = [
    "event_id",
    "idempotency_key",
    "occurred_at",
    "day",
    "tenant_id",
    "service",
    "kind",
    "quantity",
    "job_id",
    "process_id",
    "folder_id",
    "duration_ms",
    "voided_at",
    "void_reason",
];

fn event_record(row: EventRow) -> Vec<String> {
    let e = row.event;
    vec![
        e.id.to_string(),
        e.idempotency_key,
        e.occurred_at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        e.day.to_string(),
        id(Kind::Tenant, e.tenant_id),
        row.service,
        e.kind,
        Quantity::from_scaled(e.quantity).to_string(),
        row.job.unwrap_or_default(),
        e.process_id.map(|p| id(Kind::Process, p)).unwrap_or_default(),
        e.folder_id.map(|f| id(Kind::Folder, f)).unwrap_or_default(),
        e.duration_ms.map(|d| d.to_string()).unwrap_or_default(),
        e.voided_at
            .map(|at| at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
            .unwrap_or_default(),
        e.void_reason.unwrap_or_default(),
    ]
}

/// The raw events of the range, one page at a time: a header, then a chunk per page.
fn events(ctx: AppContext, usage: UsageReport, tenant: Option<Uuid>) -> AppResult<Body> {
    let usage = Arc::new(usage);
    paged(&EVENT_HEADER, move |after| {
        let (ctx, usage) = (ctx.clone(), usage.clone());
        async move {
            let rows = service::usage::event_rows(&ctx.db, &usage, tenant, after, EVENTS_PAGE).await?;
            let full = rows.len() as u64 == EVENTS_PAGE;
            let next = rows.last().map(|r| r.event.id).filter(|_| full);
            Ok((rows.into_iter().map(event_record).collect(), next))
        }
    })
}
