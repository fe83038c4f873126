//! `GET /export/{report}.csv`: the dashboards' tables and charts as CSV (docs/design.md §5,
//! §15.3), with the same key, filters and numbers as the GraphQL answer. The figures come
//! from the same use cases as the GraphQL fields; the raw `events` and `audit` reports are
//! streamed page by page, so they never hold more than one page in memory. Every export is
//! saved as `<organization slug>-<report>-<unit type>-<from>-<to>.csv`.

mod organization;
mod usage;

use std::collections::HashMap;

use axum::{
    body::{Body, Bytes},
    extract::{Path, Query, State},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use futures_util::stream::{self, StreamExt};
use uuid::Uuid;

use super::{AppState, auth, graphql::error_response, status_of};
use crate::domain::{
    Quantity,
    authorization::{EXPORTS, export_rule},
    export_link,
    ids::OrganizationId,
};
use crate::error::{AppError, AppResult};
use crate::graphql::node::{GlobalId, Kind, decode_field, encode};

/// Rows per page of the streamed reports (`events`, `audit`).
const EVENTS_PAGE: u64 = 1_000;

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
    let (tokens, pairs): (Vec<_>, Vec<_>) = pairs
        .into_iter()
        .partition(|(name, _)| name == export_link::TOKEN_PARAMETER);
    // A link made by `createExportLink` stands for its key; it replaces the header.
    let actor = match tokens.as_slice() {
        [] => auth::from_headers(ctx, headers).await?,
        [(_, token)] => {
            let report = file.strip_suffix(".csv").unwrap_or(file);
            crate::service::export_link::authenticate(ctx, token, report, &pairs).await?
        }
        _ => return Err(AppError::bad_input("parameter 'token' is given twice")),
    };
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
    let file = match report {
        "audit" => organization::audit(ctx, &actor, pairs).await?,
        "activity" => organization::activity(ctx, &actor, pairs).await?,
        "quota" => organization::quota(ctx, &actor, pairs).await?,
        "notifications" => organization::notifications(ctx, &actor, pairs).await?,
        _ => usage::report(ctx, &actor, report, pairs).await?,
    };
    Ok(file.into_response())
}

/// An export's body and the name it is saved under.
struct CsvFile {
    name: String,
    body: Body,
}

impl CsvFile {
    /// `<organization slug>-<report>-<unit type>-<from>-<to>.csv`, or without the unit
    /// type and days for a report that has none (the audit log). Slugs, unit-type codes and
    /// dates hold no character a header would have to quote.
    fn new(body: impl Into<Body>, slug: &str, report: &str, span: Option<(&str, NaiveDate, NaiveDate)>) -> CsvFile {
        let name = match span {
            Some((unit_type, from, to)) => format!("{slug}-{report}-{unit_type}-{from}-{to}.csv"),
            None => format!("{slug}-{report}.csv"),
        };
        CsvFile {
            name,
            body: body.into(),
        }
    }

    fn into_response(self) -> Response {
        let mut response = (StatusCode::OK, self.body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/csv; charset=utf-8"),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{}\"", self.name)) {
            headers.insert(header::CONTENT_DISPOSITION, value);
        }
        response
    }
}

/// The query parameters of an export: each a name the report takes, given once.
struct Params(HashMap<String, String>);

impl Params {
    fn parse(pairs: Vec<(String, String)>, report: &str) -> AppResult<Params> {
        let taken = export_link::parameters(report).unwrap_or_default();
        let mut given: HashMap<String, String> = HashMap::new();
        for (name, value) in pairs {
            if !taken.contains(&name.as_str()) {
                return Err(AppError::bad_input(format!(
                    "unknown parameter '{name}'; {report}.csv takes {}",
                    taken.join(", ")
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
        Ok(Params(given))
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    fn required(&self, name: &str) -> AppResult<&str> {
        self.get(name)
            .ok_or_else(|| AppError::bad_input(format!("parameter '{name}' is required")))
    }

    fn organization(&self) -> AppResult<OrganizationId> {
        global_id("organization", self.required("organization")?)
    }
}

fn date(name: &str, value: &str) -> AppResult<NaiveDate> {
    value
        .parse()
        .map_err(|_| AppError::bad_input(format!("{name}: '{value}' is not a date (YYYY-MM-DD)")))
}

fn global_id<T: GlobalId>(name: &str, value: &str) -> AppResult<T> {
    decode_field(&async_graphql::ID(value.to_owned()), name)
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

/// A page of CSV records, and the key to read the next page after (none on the last).
/// A page of rows and the cursor the next page starts after (`None`: the last page).
type CsvPage<C> = (Vec<Vec<String>>, Option<C>);

/// A CSV document streamed page by page: the header, then each page as `fetch` reads it
/// (given the key the previous page ended on), so no more than one page is in memory.
/// Past the first byte the status is sent: a later failure is logged and cuts the body.
fn paged<C, F, Fut>(header: &[&str], fetch: F) -> AppResult<Body>
where
    C: Send + 'static,
    F: Fn(Option<C>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = AppResult<CsvPage<C>>> + Send + 'static,
{
    let header = Bytes::from(csv(header, std::iter::empty())?);
    let fetch = std::sync::Arc::new(fetch);
    // The state is where the next page starts, or `None` once the last page is out.
    let pages = stream::unfold(Some(None::<C>), move |state| {
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
