//! The service catalog (docs/design.md §15.3): every service usage named is listed, the
//! operator names it, and the name shows wherever the service does; a service's share is
//! a fraction, `percent` stays but is deprecated.

use serde_json::{Value, json};

use crate::helpers::*;

const SERVICES: &str = "{ services { code name } }";
const BY_SERVICE: &str =
    "usage(unitType: \"units\") { byService { total services { service { code name } consumed share percent } } }";

async fn catalog(app: &TestApp, key: &str) -> Value {
    app.ok(key, SERVICES, json!({})).await["services"].clone()
}

async fn recorded(app: &TestApp, tenant: &str) {
    record(
        app,
        [
            event("r", tenant, "30", "2026-11-20T10:00:00Z"),
            event("o", tenant, "10", "2026-11-20T11:00:00Z").with(json!({ "service": "orchestrator" })),
        ],
    )
    .await;
}

#[tokio::test]
async fn every_service_seen_is_listed_by_code_with_its_code_as_first_name() {
    let (app, fx, [t]) = acme_with_tenants(["t"]).await;
    assert_eq!(catalog(&app, SYSTEM_KEY).await, json!([]));
    recorded(&app, &t).await;
    let expected = json!([
        { "code": "orchestrator", "name": "orchestrator" },
        { "code": "robots", "name": "robots" },
    ]);
    assert_eq!(catalog(&app, SYSTEM_KEY).await, expected);
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    assert_eq!(catalog(&app, &viewer).await, expected);
    app.finish().await;
}

#[tokio::test]
async fn the_operators_name_shows_in_graphql_and_in_the_export() {
    let (app, fx, [t]) = acme_with_tenants(["t"]).await;
    recorded(&app, &t).await;
    let made = app
        .mutate(
            SYSTEM_KEY,
            "updateService",
            json!({ "code": "robots", "name": "  Unattended Robots " }),
        )
        .await;
    assert_eq!(
        made["service"],
        json!({ "code": "robots", "name": "Unattended Robots" })
    );
    let usage = app.organization(SYSTEM_KEY, &fx.org, BY_SERVICE).await;
    let services = &usage["usage"]["byService"]["services"];
    assert_eq!(
        services[0]["service"],
        json!({ "code": "robots", "name": "Unattended Robots" })
    );
    assert_eq!(services[0]["consumed"], "30");
    assert_eq!(services[0]["share"].as_f64(), Some(0.75));
    assert_eq!(services[0]["percent"].as_f64(), Some(75.0));
    assert_eq!(services[1]["share"].as_f64(), Some(0.25));
    let query = [("organization", fx.org.as_str()), ("unitType", "units")];
    let (header, rows) = export(&app, SYSTEM_KEY, "services", &query).await;
    assert_eq!(header, ["service", "name", "consumed", "share", "percent"]);
    assert_eq!(rows[0][..4], ["robots", "Unattended Robots", "30", "0.75"]);
    app.finish().await;
}

#[tokio::test]
async fn only_the_operator_names_a_service_and_bad_names_are_refused() {
    let (app, fx, [t]) = acme_with_tenants(["t"]).await;
    recorded(&app, &t).await;
    for role in ["OWNER", "ADMIN", "BILLING_MANAGER"] {
        let customer = key(&app, role, Some(&fx.org), None).await;
        let input = json!({ "code": "robots", "name": "Mine" });
        app.mutate_refused(&customer, "updateService", input, "FORBIDDEN", &[role])
            .await;
    }
    let unknown = json!({ "code": "ghosts", "name": "Ghosts" });
    app.mutate_refused(SYSTEM_KEY, "updateService", unknown, "NOT_FOUND", &["ghosts"])
        .await;
    let blank = json!({ "code": "robots", "name": "   " });
    app.mutate_refused(SYSTEM_KEY, "updateService", blank, "BAD_USER_INPUT", &["name"])
        .await;
    assert_eq!(
        catalog(&app, SYSTEM_KEY).await[1],
        json!({ "code": "robots", "name": "robots" })
    );
    app.finish().await;
}

#[tokio::test]
async fn percent_is_deprecated_in_favour_of_share() {
    let app = TestApp::spawn().await;
    let data = app
        .ok(
            SYSTEM_KEY,
            "{ __type(name: \"ServiceUsage\") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } } }",
            json!({}),
        )
        .await;
    let fields = data["__type"]["fields"].as_array().unwrap();
    let field = |name: &str| fields.iter().find(|f| f["name"] == name).unwrap();
    assert_eq!(field("share")["isDeprecated"], false);
    assert_eq!(field("percent")["isDeprecated"], true);
    assert!(
        field("percent")["deprecationReason"]
            .as_str()
            .unwrap()
            .contains("share")
    );
    app.finish().await;
}
