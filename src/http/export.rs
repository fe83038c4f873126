//! `GET /export/{report}.csv`: the dashboards' tables and charts as CSV (docs/design.md §5),
//! with the same key, filters and numbers as the GraphQL answer. The figures come from
//! the same use cases as the GraphQL fields; the raw `events` report is streamed page by
//! page, so it never holds more than one page in memory.

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::stream::{self, StreamExt};
use uuid::Uuid;

use super::{AppState, auth, graphql::error_response, status_of};
use crate::domain::{
    Quantity,
    access::Actor,
    analytics::Granularity,
    attribution::{Attribution, FolderFigure, ProcessFigure},
    authorization::{EXPORTS, export_rule},
    ids::{OrganizationId, TenantId},
    tenant::TenantState,
};
use crate::error::{AppError, AppResult};
use crate::graphql::node::{GlobalId, Kind, decode_field, encode};
use crate::service::{
    self, AppContext,
    attribution::{Attributed, Detail},
    usage::{EventRow, UsageQuery, UsageReport},
};

/// Raw events per page of the `events` report.
const EVENTS_PAGE: u64 = 1_000;

const PARAMETERS: [&str; 8] = [
    "organization",
    "unitType",
    "bundle",
    "from",
    "to",
    "tenant",
    "attribution",
    "granularity",
];

/// The query string of an export, checked.
struct Filters {
    query: UsageQuery,
    tenant: Option<Uuid>,
    attribution: Attribution,
    granularity: Granularity,
}

fn date(name: &str, value: &str) -> AppResult<chrono::NaiveDate> {
    value
        .parse()
        .map_err(|_| AppError::bad_input(format!("{name}: '{value}' is not a date (YYYY-MM-DD)")))
}

fn global_id<T: GlobalId>(name: &str, value: &str) -> AppResult<T> {
    decode_field(&async_graphql::ID(value.to_owned()), name)
}

fn filters(pairs: Vec<(String, String)>) -> AppResult<Filters> {
    let mut given: HashMap<String, String> = HashMap::new();
    for (name, value) in pairs {
        if !PARAMETERS.contains(&name.as_str()) {
            return Err(AppError::bad_input(format!(
                "unknown parameter '{name}'; the parameters are {}",
                PARAMETERS.join(", ")
            )));
        }
        if value.contains('\0') {
            return Err(AppError::bad_input(format!(
                "parameter '{name}' holds the NUL character (U+0000)"
            )));
        }
        if given.insert(name.clone(), value).is_some() {
            return Err(AppError::bad_input(format!("parameter '{name}' is given twice")));
        }
    }
    let required = |name: &str| {
        given
            .get(name)
            .cloned()
            .ok_or_else(|| AppError::bad_input(format!("parameter '{name}' is required")))
    };
    let organization: OrganizationId = global_id("organization", &required("organization")?)?;
    let unit_type = required("unitType")?;
    let bundle = given.get("bundle").map(|v| date("bundle", v)).transpose()?;
    let range = match (given.get("from"), given.get("to")) {
        (Some(from), Some(to)) => Some((date("from", from)?, date("to", to)?)),
        (None, None) => None,
        _ => return Err(AppError::bad_input("give both 'from' and 'to', or neither")),
    };
    let tenant = given
        .get("tenant")
        .map(|v| global_id::<TenantId>("tenant", v).map(|t| t.0))
        .transpose()?;
    let attribution = match given.get("attribution").map(|v| v.to_ascii_uppercase()).as_deref() {
        None | Some("EXECUTION") => Attribution::Execution,
        Some("OWNERSHIP") => Attribution::Ownership,
        Some(other) => {
            return Err(AppError::bad_input(format!(
                "attribution: '{other}' is not EXECUTION or OWNERSHIP"
            )));
        }
    };
    let granularity = match given.get("granularity").map(|v| v.to_ascii_uppercase()).as_deref() {
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
            organization_id: organization,
            unit_type,
            bundle,
            range,
        },
        tenant,
        attribution,
        granularity,
    })
}

/// GET /export/{report}.csv
pub async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(pairs): Query<Vec<(String, String)>>,
    headers: HeaderMap,
) -> Response {
    match run(&state, &file, pairs, &headers).await {
        Ok(response) => response,
        Err(err) => error_response(status_of(&err), err),
    }
}

