//! `createLicense` and `upgradeLicense`: defaults, burst and enforcement, overlaps, what
//! each refuses and to whom, and two upgrades of one license at once.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme, acme_with_tenants, create_unit_type, globex_owner, key, licensed_organization,
};

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
    let fields = "licenses(unitType: \"units\") { id planName capacity period startsOn endsOn burstPercent
        burstPeriods enforced unitType { code } organization { id } replaces { id startsOn endsOn } }";
    app.organization(SYSTEM_KEY, org, fields).await["licenses"].clone()
}

/// Creates a license from `input` as SYSTEM; returns it.
async fn create(app: &TestApp, input: Value) -> Value {
    app.mutate(SYSTEM_KEY, "createLicense", input).await["license"].clone()
}

/// Upgrades the license `id` to plan "Pro" of 2000 units as SYSTEM, with `fields` added;
/// returns the new license.
async fn upgrade(app: &TestApp, id: &str, fields: Value) -> Value {
    app.mutate(SYSTEM_KEY, "upgradeLicense", upgrade_input(id, fields))
        .await["license"]
        .clone()
}

/// `upgradeLicense`'s input: the license `id` to plan "Pro" of 2000 units, with `fields`
/// added or replacing those.
fn upgrade_input(id: &str, fields: Value) -> Value {
    let mut input = json!({ "licenseId": id, "planName": "Pro", "capacity": "2000" });
    input
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    input
}

