//! Controls read back (docs/design.md §15.3): a tenant's consumption control as it was set
//! (null: the defaults), and the organization's alert thresholds per unit type, set by its
//! OWNER or ADMIN and refused with the numbers when out of range.

use serde_json::{Value, json};

use crate::helpers::*;

const DEFAULT_THRESHOLDS: [f64; 4] = [0.5, 0.75, 0.95, 1.0];

async fn tenant_control(app: &TestApp, key: &str, tenant: &str) -> Value {
    let query = "query($t: ID!) { node(id: $t) { ... on Tenant { consumptionControl(unitType: \"units\") { stopAtAllocation alertThresholds } } } }";
    app.ok(key, query, json!({ "t": tenant })).await["node"].clone()
}

async fn thresholds(app: &TestApp, key: &str, org: &str, unit_type: &str) -> Value {
    let field = format!("alertThresholds(unitType: \"{unit_type}\")");
    app.organization(key, org, &field).await["alertThresholds"].clone()
}

fn set(org: &str, thresholds: Value) -> Value {
    json!({ "organizationId": org, "unitType": "units", "thresholds": thresholds })
}

#[tokio::test]
async fn a_tenants_control_reads_back_as_set_and_null_means_the_defaults() {
    let (app, fx, [a, b]) = acme_with_tenants(["a", "b"]).await;
    assert_eq!(
        tenant_control(&app, SYSTEM_KEY, &a).await,
        json!({ "consumptionControl": null })
    );
    allocate(&app, &a, Some("100")).await;
    let input =
        json!({ "tenantId": a, "unitType": "units", "stopAtAllocation": ["robots"], "alertThresholds": [0.9, 0.25] });
    app.mutate(SYSTEM_KEY, "setConsumptionControl", input).await;
    let expected = json!({ "consumptionControl": { "stopAtAllocation": ["robots"], "alertThresholds": [0.25, 0.9] } });
    assert_eq!(tenant_control(&app, SYSTEM_KEY, &a).await, expected);
    // Whoever sees the tenant reads its control; a tenant admin of another tenant sees no tenant.
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    assert_eq!(tenant_control(&app, &viewer, &a).await, expected);
    let own = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&a)).await;
    assert_eq!(tenant_control(&app, &own, &a).await, expected);
    let other = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&b)).await;
    assert_eq!(tenant_control(&app, &other, &a).await, Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn an_owner_or_admin_sets_the_organizations_thresholds_per_unit_type() {
    let (app, fx) = acme().await;
    create_unit_type(&app, "spare", "Spare").await;
    assert_eq!(
        thresholds(&app, SYSTEM_KEY, &fx.org, "units").await,
        json!(DEFAULT_THRESHOLDS)
    );
    let owner = key(&app, "OWNER", Some(&fx.org), None).await;
    let made = app
        .mutate(
            &owner,
            "setOrganizationAlertThresholds",
            set(&fx.org, json!([1.2, 0.8])),
        )
        .await;
    assert_eq!(made["organization"]["alertThresholds"], json!([0.8, 1.2]));
    let admin = key(&app, "ADMIN", Some(&fx.org), None).await;
    let ten: Vec<f64> = (1..=10).map(|i| f64::from(i) / 10.0).collect();
    app.mutate(&admin, "setOrganizationAlertThresholds", set(&fx.org, json!(ten)))
        .await;
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    assert_eq!(thresholds(&app, &viewer, &fx.org, "units").await, json!(ten));
    // Another unit type keeps the defaults.
    assert_eq!(
        thresholds(&app, &viewer, &fx.org, "spare").await,
        json!(DEFAULT_THRESHOLDS)
    );
    let log = app
        .organization(
            &owner,
            &fx.org,
            "auditLog(first: 50) { edges { node { action after } } }",
        )
        .await;
    let entries: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "setOrganizationAlertThresholds")
        .collect();
    assert_eq!(entries.len(), 2, "{log:#}");
    app.finish().await;
}

#[tokio::test]
async fn other_roles_and_bad_thresholds_are_refused_and_change_nothing() {
    let (app, fx) = acme().await;
    for role in ["BILLING_MANAGER", "VIEWER"] {
        let customer = key(&app, role, Some(&fx.org), None).await;
        app.mutate_refused(
            &customer,
            "setOrganizationAlertThresholds",
            set(&fx.org, json!([0.5])),
            "FORBIDDEN",
            &[role],
        )
        .await;
    }
    let eleven: Vec<f64> = (1..=11).map(|i| f64::from(i) / 10.0).collect();
    for (given, words) in [
        (json!([0.5, 0]), vec!["thresholds[1]", "0", "(0, 10]"]),
        (json!([10.5]), vec!["thresholds[0]", "10.5", "(0, 10]"]),
        (json!([-1]), vec!["thresholds[0]", "-1"]),
        (json!(eleven), vec!["at most 10", "11 were given"]),
        (json!([0.5, 0.5]), vec!["thresholds", "twice"]),
    ] {
        app.mutate_refused(
            SYSTEM_KEY,
            "setOrganizationAlertThresholds",
            set(&fx.org, given),
            "BAD_USER_INPUT",
            &words,
        )
        .await;
    }
    let unknown = json!({ "organizationId": fx.org, "unitType": "nope", "thresholds": [0.5] });
    app.mutate_refused(
        SYSTEM_KEY,
        "setOrganizationAlertThresholds",
        unknown,
        "BAD_USER_INPUT",
        &["unitType", "nope"],
    )
    .await;
    assert_eq!(
        thresholds(&app, SYSTEM_KEY, &fx.org, "units").await,
        json!(DEFAULT_THRESHOLDS)
    );
    // Another organization's owner does not see this one.
    let (_, globex) = globex_owner(&app).await;
    app.mutate_refused(
        &globex,
        "setOrganizationAlertThresholds",
        set(&fx.org, json!([0.5])),
        "NOT_FOUND",
        &[],
    )
    .await;
    app.finish().await;
}
