//! Authentication and scope: no key, bad keys, other organizations' ids, a tenant
//! admin's view, and the WebSocket's `connection_init`.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme_with_tenants, assert_error, bearer, content_type, event, init, key, key_with_id,
    open_socket, organization_with_license, tenant,
};

#[tokio::test]
async fn a_request_without_a_valid_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let body = json!({ "query": "{ viewer { role } }" });
    let requests = [
        app.client.post(app.url("/graphql")).json(&body),
        app.client
            .post(app.url("/graphql"))
            .bearer_auth("qg_not_a_key")
            .json(&body),
        app.client
            .post(app.url("/graphql"))
            .header("Authorization", "Basic dXNlcjpwYXNz")
            .json(&body),
    ];
    for request in requests {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401);
        let answer: Value = response.json().await.unwrap();
        assert_error(&answer, "UNAUTHENTICATED", &[]);
        assert!(answer["data"].is_null());
    }
    let data = app
        .ok(SYSTEM_KEY, "{ viewer { role organization { id } } }", json!({}))
        .await;
    assert_eq!(data["viewer"]["role"], "SYSTEM");
    app.finish().await;
}

#[tokio::test]
async fn another_organizations_ids_look_like_missing_ones() {
    let app = TestApp::spawn().await;
    let mine = organization_with_license(&app, "mine", "1000").await;
    let theirs = organization_with_license(&app, "theirs", "1000").await;
    let their_tenant = tenant(&app, &theirs.org, "Their tenant").await;
    let owner = key(&app, "OWNER", Some(&mine.org), None).await;

    let data = app
        .ok(
            &owner,
            "query($o: ID!, $t: ID!) { organization(id: $o) { id } node(id: $t) { id } organizations { edges { node { id } } } }",
            json!({ "o": theirs.org, "t": their_tenant }),
        )
        .await;
    assert!(data["organization"].is_null());
    assert!(data["node"].is_null());
    assert_eq!(data["organizations"]["edges"].as_array().unwrap().len(), 1);
    assert_eq!(data["organizations"]["edges"][0]["node"]["id"], mine.org.as_str());

    let rename = json!({ "tenantId": their_tenant, "name": "x" });
    app.mutate_refused(&owner, "updateTenant", rename, "NOT_FOUND", &[])
        .await;
    let create = json!({ "organizationId": theirs.org, "name": "x" });
    app.mutate_refused(&owner, "createTenant", create, "NOT_FOUND", &[])
        .await;
    // A garbage id is as missing as a foreign one.
    let data = app
        .ok(
            &owner,
            "{ organization(id: \"garbage\") { id } node(id: \"x\") { id } }",
            json!({}),
        )
        .await;
    assert!(data["organization"].is_null() && data["node"].is_null());
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admin_sees_its_organization_only_through_its_tenant() {
    let (app, fixture, [own, other]) = acme_with_tenants(["Own", "Other"]).await;
    let admin = key(&app, "TENANT_ADMIN", Some(&fixture.org), Some(&own)).await;

    let data = app
        .ok(
            &admin,
            "query($o: ID!, $other: ID!, $own: ID!) { viewer { role tenant { id } } organization(id: $o) { name tenants { edges { node { id name } } } } other: node(id: $other) { id } own: node(id: $own) { id } }",
            json!({ "o": fixture.org, "other": other, "own": own }),
        )
        .await;
    assert_eq!(data["viewer"]["role"], "TENANT_ADMIN");
    assert_eq!(data["viewer"]["tenant"]["id"], own.as_str());
    let tenants = data["organization"]["tenants"]["edges"].as_array().unwrap();
    assert_eq!(tenants.len(), 1);
    assert_eq!(tenants[0]["node"]["id"], own.as_str());
    assert!(data["other"].is_null());
    assert_eq!(data["own"]["id"], own.as_str());

    // The role may not update any tenant: the answer is the same for another tenant's id.
    for tenant in [&own, &other] {
        let rename = json!({ "tenantId": tenant, "name": "x" });
        app.mutate_refused(&admin, "updateTenant", rename, "FORBIDDEN", &[])
            .await;
    }
    app.finish().await;
}

#[tokio::test]
async fn an_ingest_key_records_usage_and_reads_nothing() {
    let (app, fixture, [t]) = acme_with_tenants(["T"]).await;
    let ingest = key(&app, "INGEST", Some(&fixture.org), None).await;
    for query in [
        "query($o: ID!) { organization(id: $o) { id } }",
        "{ organizations { edges { node { id } } } }",
        "query($o: ID!) { node(id: $o) { id } }",
    ] {
        let variables = json!({ "o": fixture.org });
        app.refused(&ingest, query, variables, "FORBIDDEN", &["(INGEST) may not use Query."])
            .await;
    }
    let events = |key: &str| json!({ "events": [event(key, &t, "2", "2026-11-20T10:00:00Z")] });
    let recorded = app.mutate(&ingest, "recordUsage", events("k1")).await;
    assert_eq!(recorded["accepted"], 1);
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let words = ["(VIEWER) may not use Mutation.recordUsage"];
    app.mutate_refused(&viewer, "recordUsage", events("k2"), "FORBIDDEN", &words)
        .await;
    app.finish().await;
}

/// The server's answer to `connection_init` with `payload` on a new connection.
async fn websocket_init(app: &TestApp, payload: Value) -> Option<Value> {
    init(&mut open_socket(app, "graphql-transport-ws").await, payload).await
}

#[tokio::test]
async fn the_websocket_authenticates_from_connection_init() {
    let app = TestApp::spawn().await;
    let ack = websocket_init(&app, bearer(SYSTEM_KEY)).await;
    assert_eq!(ack.unwrap()["type"], "connection_ack");
    // A bad key gets no acknowledgement: the server closes the connection.
    let refused = websocket_init(&app, json!({ "Authorization": "Bearer qg_wrong" })).await;
    assert!(refused.is_none_or(|m| m["type"] != "connection_ack"));
    app.finish().await;
}

/// `GET /graphql` as a browser asks for it: an HTML page.
async fn playground(app: &TestApp) -> reqwest::Response {
    let page = app.client.get(app.url("/graphql")).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(content_type(&page).starts_with("text/html"));
    page
}

#[cfg(feature = "playground-assets")]
#[tokio::test]
async fn get_serves_the_playground_and_its_assets_from_the_server() {
    let app = TestApp::spawn().await;
    let page = playground(&app).await;
    let csp = page.headers()["content-security-policy"].to_str().unwrap().to_owned();
    assert!(csp.contains("default-src 'none'") && !csp.contains("unsafe"), "{csp}");
    let html = page.text().await.unwrap();
    assert!(html.contains("/playground/playground.js") && html.contains("/playground/playground.css"));
    assert!(!html.contains("https://"), "the page must load nothing from elsewhere");
    // Every asset the page names (GraphiQL, React) is served by us.
    for path in html.split('"').filter(|s| s.starts_with("/playground/")) {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    for (asset, kind) in [("playground.js", "text/javascript"), ("playground.css", "text/css")] {
        let response = app
            .client
            .get(app.url(&format!("/playground/{asset}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with(kind));
        assert!(
            !response.text().await.unwrap().contains("cdn."),
            "{asset} refers to a CDN"
        );
    }
    assert_eq!(app.client.get(app.url("/healthz")).send().await.unwrap().status(), 200);
    assert_eq!(app.client.get(app.url("/readyz")).send().await.unwrap().status(), 200);
    app.finish().await;
}

#[cfg(not(feature = "playground-assets"))]
#[tokio::test]
async fn get_explains_a_build_without_the_playground_assets() {
    let app = TestApp::spawn().await;
    let html = playground(&app).await.text().await.unwrap();
    assert!(html.contains("without the playground's assets"), "{html}");
    assert!(
        html.contains("playground-assets") && html.contains("docs/operator.md"),
        "{html}"
    );
    assert!(!html.contains("<script") && !html.contains("/playground/"), "{html}");
    // Only the page is missing: the API answers over POST and over WebSocket.
    let data = app.ok(SYSTEM_KEY, "{ viewer { role } }", json!({})).await;
    assert_eq!(data["viewer"]["role"], "SYSTEM");
    let ack = websocket_init(&app, bearer(SYSTEM_KEY)).await;
    assert_eq!(ack.unwrap()["type"], "connection_ack");
    app.finish().await;
}

#[tokio::test]
async fn parse_and_validation_errors_carry_codes() {
    let app = TestApp::spawn().await;
    for (query, variables, code) in [
        ("{ viewer { role }", json!({}), "GRAPHQL_PARSE_FAILED"),
        ("{ viewer { nope } }", json!({}), "GRAPHQL_VALIDATION_FAILED"),
        (
            "query($n: Int) { organizations(first: $n) { edges { cursor } } }",
            json!({ "n": "many" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "{ organizations(first: 1000) { edges { cursor } } }",
            json!({}),
            "BAD_USER_INPUT",
        ),
    ] {
        app.refused(SYSTEM_KEY, query, variables, code, &[]).await;
    }
    let response = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .body("{not json")
        .header("content-type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_error(&response.json().await.unwrap(), "GRAPHQL_PARSE_FAILED", &[]);
    app.finish().await;
}

#[tokio::test]
async fn a_keys_last_use_is_recorded() {
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "10").await;
    let (secret, id) = key_with_id(&app, "VIEWER", Some(&fx.org), None).await;
    assert_eq!(last_used(&app, &id).await, Value::Null);
    app.ok(&secret, "{ viewer { role } }", json!({})).await;
    assert_eq!(last_used(&app, &id).await, "2026-11-23T10:00:00+00:00");
    app.finish().await;
}

async fn last_used(app: &TestApp, id: &str) -> Value {
    app.ok(
        SYSTEM_KEY,
        "query($id: ID!) { node(id: $id) { ... on ApiKey { lastUsedAt } } }",
        json!({ "id": id }),
    )
    .await["node"]["lastUsedAt"]
        .clone()
}

#[tokio::test]
async fn keys_are_stored_as_peppered_hashes_and_checked_by_id() {
    use sea_orm::{ConnectionTrait, Database, Statement};
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "10").await;
    let secret = key(&app, "VIEWER", Some(&fx.org), None).await;
    let db = Database::connect(&app.database_url).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT secret_hash FROM api_keys",
        ))
        .await
        .unwrap();
    let stored: Vec<String> = rows.iter().map(|r| r.try_get("", "secret_hash").unwrap()).collect();
    db.close().await.ok();
    assert_eq!(stored.len(), 2);
    for hash in &stored {
        assert!(hash.starts_with("hmac-sha256:"), "{hash}");
        assert!(!hash.contains(&secret) && !hash.contains(SYSTEM_KEY));
    }
    app.ok(&secret, "{ viewer { role } }", json!({})).await;
    // The right key id with a wrong secret, and a secret cut short, are refused alike.
    let (id_part, _) = secret.rsplit_once('_').unwrap();
    for wrong in [
        format!("{id_part}_{}", "0".repeat(64)),
        secret[..secret.len() - 1].to_owned(),
    ] {
        app.refused(&wrong, "{ viewer { role } }", json!({}), "UNAUTHENTICATED", &[])
            .await;
    }
    app.finish().await;
}

/// Keys are kept in memory (docs/design.md §11): a revoked key is refused at once by the
/// replica that revoked it, and within a second by another that had it kept.
#[tokio::test]
async fn a_revoked_key_is_refused_at_once_here_and_within_a_second_elsewhere() {
    let (app, fx, _) = acme_with_tenants(["a"]).await;
    let (secret, id) = key_with_id(&app, "VIEWER", Some(&fx.org), None).await;
    let replica = app.quiet_replica().await;
    let viewer = "{ viewer { role } }";
    for server in [&app, &replica] {
        assert_eq!(server.ok(&secret, viewer, json!({})).await["viewer"]["role"], "VIEWER");
    }
    app.mutate(SYSTEM_KEY, "revokeApiKey", json!({ "apiKeyId": id })).await;
    let revoked = std::time::Instant::now();
    assert_eq!(app.err(&secret, viewer, json!({})).await.0, "UNAUTHENTICATED");
    while replica.gql(&secret, viewer, json!({})).await["errors"].is_null() {
        assert!(
            revoked.elapsed() < std::time::Duration::from_secs(1),
            "the replica still takes the key a second after its revocation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    replica.finish().await;
    app.finish().await;
}
