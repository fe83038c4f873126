//! `createUnitType`: the unit type made, and the codes and callers it refuses.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, acme, key};

/// `{ unitTypes { <fields> } }`: every unit type there is.
async fn unit_types(app: &TestApp, fields: &str) -> Value {
    app.ok(SYSTEM_KEY, &format!("{{ unitTypes {{ {fields} }} }}"), json!({}))
        .await["unitTypes"]
        .clone()
}

#[tokio::test]
async fn create_unit_type_returns_the_unit_type_made() {
    let app = TestApp::spawn().await;
    let input = json!({ "code": "test-executions", "name": "Test executions" });
    let data = app.mutate(SYSTEM_KEY, "createUnitType", input).await;
    let unit = &data["unitType"];
    assert!(unit["id"].as_str().is_some_and(|id| !id.is_empty()), "{unit}");
    assert_eq!(unit["code"], "test-executions");
    assert_eq!(unit["name"], "Test executions");
    assert_eq!(
        unit_types(&app, "code name").await,
        json!([{ "code": "test-executions", "name": "Test executions" }])
    );
    app.finish().await;
}

#[tokio::test]
async fn create_unit_type_refuses_a_code_already_taken() {
    let app = TestApp::spawn().await;
    let input = json!({ "code": "units", "name": "Units" });
    app.mutate(SYSTEM_KEY, "createUnitType", input).await;
    let again = json!({ "code": "units", "name": "Other units" });
    app.mutate_refused(SYSTEM_KEY, "createUnitType", again, "CONFLICT", &["units"])
        .await;
    assert_eq!(unit_types(&app, "name").await, json!([{ "name": "Units" }]));
    app.finish().await;
}

#[tokio::test]
async fn create_unit_type_refuses_a_malformed_code() {
    let app = TestApp::spawn().await;
    for bad in ["has space", "", "semi;colon"] {
        let input = json!({ "code": bad, "name": "Bad" });
        app.mutate_refused(SYSTEM_KEY, "createUnitType", input, "BAD_USER_INPUT", &["code"])
            .await;
    }
    assert_eq!(unit_types(&app, "code").await, json!([]));
    app.finish().await;
}

#[tokio::test]
async fn only_system_creates_unit_types() {
    let (app, fixture) = acme().await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "code": "robots", "name": "Robots" });
    app.mutate_refused(&owner, "createUnitType", input, "FORBIDDEN", &[])
        .await;
    assert_eq!(unit_types(&app, "code").await, json!([{ "code": "units" }]));
    app.finish().await;
}
