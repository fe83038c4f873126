//! `createLicense` and `upgradeLicense`: defaults, burst and enforcement, overlaps, what
//! each refuses and to whom, and two upgrades of one license at once.

use serde_json::{Value, json};

use super::CREATE_UNIT_TYPE;
use crate::helpers::{SYSTEM_KEY, TestApp, key, licensed_organization, organization_with_license, tenant};

const LICENSE_FIELDS: &str = "id planName capacity period startsOn endsOn burstPercent burstPeriods enforced
    unitType { code } organization { id } replaces { id startsOn endsOn }";

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
