//! `createFolder` and `createProcess`: nesting, ownership, and what each refuses and to
//! whom.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme, acme_with_tenants, create_folder, globex_owner, key, organization_with_license,
    set_tenant_state, tenant,
};

/// `createFolder`'s input: `name` in `tenant`, under `parent` if given.
fn folder(tenant: &str, parent: Option<&str>, name: &str) -> Value {
    json!({ "tenantId": tenant, "parentId": parent, "name": name })
}

/// `createProcess`'s input: `name` in `folder`.
fn process(folder: &str, name: &str) -> Value {
    json!({ "folderId": folder, "name": name })
}

/// The ids of a tenant's top folders.
async fn top_folders(app: &TestApp, tenant: &str) -> Value {
    let query = "query($id: ID!) { node(id: $id) { ... on Tenant { folders { nodes { id } } } } }";
    app.ok(SYSTEM_KEY, query, json!({ "id": tenant })).await["node"]["folders"]["nodes"].clone()
}

#[tokio::test]
async fn folders_nest_and_own_processes() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;

    let top = app
        .mutate(SYSTEM_KEY, "createFolder", folder(&id, None, "Shared"))
        .await["folder"]
        .clone();
    assert_eq!(top["name"], "Shared");
    assert_eq!(top["parent"], Value::Null);
    assert_eq!(top["tenant"]["id"], id.as_str());
    let top_id = top["id"].as_str().expect("folder id");

    let child = app
        .mutate(SYSTEM_KEY, "createFolder", folder(&id, Some(top_id), "Nightly"))
        .await["folder"]
        .clone();
    assert_eq!(child["parent"]["id"], top_id);
    let child_id = child["id"].as_str().expect("folder id");

    let made = app
        .mutate(SYSTEM_KEY, "createProcess", process(child_id, "Invoices"))
        .await;
    let made = &made["process"];
    assert_eq!(made["name"], "Invoices");
    assert_eq!(made["folder"]["id"], child_id);
    assert_eq!(made["tenant"]["id"], id.as_str());
    app.mutate(SYSTEM_KEY, "createProcess", process(top_id, "Payroll"))
        .await;

    let tree = app
        .ok(
            SYSTEM_KEY,
            "query($id: ID!) { node(id: $id) { ... on Tenant { folders { nodes {
                name processes { nodes { name } }
                children { nodes { name parent { name } processes { nodes { name folder { name } } } } }
            } } } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        tree["node"]["folders"]["nodes"],
        json!([{
            "name": "Shared",
            "processes": { "nodes": [{ "name": "Payroll" }] },
            "children": { "nodes": [{
                "name": "Nightly",
                "parent": { "name": "Shared" },
                "processes": { "nodes": [{ "name": "Invoices", "folder": { "name": "Nightly" } }] },
            }] },
        }])
    );
    app.finish().await;
}

#[tokio::test]
async fn create_folder_does_not_find_a_parent_in_another_tenant() {
    let (app, _, [mine, theirs]) = acme_with_tenants(["Mine", "Theirs"]).await;
    let foreign = create_folder(&app, &theirs, None, "Theirs").await;

    for parent in [foreign.as_str(), "not-an-id", mine.as_str()] {
        let input = folder(&mine, Some(parent), "Child");
        app.mutate_refused(SYSTEM_KEY, "createFolder", input, "NOT_FOUND", &[])
            .await;
    }
    assert_eq!(top_folders(&app, &mine).await, json!([]), "nothing was written");
    app.finish().await;
}

#[tokio::test]
async fn create_folder_and_process_are_refused_to_a_viewer_and_hidden_from_a_stranger() {
    let (app, fixture) = acme().await;
    let (_, stranger) = globex_owner(&app).await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let shared = create_folder(&app, &id, None, "Shared").await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;

    for (caller, expected) in [(&viewer, "FORBIDDEN"), (&stranger, "NOT_FOUND")] {
        app.mutate_refused(caller, "createFolder", folder(&id, None, "X"), expected, &[])
            .await;
        app.mutate_refused(caller, "createProcess", process(&shared, "X"), expected, &[])
            .await;
    }
    app.finish().await;
}

#[tokio::test]
async fn folders_and_processes_are_refused_in_a_deleted_tenant() {
    let (app, _, [id]) = acme_with_tenants(["Gone"]).await;
    let shared = create_folder(&app, &id, None, "Shared").await;
    set_tenant_state(&app, &id, "DELETED").await;

    let input = folder(&id, None, "More");
    app.mutate_refused(SYSTEM_KEY, "createFolder", input, "BAD_USER_INPUT", &["DELETED"])
        .await;
    app.mutate_refused(
        SYSTEM_KEY,
        "createProcess",
        process(&shared, "P"),
        "BAD_USER_INPUT",
        &[],
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn create_process_does_not_find_an_unknown_folder() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;

    let elsewhere = TestApp::spawn().await;
    let far = organization_with_license(&elsewhere, "elsewhere", "1000").await;
    let far_tenant = tenant(&elsewhere, &far.org, "Far").await;
    let missing = create_folder(&elsewhere, &far_tenant, None, "Far").await;
    elsewhere.finish().await;

    for folder in [missing.as_str(), "not-an-id", id.as_str()] {
        app.mutate_refused(SYSTEM_KEY, "createProcess", process(folder, "P"), "NOT_FOUND", &[])
            .await;
    }
    app.finish().await;
}
