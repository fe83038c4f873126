//! `GET /metrics`: Prometheus text exposition of what the server does: HTTP requests,
//! GraphQL operations by name and outcome, ingested events, admission grants and
//! refusals, WebSocket connections and subscriptions, the database pool, and webhook
//! deliveries (attempts by outcome, those pending, and the lag from storage to delivery).
//!
//! The recorder is the process's one global `metrics` recorder, installed on first use.

use std::sync::OnceLock;
use std::time::Instant;

use axum::{
    extract::{MatchedPath, Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;
use crate::service;

/// Request latency buckets, in seconds: from a cached read to a slow export.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// Requests per group commit of `recordUsage` (`service::group_commit`).
const GROUP_BUCKETS: [f64; 9] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// The process's recorder, installed the first time it is asked for.
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .and_then(|builder| {
                builder.set_buckets_for_metric(Matcher::Full("quotagraph_ingest_group_requests".into()), &GROUP_BUCKETS)
            })
            .map(PrometheusBuilder::build_recorder)
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed: /metrics shows nothing");
        }
        handle
    })
}

/// `GET /metrics`.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let pool = service::pool::stats(&state.context);
    metrics::gauge!("quotagraph_db_pool_connections", "state" => "idle").set(pool.idle as f64);
    metrics::gauge!("quotagraph_db_pool_connections", "state" => "in_use")
        .set(pool.size.saturating_sub(pool.idle) as f64);
    metrics::gauge!("quotagraph_db_pool_max_connections").set(pool.max as f64);
    match service::webhook::pending(&state.context).await {
        Ok(pending) => metrics::gauge!("quotagraph_webhook_pending").set(pending as f64),
        Err(err) => tracing::warn!(error = ?err, "pending webhook deliveries could not be counted"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle().render(),
    )
        .into_response()
}

/// Counts and times every HTTP request by method, route and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("quotagraph_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("quotagraph_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}
