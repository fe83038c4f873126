//! Licenses belong to the vendor (docs/design.md §15.1): only SYSTEM sells, upgrades and
//! tops them up; a top-up raises a bundle's capacity without restarting anything; an
//! upgrade may replace a license from its first day; a burst moves the organization's
//! figures to its limit; and the quota answers past bundles too.

use serde_json::{Value, json};

use crate::helpers::*;

const LICENSES: &str = r#"licenses { id capacity startsOn endsOn }
    bundles(unitType: "units") { startDate endDate capacity limit burstActive }"#;

const QUOTA: &str = "used quota limit remaining burstActive periodStart periodEnd resetsOn";

const CARDS: &str = "totalCapacity limit burstActive consumed remaining overage allocated
    availableForAllocation overAllocation status capacityCard { mode value }";

async fn quota(app: &TestApp, org: &str, bundle: &str) -> Value {
    let field = format!("quota(unitType: \"units\"{bundle}) {{ {QUOTA} }}");
    app.organization(SYSTEM_KEY, org, &field).await["quota"].clone()
}

async fn cards(app: &TestApp, org: &str) -> Value {
    let field = format!("usage(unitType: \"units\") {{ {CARDS} }}");
    app.organization(SYSTEM_KEY, org, &field).await["usage"].clone()
}

fn top_up(license: &str, amount: &str, effective_on: Option<&str>) -> Value {
    json!({ "licenseId": license, "amount": amount, "effectiveOn": effective_on })
}

#[tokio::test]
async fn no_customer_role_creates_upgrades_or_tops_up_a_license() {
    let (app, fx) = acme().await;
    create_unit_type(&app, "spare", "Spare").await;
    let sold = app.organization(SYSTEM_KEY, &fx.org, LICENSES).await;
    let create = json!({
        "organizationId": fx.org, "unitType": "spare", "planName": "Mine", "capacity": "1000000",
        "period": "MONTH", "startsOn": "2026-11-01",
    });
    let upgrade = json!({ "licenseId": fx.license, "planName": "Mine", "capacity": "1000000", "enforced": false });
    for role in ["OWNER", "ADMIN", "BILLING_MANAGER"] {
        let customer = key(&app, role, Some(&fx.org), None).await;
        for (mutation, input) in [
            ("createLicense", create.clone()),
            ("upgradeLicense", upgrade.clone()),
            ("addCapacity", top_up(&fx.license, "1000000", None)),
        ] {
            app.mutate_refused(&customer, mutation, input, "FORBIDDEN", &[role, mutation])
                .await;
        }
        // They still read what they bought.
        assert_eq!(app.organization(&customer, &fx.org, LICENSES).await, sold, "{role}");
    }
    app.finish().await;
}

