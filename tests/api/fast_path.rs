//! The fast path of GraphQL over HTTP (graphql::fast_path): a document whose every field
//! the caller's role may use runs on the schema without extensions, and answers exactly as
//! the full schema would; anything else takes the full schema, with the same answer as
//! before. `quotagraph_graphql_fast_path_total{operation, path}` tells which path a request
//! took; each test names its operations apart, as the tests share one metrics recorder.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, acme_with_tenants, generous, key, metrics, series};

/// How many requests named `operation` took `path` (`fast` or `full`) so far.
async fn taken(app: &TestApp, operation: &str, path: &str) -> f64 {
    let metrics = metrics(app).await;
    series(
        &metrics,
        "quotagraph_graphql_fast_path_total",
        &[("operation", operation), ("path", path)],
    )
    .unwrap_or(0.0)
}

/// POSTs `body` as `key`; the HTTP status and the answer.
async fn post(app: &TestApp, key: &str, body: &Value) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .json(body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

const DASHBOARD: &str = "query FastDashboard($o: ID!) {
    viewer { role organization { id } }
    organization(id: $o) {
        id name slug timeZone
        tenants { nodes { id name state } pageInfo { hasNextPage } }
        ...Figures
    }
    node(id: $o) { id __typename ... on Organization { name } }
}
fragment Figures on Organization {
    quota(unitType: \"units\") { used limit remaining enforced }
}";

#[tokio::test]
async fn an_admitted_query_takes_the_fast_path_and_is_counted_as_before() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    let (status, answer) = post(
        &app,
        &viewer,
        &json!({ "query": DASHBOARD, "variables": { "o": fx.org } }),
    )
    .await;
    assert_eq!(status, 200, "{answer:#}");
    assert!(answer.get("errors").is_none(), "{answer:#}");
    let data = &answer["data"];
    assert_eq!(data["viewer"]["role"], "VIEWER");
    assert_eq!(data["organization"]["tenants"]["nodes"][0]["id"], t.as_str());
    assert!(data["organization"]["quota"]["remaining"].is_string(), "{answer:#}");
    assert_eq!(data["node"]["__typename"], "Organization");
    assert_eq!(taken(&app, "FastDashboard", "fast").await, 1.0);
    assert_eq!(taken(&app, "FastDashboard", "full").await, 0.0);
    // What OperationStats counts, the fast path counts too.
    let metrics = metrics(&app).await;
    let counted = series(
        &metrics,
        "quotagraph_graphql_operations_total",
        &[("operation", "FastDashboard"), ("outcome", "ok")],
    );
    assert_eq!(counted, Some(1.0), "{metrics}");
    app.finish().await;
}

#[tokio::test]
async fn the_verdict_is_kept_per_role_and_a_refused_field_answers_as_before() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    let tenant_admin = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&t)).await;
    let body = json!({
        "query": "query FastRoles($o: ID!) { organization(id: $o) { name quota(unitType: \"units\") { used } } }",
        "operationName": "FastRoles",
        "variables": { "o": fx.org },
    });
    // Organization.quota is not a TENANT_ADMIN's: the full schema refuses it at its path.
    for round in 1..=2 {
        let (status, answer) = post(&app, &tenant_admin, &body).await;
        assert_eq!(status, 200, "{answer:#}");
        assert_eq!(
            answer["errors"],
            json!([{
                "message": "your API key's role (TENANT_ADMIN) may not use Organization.quota",
                "path": ["organization", "quota"],
                "extensions": { "code": "FORBIDDEN" },
            }]),
            "{answer:#}"
        );
        // The siblings answer; the refused field is left out.
        let name = &answer["data"]["organization"]["name"];
        assert!(name.is_string(), "{answer:#}");
        assert_eq!(answer["data"], json!({ "organization": { "name": name } }));
        assert_eq!(taken(&app, "FastRoles", "full").await, f64::from(round));
        // The same document for a VIEWER, after the refusal: admitted.
        let (status, answer) = post(&app, &viewer, &body).await;
        assert_eq!(status, 200, "{answer:#}");
        assert!(answer.get("errors").is_none(), "{answer:#}");
        assert!(
            answer["data"]["organization"]["quota"]["used"].is_string(),
            "{answer:#}"
        );
        assert_eq!(taken(&app, "FastRoles", "fast").await, f64::from(round));
    }
    app.finish().await;
}

