//! What an operator runs it with: Prometheus metrics, health checks, JSON logs that name
//! each request, a clean exit on SIGTERM, and traces exported to an OTLP collector.

use std::sync::{Arc, Mutex};

use axum::{Router, body::Bytes, http::HeaderMap, routing::post};
use serde_json::json;

use crate::helpers::{
    SYSTEM_KEY, ServerProcess, TestApp, event, metrics, organization_with_license, record, series, tenant,
};

#[tokio::test]
async fn metrics_count_requests_operations_ingestion_admission_and_the_pool() {
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "10").await;
    let t = tenant(&app, &fx.org, "T").await;
    app.ok(SYSTEM_KEY, "query OpsViewer { viewer { role } }", json!({}))
        .await;
    app.gql(SYSTEM_KEY, "query OpsBroken { viewer { nope } }", json!({}))
        .await;
    let run = event("m1", &t, "1", "2026-11-20T10:00:00Z").with(json!({ "service": "s" }));
    record(&app, [run]).await;
    let start = json!({ "idempotencyKey": "m2", "tenantId": t, "unitType": "units", "service": "s", "quantity": "2" });
    app.mutate(SYSTEM_KEY, "startExecution", start).await;
    let metrics = metrics(&app).await;
    let has = |name: &str, labels: &[(&str, &str)]| {
        let value = series(&metrics, name, labels);
        assert!(value.is_some_and(|v| v >= 1.0), "{name} {labels:?} in\n{metrics}");
    };
    has(
        "quotagraph_http_requests_total",
        &[("method", "POST"), ("route", "/graphql"), ("status", "200")],
    );
    has(
        "quotagraph_http_request_duration_seconds_count",
        &[("route", "/graphql")],
    );
    has(
        "quotagraph_graphql_operations_total",
        &[("operation", "OpsViewer"), ("outcome", "ok")],
    );
    has(
        "quotagraph_graphql_operations_total",
        &[("operation", "OpsBroken"), ("outcome", "GRAPHQL_VALIDATION_FAILED")],
    );
    has("quotagraph_ingested_events_total", &[("outcome", "accepted")]);
    has("quotagraph_ingest_group_requests_count", &[]);
    has("quotagraph_admissions_total", &[("outcome", "granted")]);
    has("quotagraph_db_pool_max_connections", &[]);
    assert!(series(&metrics, "quotagraph_db_pool_connections", &[("state", "idle")]).is_some());
    app.finish().await;
}

#[tokio::test]
async fn health_checks_answer() {
    let app = TestApp::spawn().await;
    for (path, body) in [("/livez", "ok"), ("/healthz", "ok"), ("/readyz", "ready")] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.text().await.unwrap(), body, "{path}");
    }
    app.finish().await;
}

#[tokio::test]
async fn json_logs_name_each_request_and_sigterm_ends_the_process_cleanly() {
    let server = ServerProcess::start(&[("QUOTAGRAPH_LOG_FORMAT", "json"), ("RUST_LOG", "info")]).await;
    let response = reqwest::Client::new()
        .post(format!("http://{}/graphql", server.address))
        .bearer_auth(SYSTEM_KEY)
        .header("x-request-id", "req-7e1f")
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "req-7e1f");
    let (clean, logs) = server.terminate().await;
    assert!(clean, "the process did not exit cleanly:\n{logs}");
    let lines: Vec<serde_json::Value> = logs
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not a JSON line: {l}")))
        .collect();
    assert!(
        lines.iter().any(|l| l.to_string().contains("req-7e1f")),
        "no line names the request:\n{logs}"
    );
    assert!(logs.contains("shutting down"), "{logs}");
}

#[tokio::test]
async fn traces_go_to_the_configured_otlp_collector() {
    let received: Arc<Mutex<Vec<(String, usize)>>> = Arc::default();
    let seen = received.clone();
    let collector = Router::new().route(
        "/v1/traces",
        post(move |headers: HeaderMap, body: Bytes| {
            let seen = seen.clone();
            async move {
                let kind = headers
                    .get("content-type")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                seen.lock().unwrap().push((kind, body.len()));
                ""
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let collecting = tokio::spawn(async move { axum::serve(listener, collector).await });

    let server = ServerProcess::start(&[("OTEL_EXPORTER_OTLP_ENDPOINT", &endpoint), ("RUST_LOG", "info")]).await;
    reqwest::Client::new()
        .post(format!("http://{}/graphql", server.address))
        .bearer_auth(SYSTEM_KEY)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .unwrap();
    let (clean, logs) = server.terminate().await;
    assert!(clean, "{logs}");
    let received = received.lock().unwrap().clone();
    assert!(!received.is_empty(), "the collector heard nothing:\n{logs}");
    assert!(
        received
            .iter()
            .all(|(kind, size)| kind == "application/x-protobuf" && *size > 0),
        "{received:?}"
    );
    collecting.abort();
}