#[tokio::test]
async fn a_top_up_mid_bundle_keeps_the_counter_and_raises_what_remains() {
    let (app, fx, [t]) = acme_with_tenants(["t"]).await;
    record(
        &app,
        [
            event("oct", &t, "300", "2026-10-10T10:00:00Z"),
            event("nov", &t, "600", "2026-11-05T10:00:00Z"),
        ],
    )
    .await;
    let before = quota(&app, &fx.org, "").await;
    assert_eq!(
        (before["used"].as_str(), before["remaining"].as_str()),
        (Some("600"), Some("400"))
    );

    let made = app
        .mutate(
            SYSTEM_KEY,
            "addCapacity",
            top_up(&fx.license, "250", Some("2026-11-20")),
        )
        .await;
    assert_eq!(made["license"]["id"], fx.license.as_str());
    let after = quota(&app, &fx.org, "").await;
    assert_eq!(
        after,
        json!({
            "used": "600", "quota": "1250", "limit": "1250", "remaining": "650", "burstActive": false,
            "periodStart": "2026-11-01", "periodEnd": "2026-12-01", "resetsOn": "2026-12-01",
        }),
        "the same bundle and counter, more capacity"
    );
    let usage = cards(&app, &fx.org).await;
    assert_eq!(
        (usage["totalCapacity"].as_str(), usage["remaining"].as_str()),
        (Some("1250"), Some("650"))
    );
    assert_eq!(usage["availableForAllocation"], "650");
    // The bundle holding effectiveOn and later ones; an earlier bundle keeps its capacity.
    let october = quota(&app, &fx.org, ", bundle: \"2026-10-01\"").await;
    assert_eq!(
        (october["quota"].as_str(), october["used"].as_str()),
        (Some("1000"), Some("300"))
    );

    // A top-up of an earlier bundle reaches every later one.
    app.mutate(
        SYSTEM_KEY,
        "addCapacity",
        top_up(&fx.license, "100", Some("2026-10-15")),
    )
    .await;
    let bundles = app.organization(SYSTEM_KEY, &fx.org, LICENSES).await["bundles"].clone();
    let capacities: Vec<(&str, &str)> = bundles
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|b| (b["startDate"].as_str().unwrap(), b["capacity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        capacities,
        [("2026-11-01", "1350"), ("2026-10-01", "1100"), ("2026-09-01", "1000")]
    );

    let log = app
        .organization(SYSTEM_KEY, &fx.org, "auditLog(first: 100) { nodes { action after } }")
        .await;
    let top_ups: Vec<&Value> = log["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "addCapacity")
        .collect();
    assert_eq!(top_ups.len(), 2);
    assert_eq!(top_ups[0]["after"]["amount"], "250", "{top_ups:?}");
    app.finish().await;
}

#[tokio::test]
async fn a_top_up_is_refused_for_a_bad_amount_an_unknown_or_ended_license_or_a_day_outside_it() {
    let (app, fx) = acme().await;
    let sold = app.organization(SYSTEM_KEY, &fx.org, LICENSES).await;
    for amount in ["0", "-5"] {
        let input = top_up(&fx.license, amount, None);
        app.mutate_refused(SYSTEM_KEY, "addCapacity", input, "BAD_USER_INPUT", &["amount", amount])
            .await;
    }
    let input = top_up(&fx.license, "5", Some("2025-12-31"));
    app.mutate_refused(
        SYSTEM_KEY,
        "addCapacity",
        input,
        "BAD_USER_INPUT",
        &["effectiveOn", "2025-12-31", "2026-01-01"],
    )
    .await;
    // A well-formed license id of another server's database is unknown here.
    let elsewhere = TestApp::spawn().await;
    let foreign = organization_with_license(&elsewhere, "other", "10").await.license;
    elsewhere.finish().await;
    app.mutate_refused(
        SYSTEM_KEY,
        "addCapacity",
        top_up(&foreign, "5", None),
        "NOT_FOUND",
        &["licenseId"],
    )
    .await;
    assert_eq!(
        app.organization(SYSTEM_KEY, &fx.org, LICENSES).await,
        sold,
        "nothing changed"
    );

    // A license replaced by an upgrade ended on the upgrade's day and takes no more.
    let upgrade =
        json!({ "licenseId": fx.license, "planName": "Pro", "capacity": "2000", "effectiveOn": "2026-11-10" });
    app.mutate(SYSTEM_KEY, "upgradeLicense", upgrade).await;
    app.mutate_refused(
        SYSTEM_KEY,
        "addCapacity",
        top_up(&fx.license, "5", None),
        "BAD_USER_INPUT",
        &["ended", "2026-11-10"],
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn an_upgrade_on_the_first_day_replaces_the_old_license_whole_and_keeps_its_history() {
    let (app, fx, [t]) = acme_with_tenants(["t"]).await;
    record(&app, [event("e", &t, "40", "2026-11-05T10:00:00Z")]).await;
    let upgrade =
        json!({ "licenseId": fx.license, "planName": "Pro", "capacity": "3000", "effectiveOn": "2026-01-01" });
    let new = app.mutate(SYSTEM_KEY, "upgradeLicense", upgrade).await["license"].clone();
    assert_eq!(new["replaces"]["id"], fx.license.as_str());
    assert_eq!(
        (new["startsOn"].as_str(), new["capacity"].as_str()),
        (Some("2026-01-01"), Some("3000"))
    );

    let both = app.organization(SYSTEM_KEY, &fx.org, LICENSES).await;
    let licenses = both["licenses"].as_array().unwrap();
    let old = licenses
        .iter()
        .find(|l| l["id"] == fx.license.as_str())
        .expect("the old license stays");
    assert_eq!(
        (old["startsOn"].as_str(), old["endsOn"].as_str()),
        (Some("2026-01-01"), Some("2026-01-01")),
        "it covers no day"
    );
    let bundles = both["bundles"].as_array().unwrap();
    assert_eq!(bundles.len(), 11, "January to November, all the new license's");
    assert!(bundles.iter().all(|b| b["capacity"] == "3000"), "{bundles:?}");
    // Usage recorded before the upgrade counts in the new license's bundle.
    assert_eq!(quota(&app, &fx.org, "").await["used"], "40");
    app.finish().await;
}

#[tokio::test]
async fn an_organization_spending_its_burst_needs_attention_and_is_critical_past_the_limit() {
    let app = TestApp::spawn().await;
    let license = json!({ "capacity": "1000", "startsOn": "2026-11-01", "burstPercent": 130, "burstPeriods": 3 });
    let (org, [t]) = organization_with_tenants(&app, "acme", "UTC", license, ["t"]).await;
    record(&app, [event("a", &t, "1100", "2026-11-05T10:00:00Z")]).await;
    assert_eq!(
        cards(&app, &org).await,
        json!({
            "totalCapacity": "1000", "limit": "1300", "burstActive": true, "consumed": "1100",
            "remaining": "200", "overage": "0", "allocated": "0", "availableForAllocation": "0",
            "overAllocation": "0", "status": "NEEDS_ATTENTION",
            "capacityCard": { "mode": "AVAILABLE_FOR_ALLOCATION", "value": "0" },
        }),
        "110% of capacity during the burst"
    );
    assert_eq!(quota(&app, &org, "").await["remaining"], "200");

    record(&app, [event("b", &t, "250", "2026-11-06T10:00:00Z")]).await;
    let usage = cards(&app, &org).await;
    assert_eq!(
        (
            &usage["status"],
            &usage["overage"],
            &usage["remaining"],
            &usage["capacityCard"]
        ),
        (
            &json!("CRITICAL"),
            &json!("50"),
            &json!("0"),
            &json!({ "mode": "OVERAGE", "value": "50" })
        )
    );

    // After the burst periods the limit is the capacity again.
    let february = TestApp::spawn_at("2027-02-10T10:00:00Z").await;
    let license = json!({ "capacity": "1000", "startsOn": "2026-11-01", "burstPercent": 130, "burstPeriods": 3 });
    let (org, [t]) = organization_with_tenants(&february, "acme", "UTC", license, ["t"]).await;
    record(&february, [event("c", &t, "1100", "2027-02-05T10:00:00Z")]).await;
    let usage = cards(&february, &org).await;
    assert_eq!(
        (
            &usage["limit"],
            &usage["burstActive"],
            &usage["overage"],
            &usage["status"]
        ),
        (&json!("1000"), &json!(false), &json!("100"), &json!("CRITICAL"))
    );
    february.finish().await;
    app.finish().await;
}

#[tokio::test]
async fn the_quota_answers_a_past_bundle_and_refuses_a_day_no_bundle_starts_on() {
    let (app, fx, [t]) = acme_with_tenants(["t"]).await;
    record(
        &app,
        [
            event("oct", &t, "300", "2026-10-10T10:00:00Z"),
            event("nov", &t, "100", "2026-11-05T10:00:00Z"),
        ],
    )
    .await;
    assert_eq!(
        quota(&app, &fx.org, ", bundle: \"2026-10-01\"").await,
        json!({
            "used": "300", "quota": "1000", "limit": "1000", "remaining": "700", "burstActive": false,
            "periodStart": "2026-10-01", "periodEnd": "2026-11-01", "resetsOn": "2026-11-01",
        })
    );
    assert_eq!(quota(&app, &fx.org, "").await["used"], "100");
    app.organization_refused(
        SYSTEM_KEY,
        &fx.org,
        "quota(unitType: \"units\", bundle: \"2026-10-02\") { used }",
        "BAD_USER_INPUT",
        &["2026-10-02"],
    )
    .await;
    app.finish().await;
}

#[tokio::test]
async fn the_demo_spends_its_burst_after_a_top_up() {
    let app = TestApp::spawn_demo().await;
    let answer = app
        .ok(SYSTEM_KEY, "{ organizations(first: 1) { nodes { id } } }", json!({}))
        .await;
    let org = answer["organizations"]["nodes"][0]["id"].as_str().unwrap().to_owned();
    let usage = app
        .organization(
            SYSTEM_KEY,
            &org,
            r#"usage(unitType: "test-executions") { totalCapacity limit burstActive consumed status }"#,
        )
        .await["usage"]
        .clone();
    assert_eq!(
        (
            &usage["totalCapacity"],
            &usage["limit"],
            &usage["burstActive"],
            &usage["status"]
        ),
        (&json!("5500"), &json!("7150"), &json!(true), &json!("NEEDS_ATTENTION")),
        "{usage}"
    );
    let consumed: f64 = usage["consumed"].as_str().unwrap().parse().unwrap();
    assert!((5500.0..=7150.0).contains(&consumed), "{usage}");
    app.finish().await;
}
