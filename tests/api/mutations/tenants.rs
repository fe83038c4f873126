//! `createTenant` and `updateTenant`: renaming, disabling, enabling and soft deletion, and
//! what each refuses and to whom.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, acme, acme_with_tenants, globex_owner, key, set_tenant_state, tenant};

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

/// `createTenant`'s input: `name` in `org`.
fn new_tenant(org: &str, name: &str) -> Value {
    json!({ "organizationId": org, "name": name })
}

#[tokio::test]
async fn create_tenant_makes_an_active_tenant() {
    let (app, fixture) = acme().await;
    let data = app
        .mutate(SYSTEM_KEY, "createTenant", new_tenant(&fixture.org, "Research"))
        .await;
    let made = &data["tenant"];
    assert_eq!(made["name"], "Research");
    assert_eq!(made["state"], "ACTIVE");
    assert_eq!(tenants(&app, &fixture.org, None).await, vec![made.clone()]);
    app.finish().await;
}

#[tokio::test]
async fn create_tenant_refuses_an_empty_name() {
    let (app, fixture) = acme().await;
    let input = new_tenant(&fixture.org, "   ");
    app.mutate_refused(SYSTEM_KEY, "createTenant", input, "BAD_USER_INPUT", &[])
        .await;
    assert!(tenants(&app, &fixture.org, None).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_is_renamed_disabled_enabled_and_soft_deleted() {
    let (app, fixture, [id]) = acme_with_tenants(["Research"]).await;
    let update = |changes: Value| {
        let mut input = changes;
        input["tenantId"] = json!(id);
        app.mutate(SYSTEM_KEY, "updateTenant", input)
    };

    let renamed = update(json!({ "name": "R&D" })).await;
    assert_eq!(renamed["tenant"], json!({ "id": id, "name": "R&D", "state": "ACTIVE" }));
    let disabled = update(json!({ "state": "DISABLED" })).await;
    assert_eq!(disabled["tenant"]["state"], "DISABLED");
    assert_eq!(disabled["tenant"]["name"], "R&D");
    assert_eq!(update(json!({ "state": "ACTIVE" })).await["tenant"]["state"], "ACTIVE");
    assert_eq!(
        update(json!({ "state": "DELETED" })).await["tenant"]["state"],
        "DELETED"
    );

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
    let (app, fixture, [id]) = acme_with_tenants(["Gone"]).await;
    set_tenant_state(&app, &id, "DELETED").await;
    for changes in [
        json!({ "tenantId": id, "state": "ACTIVE" }),
        json!({ "tenantId": id, "state": "DISABLED" }),
        json!({ "tenantId": id, "name": "Back" }),
    ] {
        app.mutate_refused(SYSTEM_KEY, "updateTenant", changes, "BAD_USER_INPUT", &[])
            .await;
    }
    assert_eq!(
        tenants(&app, &fixture.org, None).await,
        vec![json!({ "id": id, "name": "Gone", "state": "DELETED" })]
    );
    app.finish().await;
}

#[tokio::test]
async fn a_viewer_may_not_create_or_change_tenants_and_nothing_is_written() {
    let (app, fixture, [existing]) = acme_with_tenants(["Research"]).await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let before = tenants(&app, &fixture.org, None).await;

    let input = new_tenant(&fixture.org, "Sneaky");
    app.mutate_refused(&viewer, "createTenant", input, "FORBIDDEN", &[])
        .await;
    for changes in [
        json!({ "tenantId": existing, "name": "Renamed" }),
        json!({ "tenantId": existing, "state": "DELETED" }),
    ] {
        app.mutate_refused(&viewer, "updateTenant", changes, "FORBIDDEN", &[])
            .await;
    }
    assert_eq!(tenants(&app, &fixture.org, None).await, before);
    app.finish().await;
}

#[tokio::test]
async fn an_owner_of_another_organization_does_not_find_its_tenants() {
    let (app, fixture) = acme().await;
    let (other, stranger) = globex_owner(&app).await;
    let existing = tenant(&app, &fixture.org, "Research").await;
    let before = tenants(&app, &fixture.org, None).await;

    let input = new_tenant(&fixture.org, "Sneaky");
    app.mutate_refused(&stranger, "createTenant", input, "NOT_FOUND", &[])
        .await;
    let input = json!({ "tenantId": existing, "state": "DISABLED" });
    app.mutate_refused(&stranger, "updateTenant", input, "NOT_FOUND", &[])
        .await;

    assert_eq!(tenants(&app, &fixture.org, None).await, before);
    assert!(tenants(&app, &other.org, None).await.is_empty());
    app.finish().await;
}

#[tokio::test]
async fn update_tenant_does_not_find_an_unknown_tenant() {
    let (app, fixture) = acme().await;
    for id in ["not-an-id", fixture.org.as_str()] {
        let input = json!({ "tenantId": id, "name": "X" });
        app.mutate_refused(SYSTEM_KEY, "updateTenant", input, "NOT_FOUND", &[])
            .await;
    }
    app.finish().await;
}