#[tokio::test]
async fn create_license_returns_the_license_with_its_defaults() {
    let (app, fixture) = acme().await;
    let input = json!({
        "organizationId": fixture.org,
        "unitType": "units",
        "planName": "  Trial  ",
        "capacity": "100.5",
        "period": "TERM",
        "startsOn": "2025-01-01",
        "endsOn": "2026-01-01",
    });
    let license = create(&app, input).await;
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
    let (app, fixture) = acme().await;
    let input = with(
        &spare_license(&fixture.org),
        json!({ "period": "MONTH", "burstPercent": 130, "burstPeriods": 3, "enforced": true }),
    );
    let license = create(&app, input).await;
    assert_eq!(license["period"], "MONTH");
    assert_eq!(license["burstPercent"], 130);
    assert_eq!(license["burstPeriods"], 3);
    assert_eq!(license["enforced"], true);
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_an_overlapping_license_of_the_same_unit_type() {
    let (app, fixture) = acme().await;
    let before = licenses(&app, &fixture.org).await;
    let overlapping = [
        json!({ "period": "MONTH", "startsOn": "2026-06-01", "endsOn": null }),
        json!({ "startsOn": "2025-06-01", "endsOn": "2026-01-02" }),
        json!({ "period": "YEAR", "startsOn": "2020-01-01", "endsOn": null }),
    ];
    for changes in overlapping {
        let input = with(&spare_license(&fixture.org), changes);
        app.mutate_refused(SYSTEM_KEY, "createLicense", input, "CONFLICT", &["upgradeLicense"])
            .await;
    }
    assert_eq!(
        licenses(&app, &fixture.org).await,
        before,
        "a refused license is not written"
    );

    // Ending the day the other starts is no overlap: endsOn is exclusive.
    create(&app, spare_license(&fixture.org)).await;
    app.finish().await;
}

#[tokio::test]
async fn create_license_allows_an_overlap_in_another_unit_type() {
    let (app, fixture) = acme().await;
    create_unit_type(&app, "robots", "Robots").await;
    let input = with(
        &spare_license(&fixture.org),
        json!({ "unitType": "robots", "period": "MONTH", "startsOn": "2026-06-01", "endsOn": null }),
    );
    assert_eq!(create(&app, input).await["unitType"]["code"], "robots");
    app.finish().await;
}

/// Expects `createLicense` refused as BAD_USER_INPUT, naming each of `words`, for each of
/// `changes` to the spare license of a fresh organization, which keeps its licenses.
async fn create_license_refuses(changes: &[Value], words: &[&str]) {
    let (app, fixture) = acme().await;
    let before = licenses(&app, &fixture.org).await;
    for change in changes {
        let input = with(&spare_license(&fixture.org), change.clone());
        app.mutate_refused(SYSTEM_KEY, "createLicense", input, "BAD_USER_INPUT", words)
            .await;
    }
    assert_eq!(licenses(&app, &fixture.org).await, before);
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_a_term_without_an_end() {
    create_license_refuses(&[json!({ "endsOn": null })], &["endsOn"]).await;
}

#[tokio::test]
async fn create_license_refuses_an_end_not_after_the_start() {
    create_license_refuses(
        &[json!({ "endsOn": "2025-01-01" }), json!({ "endsOn": "2024-12-31" })],
        &[],
    )
    .await;
}

#[tokio::test]
async fn create_license_refuses_an_unknown_unit_type() {
    create_license_refuses(&[json!({ "unitType": "no-such-unit" })], &["no-such-unit"]).await;
}

#[tokio::test]
async fn create_license_refuses_a_negative_or_too_precise_capacity() {
    let (app, fixture) = acme().await;
    let before = licenses(&app, &fixture.org).await;
    for capacity in ["-1", "1.00001"] {
        let input = with(&spare_license(&fixture.org), json!({ "capacity": capacity }));
        app.mutate_refused(SYSTEM_KEY, "createLicense", input, "BAD_USER_INPUT", &["capacity"])
            .await;
    }
    // Four decimal places are fine.
    let input = with(&spare_license(&fixture.org), json!({ "capacity": "1.0001" }));
    assert_eq!(create(&app, input).await["capacity"], "1.0001");
    assert_eq!(
        licenses(&app, &fixture.org).await.as_array().map(Vec::len),
        before.as_array().map(|b| b.len() + 1)
    );
    app.finish().await;
}

#[tokio::test]
async fn create_license_refuses_a_burst_percent_out_of_range() {
    let percents = [
        json!({ "burstPercent": 99 }),
        json!({ "burstPercent": 1001 }),
        json!({ "burstPercent": -5 }),
    ];
    create_license_refuses(&percents, &["burst"]).await;
}

#[tokio::test]
async fn a_viewer_may_not_create_licenses() {
    let (app, fixture) = acme().await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    let before = licenses(&app, &fixture.org).await;
    let input = spare_license(&fixture.org);
    app.mutate_refused(&viewer, "createLicense", input, "FORBIDDEN", &[])
        .await;
    assert_eq!(licenses(&app, &fixture.org).await, before);
    app.finish().await;
}

#[tokio::test]
async fn no_customer_key_licenses_an_organization_not_even_its_own() {
    let (app, fixture) = acme().await;
    let (other, stranger) = globex_owner(&app).await;
    for org in [&fixture.org, &other.org] {
        let before = licenses(&app, org).await;
        app.mutate_refused(&stranger, "createLicense", spare_license(org), "FORBIDDEN", &[])
            .await;
        assert_eq!(licenses(&app, org).await, before);
    }
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
    let new = upgrade(&app, &old, json!({ "effectiveOn": "2026-11-10" })).await;
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
    let given = json!({ "burstPercent": 150, "burstPeriods": 1, "enforced": false });
    let new = upgrade(&app, &old, given).await;
    assert_eq!(new["burstPercent"], 150);
    assert_eq!(new["burstPeriods"], 1);
    assert_eq!(new["enforced"], false);
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_is_effective_today_by_default() {
    let app = TestApp::spawn().await;
    let (_, old) = organization_with_burst(&app, "acme").await;
    let new = upgrade(&app, &old, json!({})).await;
    assert_eq!(new["startsOn"], "2026-11-23");
    assert_eq!(new["replaces"]["endsOn"], "2026-11-23");
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_refuses_an_effective_day_before_the_old_start() {
    let app = TestApp::spawn().await;
    let (org, old) = organization_with_burst(&app, "acme").await;
    let before = licenses(&app, &org).await;
    let input = upgrade_input(&old, json!({ "effectiveOn": "2025-12-31" }));
    app.mutate_refused(
        SYSTEM_KEY,
        "upgradeLicense",
        input,
        "BAD_USER_INPUT",
        &["effectiveOn", "2026-01-01"],
    )
    .await;
    assert_eq!(licenses(&app, &org).await, before, "the old license is left as it was");
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_refuses_a_bad_capacity_without_ending_the_old_one() {
    let app = TestApp::spawn().await;
    let (org, old) = organization_with_burst(&app, "acme").await;
    let before = licenses(&app, &org).await;
    let input = upgrade_input(&old, json!({ "capacity": "-5", "effectiveOn": "2026-11-10" }));
    app.mutate_refused(SYSTEM_KEY, "upgradeLicense", input, "BAD_USER_INPUT", &[])
        .await;
    assert_eq!(licenses(&app, &org).await, before);
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_does_not_find_an_unknown_license() {
    let (app, _, [some_tenant]) = acme_with_tenants(["Team"]).await;

    // A well-formed license id whose row lives in another server's database.
    let elsewhere = TestApp::spawn().await;
    let (_, foreign) = organization_with_burst(&elsewhere, "elsewhere").await;
    elsewhere.finish().await;

    for id in ["not-an-id", "", some_tenant.as_str(), foreign.as_str()] {
        let input = upgrade_input(id, json!({}));
        app.mutate_refused(SYSTEM_KEY, "upgradeLicense", input, "NOT_FOUND", &[])
            .await;
    }
    app.finish().await;
}

#[tokio::test]
async fn upgrade_license_is_refused_to_every_customer_key() {
    let app = TestApp::spawn().await;
    let (org, license) = organization_with_burst(&app, "acme").await;
    let (_, stranger) = globex_owner(&app).await;
    let viewer = key(&app, "VIEWER", Some(&org), None).await;
    let before = licenses(&app, &org).await;
    for caller in [&stranger, &viewer] {
        let input = upgrade_input(&license, json!({}));
        app.mutate_refused(caller, "upgradeLicense", input, "FORBIDDEN", &[])
            .await;
    }
    assert_eq!(licenses(&app, &org).await, before);
    app.finish().await;
}

#[tokio::test]
async fn concurrent_upgrades_of_one_license_do_not_overlap() {
    let (app, f) = acme().await;
    let up = "mutation($id: ID!, $d: Date, $c: Decimal!) { upgradeLicense(input: {licenseId: $id, planName: \"P\", capacity: $c, effectiveOn: $d}) { license { id } } }";
    let (first, second) = tokio::join!(
        app.gql(SYSTEM_KEY, up, json!({"id": f.license, "d": "2026-11-10", "c": "2000"})),
        app.gql(SYSTEM_KEY, up, json!({"id": f.license, "d": "2026-11-05", "c": "3000"})),
    );
    // Run at once, the second is refused (CONFLICT). One after the other: the 11-05 upgrade
    // after the 11-10 one is valid (it cuts the ended license earlier); the 11-10 upgrade
    // after the 11-05 one is refused, the license having ended on 11-05 (BAD_USER_INPUT).
    // Whatever the order, nothing overlaps.
    let code = |answer: &Value| answer["errors"][0]["extensions"]["code"].clone();
    assert!(
        code(&first).is_null() || code(&first) == "CONFLICT" || code(&first) == "BAD_USER_INPUT",
        "{first}"
    );
    assert!(code(&second).is_null() || code(&second) == "CONFLICT", "{second}");
    let bundles = app
        .organization(SYSTEM_KEY, &f.org, "bundles(unitType: \"units\") { current }")
        .await;
    let current = bundles["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["current"] == true)
        .count();
    assert_eq!(current, 1);
    app.finish().await;
}
