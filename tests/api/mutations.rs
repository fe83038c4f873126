//! Every mutation over real HTTP: what it makes or changes, and each refusal with its
//! `extensions.code` (docs/design.md §6, §8). A refused mutation writes nothing.

use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, key, licensed_organization, organization_with_license, tenant};

const CREATE_ORGANIZATION: &str = "mutation($input: CreateOrganizationInput!) {
    createOrganization(input: $input) { organization { id name slug timeZone } }
}";

const CREATE_UNIT_TYPE: &str = "mutation($input: CreateUnitTypeInput!) {
    createUnitType(input: $input) { unitType { id code name } }
}";

const LICENSE_FIELDS: &str = "id planName capacity period startsOn endsOn burstPercent burstPeriods enforced
    unitType { code } organization { id } replaces { id startsOn endsOn }";

const CREATE_TENANT: &str = "mutation($org: ID!, $name: String!) {
    createTenant(input: {organizationId: $org, name: $name}) { tenant { id name state } }
}";

const UPDATE_TENANT: &str = "mutation($input: UpdateTenantInput!) {
    updateTenant(input: $input) { tenant { id name state } }
}";

const SET_ALLOCATION: &str = "mutation($input: SetAllocationInput!) {
    setAllocation(input: $input) { allocation { amount effectiveOn unitType { code } tenant { id } } }
}";

const TENANT_ALLOCATION: &str = "query($id: ID!) {
    node(id: $id) { ... on Tenant { allocation(unitType: \"units\") { amount effectiveOn } } }
}";

const TENANTS: &str = "query($org: ID!, $states: [TenantState!]) {
    organization(id: $org) { tenants(states: $states) { nodes { id name state } } }
}";

const CREATE_FOLDER: &str = "mutation($tenant: ID!, $parent: ID, $name: String!) {
    createFolder(input: {tenantId: $tenant, parentId: $parent, name: $name}) {
        folder { id name parent { id } tenant { id } }
    }
}";

const CREATE_PROCESS: &str = "mutation($folder: ID!, $name: String!) {
    createProcess(input: {folderId: $folder, name: $name}) { process { id name folder { id } tenant { id } } }
}";

const CREATE_API_KEY: &str = "mutation($input: CreateApiKeyInput!) {
    createApiKey(input: $input) { secret apiKey { id name role organization { id } tenant { id } revokedAt } }
}";

const REVOKE_API_KEY: &str = "mutation($id: ID!) {
    revokeApiKey(input: {apiKeyId: $id}) { apiKey { id revokedAt } }
}";

const RECORD_USAGE: &str = "mutation($input: RecordUsageInput!) {
    recordUsage(input: $input) { accepted duplicates }
}";

fn create_license_query() -> String {
    format!(
        "mutation($input: CreateLicenseInput!) {{ createLicense(input: $input) {{ license {{ {LICENSE_FIELDS} }} }} }}"
    )
}

fn upgrade_license_query() -> String {
    format!(
        "mutation($input: UpgradeLicenseInput!) {{ upgradeLicense(input: $input) {{ license {{ {LICENSE_FIELDS} }} }} }}"
    )
}

fn licenses_query() -> String {
    format!("query($org: ID!) {{ organization(id: $org) {{ licenses(unitType: \"units\") {{ {LICENSE_FIELDS} }} }} }}")
}

/// A license input for `org` that is valid and overlaps nothing the fixture made:
/// a TERM of 2025, before the fixture's monthly license of 2026-01-01.
fn spare_license(org: &str) -> Value {
    json!({
        "organizationId": org,
        "unitType": "units",
        "planName": "Trial",
        "capacity": "100",
        "period": "TERM",
        "startsOn": "2025-01-01",
        "endsOn": "2026-01-01",
    })
}

/// `base` with the fields of `changes` replaced (a null removes the field).
fn with(base: &Value, changes: Value) -> Value {
    let mut input = base.clone();
    for (field, value) in changes.as_object().expect("an object of changes") {
        if value.is_null() {
            input.as_object_mut().expect("an object").remove(field);
        } else {
            input[field] = value.clone();
        }
    }
    input
}

async fn licenses(app: &TestApp, org: &str) -> Value {
    app.ok(SYSTEM_KEY, &licenses_query(), json!({ "org": org })).await["organization"]["licenses"].clone()
}

async fn tenants(app: &TestApp, org: &str, states: Option<Value>) -> Vec<Value> {
    let data = app
        .ok(SYSTEM_KEY, TENANTS, json!({ "org": org, "states": states }))
        .await;
    data["organization"]["tenants"]["nodes"]
        .as_array()
        .expect("tenant nodes")
        .clone()
}

