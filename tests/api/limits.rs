//! Request limits (docs/design.md §8): deep, wide and huge requests are refused quickly with
//! their codes while the server goes on answering others; introspection can be switched off.

use std::time::{Duration, Instant};

use quotagraph::config::LimitSettings;
use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, assert_error, export_refused, generous, key, organization_with_license};

/// A request that must keep being answered while another is refused.
async fn viewer_role(app: &TestApp) -> Value {
    app.ok(SYSTEM_KEY, "{ viewer { role } }", json!({})).await["viewer"]["role"].clone()
}

#[tokio::test]
async fn a_query_fifty_levels_deep_is_refused() {
    let app = TestApp::spawn().await;
    let mut selection = "id".to_owned();
    for _ in 0..50 {
        selection = format!("parent {{ {selection} }}");
    }
    let query = format!("{{ node(id: \"x\") {{ ... on Folder {{ {selection} }} }} }}");
    let started = Instant::now();
    let answer = app.gql(SYSTEM_KEY, &query, json!({})).await;
    assert!(started.elapsed() < Duration::from_secs(2));
    // Fifty levels are refused by the parser's own recursion guard, before any validation.
    assert_error(&answer, "GRAPHQL_PARSE_FAILED", &["depth"]);
    // Twenty levels parse, and are past the depth limit (16).
    let mut selection = "id".to_owned();
    for _ in 0..20 {
        selection = format!("parent {{ {selection} }}");
    }
    let query = format!("{{ node(id: \"x\") {{ ... on Folder {{ {selection} }} }} }}");
    let answer = app.gql(SYSTEM_KEY, &query, json!({})).await;
    assert_error(&answer, "GRAPHQL_VALIDATION_FAILED", &["deep"]);
    assert_eq!(viewer_role(&app).await, "SYSTEM");
    app.finish().await;
}

#[tokio::test]
async fn a_query_with_a_thousand_aliases_is_refused() {
    let app = TestApp::spawn().await;
    let fields: Vec<String> = (0..1000).map(|i| format!("a{i}: viewer {{ role }}")).collect();
    let query = format!("{{ {} }}", fields.join(" "));
    let answer = app.gql(SYSTEM_KEY, &query, json!({})).await;
    assert_error(&answer, "GRAPHQL_VALIDATION_FAILED", &["1000 aliases"]);
    // Aliases inside fragments count too; a hundred are fine.
    let fields: Vec<String> = (0..101).map(|i| format!("a{i}: role")).collect();
    let query = format!(
        "query {{ viewer {{ ...F }} }} fragment F on Viewer {{ {} }}",
        fields.join(" ")
    );
    app.refused(SYSTEM_KEY, &query, json!({}), "GRAPHQL_VALIDATION_FAILED", &[])
        .await;
    let fields: Vec<String> = (0..100).map(|i| format!("a{i}: role")).collect();
    let query = format!("{{ viewer {{ {} }} }}", fields.join(" "));
    let answer = app.ok(SYSTEM_KEY, &query, json!({})).await;
    assert_eq!(answer["viewer"]["a99"], "SYSTEM");
    app.finish().await;
}

#[tokio::test]
async fn a_fifty_megabyte_body_is_refused_while_others_are_answered() {
    let app = TestApp::spawn().await;
    let padding = "x".repeat(50 * 1024 * 1024);
    let body = format!("{{\"query\": \"{{ viewer {{ role }} }}\", \"variables\": {{\"p\": \"{padding}\"}}}}");
    let big = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .header("content-type", "application/json")
        .body(body)
        .send();
    let started = Instant::now();
    let (big, role) = tokio::join!(big, viewer_role(&app));
    assert_eq!(role, "SYSTEM", "another request is answered meanwhile");
    // The server may answer before it has read the whole body, and close the connection.
    if let Ok(response) = big {
        assert_eq!(response.status(), 413);
        let answer: Value = response.json().await.unwrap();
        assert_error(&answer, "BAD_USER_INPUT", &[]);
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(viewer_role(&app).await, "SYSTEM");
    app.finish().await;
}

#[tokio::test]
async fn introspection_can_be_switched_off() {
    let app = TestApp::spawn_with_limits(LimitSettings {
        disable_introspection: true,
        ..generous()
    })
    .await;
    for query in [
        "{ __schema { queryType { name } } }",
        "{ __type(name: \"Query\") { name } }",
        "query { ...I } fragment I on Query { __schema { types { name } } }",
    ] {
        let answer = app.gql(SYSTEM_KEY, query, json!({})).await;
        assert_error(&answer, "GRAPHQL_VALIDATION_FAILED", &[]);
        assert!(answer["data"].is_null(), "{answer}");
    }
    assert_eq!(viewer_role(&app).await, "SYSTEM");
    app.finish().await;

    let app = TestApp::spawn().await;
    let answer = app
        .ok(SYSTEM_KEY, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(answer["__schema"]["queryType"]["name"], "Query");
    app.finish().await;
}

#[tokio::test]
async fn a_key_past_its_rate_is_told_when_to_retry() {
    let app = TestApp::spawn_with_limits(LimitSettings {
        rate_per_second: 1,
        // Enough for the SYSTEM key to set up; the viewer spends it all.
        rate_burst: 5,
        ..LimitSettings::default()
    })
    .await;
    let fx = organization_with_license(&app, "acme", "10").await;
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    for _ in 0..5 {
        assert_eq!(viewer_role_of(&app, &viewer).await.status(), 200);
    }
    let refused = viewer_role_of(&app, &viewer).await;
    assert_eq!(refused.status(), 429);
    let retry: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "Retry-After: {retry}");
    assert_error(&refused.json().await.unwrap(), "RATE_LIMITED", &[]);
    // Exports count against the same key.
    let export = format!("/export/tenants.csv?organization={}&unitType=units", fx.org);
    assert_eq!(export_refused(&app, Some(&viewer), &export).await.0, 429);
    // Another key has its own rate.
    let other = key(&app, "VIEWER", Some(&fx.org), None).await;
    assert_eq!(viewer_role_of(&app, &other).await.status(), 200);
    app.finish().await;
}

async fn viewer_role_of(app: &TestApp, key: &str) -> reqwest::Response {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .unwrap()
}
