//! `createUnitType`: the unit type made, and the codes and callers it refuses.

use serde_json::json;

use super::CREATE_UNIT_TYPE;
use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license};

#[tokio::test]
async fn create_unit_type_returns_the_unit_type_made() {
    let app = TestApp::spawn().await;
    let input = json!({ "code": "test-executions", "name": "Test executions" });
    let data = app.ok(SYSTEM_KEY, CREATE_UNIT_TYPE, json!({ "input": input })).await;
    let unit = &data["createUnitType"]["unitType"];
    assert!(unit["id"].as_str().is_some_and(|id| !id.is_empty()), "{unit}");
    assert_eq!(unit["code"], "test-executions");
    assert_eq!(unit["name"], "Test executions");

    let listed = app.ok(SYSTEM_KEY, "{ unitTypes { code name } }", json!({})).await;
    assert_eq!(
        listed["unitTypes"],
        json!([{ "code": "test-executions", "name": "Test executions" }])
    );
    app.finish().await;
}

#[tokio::test]
async fn create_unit_type_refuses_a_code_already_taken() {
    let app = TestApp::spawn().await;
    let input = json!({ "code": "units", "name": "Units" });
    app.ok(SYSTEM_KEY, CREATE_UNIT_TYPE, json!({ "input": input })).await;
    let again = json!({ "code": "units", "name": "Other units" });
    let (code, message) = app.err(SYSTEM_KEY, CREATE_UNIT_TYPE, json!({ "input": again })).await;
    assert_eq!(code, "CONFLICT", "{message}");
    assert!(message.contains("units"), "{message}");

    let listed = app.ok(SYSTEM_KEY, "{ unitTypes { name } }", json!({})).await;
    assert_eq!(listed["unitTypes"], json!([{ "name": "Units" }]));
    app.finish().await;
}

#[tokio::test]
async fn create_unit_type_refuses_a_malformed_code() {
    let app = TestApp::spawn().await;
    for bad in ["has space", "", "semi;colon"] {
        let input = json!({ "code": bad, "name": "Bad" });
        let (code, message) = app.err(SYSTEM_KEY, CREATE_UNIT_TYPE, json!({ "input": input })).await;
        assert_eq!(code, "BAD_USER_INPUT", "{bad:?}: {message}");
        assert!(message.contains("code"), "{message}");
    }
    let listed = app.ok(SYSTEM_KEY, "{ unitTypes { code } }", json!({})).await;
    assert_eq!(listed["unitTypes"], json!([]));
    app.finish().await;
}

#[tokio::test]
async fn only_system_creates_unit_types() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "code": "robots", "name": "Robots" });
    let (code, message) = app.err(&owner, CREATE_UNIT_TYPE, json!({ "input": input })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");

    let listed = app.ok(SYSTEM_KEY, "{ unitTypes { code } }", json!({})).await;
    assert_eq!(listed["unitTypes"], json!([{ "code": "units" }]));
    app.finish().await;
}