async fn allocation(app: &TestApp, tenant: &str) -> Value {
    app.ok(SYSTEM_KEY, TENANT_ALLOCATION, json!({ "id": tenant })).await["node"]["allocation"].clone()
}

async fn set_allocation(app: &TestApp, key: &str, input: Value) -> Value {
    app.ok(key, SET_ALLOCATION, json!({ "input": input })).await["setAllocation"]["allocation"].clone()
}

async fn set_allocation_err(app: &TestApp, key: &str, input: Value) -> (String, String) {
    app.err(key, SET_ALLOCATION, json!({ "input": input })).await
}

async fn create_key(app: &TestApp, key: &str, input: Value) -> Value {
    app.ok(key, CREATE_API_KEY, json!({ "input": input })).await["createApiKey"].clone()
}

// ---------------------------------------------------------------------------------
// createOrganization

#[tokio::test]
async fn create_organization_returns_the_organization_made() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "Acme Corp", "slug": "acme-corp", "timeZone": "Europe/Paris" });
    let data = app.ok(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input })).await;
    let org = &data["createOrganization"]["organization"];
    assert!(org["id"].as_str().is_some_and(|id| !id.is_empty()), "{org}");
    assert_eq!(org["name"], "Acme Corp");
    assert_eq!(org["slug"], "acme-corp");
    assert_eq!(org["timeZone"], "Europe/Paris");

    let read = app
        .ok(
            SYSTEM_KEY,
            "query($id: ID!) { organization(id: $id) { slug timeZone } }",
            json!({ "id": org["id"] }),
        )
        .await;
    assert_eq!(
        read["organization"],
        json!({ "slug": "acme-corp", "timeZone": "Europe/Paris" })
    );
    app.finish().await;
}