async fn run(state: &AppState, file: &str, pairs: Vec<(String, String)>, headers: &HeaderMap) -> AppResult<Response> {
    let ctx = &state.context;
    let actor = auth::from_headers(ctx, headers).await?;
    if let Err(wait) = state.limiter.take(actor.key_id.0, std::time::Instant::now()) {
        return Ok(super::rate_limit::refusal(wait));
    }
    let (report, rule) = file
        .strip_suffix(".csv")
        .and_then(|r| Some((r, export_rule(r)?)))
        .ok_or_else(|| {
            let reports: Vec<_> = EXPORTS.iter().map(|(r, _)| format!("{r}.csv")).collect();
            AppError::NotFound(format!("no report '{file}'; the reports are {}", reports.join(", ")))
        })?;
    if !rule.admits(actor.role) {
        return Err(AppError::Forbidden(format!(
            "your API key's role ({}) may not export {report}.csv",
            actor.role
        )));
    }
    let body = if report == "audit" {
        audit(ctx, &actor, pairs).await?
    } else {
        usage_report(ctx, &actor, report, pairs).await?
    };
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{report}.csv\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

/// A report of one unit type's usage, with GraphQL's filters.
async fn usage_report(ctx: &AppContext, actor: &Actor, report: &str, pairs: Vec<(String, String)>) -> AppResult<Body> {
    let actor = *actor;
    let filters = filters(pairs)?;
    let usage = service::usage::report(ctx, &actor, filters.query).await?;
    let tenant = usage.tenant_filter(filters.tenant)?;
    let body = match report {
        "tenants" => Body::from(tenants(&usage, tenant)?),
        "distribution" => {
            let daily = service::analytics::daily(&ctx.db, &usage, tenant).await?;
            let rows = daily
                .distribution(filters.granularity, usage.from, usage.to, tenant)
                .into_iter()
                .map(|b| vec![b.start.to_string(), b.end.to_string(), b.consumed.to_string()]);
            Body::from(csv(&["start", "end", "consumed"], rows)?)
        }
        "services" => {
            let daily = service::analytics::daily(&ctx.db, &usage, tenant).await?;
            let (_, shares) = daily.by_service(tenant);
            let rows = shares.into_iter().map(|s| {
                vec![
                    s.service.code,
                    s.service.name,
                    s.consumed.to_string(),
                    s.percent.to_string(),
                ]
            });
            Body::from(csv(&["service", "name", "consumed", "percent"], rows)?)
        }
        "folders" | "processes" => {
            let detail = if report == "processes" && filters.attribution == Attribution::Ownership {
                Detail::Chains
            } else {
                Detail::Folders
            };
            let attributed = service::attribution::load(&ctx.db, &usage, tenant, detail).await?;
            if report == "folders" {
                Body::from(folders(&attributed, attributed.folders(filters.attribution, tenant))?)
            } else {
                Body::from(processes(
                    &attributed,
                    attributed.processes(filters.attribution, tenant),
                )?)
            }
        }
        _ => events(ctx.clone(), usage, tenant)?,
    };
    Ok(body)
}

/// A whole CSV document: a header row, then the rows, quoted as RFC 4180 asks.
fn csv(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> AppResult<Vec<u8>> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(header).map_err(anyhow::Error::from)?;
    for row in rows {
        writer.write_record(&row).map_err(anyhow::Error::from)?;
    }
    Ok(writer.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?)
}

fn optional(quantity: Option<Quantity>) -> String {
    quantity.map(|q| q.to_string()).unwrap_or_default()
}

fn id(kind: Kind, id: Uuid) -> String {
    encode(kind, id).0
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

/// The folder tree depth first; the "no folder" row has empty folder columns.
fn folders(attributed: &Attributed, figures: Vec<FolderFigure>) -> AppResult<Vec<u8>> {
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
        walk(attributed, figure, None, 0, &mut rows);
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

const EVENT_HEADER: [&str; 12] = [
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
    ]
}

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
async fn audit(ctx: &AppContext, actor: &Actor, pairs: Vec<(String, String)>) -> AppResult<Body> {
    let mut organization = None;
    for (name, value) in pairs {
        match name.as_str() {
            "organization" if organization.is_none() => {
                organization = Some(global_id::<OrganizationId>("organization", &value)?);
            }
            _ => {
                return Err(AppError::bad_input(format!(
                    "parameter '{name}' is not taken here: audit.csv takes 'organization' once"
                )));
            }
        }
    }
    let organization = organization.ok_or_else(|| AppError::bad_input("parameter 'organization' is required"))?;
    let (ctx, actor) = (ctx.clone(), *actor);
    // Refusals must come before the 200 that starts the stream.
    let check = crate::service::PageRequest { after: None, limit: 0 };
    service::audit::list(&ctx, &actor, organization, check).await?;
    paged(&AUDIT_HEADER, move |after| {
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
    })
}

/// The raw events of the range, one page at a time: a header, then a chunk per page.
fn events(ctx: AppContext, usage: UsageReport, tenant: Option<Uuid>) -> AppResult<Body> {
    let usage = std::sync::Arc::new(usage);
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

/// A page of CSV records, and the key to read the next page after (none on the last).
type CsvPage = (Vec<Vec<String>>, Option<Uuid>);

/// A CSV document streamed page by page: the header, then each page as `fetch` reads it
/// (given the key the previous page ended on), so no more than one page is in memory.
/// Past the first byte the status is sent: a later failure is logged and cuts the body.
fn paged<F, Fut>(header: &[&str], fetch: F) -> AppResult<Body>
where
    F: Fn(Option<Uuid>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = AppResult<CsvPage>> + Send + 'static,
{
    let header = Bytes::from(csv(header, std::iter::empty())?);
    let fetch = std::sync::Arc::new(fetch);
    // The state is where the next page starts, or `None` once the last page is out.
    let pages = stream::unfold(Some(None::<Uuid>), move |state| {
        let fetch = fetch.clone();
        async move {
            let after = state?;
            match fetch(after).await {
                Ok((records, _)) if records.is_empty() => None,
                Ok((records, next)) => {
                    let mut writer = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
                    for record in records {
                        if let Err(err) = writer.write_record(&record) {
                            return Some((Err(std::io::Error::other(err)), None));
                        }
                    }
                    let chunk = writer.into_inner().map_err(|e| std::io::Error::other(e.to_string()));
                    Some((chunk.map(Bytes::from), next.map(Some)))
                }
                Err(err) => {
                    tracing::error!(error = ?err, "an export failed mid-stream");
                    Some((
                        Err(std::io::Error::other("the export failed; it has been logged")),
                        None,
                    ))
                }
            }
        }
    });
    Ok(Body::from_stream(stream::once(async { Ok(header) }).chain(pages)))
}
