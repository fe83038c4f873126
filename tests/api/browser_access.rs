//! Frontends in the browser (docs/design.md §15.5): CORS for the configured origins only,
//! and export links that download without an `Authorization` header.

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::{Method, Response};
use serde_json::{Value, json};

use crate::helpers::{
    DEFAULT_NOW, SYSTEM_KEY, TestApp, assert_error, document, event, key, key_with_id, organization_with_license,
    record, tenant,
};

const ALLOWED: &str = "http://allowed.test";
const REFUSED: &str = "http://refused.test";

fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

fn no_cors_headers(response: &Response) -> bool {
    !response
        .headers()
        .keys()
        .any(|name| name.as_str().starts_with("access-control-"))
}

/// A browser's preflight of a request to `path` with a key and a JSON body.
async fn preflight(app: &TestApp, path: &str, method: &str, origin: &str) -> Response {
    app.client
        .request(Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method)
        .header("access-control-request-headers", "authorization,content-type")
        .send()
        .await
        .unwrap()
}

/// The two requests a dashboard makes from another origin: a GraphQL POST and an export.
async fn actual(app: &TestApp, org: &str, origin: &str) -> [Response; 2] {
    let graphql = app
        .client
        .post(app.url("/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .header("origin", origin)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .unwrap();
    let export = app
        .client
        .get(app.url("/export/tenants.csv"))
        .bearer_auth(SYSTEM_KEY)
        .header("origin", origin)
        .query(&[("organization", org), ("unitType", "units")])
        .send()
        .await
        .unwrap();
    [graphql, export]
}

#[tokio::test]
async fn configured_origins_get_cors_answers_and_others_none() {
    let app = TestApp::spawn_with_cors(&[ALLOWED, "https://app.example.com"]).await;
    let org = organization_with_license(&app, "acme", "1000").await.org;
    for (path, method) in [("/graphql", "POST"), ("/export/tenants.csv", "GET")] {
        let allowed = preflight(&app, path, method, ALLOWED).await;
        assert!(allowed.status().is_success(), "{path}: {}", allowed.status());
        assert_eq!(header(&allowed, "access-control-allow-origin"), Some(ALLOWED), "{path}");
        let methods = header(&allowed, "access-control-allow-methods").unwrap();
        assert!(methods.contains("GET") && methods.contains("POST"), "{methods}");
        let headers = header(&allowed, "access-control-allow-headers").unwrap().to_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{headers}"
        );
        assert_eq!(header(&allowed, "access-control-allow-credentials"), None);
        let refused = preflight(&app, path, method, REFUSED).await;
        assert!(no_cors_headers(&refused), "{path}: {:?}", refused.headers());
    }
    for response in actual(&app, &org, ALLOWED).await {
        assert_eq!(response.status(), 200, "{}", response.url());
        assert_eq!(header(&response, "access-control-allow-origin"), Some(ALLOWED));
        assert!(header(&response, "vary").unwrap().to_lowercase().contains("origin"));
        let exposed = header(&response, "access-control-expose-headers")
            .unwrap()
            .to_lowercase();
        for name in ["x-request-id", "retry-after", "content-disposition"] {
            assert!(exposed.contains(name), "{name} not exposed: {exposed}");
        }
    }
    for response in actual(&app, &org, REFUSED).await {
        assert_eq!(response.status(), 200, "{}", response.url());
        assert!(no_cors_headers(&response), "{:?}", response.headers());
    }
    app.finish().await;
}

#[tokio::test]
async fn without_the_setting_there_are_no_cors_headers() {
    let app = TestApp::spawn().await;
    let org = organization_with_license(&app, "acme", "1000").await.org;
    let refused = preflight(&app, "/graphql", "POST", ALLOWED).await;
    assert_eq!(refused.status(), 405);
    assert_eq!(header(&refused, "access-control-allow-origin"), None);
    for response in actual(&app, &org, ALLOWED).await {
        assert_eq!(response.status(), 200);
        assert!(no_cors_headers(&response), "{:?}", response.headers());
    }
    app.finish().await;
}

/// `createExportLink` with `input`'s fields besides the organization, by `key`.
async fn link(app: &TestApp, key: &str, org: &str, input: Value) -> Value {
    let mut full = json!({ "organizationId": org });
    full.as_object_mut().unwrap().extend(input.as_object().unwrap().clone());
    app.mutate(key, "createExportLink", full).await
}

async fn download(app: &TestApp, url: &str) -> Response {
    app.client.get(app.url(url)).send().await.unwrap()
}

/// A refused download's status, code and message.
async fn refusal(app: &TestApp, url: &str) -> (u16, String, String) {
    let response = download(app, url).await;
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    let error = &body["errors"][0];
    (
        status,
        error["extensions"]["code"].as_str().unwrap_or_default().to_owned(),
        error["message"].as_str().unwrap_or_default().to_owned(),
    )
}

fn at(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().to_utc()
}

struct Scene {
    app: TestApp,
    org: String,
    a: String,
    b: String,
}

async fn scene() -> Scene {
    let app = TestApp::spawn().await;
    let org = organization_with_license(&app, "acme", "1000").await.org;
    let a = tenant(&app, &org, "a").await;
    let b = tenant(&app, &org, "b").await;
    record(
        &app,
        [
            event("k1", &a, "10", "2026-11-02T08:00:00Z"),
            event("k2", &b, "5", "2026-11-03T08:00:00Z"),
        ],
    )
    .await;
    Scene { app, org, a, b }
}

#[tokio::test]
async fn an_export_link_downloads_the_same_file_without_a_key() {
    let Scene { app, org, .. } = scene().await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    let made = link(
        &app,
        &viewer,
        &org,
        json!({ "report": "distribution", "unitType": "units", "from": "2026-11-01", "to": "2026-11-23",
                "granularity": "WEEK", "attribution": "OWNERSHIP" }),
    )
    .await;
    let url = made["url"].as_str().unwrap();
    assert!(url.starts_with("/export/distribution.csv?"), "{url}");
    assert!(url.contains("granularity=WEEK") && url.contains("&token="), "{url}");
    assert!(
        !url.contains(&viewer) && !url.contains("qg_"),
        "the link holds no key: {url}"
    );
    let expires = at(made["expiresAt"].as_str().unwrap());
    assert_eq!(expires - at(DEFAULT_NOW), TimeDelta::minutes(5));

    let linked = download(&app, url).await;
    assert_eq!(linked.status(), 200);
    let linked_name = header(&linked, "content-disposition").unwrap().to_owned();
    let linked = linked.bytes().await.unwrap();
    let query = [
        ("organization", org.as_str()),
        ("unitType", "units"),
        ("from", "2026-11-01"),
        ("to", "2026-11-23"),
        ("granularity", "WEEK"),
        ("attribution", "OWNERSHIP"),
    ];
    let bearer = app
        .client
        .get(app.url("/export/distribution.csv"))
        .bearer_auth(&viewer)
        .query(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(header(&bearer, "content-disposition"), Some(linked_name.as_str()));
    assert_eq!(bearer.bytes().await.unwrap(), linked, "the same bytes");
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admins_link_covers_its_tenant_only() {
    let Scene { app, org, a, b } = scene().await;
    let admin = key(&app, "TENANT_ADMIN", Some(&org), Some(&a)).await;
    let made = link(&app, &admin, &org, json!({ "report": "tenants", "unitType": "units" })).await;
    let body = download(&app, made["url"].as_str().unwrap())
        .await
        .text()
        .await
        .unwrap();
    assert!(body.contains(&a), "{body}");
    assert!(!body.contains(&b), "another tenant's row: {body}");
    // Another tenant's link is made, but its download is refused as the key's would be.
    let other = link(
        &app,
        &admin,
        &org,
        json!({ "report": "tenants", "unitType": "units", "tenantId": b }),
    )
    .await;
    let (status, code, _) = refusal(&app, other["url"].as_str().unwrap()).await;
    assert_eq!((status, code.as_str()), (404, "NOT_FOUND"));
    // The organization's figures are not a TENANT_ADMIN's to export.
    app.mutate_refused(
        &admin,
        "createExportLink",
        json!({ "organizationId": org, "report": "summary", "unitType": "units" }),
        "FORBIDDEN",
        &["summary.csv"],
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn a_link_expires_after_five_minutes_by_the_server_clock() {
    let Scene { app, org, .. } = scene().await;
    let made = link(
        &app,
        SYSTEM_KEY,
        &org,
        json!({ "report": "tenants", "unitType": "units" }),
    )
    .await;
    let url = made["url"].as_str().unwrap();
    app.clock.set(at(DEFAULT_NOW) + TimeDelta::seconds(299));
    assert_eq!(download(&app, url).await.status(), 200);
    app.clock.set(at(DEFAULT_NOW) + TimeDelta::minutes(5));
    let (status, code, message) = refusal(&app, url).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    assert!(message.contains("expired"), "{message}");
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_keys_links_stop_working() {
    let Scene { app, org, .. } = scene().await;
    let (viewer, id) = key_with_id(&app, "VIEWER", Some(&org), None).await;
    let made = link(&app, &viewer, &org, json!({ "report": "tenants", "unitType": "units" })).await;
    let url = made["url"].as_str().unwrap();
    assert_eq!(download(&app, url).await.status(), 200);
    app.mutate(SYSTEM_KEY, "revokeApiKey", json!({ "apiKeyId": id })).await;
    let (status, code, message) = refusal(&app, url).await;
    assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"));
    assert!(message.contains("revoked"), "{message}");
    app.finish().await;
}

#[tokio::test]
async fn a_changed_parameter_or_token_is_refused() {
    let Scene { app, org, a, .. } = scene().await;
    let made = link(
        &app,
        SYSTEM_KEY,
        &org,
        json!({ "report": "tenants", "unitType": "units" }),
    )
    .await;
    let url = made["url"].as_str().unwrap();
    let (path, token) = url.split_once("&token=").unwrap();
    let changed = [
        format!("{path}&tenant={a}&token={token}"),
        format!("{}&token={token}", path.replace("unitType=units", "unitType=other")),
        format!("{}&token={token}", path.replace("tenants.csv", "events.csv")),
    ];
    for url in &changed {
        let (status, code, message) = refusal(&app, url).await;
        assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"), "{url}");
        assert!(message.contains("other parameters"), "{message}");
    }
    let (payload, signature) = token.split_once('.').unwrap();
    let flipped = if signature.starts_with('A') { "B" } else { "A" };
    let tampered = [
        format!("{path}&token={payload}.{flipped}{}", &signature[1..]),
        format!("{path}&token={payload}"),
        format!("{path}&token=x{token}"),
    ];
    for url in &tampered {
        let (status, code, message) = refusal(&app, url).await;
        assert_eq!((status, code.as_str()), (401, "UNAUTHENTICATED"), "{url}");
        assert!(message.contains("not valid"), "{message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn who_may_make_links_and_of_what() {
    let Scene { app, org, .. } = scene().await;
    let ingest = key(&app, "INGEST", Some(&org), None).await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    let input = json!({ "organizationId": org, "report": "tenants", "unitType": "units" });
    app.mutate_refused(&ingest, "createExportLink", input.clone(), "FORBIDDEN", &[])
        .await;
    link(&app, &viewer, &org, json!({ "report": "events", "unitType": "units" })).await;
    // The audit log is the administrators'.
    app.mutate_refused(
        &viewer,
        "createExportLink",
        json!({ "organizationId": org, "report": "audit" }),
        "FORBIDDEN",
        &["audit.csv"],
    )
    .await;
    app.mutate_refused(
        SYSTEM_KEY,
        "createExportLink",
        json!({ "organizationId": org, "report": "nope", "unitType": "units" }),
        "BAD_USER_INPUT",
        &["nope", "tenants", "audit"],
    )
    .await;
    // The audit log takes only the organization.
    app.mutate_refused(
        SYSTEM_KEY,
        "createExportLink",
        json!({ "organizationId": org, "report": "audit", "unitType": "units" }),
        "BAD_USER_INPUT",
        &["unitType"],
    )
    .await;
    let answer = app
        .gql(
            SYSTEM_KEY,
            &document("createExportLink"),
            json!({ "input": { "organizationId": "nope", "report": "tenants" } }),
        )
        .await;
    assert_error(&answer, "NOT_FOUND", &["organizationId"]);
    app.finish().await;
}