#[tokio::test]
async fn create_organization_defaults_the_time_zone_to_utc() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "Plain", "slug": "plain" });
    let data = app.ok(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input })).await;
    assert_eq!(data["createOrganization"]["organization"]["timeZone"], "UTC");
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_a_slug_already_taken() {
    let app = TestApp::spawn().await;
    let input = json!({ "name": "First", "slug": "taken" });
    app.ok(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input })).await;
    let again = json!({ "name": "Second", "slug": "taken" });
    let (code, message) = app
        .err(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": again }))
        .await;
    assert_eq!(code, "CONFLICT", "{message}");
    assert!(message.contains("taken"), "{message}");

    let listed = app
        .ok(SYSTEM_KEY, "{ organizations { nodes { name } } }", json!({}))
        .await;
    assert_eq!(listed["organizations"]["nodes"], json!([{ "name": "First" }]));
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_an_unknown_time_zone() {
    let app = TestApp::spawn().await;
    for zone in ["Mars/Olympus_Mons", "", "utc+1"] {
        let input = json!({ "name": "Org", "slug": "org", "timeZone": zone });
        let (code, message) = app
            .err(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{zone:?}: {message}");
        assert!(message.contains("timeZone"), "{message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn create_organization_refuses_a_malformed_slug() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(65);
    for slug in ["Has Space", "UPPER", "under_score", "", too_long.as_str()] {
        let input = json!({ "name": "Org", "slug": slug });
        let (code, message) = app
            .err(SYSTEM_KEY, CREATE_ORGANIZATION, json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{slug:?}: {message}");
        assert!(message.contains("slug"), "{message}");
    }
    let listed = app
        .ok(SYSTEM_KEY, "{ organizations { nodes { id } } }", json!({}))
        .await;
    assert_eq!(listed["organizations"]["nodes"], json!([]));
    app.finish().await;
}

#[tokio::test]
async fn only_system_creates_organizations() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "name": "Mine", "slug": "mine" });
    let (code, message) = app.err(&owner, CREATE_ORGANIZATION, json!({ "input": input })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");

    let listed = app
        .ok(SYSTEM_KEY, "{ organizations { nodes { slug } } }", json!({}))
        .await;
    assert_eq!(listed["organizations"]["nodes"], json!([{ "slug": "acme" }]));
    app.finish().await;
}

// ---------------------------------------------------------------------------------
// createUnitType

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

// ---------------------------------------------------------------------------------
// createLicense

#[tokio::test]
async fn create_license_returns_the_license_with_its_defaults() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let input = json!({
        "organizationId": fixture.org,
        "unitType": "units",
        "planName": "  Trial  ",
        "capacity": "100.5",
        "period": "TERM",
        "startsOn": "2025-01-01",
        "endsOn": "2026-01-01",
    });
    let data = app
        .ok(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
        .await;
    let license = &data["createLicense"]["license"];
    assert_eq!(license["planName"], "Trial");
    assert_eq!(license["capacity"], "100.5");
    assert_eq!(license["period"], "TERM");
    assert_eq!(license["startsOn"], "2025-01-01");
    assert_eq!(license["endsOn"], "2026-01-01");
    assert_eq!(license["burstPercent"], 100);
    assert_eq!(license["burstPeriods"], 0);
    assert_eq!(license["enforced"], false);
    assert_eq!(license["unitType"]["code"], "units");
    assert_eq!(license["organization"]["id"], fixture.org.as_str());
    assert_eq!(license["replaces"], Value::Null);

    // Oldest first: the new TERM of 2025, then the fixture's monthly license of 2026.
    let all = licenses(&app, &fixture.org).await;
    let starts: Vec<&str> = all
        .as_array()
        .expect("licenses")
        .iter()
        .map(|l| l["startsOn"].as_str().expect("startsOn"))
        .collect();
    assert_eq!(starts, ["2025-01-01", "2026-01-01"]);
    app.finish().await;
}

#[tokio::test]
async fn create_license_keeps_the_burst_and_enforcement_given() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let input = with(
        &spare_license(&fixture.org),
        json!({ "period": "MONTH", "burstPercent": 130, "burstPeriods": 3, "enforced": true }),
    );
    let data = app
        .ok(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
        .await;
    let license = &data["createLicense"]["license"];
    assert_eq!(license["period"], "MONTH");
    assert_eq!(license["burstPercent"], 130);
    assert_eq!(license["burstPeriods"], 3);
    assert_eq!(license["enforced"], true);
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_an_overlapping_license_of_the_same_unit_type() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let before = licenses(&app, &fixture.org).await;
    let overlapping = [
        json!({ "period": "MONTH", "startsOn": "2026-06-01", "endsOn": null }),
        json!({ "startsOn": "2025-06-01", "endsOn": "2026-01-02" }),
        json!({ "period": "YEAR", "startsOn": "2020-01-01", "endsOn": null }),
    ];
    for changes in overlapping {
        let input = with(&spare_license(&fixture.org), changes);
        let (code, message) = app
            .err(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
            .await;
        assert_eq!(code, "CONFLICT", "{input}: {message}");
        assert!(message.contains("upgradeLicense"), "{message}");
    }
    assert_eq!(
        licenses(&app, &fixture.org).await,
        before,
        "a refused license is not written"
    );

    // Ending the day the other starts is no overlap: endsOn is exclusive.
    let adjacent = spare_license(&fixture.org);
    app.ok(SYSTEM_KEY, &create_license_query(), json!({ "input": adjacent }))
        .await;
    app.finish().await;
}

#[tokio::test]
async fn create_license_allows_an_overlap_in_another_unit_type() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let unit = json!({ "code": "robots", "name": "Robots" });
    app.ok(SYSTEM_KEY, CREATE_UNIT_TYPE, json!({ "input": unit })).await;
    let input = with(
        &spare_license(&fixture.org),
        json!({ "unitType": "robots", "period": "MONTH", "startsOn": "2026-06-01", "endsOn": null }),
    );
    let data = app
        .ok(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(data["createLicense"]["license"]["unitType"]["code"], "robots");
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_a_term_without_an_end() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let input = with(&spare_license(&fixture.org), json!({ "endsOn": null }));
    let (code, message) = app
        .err(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("endsOn"), "{message}");
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_an_end_not_after_the_start() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    for ends_on in ["2025-01-01", "2024-12-31"] {
        let input = with(&spare_license(&fixture.org), json!({ "endsOn": ends_on }));
        let (code, message) = app
            .err(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{ends_on}: {message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_an_unknown_unit_type() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let input = with(&spare_license(&fixture.org), json!({ "unitType": "no-such-unit" }));
    let (code, message) = app
        .err(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("no-such-unit"), "{message}");
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_a_negative_or_too_precise_capacity() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let before = licenses(&app, &fixture.org).await;
    for capacity in ["-1", "1.00001"] {
        let input = with(&spare_license(&fixture.org), json!({ "capacity": capacity }));
        let (code, message) = app
            .err(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{capacity}: {message}");
        assert!(message.contains("capacity"), "{message}");
    }
    // Four decimal places are fine.
    let input = with(&spare_license(&fixture.org), json!({ "capacity": "1.0001" }));
    let data = app
        .ok(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(data["createLicense"]["license"]["capacity"], "1.0001");
    assert_eq!(
        licenses(&app, &fixture.org).await.as_array().map(Vec::len),
        before.as_array().map(|b| b.len() + 1)
    );
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_a_burst_percent_out_of_range() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    for percent in [99, 1001, -5] {
        let input = with(&spare_license(&fixture.org), json!({ "burstPercent": percent }));
        let (code, message) = app
            .err(SYSTEM_KEY, &create_license_query(), json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{percent}: {message}");
        assert!(message.contains("burst"), "{message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_viewer_may_not_create_licenses() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let before = licenses(&app, &fixture.org).await;
    let input = spare_license(&fixture.org);
    let (code, message) = app
        .err(&viewer, &create_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "FORBIDDEN", "{message}");
    assert_eq!(licenses(&app, &fixture.org).await, before);
    app.finish().await;
}

#[tokio::test]
async fn an_owner_of_another_organization_does_not_find_the_organization_to_license() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;
    let before = licenses(&app, &fixture.org).await;
    let input = spare_license(&fixture.org);
    let (code, message) = app
        .err(&stranger, &create_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "NOT_FOUND", "{message}");
    assert_eq!(licenses(&app, &fixture.org).await, before);

    // The same owner may license its own organization.
    let own = spare_license(&other.org);
    app.ok(&stranger, &create_license_query(), json!({ "input": own }))
        .await;
    app.finish().await;
}

// ---------------------------------------------------------------------------------
// upgradeLicense

/// An organization `slug` whose only license is monthly from 2026-01-01 with a burst
/// of 130% for 3 periods, enforced; returns (organization id, license id).
async fn organization_with_burst(app: &TestApp, slug: &str) -> (String, String) {
    let license = json!({
        "planName": "Starter", "capacity": "1000", "burstPercent": 130, "burstPeriods": 3, "enforced": true,
    });
    let fx = licensed_organization(app, slug, "UTC", license).await;
    (fx.org, fx.license)
}

#[tokio::test]
async fn upgrade_license_ends_the_old_one_and_starts_the_new_one_that_day() {
    let app = TestApp::spawn().await;
    let (org, old) = organization_with_burst(&app, "acme").await;
    let input = json!({ "licenseId": old, "planName": "Pro", "capacity": "2000", "effectiveOn": "2026-11-10" });
    let data = app
        .ok(SYSTEM_KEY, &upgrade_license_query(), json!({ "input": input }))
        .await;
    let new = &data["upgradeLicense"]["license"];
    assert_ne!(new["id"], old.as_str());
    assert_eq!(new["planName"], "Pro");
    assert_eq!(new["capacity"], "2000");
    assert_eq!(new["period"], "MONTH");
    assert_eq!(new["startsOn"], "2026-11-10");
    assert_eq!(new["endsOn"], Value::Null);
    assert_eq!(new["unitType"]["code"], "units");
    assert_eq!(new["organization"]["id"], org.as_str());
    // Unset fields keep the old license's values.
    assert_eq!(new["burstPercent"], 130);
    assert_eq!(new["burstPeriods"], 3);
    assert_eq!(new["enforced"], true);
    assert_eq!(
        new["replaces"],
        json!({ "id": old, "startsOn": "2026-01-01", "endsOn": "2026-11-10" })
    );

    let all = licenses(&app, &org).await;
    let all = all.as_array().expect("licenses");
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], old.as_str());
    assert_eq!(all[0]["endsOn"], "2026-11-10");
    assert_eq!(all[0]["capacity"], "1000");
    assert_eq!(all[1]["id"], new["id"]);
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_takes_the_burst_and_enforcement_given() {
    let app = TestApp::spawn().await;
    let (_, old) = organization_with_burst(&app, "acme").await;
    let input = json!({
        "licenseId": old, "planName": "Pro", "capacity": "2000",
        "burstPercent": 150, "burstPeriods": 1, "enforced": false,
    });
    let data = app
        .ok(SYSTEM_KEY, &upgrade_license_query(), json!({ "input": input }))
        .await;
    let new = &data["upgradeLicense"]["license"];
    assert_eq!(new["burstPercent"], 150);
    assert_eq!(new["burstPeriods"], 1);
    assert_eq!(new["enforced"], false);
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_is_effective_today_by_default() {
    let app = TestApp::spawn().await;
    let (_, old) = organization_with_burst(&app, "acme").await;
    let input = json!({ "licenseId": old, "planName": "Pro", "capacity": "2000" });
    let data = app
        .ok(SYSTEM_KEY, &upgrade_license_query(), json!({ "input": input }))
        .await;
    let new = &data["upgradeLicense"]["license"];
    assert_eq!(new["startsOn"], "2026-11-23");
    assert_eq!(new["replaces"]["endsOn"], "2026-11-23");
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_refuses_an_effective_day_on_or_before_the_old_start() {
    let app = TestApp::spawn().await;
    let (org, old) = organization_with_burst(&app, "acme").await;
    let before = licenses(&app, &org).await;
    for day in ["2026-01-01", "2025-12-31"] {
        let input = json!({ "licenseId": old, "planName": "Pro", "capacity": "2000", "effectiveOn": day });
        let (code, message) = app
            .err(SYSTEM_KEY, &upgrade_license_query(), json!({ "input": input }))
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{day}: {message}");
        assert!(message.contains("effectiveOn"), "{message}");
    }
    assert_eq!(licenses(&app, &org).await, before, "the old license is left as it was");
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_refuses_a_bad_capacity_without_ending_the_old_one() {
    let app = TestApp::spawn().await;
    let (org, old) = organization_with_burst(&app, "acme").await;
    let before = licenses(&app, &org).await;
    let input = json!({ "licenseId": old, "planName": "Pro", "capacity": "-5", "effectiveOn": "2026-11-10" });
    let (code, message) = app
        .err(SYSTEM_KEY, &upgrade_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert_eq!(licenses(&app, &org).await, before);
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_does_not_find_an_unknown_license() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let some_tenant = tenant(&app, &fixture.org, "Team").await;

    // A well-formed license id whose row lives in another server's database.
    let elsewhere = TestApp::spawn().await;
    let (_, foreign) = organization_with_burst(&elsewhere, "elsewhere").await;
    elsewhere.finish().await;

    for id in ["not-an-id", "", some_tenant.as_str(), foreign.as_str()] {
        let input = json!({ "licenseId": id, "planName": "Pro", "capacity": "2000" });
        let (code, message) = app
            .err(SYSTEM_KEY, &upgrade_license_query(), json!({ "input": input }))
            .await;
        assert_eq!(code, "NOT_FOUND", "{id:?}: {message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_hides_another_organizations_license_and_forbids_a_viewer() {
    let app = TestApp::spawn().await;
    let (org, license) = organization_with_burst(&app, "acme").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    let before = licenses(&app, &org).await;
    let input = json!({ "licenseId": license, "planName": "Pro", "capacity": "2000" });
    let (code, message) = app
        .err(&stranger, &upgrade_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "NOT_FOUND", "{message}");
    let (code, message) = app
        .err(&viewer, &upgrade_license_query(), json!({ "input": input }))
        .await;
    assert_eq!(code, "FORBIDDEN", "{message}");
    assert_eq!(licenses(&app, &org).await, before);
    app.finish().await;
}

// ---------------------------------------------------------------------------------
// createTenant / updateTenant

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

// ---------------------------------------------------------------------------------
// setAllocation (capacity 1000, today 2026-11-23, current bundle 2026-11-01..2026-12-01)

#[tokio::test]
async fn set_allocation_reserves_units_to_a_tenant() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    assert_eq!(allocation(&app, &id).await, Value::Null, "no allocation is N/A");

    let made = set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "units", "amount": "400" }),
    )
    .await;
    assert_eq!(made["amount"], "400");
    assert_eq!(made["effectiveOn"], "2026-11-23");
    assert_eq!(made["unitType"]["code"], "units");
    assert_eq!(made["tenant"]["id"], id.as_str());
    assert_eq!(
        allocation(&app, &id).await,
        json!({ "amount": "400", "effectiveOn": "2026-11-23" })
    );

    // An OWNER may change it too, and the latest change is the one in effect.
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    set_allocation(
        &app,
        &owner,
        json!({ "tenantId": id, "unitType": "units", "amount": "250.5" }),
    )
    .await;
    assert_eq!(allocation(&app, &id).await["amount"], "250.5");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_more_than_current_plus_available() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let a = tenant(&app, &fixture.org, "A").await;
    let b = tenant(&app, &fixture.org, "B").await;
    set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": a, "unitType": "units", "amount": "400" }),
    )
    .await;

    // b holds nothing; 600 are available.
    let (code, message) = set_allocation_err(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": b, "unitType": "units", "amount": "601" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("601") && message.contains("600"), "{message}");
    assert_eq!(allocation(&app, &b).await, Value::Null);

    // a holds 400 and may grow to 400 + 600 = 1000, not past it.
    let (code, message) = set_allocation_err(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": a, "unitType": "units", "amount": "1000.0001" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    for number in ["1000.0001", "1000", "400", "600"] {
        assert!(message.contains(number), "{number} missing from: {message}");
    }
    assert_eq!(allocation(&app, &a).await["amount"], "400");

    set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": a, "unitType": "units", "amount": "1000" }),
    )
    .await;
    set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": b, "unitType": "units", "amount": "0" }),
    )
    .await;
    assert_eq!(allocation(&app, &b).await["amount"], "0");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_less_than_consumed_in_the_current_bundle() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let events = json!({ "events": [
        // In the current bundle: counts.
        { "idempotencyKey": "e1", "tenantId": id, "unitType": "units", "service": "robots",
          "quantity": "120", "occurredAt": "2026-11-20T10:00:00Z" },
        // In the previous bundle: does not count against this one.
        { "idempotencyKey": "e2", "tenantId": id, "unitType": "units", "service": "robots",
          "quantity": "500", "occurredAt": "2026-10-20T10:00:00Z" },
    ] });
    let recorded = app.ok(SYSTEM_KEY, RECORD_USAGE, json!({ "input": events })).await;
    assert_eq!(recorded["recordUsage"]["accepted"], 2);

    let (code, message) = set_allocation_err(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "units", "amount": "119.9999" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("119.9999") && message.contains("120"), "{message}");
    assert_eq!(allocation(&app, &id).await, Value::Null);

    let made = set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "units", "amount": "120" }),
    )
    .await;
    assert_eq!(made["amount"], "120");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_a_tenant_that_is_not_active() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let disabled = tenant(&app, &fixture.org, "Paused").await;
    let deleted = tenant(&app, &fixture.org, "Gone").await;
    app.ok(
        SYSTEM_KEY,
        UPDATE_TENANT,
        json!({ "input": { "tenantId": disabled, "state": "DISABLED" } }),
    )
    .await;
    app.ok(
        SYSTEM_KEY,
        UPDATE_TENANT,
        json!({ "input": { "tenantId": deleted, "state": "DELETED" } }),
    )
    .await;
    for (id, state) in [(&disabled, "DISABLED"), (&deleted, "DELETED")] {
        let (code, message) = set_allocation_err(
            &app,
            SYSTEM_KEY,
            json!({ "tenantId": id, "unitType": "units", "amount": "10" }),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT", "{state}: {message}");
        assert!(message.contains(state), "{message}");
        assert_eq!(allocation(&app, id).await, Value::Null);
    }
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_with_no_amount_removes_it() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "units", "amount": "400", "effectiveOn": "2026-11-01" }),
    )
    .await;
    assert_eq!(allocation(&app, &id).await["amount"], "400");

    let removed = set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "units", "amount": null }),
    )
    .await;
    assert_eq!(removed["amount"], Value::Null);
    assert_eq!(
        allocation(&app, &id).await["amount"],
        Value::Null,
        "N/A: no amount in effect"
    );

    // Its 400 are available again for another tenant.
    let other = tenant(&app, &fixture.org, "Other").await;
    set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": other, "unitType": "units", "amount": "1000" }),
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_takes_effect_on_a_day_of_the_current_bundle_up_to_today() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    for day in ["2026-10-31", "2026-11-24", "2027-01-01"] {
        let input = json!({ "tenantId": id, "unitType": "units", "amount": "100", "effectiveOn": day });
        let (code, message) = set_allocation_err(&app, SYSTEM_KEY, input).await;
        assert_eq!(code, "BAD_USER_INPUT", "{day}: {message}");
        assert!(message.contains("effectiveOn") && message.contains(day), "{message}");
    }
    assert_eq!(allocation(&app, &id).await, Value::Null);

    for day in ["2026-11-01", "2026-11-23"] {
        let input = json!({ "tenantId": id, "unitType": "units", "amount": "100", "effectiveOn": day });
        assert_eq!(set_allocation(&app, SYSTEM_KEY, input).await["effectiveOn"], day);
    }
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_an_unknown_unit_type() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let (code, message) = set_allocation_err(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "no-such-unit", "amount": "1" }),
    )
    .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("no-such-unit"), "{message}");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_a_negative_or_too_precise_amount() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    for amount in ["-1", "0.00001"] {
        let (code, message) = set_allocation_err(
            &app,
            SYSTEM_KEY,
            json!({ "tenantId": id, "unitType": "units", "amount": amount }),
        )
        .await;
        assert_eq!(code, "BAD_USER_INPUT", "{amount}: {message}");
        assert!(message.contains("amount"), "{message}");
    }
    assert_eq!(allocation(&app, &id).await, Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn a_viewer_may_not_set_allocations() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    set_allocation(
        &app,
        SYSTEM_KEY,
        json!({ "tenantId": id, "unitType": "units", "amount": "400" }),
    )
    .await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    for amount in [json!("500"), Value::Null] {
        let (code, message) = set_allocation_err(
            &app,
            &viewer,
            json!({ "tenantId": id, "unitType": "units", "amount": amount }),
        )
        .await;
        assert_eq!(code, "FORBIDDEN", "{message}");
    }
    assert_eq!(allocation(&app, &id).await["amount"], "400");
    app.finish().await;
}

