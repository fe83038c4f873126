//! `createFolder` and `createProcess`: nesting, ownership, and what each refuses and to
//! whom.

use serde_json::{Value, json};

use super::UPDATE_TENANT;
use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license, tenant};

const CREATE_FOLDER: &str = "mutation($tenant: ID!, $parent: ID, $name: String!) {
    createFolder(input: {tenantId: $tenant, parentId: $parent, name: $name}) {
        folder { id name parent { id } tenant { id } }
    }
}";

const CREATE_PROCESS: &str = "mutation($folder: ID!, $name: String!) {
    createProcess(input: {folderId: $folder, name: $name}) { process { id name folder { id } tenant { id } } }
}";

#[tokio::test]
async fn folders_nest_and_own_processes() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;

    let data = app
        .ok(SYSTEM_KEY, CREATE_FOLDER, json!({ "tenant": id, "name": "Shared" }))
        .await;
    let top = data["createFolder"]["folder"].clone();
    assert_eq!(top["name"], "Shared");
    assert_eq!(top["parent"], Value::Null);
    assert_eq!(top["tenant"]["id"], id.as_str());
    let top_id = top["id"].as_str().expect("folder id");

    let data = app
        .ok(
            SYSTEM_KEY,
            CREATE_FOLDER,
            json!({ "tenant": id, "parent": top_id, "name": "Nightly" }),
        )
        .await;
    let child = data["createFolder"]["folder"].clone();
    assert_eq!(child["parent"]["id"], top_id);
    let child_id = child["id"].as_str().expect("folder id");

    let data = app
        .ok(
            SYSTEM_KEY,
            CREATE_PROCESS,
            json!({ "folder": child_id, "name": "Invoices" }),
        )
        .await;
    let process = &data["createProcess"]["process"];
    assert_eq!(process["name"], "Invoices");
    assert_eq!(process["folder"]["id"], child_id);
    assert_eq!(process["tenant"]["id"], id.as_str());
    app.ok(
        SYSTEM_KEY,
        CREATE_PROCESS,
        json!({ "folder": top_id, "name": "Payroll" }),
    )
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
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let mine = tenant(&app, &fixture.org, "Mine").await;
    let theirs = tenant(&app, &fixture.org, "Theirs").await;
    let data = app
        .ok(SYSTEM_KEY, CREATE_FOLDER, json!({ "tenant": theirs, "name": "Theirs" }))
        .await;
    let foreign = data["createFolder"]["folder"]["id"]
        .as_str()
        .expect("folder id")
        .to_owned();

    for parent in [foreign.as_str(), "not-an-id", mine.as_str()] {
        let (code, message) = app
            .err(
                SYSTEM_KEY,
                CREATE_FOLDER,
                json!({ "tenant": mine, "parent": parent, "name": "Child" }),
            )
            .await;
        assert_eq!(code, "NOT_FOUND", "{parent}: {message}");
    }
    let folders = app
        .ok(
            SYSTEM_KEY,
            "query($id: ID!) { node(id: $id) { ... on Tenant { folders { nodes { id } } } } }",
            json!({ "id": mine }),
        )
        .await;
    assert_eq!(folders["node"]["folders"]["nodes"], json!([]), "nothing was written");
    app.finish().await;
}

#[tokio::test]
async fn create_folder_and_process_are_refused_to_a_viewer_and_hidden_from_a_stranger() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let data = app
        .ok(SYSTEM_KEY, CREATE_FOLDER, json!({ "tenant": id, "name": "Shared" }))
        .await;
    let folder = data["createFolder"]["folder"]["id"]
        .as_str()
        .expect("folder id")
        .to_owned();
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;

    for (caller, expected) in [(&viewer, "FORBIDDEN"), (&stranger, "NOT_FOUND")] {
        let (code, message) = app
            .err(caller, CREATE_FOLDER, json!({ "tenant": id, "name": "X" }))
            .await;
        assert_eq!(code, expected, "createFolder: {message}");
        let (code, message) = app
            .err(caller, CREATE_PROCESS, json!({ "folder": folder, "name": "X" }))
            .await;
        assert_eq!(code, expected, "createProcess: {message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn folders_and_processes_are_refused_in_a_deleted_tenant() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Gone").await;
    let data = app
        .ok(SYSTEM_KEY, CREATE_FOLDER, json!({ "tenant": id, "name": "Shared" }))
        .await;
    let folder = data["createFolder"]["folder"]["id"]
        .as_str()
        .expect("folder id")
        .to_owned();
    app.ok(
        SYSTEM_KEY,
        UPDATE_TENANT,
        json!({ "input": { "tenantId": id, "state": "DELETED" } }),
    )
    .await;

    let (code, message) = app
        .err(SYSTEM_KEY, CREATE_FOLDER, json!({ "tenant": id, "name": "More" }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("DELETED"), "{message}");
    let (code, message) = app
        .err(SYSTEM_KEY, CREATE_PROCESS, json!({ "folder": folder, "name": "P" }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    app.finish().await;
}

#[tokio::test]
async fn create_process_does_not_find_an_unknown_folder() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;

    let elsewhere = TestApp::spawn().await;
    let far = organization_with_license(&elsewhere, "elsewhere", "1000").await;
    let far_tenant = tenant(&elsewhere, &far.org, "Far").await;
    let data = elsewhere
        .ok(
            SYSTEM_KEY,
            CREATE_FOLDER,
            json!({ "tenant": far_tenant, "name": "Far" }),
        )
        .await;
    let missing = data["createFolder"]["folder"]["id"]
        .as_str()
        .expect("folder id")
        .to_owned();
    elsewhere.finish().await;

    for folder in [missing.as_str(), "not-an-id", id.as_str()] {
        let (code, message) = app
            .err(SYSTEM_KEY, CREATE_PROCESS, json!({ "folder": folder, "name": "P" }))
            .await;
        assert_eq!(code, "NOT_FOUND", "{folder}: {message}");
    }
    app.finish().await;
}
