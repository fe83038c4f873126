//! The fixture builders: what a test needs before it starts, made through the GraphQL API
//! as SYSTEM, so that a test's data passes the same checks as a client's. Each returns the
//! id of what it made (a key: its secret).

use serde_json::{Value, json};

use super::{SYSTEM_KEY, TestApp};

/// Creates the unit type `code` unless it exists.
pub async fn create_unit_type(app: &TestApp, code: &str, name: &str) {
    // CONFLICT when a test made it already: the answer is not checked.
    let _ = app
        .gql(
            SYSTEM_KEY,
            "mutation($code: String!, $name: String!) { createUnitType(input: {code: $code, name: $name}) { unitType { code } } }",
            json!({ "code": code, "name": name }),
        )
        .await;
}

/// Creates an organization (named "Org", `slug`, in `time_zone`) and returns its id.
pub async fn create_organization(app: &TestApp, slug: &str, time_zone: &str) -> String {
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($slug: String!, $zone: String!) { createOrganization(input: {name: \"Org\", slug: $slug, timeZone: $zone}) { organization { id timeZone } } }",
            json!({ "slug": slug, "zone": time_zone }),
        )
        .await;
    let organization = &data["createOrganization"]["organization"];
    assert_eq!(organization["timeZone"], time_zone);
    organization["id"].as_str().expect("id").to_owned()
}

/// Creates a license of `org` and returns its id: of unit type `units`, plan "Plan",
/// monthly from 2026-01-01, with `fields` (`CreateLicenseInput`'s, `capacity` at least)
/// added or replacing those.
pub async fn create_license(app: &TestApp, org: &str, fields: Value) -> String {
    let mut input = json!({
        "organizationId": org, "unitType": "units", "planName": "Plan", "period": "MONTH",
        "startsOn": "2026-01-01",
    });
    set(&mut input, fields);
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($input: CreateLicenseInput!) { createLicense(input: $input) { license { id } } }",
            json!({ "input": input }),
        )
        .await;
    data["createLicense"]["license"]["id"].as_str().expect("id").to_owned()
}

/// An organization with one monthly license, ready for tests.
pub struct Fixture {
    pub org: String,
}

/// Creates the unit type `units`, an organization (`slug`, UTC) and a monthly license of
/// `capacity` starting 2026-01-01.
pub async fn organization_with_license(app: &TestApp, slug: &str, capacity: &str) -> Fixture {
    create_unit_type(app, "units", "Units").await;
    let org = create_organization(app, slug, "UTC").await;
    create_license(app, &org, json!({ "capacity": capacity })).await;
    Fixture { org }
}

/// Creates a tenant and returns its id.
pub async fn tenant(app: &TestApp, org: &str, name: &str) -> String {
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($org: ID!, $name: String!) { createTenant(input: {organizationId: $org, name: $name}) { tenant { id } } }",
            json!({ "org": org, "name": name }),
        )
        .await;
    data["createTenant"]["tenant"]["id"].as_str().expect("id").to_owned()
}

/// Creates an API key and returns its secret.
pub async fn key(app: &TestApp, role: &str, org: Option<&str>, tenant: Option<&str>) -> String {
    key_with_id(app, role, org, tenant).await.0
}

/// Creates an API key and returns its secret and its id.
pub async fn key_with_id(app: &TestApp, role: &str, org: Option<&str>, tenant: Option<&str>) -> (String, String) {
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation($org: ID, $tenant: ID, $role: Role!) { createApiKey(input: {organizationId: $org, tenantId: $tenant, role: $role, name: \"test\"}) { secret apiKey { id } } }",
            json!({ "org": org, "tenant": tenant, "role": role }),
        )
        .await;
    let made = &data["createApiKey"];
    (
        made["secret"].as_str().expect("secret").to_owned(),
        made["apiKey"]["id"].as_str().expect("id").to_owned(),
    )
}

/// Adds the fields of `fields` to the object `target`, replacing those it has.
fn set(target: &mut Value, fields: Value) {
    let Value::Object(fields) = fields else {
        panic!("fields must be an object: {fields}");
    };
    target.as_object_mut().expect("an object").extend(fields);
}