#[tokio::test]
async fn an_owner_of_another_organization_does_not_find_the_tenant_to_allocate_to() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;
    let (code, message) = set_allocation_err(
        &app,
        &stranger,
        json!({ "tenantId": id, "unitType": "units", "amount": "10" }),
    )
    .await;
    assert_eq!(code, "NOT_FOUND", "{message}");
    assert_eq!(allocation(&app, &id).await, Value::Null);
    app.finish().await;
}

// ---------------------------------------------------------------------------------
// createFolder / createProcess

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

// ---------------------------------------------------------------------------------
// createApiKey / revokeApiKey

#[tokio::test]
async fn an_owner_makes_a_viewer_key_that_works() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = create_key(
        &app,
        &owner,
        json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "dashboard" }),
    )
    .await;
    let secret = made["secret"].as_str().expect("secret");
    assert!(!secret.is_empty());
    assert_eq!(made["apiKey"]["name"], "dashboard");
    assert_eq!(made["apiKey"]["role"], "VIEWER");
    assert_eq!(made["apiKey"]["organization"]["id"], fixture.org.as_str());
    assert_eq!(made["apiKey"]["tenant"], Value::Null);
    assert_eq!(made["apiKey"]["revokedAt"], Value::Null);

    let viewer = app
        .ok(secret, "{ viewer { role organization { id } } }", json!({}))
        .await;
    assert_eq!(
        viewer["viewer"],
        json!({ "role": "VIEWER", "organization": { "id": fixture.org } })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_owner_makes_a_tenant_admin_key_for_one_of_its_tenants() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let id = tenant(&app, &fixture.org, "Research").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = create_key(
        &app,
        &owner,
        json!({ "organizationId": fixture.org, "tenantId": id, "role": "TENANT_ADMIN", "name": "research" }),
    )
    .await;
    assert_eq!(made["apiKey"]["tenant"]["id"], id.as_str());
    let secret = made["secret"].as_str().expect("secret");
    let viewer = app.ok(secret, "{ viewer { role tenant { id } } }", json!({})).await;
    assert_eq!(
        viewer["viewer"],
        json!({ "role": "TENANT_ADMIN", "tenant": { "id": id } })
    );
    app.finish().await;
}

