//! `createTenant` and `updateTenant`: renaming, disabling, enabling and soft deletion, and
//! what each refuses and to whom.

use serde_json::{Value, json};

use super::UPDATE_TENANT;
use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license, tenant};

const CREATE_TENANT: &str = "mutation($org: ID!, $name: String!) {
    createTenant(input: {organizationId: $org, name: $name}) { tenant { id name state } }
}";

const TENANTS: &str = "query($org: ID!, $states: [TenantState!]) {
    organization(id: $org) { tenants(states: $states) { nodes { id name state } } }
}";

async fn tenants(app: &TestApp, org: &str, states: Option<Value>) -> Vec<Value> {
    let data = app
        .ok(SYSTEM_KEY, TENANTS, json!({ "org": org, "states": states }))
        .await;
    data["organization"]["tenants"]["nodes"]
        .as_array()
        .expect("tenant nodes")
        .clone()
}

#[tokio::test]
async fn create_tenant_makes_an_active_tenant() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let data = app
        .ok(
            SYSTEM_KEY,
            CREATE_TENANT,
            json!({ "org": fixture.org, "name": "Research" }),
        )
        .await;
    let made = &data["createTenant"]["tenant"];
    assert_eq!(made["name"], "Research");
    assert_eq!(made["state"], "ACTIVE");
    assert_eq!(tenants(&app, &fixture.org, None).await, vec![made.clone()]);
    app.finish().await;
}

#[tokio::test]
async fn create_tenant_refuses_an_empty_name() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let (code, message) = app
        .err(SYSTEM_KEY, CREATE_TENANT, json!({ "org": fixture.org, "name": "   " }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(tenants(&app, &fixture.org, None).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_is_renamed_disabled_enabled_and_soft_deleted() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let update = |changes: Value| {
        let mut input = changes;
        input["tenantId"] = json!(id);
        json!({ "input": input })
    };

    let renamed = app
        .ok(SYSTEM_KEY, UPDATE_TENANT, update(json!({ "name": "R&D" })))
        .await;
    assert_eq!(
        renamed["updateTenant"]["tenant"],
        json!({ "id": id, "name": "R&D", "state": "ACTIVE" })
    );
    let disabled = app
        .ok(SYSTEM_KEY, UPDATE_TENANT, update(json!({ "state": "DISABLED" })))
        .await;
    assert_eq!(disabled["updateTenant"]["tenant"]["state"], "DISABLED");
    assert_eq!(disabled["updateTenant"]["tenant"]["name"], "R&D");
    let enabled = app
        .ok(SYSTEM_KEY, UPDATE_TENANT, update(json!({ "state": "ACTIVE" })))
        .await;
    assert_eq!(enabled["updateTenant"]["tenant"]["state"], "ACTIVE");
    let deleted = app
        .ok(SYSTEM_KEY, UPDATE_TENANT, update(json!({ "state": "DELETED" })))
        .await;
    assert_eq!(deleted["updateTenant"]["tenant"]["state"], "DELETED");

    // A soft delete: still listed, with its state, unless the states asked leave it out.
    let all = tenants(&app, &fixture.org, None).await;
    assert_eq!(all, vec![json!({ "id": id, "name": "R&D", "state": "DELETED" })]);
    assert!(tenants(&app, &fixture.org, Some(json!(["ACTIVE"]))).await.is_empty());
    assert_eq!(tenants(&app, &fixture.org, Some(json!(["DELETED"]))).await.len(), 1);
    let node = app
        .ok(
            SYSTEM_KEY,
            "query($id: ID!) { node(id: $id) { ... on Tenant { state } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(node["node"]["state"], "DELETED");
    app.finish().await;
}

#[tokio::test]
async fn a_deleted_tenant_cannot_come_back_or_be_renamed() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Gone").await;
    app.ok(
        SYSTEM_KEY,
        UPDATE_TENANT,
        json!({ "input": { "tenantId": id, "state": "DELETED" } }),
    )
    .await;
    for changes in [
        json!({ "tenantId": id, "state": "ACTIVE" }),
        json!({ "tenantId": id, "state": "DISABLED" }),
        json!({ "tenantId": id, "name": "Back" }),
    ] {
        let (code, message) = app.err(SYSTEM_KEY, UPDATE_TENANT, json!({ "input": changes })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{changes}: {message}");
    }
    assert_eq!(
        tenants(&app, &fixture.org, None).await,
        vec![json!({ "id": id, "name": "Gone", "state": "DELETED" })]
    );
    app.finish().await;
}

#[tokio::test]
async fn a_viewer_may_not_create_or_change_tenants_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let existing = tenant(&app, &fixture.org, "Research").await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let before = tenants(&app, &fixture.org, None).await;

    let (code, message) = app
        .err(&viewer, CREATE_TENANT, json!({ "org": fixture.org, "name": "Sneaky" }))
        .await;
    assert_eq!(code, "FORBIDDEN", "{message}");
    for changes in [
        json!({ "tenantId": existing, "name": "Renamed" }),
        json!({ "tenantId": existing, "state": "DELETED" }),
    ] {
        let (code, message) = app.err(&viewer, UPDATE_TENANT, json!({ "input": changes })).await;
        assert_eq!(code, "FORBIDDEN", "{changes}: {message}");
    }
    assert_eq!(tenants(&app, &fixture.org, None).await, before);
    app.finish().await;
}

#[tokio::test]
async fn an_owner_of_another_organization_does_not_find_its_tenants() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let existing = tenant(&app, &fixture.org, "Research").await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;
    let before = tenants(&app, &fixture.org, None).await;

    let (code, message) = app
        .err(
            &stranger,
            CREATE_TENANT,
            json!({ "org": fixture.org, "name": "Sneaky" }),
        )
        .await;
    assert_eq!(code, "NOT_FOUND", "{message}");
    let input = json!({ "tenantId": existing, "state": "DISABLED" });
    let (code, message) = app.err(&stranger, UPDATE_TENANT, json!({ "input": input })).await;
    assert_eq!(code, "NOT_FOUND", "{message}");

    assert_eq!(tenants(&app, &fixture.org, None).await, before);
    assert!(tenants(&app, &other.org, None).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn update_tenant_does_not_find_an_unknown_tenant() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    for id in ["not-an-id", fixture.org.as_str()] {
        let input = json!({ "tenantId": id, "name": "X" });
        let (code, message) = app.err(SYSTEM_KEY, UPDATE_TENANT, json!({ "input": input })).await;
        assert_eq!(code, "NOT_FOUND", "{id}: {message}");
    }
    app.finish().await;
}
