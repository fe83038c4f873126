//! `createApiKey` and `revokeApiKey`: which roles make which keys, and revocation.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme, acme_with_tenants, assert_error, globex_owner, key, organization_with_license, tenant,
};

/// `createApiKey`'s input: a key of `role` named `name` in `org`.
fn new_key(org: &str, role: &str, name: &str) -> Value {
    json!({ "organizationId": org, "role": role, "name": name })
}

/// Whom `secret` authenticates: its viewer's `fields`.
async fn viewer(app: &TestApp, secret: &str, fields: &str) -> Value {
    app.ok(secret, &format!("{{ viewer {{ {fields} }} }}"), json!({})).await["viewer"].clone()
}

#[tokio::test]
async fn an_owner_makes_a_viewer_key_that_works() {
    let (app, fixture) = acme().await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = app
        .mutate(&owner, "createApiKey", new_key(&fixture.org, "VIEWER", "dashboard"))
        .await;
    let secret = made["secret"].as_str().expect("secret");
    assert!(!secret.is_empty());
    assert_eq!(made["apiKey"]["name"], "dashboard");
    assert_eq!(made["apiKey"]["role"], "VIEWER");
    assert_eq!(made["apiKey"]["organization"]["id"], fixture.org.as_str());
    assert_eq!(made["apiKey"]["tenant"], Value::Null);
    assert_eq!(made["apiKey"]["revokedAt"], Value::Null);
    assert_eq!(
        viewer(&app, secret, "role organization { id }").await,
        json!({ "role": "VIEWER", "organization": { "id": fixture.org } })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_owner_makes_a_tenant_admin_key_for_one_of_its_tenants() {
    let (app, fixture, [id]) = acme_with_tenants(["Research"]).await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let mut input = new_key(&fixture.org, "TENANT_ADMIN", "research");
    input["tenantId"] = json!(id);
    let made = app.mutate(&owner, "createApiKey", input).await;
    assert_eq!(made["apiKey"]["tenant"]["id"], id.as_str());
    let secret = made["secret"].as_str().expect("secret");
    assert_eq!(
        viewer(&app, secret, "role tenant { id }").await,
        json!({ "role": "TENANT_ADMIN", "tenant": { "id": id } })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_admin_may_not_make_an_owner_key() {
    let (app, fixture) = acme().await;
    let admin = key(&app, "ADMIN", Some(&fixture.org), None).await;
    let input = new_key(&fixture.org, "OWNER", "escalate");
    app.mutate_refused(&admin, "createApiKey", input, "FORBIDDEN", &[])
        .await;

    // An ADMIN key may still make the lesser ones.
    app.mutate(&admin, "createApiKey", new_key(&fixture.org, "ADMIN", "peer"))
        .await;
    app.finish().await;
}

#[tokio::test]
async fn keys_below_system_may_not_make_system_keys_or_keys_elsewhere() {
    let (app, fixture) = acme().await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;

    let cases = [
        (&owner, json!({ "role": "SYSTEM", "name": "root" }), "FORBIDDEN"),
        (&owner, new_key(&other.org, "VIEWER", "x"), "NOT_FOUND"),
        (&viewer, new_key(&fixture.org, "VIEWER", "x"), "FORBIDDEN"),
    ];
    for (caller, input, expected) in cases {
        app.mutate_refused(caller, "createApiKey", input, expected, &[]).await;
    }
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admin_key_needs_a_tenant() {
    let (app, fixture) = acme().await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = new_key(&fixture.org, "TENANT_ADMIN", "no tenant");
    app.mutate_refused(&owner, "createApiKey", input, "BAD_USER_INPUT", &["tenant"])
        .await;

    // A VIEWER cannot be limited to a tenant, and a non-SYSTEM key needs an organization.
    let id = tenant(&app, &fixture.org, "Research").await;
    let mut input = new_key(&fixture.org, "VIEWER", "x");
    input["tenantId"] = json!(id);
    app.mutate_refused(&owner, "createApiKey", input, "BAD_USER_INPUT", &[])
        .await;
    let input = json!({ "role": "VIEWER", "name": "x" });
    app.mutate_refused(SYSTEM_KEY, "createApiKey", input, "BAD_USER_INPUT", &[])
        .await;
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_key_is_unauthenticated() {
    let (app, fixture) = acme().await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = app
        .mutate(&owner, "createApiKey", new_key(&fixture.org, "VIEWER", "temporary"))
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

    let revoked = app.mutate(&owner, "revokeApiKey", json!({ "apiKeyId": key_id })).await;
    assert_eq!(revoked["apiKey"]["id"], key_id.as_str());
    assert!(revoked["apiKey"]["revokedAt"].is_string(), "{revoked}");

    let after = ask().await.expect("request sent");
    assert_eq!(after.status(), reqwest::StatusCode::UNAUTHORIZED);
    assert_error(&after.json().await.expect("JSON answer"), "UNAUTHENTICATED", &[]);

    // The owner's own key still works.
    assert_eq!(viewer(&app, &owner, "role").await["role"], "OWNER");
    app.finish().await;
}

#[tokio::test]
async fn revoke_api_key_is_refused_to_a_viewer_and_does_not_find_unknown_keys() {
    let (app, fixture) = acme().await;
    let (_, stranger) = globex_owner(&app).await;
    let made = app
        .mutate(SYSTEM_KEY, "createApiKey", new_key(&fixture.org, "VIEWER", "target"))
        .await;
    let key_id = made["apiKey"]["id"].as_str().expect("key id").to_owned();
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let viewer_key = key(&app, "VIEWER", Some(&fixture.org), None).await;

    for (caller, id, expected) in [
        (viewer_key.as_str(), key_id.as_str(), "FORBIDDEN"),
        (&stranger, &key_id, "NOT_FOUND"),
        (SYSTEM_KEY, "not-an-id", "NOT_FOUND"),
    ] {
        app.mutate_refused(caller, "revokeApiKey", json!({ "apiKeyId": id }), expected, &[])
            .await;
    }

    // The key was not revoked by any of those.
    assert_eq!(viewer(&app, &secret, "role").await["role"], "VIEWER");
    app.finish().await;
}