#[tokio::test]
async fn an_admin_may_not_make_an_owner_key() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let admin = key(&app, "ADMIN", Some(&fixture.org), None).await;
    let input = json!({ "organizationId": fixture.org, "role": "OWNER", "name": "escalate" });
    let (code, message) = app.err(&admin, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");

    // An ADMIN key may still make the lesser ones.
    create_key(
        &app,
        &admin,
        json!({ "organizationId": fixture.org, "role": "ADMIN", "name": "peer" }),
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn keys_below_system_may_not_make_system_keys_or_keys_elsewhere() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;

    let cases = [
        (&owner, json!({ "role": "SYSTEM", "name": "root" }), "FORBIDDEN"),
        (
            &owner,
            json!({ "organizationId": other.org, "role": "VIEWER", "name": "x" }),
            "NOT_FOUND",
        ),
        (
            &viewer,
            json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "x" }),
            "FORBIDDEN",
        ),
    ];
    for (caller, input, expected) in cases {
        let (code, message) = app.err(caller, CREATE_API_KEY, json!({ "input": input })).await;
        assert_eq!(code, expected, "{input}: {message}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admin_key_needs_a_tenant() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let input = json!({ "organizationId": fixture.org, "role": "TENANT_ADMIN", "name": "no tenant" });
    let (code, message) = app.err(&owner, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("tenant"), "{message}");

    // A VIEWER cannot be limited to a tenant, and a non-SYSTEM key needs an organization.
    let id = tenant(&app, &fixture.org, "Research").await;
    let input = json!({ "organizationId": fixture.org, "tenantId": id, "role": "VIEWER", "name": "x" });
    let (code, message) = app.err(&owner, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    let input = json!({ "role": "VIEWER", "name": "x" });
    let (code, message) = app.err(SYSTEM_KEY, CREATE_API_KEY, json!({ "input": input })).await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    app.finish().await;
}

#[tokio::test]
async fn a_revoked_key_is_unauthenticated() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let owner = key(&app, "OWNER", Some(&fixture.org), None).await;
    let made = create_key(
        &app,
        &owner,
        json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "temporary" }),
    )
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

    let revoked = app.ok(&owner, REVOKE_API_KEY, json!({ "id": key_id })).await;
    assert_eq!(revoked["revokeApiKey"]["apiKey"]["id"], key_id.as_str());
    assert!(revoked["revokeApiKey"]["apiKey"]["revokedAt"].is_string(), "{revoked}");

    let after = ask().await.expect("request sent");
    assert_eq!(after.status(), reqwest::StatusCode::UNAUTHORIZED);
    let body: Value = after.json().await.expect("JSON answer");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED", "{body}");

    // The owner's own key still works.
    let viewer = app.ok(&owner, "{ viewer { role } }", json!({})).await;
    assert_eq!(viewer["viewer"]["role"], "OWNER");
    app.finish().await;
}