#[tokio::test]
async fn a_persisted_query_registered_on_the_fast_path_runs_by_its_hash() {
    let app = TestApp::spawn().await;
    let query = "query FastPersisted { viewer { role } }";
    let hash = quotagraph::graphql::persisted::hash(query);
    let extensions = json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } });
    let (_, answer) = post(&app, SYSTEM_KEY, &json!({ "query": query, "extensions": extensions })).await;
    assert_eq!(answer, json!({ "data": { "viewer": { "role": "SYSTEM" } } }));
    assert_eq!(taken(&app, "FastPersisted", "fast").await, 1.0);
    let (_, answer) = post(&app, SYSTEM_KEY, &json!({ "extensions": extensions })).await;
    assert_eq!(answer, json!({ "data": { "viewer": { "role": "SYSTEM" } } }));
    assert_eq!(taken(&app, "FastPersisted", "fast").await, 2.0);
    app.finish().await;
}

#[tokio::test]
async fn refusals_before_running_are_the_full_schemas() {
    let app = TestApp::spawn_with_limits(quotagraph::config::LimitSettings {
        max_complexity: 10,
        ..generous()
    })
    .await;
    // async-graphql's own complexity limit refuses it on the fast path; the answer is ours.
    let body = json!({
        "query": "query FastCostly { organizations(first: 10) { nodes { id } } }",
        "operationName": "FastCostly",
    });
    let (status, answer) = post(&app, SYSTEM_KEY, &body).await;
    assert_eq!(status, 200, "{answer:#}");
    assert!(answer.get("data").is_none(), "{answer:#}");
    assert_eq!(answer["errors"][0]["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(
        answer["errors"][0]["message"],
        "the query may answer too much: it costs 21, and at most 10 is accepted. Every field counts 1 and \
         every list its selection once per item it may hold (first, or 50 without it): ask for smaller \
         pages or fewer nested lists"
    );
    assert_eq!(taken(&app, "FastCostly", "full").await, 1.0);
    assert_eq!(taken(&app, "FastCostly", "fast").await, 0.0);

    // A mutation over GET: 405, as before.
    let response = app
        .client
        .get(app.url("/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .query(&[
            (
                "query",
                "mutation FastGet { createUnitType(input: {code: \"x\", name: \"X\"}) { unitType { id } } }",
            ),
            ("operationName", "FastGet"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(taken(&app, "FastGet", "full").await, 1.0);
    app.finish().await;
}

/// The benchmark's documents, as a VIEWER sends them, take the fast path.
#[tokio::test]
async fn the_dashboard_tree_and_tenant_view_take_the_fast_path() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    let tree = "query FastTree($o: ID!) { organization(id: $o) { tenants(first: 100) { edges { node { id name
        folders(first: 100) { edges { node { id name processes(first: 100) { edges { node { id name } } } } } } } } } } }";
    let tenant = "query FastTenant($o: ID!, $t: ID!) { organization(id: $o) { usage(unitType: \"units\") {
        tenant(id: $t) { displayName allocated consumed remaining status
            distribution(granularity: WEEK) { start end consumed }
            byService { total services { service { code } consumed percent } }
            execution: folders(attribution: EXECUTION) { folder { id name } consumed children { folder { id } consumed } }
            processes(attribution: EXECUTION, first: 20) { edges { node { process { id name } consumed } } } } } } }";
    for (name, query) in [("FastTree", tree), ("FastTenant", tenant)] {
        let (status, answer) = post(
            &app,
            &viewer,
            &json!({ "query": query, "variables": { "o": fx.org, "t": t } }),
        )
        .await;
        assert_eq!(status, 200, "{answer:#}");
        assert!(answer.get("errors").is_none(), "{answer:#}");
        assert_eq!(taken(&app, name, "fast").await, 1.0, "{name}");
    }
    app.finish().await;
}
