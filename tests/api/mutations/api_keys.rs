//! `createApiKey` and `revokeApiKey`: which roles make which keys, and revocation.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license, tenant};

const CREATE_API_KEY: &str = "mutation($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { secret apiKey { id name role organization { id } tenant { id } revokedAt } }
}";

const REVOKE_API_KEY: &str = "mutation($id: ID!) {
    revokeApiKey(input: {apiKeyId: $id}) { apiKey { id revokedAt } }
}";

async fn create_key(app: &TestApp, key: &str, input: Value) -> Value {
    app.ok(key, CREATE_API_KEY, json!({ "input": input })).await["createApiKey"].clone()
}

#[tokio::test]
async fn an_owner_makes_a_viewer_key_that_works() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = create_key(
        &app,
        &owner,
        json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "dashboard" }),
    )
    .await;
    let secret = made["secret"].as_str().expect("secret");
    assert!(!secret.is_empty());
    assert_eq!(made["apiKey"]["name"], "dashboard");
    assert_eq!(made["apiKey"]["role"], "VIEWER");
    assert_eq!(made["apiKey"]["organization"]["id"], fixture.org.as_str());
    assert_eq!(made["apiKey"]["tenant"], Value::Null);
    assert_eq!(made["apiKey"]["revokedAt"], Value::Null);

    let viewer = app
        .ok(secret, "{ viewer { role organization { id } } }", json!({}))
        .await;
    assert_eq!(
        viewer["viewer"],
        json!({ "role": "VIEWER", "organization": { "id": fixture.org } })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_owner_makes_a_tenant_admin_key_for_one_of_its_tenants() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = create_key(
        &app,
        &owner,
        json!({ "organizationId": fixture.org, "tenantId": id, "role": "TENANT_ADMIN", "name": "research" }),
    )
    .await;
    assert_eq!(made["apiKey"]["tenant"]["id"], id.as_str());
    let secret = made["secret"].as_str().expect("secret");
    let viewer = app.ok(secret, "{ viewer { role tenant { id } } }", json!({})).await;
    assert_eq!(
        viewer["viewer"],
        json!({ "role": "TENANT_ADMIN", "tenant": { "id": id } })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_admin_may_not_make_an_owner_key() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let admin = key(&app, "ADMIN", Some(&fixture.org), None).await;
    let input = json!({ "organizationId": fixture.org, "role": "OWNER", "name": "escalate" });
    let (code, message) = app.err(&admin, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");

    // An ADMIN key may still make the lesser ones.
    create_key(
        &app,
        &admin,
        json!({ "organizationId": fixture.org, "role": "ADMIN", "name": "peer" }),
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn keys_below_system_may_not_make_system_keys_or_keys_elsewhere() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;

    let cases = [
        (&owner, json!({ "role": "SYSTEM", "name": "root" }), "FORBIDDEN"),
        (
            &owner,
            json!({ "organizationId": other.org, "role": "VIEWER", "name": "x" }),
            "NOT_FOUND",
        ),
        (
            &viewer,
            json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "x" }),
            "FORBIDDEN",
        ),
    ];
    for (caller, input, expected) in cases {
        let (code, message) = app.err(caller, CREATE_API_KEY, json!({ "input": input })).await;
        assert_eq!(code, expected, "{input}: {message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admin_key_needs_a_tenant() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "organizationId": fixture.org, "role": "TENANT_ADMIN", "name": "no tenant" });
    let (code, message) = app.err(&owner, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("tenant"), "{message}");

    // A VIEWER cannot be limited to a tenant, and a non-SYSTEM key needs an organization.
    let id = tenant(&app, &fixture.org, "Research").await;
    let input = json!({ "organizationId": fixture.org, "tenantId": id, "role": "VIEWER", "name": "x" });
    let (code, message) = app.err(&owner, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    let input = json!({ "role": "VIEWER", "name": "x" });
    let (code, message) = app.err(SYSTEM_KEY, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = create_key(
        &app,
        &owner,
        json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "temporary" }),
    )
    .await;
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let key_id = made["apiKey"]["id"].as_str().expect("key id").to_owned();

    let ask = || {
        app.client
            .post(app.url("/graphql"))
            .bearer_auth(&secret)
            .json(&json!({ "query": "{ viewer { role } }" }))
            .send()
    };
    let before = ask().await.expect("request sent");
    assert_eq!(before.status(), reqwest::StatusCode::OK);

    let revoked = app.ok(&owner, REVOKE_API_KEY, json!({ "id": key_id })).await;
    assert_eq!(revoked["revokeApiKey"]["apiKey"]["id"], key_id.as_str());
    assert!(revoked["revokeApiKey"]["apiKey"]["revokedAt"].is_string(), "{revoked}");

    let after = ask().await.expect("request sent");
    assert_eq!(after.status(), reqwest::StatusCode::UNAUTHORIZED);
    let body: Value = after.json().await.expect("JSON answer");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");

    // The owner's own key still works.
    let viewer = app.ok(&owner, "{ viewer { role } }", json!({})).await;
    assert_eq!(viewer["viewer"]["role"], "OWNER");
    app.finish().await;
}

#[tokio::test]
async fn revoke_api_key_is_refused_to_a_viewer_and_does_not_find_unknown_keys() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let made = create_key(
        &app,
        SYSTEM_KEY,
        json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "target" }),
    )
    .await;
    let key_id = made["apiKey"]["id"].as_str().expect("key id").to_owned();
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;

    let (code, message) = app.err(&viewer, REVOKE_API_KEY, json!({ "id": key_id })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");
    let (code, message) = app.err(&stranger, REVOKE_API_KEY, json!({ "id": key_id })).await;
    assert_eq!(code, "NOT_FOUND", "{message}");
    let (code, message) = app.err(SYSTEM_KEY, REVOKE_API_KEY, json!({ "id": "not-an-id" })).await;
    assert_eq!(code, "NOT_FOUND", "{message}");

    // The key was not revoked by any of those.
    let still = app.ok(&secret, "{ viewer { role } }", json!({})).await;
    assert_eq!(still["viewer"]["role"], "VIEWER");
    app.finish().await;
}