#[tokio::test]
async fn revoke_api_key_is_refused_to_a_viewer_and_does_not_find_unknown_keys() {
    let app = TestApp::spawn().await;
    let fixture = organization_with_license(&app, "acme", "1000").await;
    let other = organization_with_license(&app, "globex", "1000").await;
    let made = create_key(
        &app,
        SYSTEM_KEY,
        json!({ "organizationId": fixture.org, "role": "VIEWER", "name": "target" }),
    )
    .await;
    let key_id = made["apiKey"]["id"].as_str().expect("key id").to_owned();
    let secret = made["secret"].as_str().expect("secret").to_owned();
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let stranger = key(&app, "OWNER", Some(&other.org), None).await;

    let (code, message) = app.err(&viewer, REVOKE_API_KEY, json!({ "id": key_id })).await;
    assert_eq!(code, "FORBIDDEN", "{message}");
    let (code, message) = app.err(&stranger, REVOKE_API_KEY, json!({ "id": key_id })).await;
    assert_eq!(code, "NOT_FOUND", "{message}");
    let (code, message) = app.err(SYSTEM_KEY, REVOKE_API_KEY, json!({ "id": "not-an-id" })).await;
    assert_eq!(code, "NOT_FOUND", "{message}");

    // The key was not revoked by any of those.
    let still = app.ok(&secret, "{ viewer { role } }", json!({})).await;
    assert_eq!(still["viewer"]["role"], "VIEWER");
    app.finish().await;
}

#[tokio::test]
async fn concurrent_upgrades_of_one_license_do_not_overlap() {
    let app = TestApp::spawn().await;
    let f = organization_with_license(&app, "acme", "1000").await;
    let lic = app
        .ok(
            SYSTEM_KEY,
            "query($o: ID!) { organization(id: $o) { licenses { id } } }",
            json!({"o": f.org}),
        )
        .await;
    let a = lic["organization"]["licenses"][0]["id"].as_str().unwrap().to_owned();
    let up = "mutation($id: ID!, $d: Date, $c: Decimal!) { upgradeLicense(input: {licenseId: $id, planName: \"P\", capacity: $c, effectiveOn: $d}) { license { id } } }";
    let (first, second) = tokio::join!(
        app.gql(SYSTEM_KEY, up, json!({"id": a, "d": "2026-11-10", "c": "2000"})),
        app.gql(SYSTEM_KEY, up, json!({"id": a, "d": "2026-11-05", "c": "3000"})),
    );
    // Run at once, the second is refused (CONFLICT). One after the other: the 11-05 upgrade
    // after the 11-10 one is valid (it cuts the ended license earlier); the 11-10 upgrade
    // after the 11-05 one is refused, the license having ended on 11-05 (BAD_USER_INPUT).
    // Whatever the order, nothing overlaps.
    let code = |answer: &serde_json::Value| answer["errors"][0]["extensions"]["code"].clone();
    assert!(
        code(&first).is_null() || code(&first) == "CONFLICT" || code(&first) == "BAD_USER_INPUT",
        "{first}"
    );
    assert!(code(&second).is_null() || code(&second) == "CONFLICT", "{second}");
    let b = app
        .ok(
            SYSTEM_KEY,
            "query($o: ID!) { organization(id: $o) { bundles(unitType: \"units\") { current } } }",
            json!({"o": f.org}),
        )
        .await;
    let current = b["organization"]["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["current"] == true)
        .count();
    assert_eq!(current, 1);
    app.finish().await;
}

#[tokio::test]
async fn an_allocation_change_cannot_be_back_dated_behind_a_later_one() {
    let app = TestApp::spawn().await;
    let f = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &f.org, "T").await;
    let set = "mutation($t: ID!, $a: Decimal, $d: Date) { setAllocation(input: {tenantId: $t, unitType: \"units\", amount: $a, effectiveOn: $d}) { allocation { amount } } }";
    app.ok(SYSTEM_KEY, set, json!({"t": t, "a": "400"})).await;
    let (code, message) = app
        .err(SYSTEM_KEY, set, json!({"t": t, "a": "100", "d": "2026-11-01"}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    let now = app
        .ok(
            SYSTEM_KEY,
            "query($t: ID!) { node(id: $t) { ... on Tenant { allocation(unitType: \"units\") { amount } } } }",
            json!({"t": t}),
        )
        .await;
    assert_eq!(now["node"]["allocation"]["amount"], "400");
    app.finish().await;
}
