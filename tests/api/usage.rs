//! The dashboards' figures over real HTTP: docs/design.md §9's worked examples, a sub-range,
//! closed bundles, the quota view, scope, and a statement count that does not grow with
//! the number of tenants.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme, acme_with_tenants, allocate, event, key, organization_with_license,
    organization_with_tenants, record, set_tenant_state, tenant, tenant_card,
};

const ORGANIZATION_FIELDS: &str = "totalCapacity consumed consumedFromAllocated consumedFromOrganization remaining allocated availableForAllocation overage overAllocation capacityCard { mode value } status";
const TENANT_FIELDS: &str = "displayName allocated consumed consumedFromAllocated consumedFromOrganization consumptionRate remaining overage availableForAllocation status tenant { id }";

async fn consume(app: &TestApp, tenant: &str, quantity: &str, day: &str, kind: &str) {
    let key = format!("{tenant}-{day}-{quantity}-{kind}");
    record(
        app,
        [event(&key, tenant, quantity, &format!("{day}T12:00:00Z")).with(json!({ "kind": kind }))],
    )
    .await;
}

async fn usage(app: &TestApp, org: &str, arguments: &str) -> Value {
    let field = format!(
        "usage(unitType: \"units\"{arguments}) {{ from to bundle {{ startDate current }} {ORGANIZATION_FIELDS} breakdown {{ consumedFromAllocated consumedFromOrganization remaining }} tenants {{ {TENANT_FIELDS} }} }}"
    );
    app.organization(SYSTEM_KEY, org, &field).await["usage"].clone()
}

#[tokio::test]
async fn low_remaining_example_of_design_section_9() {
    let (app, fx, [a, b]) = acme_with_tenants(["a", "b"]).await;
    allocate(&app, &a, Some("500")).await;
    allocate(&app, &b, Some("400")).await;
    consume(&app, &a, "440", "2026-11-10", "EXECUTION").await;
    consume(&app, &b, "420", "2026-11-11", "EXECUTION").await;
    consume(&app, &b, "999", "2026-11-12", "UPLOAD").await;
    let u = usage(&app, &fx.org, "").await;
    assert_eq!(u["from"], "2026-11-01");
    assert_eq!(u["to"], "2026-11-23");
    assert_eq!(u["bundle"], json!({ "startDate": "2026-11-01", "current": true }));
    assert_eq!(u["consumed"], "860");
    assert_eq!(u["consumedFromAllocated"], "840");
    assert_eq!(u["consumedFromOrganization"], "20");
    assert_eq!(u["remaining"], "140");
    assert_eq!(u["allocated"], "900");
    assert_eq!(u["availableForAllocation"], "80");
    assert_eq!(
        u["capacityCard"],
        json!({ "mode": "AVAILABLE_FOR_ALLOCATION", "value": "80" })
    );
    assert_eq!(u["status"], "NEEDS_ATTENTION");
    assert_eq!(
        u["breakdown"],
        json!({ "consumedFromAllocated": "840", "consumedFromOrganization": "20", "remaining": "140" })
    );
    let (ca, cb) = (tenant_card(&u, &a), tenant_card(&u, &b));
    assert_eq!(ca["status"], "WARNING");
    assert!((ca["consumptionRate"].as_f64().unwrap() - 0.88).abs() < 1e-9);
    assert_eq!(ca["remaining"], "60");
    assert_eq!(cb["status"], "CRITICAL");
    assert_eq!(cb["overage"], "20");
    assert_eq!(cb["consumedFromOrganization"], "20");
    assert_eq!(cb["availableForAllocation"], "80");
    app.finish().await;
}

#[tokio::test]
async fn overage_and_deleted_tenant_examples() {
    let (app, fx) = acme().await;
    let (a, b, d) = (
        tenant(&app, &fx.org, "a").await,
        tenant(&app, &fx.org, "b").await,
        tenant(&app, &fx.org, "d").await,
    );
    allocate(&app, &a, Some("200")).await;
    allocate(&app, &d, Some("300")).await;
    consume(&app, &a, "900", "2026-11-02", "EXECUTION").await;
    consume(&app, &b, "300", "2026-11-03", "EXECUTION").await;
    consume(&app, &d, "50", "2026-11-04", "EXECUTION").await;
    set_tenant_state(&app, &d, "DELETED").await;
    let u = usage(&app, &fx.org, "").await;
    assert_eq!(u["consumed"], "1250");
    assert_eq!(u["status"], "CRITICAL");
    assert_eq!(u["capacityCard"], json!({ "mode": "OVERAGE", "value": "250" }));
    assert_eq!(u["allocated"], "200", "a deleted tenant's allocation no longer counts");
    assert_eq!(u["availableForAllocation"], "0");
    assert_eq!(tenant_card(&u, &a)["status"], "CRITICAL");
    assert_eq!(tenant_card(&u, &b)["status"], "WARNING");
    assert!(tenant_card(&u, &b)["allocated"].is_null() && tenant_card(&u, &b)["consumptionRate"].is_null());
    let deleted = tenant_card(&u, &d);
    assert_eq!(deleted["status"], "DELETED");
    assert_eq!(deleted["allocated"], "300");
    let uuid =
        quotagraph::graphql::node::decode::<quotagraph::domain::ids::TenantId>(&async_graphql::ID(d.clone())).unwrap();
    assert_eq!(deleted["displayName"], uuid.to_string());
    app.finish().await;
}

#[tokio::test]
async fn a_sub_range_splits_flow_and_keeps_balance_at_its_end() {
    let (app, fx, [a]) = acme_with_tenants(["a"]).await;
    allocate(&app, &a, Some("100")).await;
    consume(&app, &a, "80", "2026-11-05", "EXECUTION").await;
    consume(&app, &a, "50", "2026-11-12", "EXECUTION").await;
    consume(&app, &a, "7", "2026-11-20", "EXECUTION").await;
    let u = usage(&app, &fx.org, ", range: {from: \"2026-11-10\", to: \"2026-11-15\"}").await;
    let c = tenant_card(&u, &a);
    assert_eq!(
        (
            c["consumed"].as_str(),
            c["consumedFromAllocated"].as_str(),
            c["consumedFromOrganization"].as_str()
        ),
        (Some("50"), Some("20"), Some("30"))
    );
    assert!((c["consumptionRate"].as_f64().unwrap() - 1.3).abs() < 1e-9);
    assert_eq!(c["overage"], "30");
    assert_eq!(c["status"], "CRITICAL");
    assert_eq!(u["consumed"], "50");
    assert_eq!(u["remaining"], "870");
    // Flow figures of consecutive sub-ranges add up to the whole bundle's.
    let whole = usage(&app, &fx.org, "").await;
    let parts = [
        usage(&app, &fx.org, ", range: {from: \"2026-11-01\", to: \"2026-11-09\"}").await,
        u.clone(),
        usage(&app, &fx.org, ", range: {from: \"2026-11-16\", to: \"2026-11-30\"}").await,
    ];
    for field in ["consumed", "consumedFromAllocated", "consumedFromOrganization"] {
        let sum: f64 = parts
            .iter()
            .map(|p| p[field].as_str().unwrap().parse::<f64>().unwrap())
            .sum();
        assert_eq!(sum, whole[field].as_str().unwrap().parse::<f64>().unwrap(), "{field}");
    }
    for range in [
        ", range: {from: \"2026-10-31\", to: \"2026-11-03\"}",
        ", range: {from: \"2026-11-20\", to: \"2026-12-01\"}",
        ", range: {from: \"2026-11-05\", to: \"2026-11-04\"}",
    ] {
        let field = format!("usage(unitType: \"units\"{range}) {{ consumed }}");
        app.organization_refused(SYSTEM_KEY, &fx.org, &field, "BAD_USER_INPUT", &[])
            .await;
    }
    app.finish().await;
}

#[tokio::test]
async fn a_closed_bundle_answers_from_history() {
    let (app, fx, [a]) = acme_with_tenants(["a"]).await;
    consume(&app, &a, "12.5", "2026-10-31", "EXECUTION").await;
    consume(&app, &a, "3", "2026-11-01", "EXECUTION").await;
    let october = usage(&app, &fx.org, ", bundle: \"2026-10-01\"").await;
    assert_eq!(
        october["bundle"],
        json!({ "startDate": "2026-10-01", "current": false })
    );
    assert_eq!(
        (october["from"].as_str(), october["to"].as_str()),
        (Some("2026-10-01"), Some("2026-10-31"))
    );
    assert_eq!(october["consumed"], "12.5");
    assert_eq!(usage(&app, &fx.org, "").await["consumed"], "3");
    let not_a_bundle_start = "usage(unitType: \"units\", bundle: \"2026-10-02\") { consumed }";
    app.organization_refused(SYSTEM_KEY, &fx.org, not_a_bundle_start, "BAD_USER_INPUT", &[])
        .await;
    app.finish().await;
}

#[tokio::test]
async fn the_quota_view_counts_executions_against_the_burst_limit() {
    let app = TestApp::spawn().await;
    let license = json!({ "capacity": "100", "startsOn": "2026-10-15", "burstPercent": 130, "burstPeriods": 2, "enforced": true });
    let (org, [t]) = organization_with_tenants(&app, "o", "UTC", license, ["t"]).await;
    consume(&app, &t, "40", "2026-11-16", "EXECUTION").await;
    consume(&app, &t, "5", "2026-11-17", "UPLOAD").await;
    consume(&app, &t, "9", "2026-11-14", "EXECUTION").await;
    let q = app
        .organization(SYSTEM_KEY, &org, "quota(unitType: \"units\") { unitType { code } used quota limit remaining burstActive enforced periodStart periodEnd resetsOn }")
        .await["quota"]
        .clone();
    assert_eq!(
        q,
        json!({ "unitType": { "code": "units" }, "used": "40", "quota": "100", "limit": "130", "remaining": "90", "burstActive": true, "enforced": true, "periodStart": "2026-11-15", "periodEnd": "2026-12-15", "resetsOn": "2026-12-15" })
    );
    app.finish().await;
}

#[tokio::test]
async fn a_tenant_admin_reads_its_card_and_not_the_organizations_figures() {
    let (app, fx, [own, other]) = acme_with_tenants(["own", "other"]).await;
    consume(&app, &own, "5", "2026-11-02", "EXECUTION").await;
    let admin = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&own)).await;
    let data = app
        .ok(
            &admin,
            "query($o: ID!, $other: ID!) { organization(id: $o) { usage(unitType: \"units\") { tenants { consumed tenant { id } } other: tenant(id: $other) { consumed } } } }",
            json!({ "o": fx.org, "other": other }),
        )
        .await;
    let usage = &data["organization"]["usage"];
    assert_eq!(usage["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(usage["tenants"][0]["tenant"]["id"], own.as_str());
    assert!(usage["other"].is_null());
    for field in ["consumed", "status", "remaining"] {
        let field = format!("usage(unitType: \"units\") {{ {field} }}");
        app.organization_refused(&admin, &fx.org, &field, "FORBIDDEN", &[])
            .await;
    }
    let quota = "quota(unitType: \"units\") { used }";
    app.organization_refused(&admin, &fx.org, quota, "FORBIDDEN", &[]).await;
    app.finish().await;
}

/// Runs the dashboard query (usage and quota side by side) and returns how many SQL
/// statements it cost.
async fn dashboard_statements(app: &TestApp, org: &str) -> (u64, usize) {
    // Past this age nothing kept in memory is answered (docs/design.md §11): every sum is read.
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
    kept_dashboard_statements(app, org).await
}

/// [`dashboard_statements`] without waiting for what is kept in memory to age.
async fn kept_dashboard_statements(app: &TestApp, org: &str) -> (u64, usize) {
    let query = format!(
        "query($o: ID!) {{ organization(id: $o) {{ name usage(unitType: \"units\") {{ {ORGANIZATION_FIELDS} tenants {{ {TENANT_FIELDS} }} }} \
         quota(unitType: \"units\") {{ used quota limit remaining }} }} }}"
    );
    let before = app.statements.get();
    let data = app.ok(SYSTEM_KEY, &query, json!({ "o": org })).await;
    let after = app.statements.get();
    (
        after - before,
        data["organization"]["usage"]["tenants"].as_array().unwrap().len(),
    )
}

#[tokio::test]
async fn the_dashboard_costs_the_same_statements_for_3_and_300_tenants() {
    // The period watcher would add its own statements to the count: keep it quiet.
    let app = TestApp::spawn_with(crate::helpers::DEFAULT_NOW, 3_600_000).await;
    let fx = organization_with_license(&app, "acme", "100000").await;
    let mut tenants = Vec::new();
    for i in 0..300 {
        let t = tenant(&app, &fx.org, &format!("t{i}")).await;
        if i < 3 {
            allocate(&app, &t, Some("10")).await;
            consume(&app, &t, "4", "2026-11-03", "EXECUTION").await;
        }
        tenants.push(t);
        if i == 2 {
            let (statements, cards) = dashboard_statements(&app, &fx.org).await;
            assert_eq!(cards, 3);
            tenants.push(statements.to_string());
        }
    }
    let small: u64 = tenants[3].parse().unwrap();
    let events = tenants
        .iter()
        .filter(|t| t.len() > 10)
        .enumerate()
        .map(|(i, t)| event(&format!("bulk-{i}"), t, "1", "2026-11-04T10:00:00Z"));
    record(&app, events).await;
    let (large, cards) = dashboard_statements(&app, &fx.org).await;
    assert_eq!(cards, 300);
    assert_eq!(small, large, "statements for 3 tenants: {small}, for 300: {large}");
    // The key, the organization, the unit type, its licenses and their top-ups, the
    // tenants, their allocations, their consumption, and the quota's consumption (to the
    // bundle's end).
    assert!(large <= 9, "{large} statements for one dashboard query");
    // Asked again with nothing written, the figures are kept in memory (docs/design.md
    // §11), and so are the caller's key, the organization and the unit type.
    let (again, _) = kept_dashboard_statements(&app, &fx.org).await;
    assert_eq!(
        again, 0,
        "{again} statements for a dashboard asked again (the first cost {large})"
    );
    app.finish().await;
}

/// The dashboard's figures are kept in memory per organization: the replica that wrote
/// answers with the write at once, and another replica within a second, whether the write
/// raised an event (usage recorded) or not (a tenant renamed).
#[tokio::test]
async fn a_replica_s_dashboard_follows_the_writes_of_another_within_a_second() {
    let (app, fx, [a]) = acme_with_tenants(["a"]).await;
    consume(&app, &a, "100", "2026-11-10", "EXECUTION").await;
    let replica = app.quiet_replica().await;
    let card = |usage: &Value| (usage["consumed"].clone(), tenant_card(usage, &a)["displayName"].clone());
    assert_eq!(card(&usage(&replica, &fx.org, "").await), (json!("100"), json!("a")));

    consume(&app, &a, "50", "2026-11-11", "EXECUTION").await;
    app.ok(
        SYSTEM_KEY,
        &crate::helpers::mutation("updateTenant", "tenant { id }"),
        json!({ "input": { "tenantId": a, "name": "renamed" } }),
    )
    .await;
    let written = std::time::Instant::now();
    let after = (json!("150"), json!("renamed"));
    assert_eq!(
        card(&usage(&app, &fx.org, "").await),
        after,
        "the writer's own dashboard"
    );
    loop {
        let seen = card(&usage(&replica, &fx.org, "").await);
        if seen == after {
            break;
        }
        assert!(
            written.elapsed() < std::time::Duration::from_secs(1),
            "the replica still answers {seen:?} a second after the writes"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    replica.finish().await;
    app.finish().await;
}

/// A tenant view asked again with nothing written reads its sums (by day and service, and
/// by list) from memory: the same answer for fewer statements.
#[tokio::test]
async fn a_tenant_view_asked_again_reads_its_sums_from_memory() {
    // The period watcher would add its own statements to the count: keep it quiet.
    let app = TestApp::spawn_with(crate::helpers::DEFAULT_NOW, 3_600_000).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let a = tenant(&app, &fx.org, "a").await;
    consume(&app, &a, "40", "2026-11-03", "EXECUTION").await;
    consume(&app, &a, "2", "2026-11-04", "EXECUTION").await;
    let query = "query($o: ID!, $t: ID!) { organization(id: $o) { usage(unitType: \"units\") { tenant(id: $t) { \
         consumed distribution(granularity: WEEK) { start consumed } byService { total services { service { code } consumed } } \
         folders(attribution: EXECUTION) { consumed } processes(attribution: EXECUTION, first: 20) { edges { node { consumed } } } } } } }";
    let view = || async {
        let before = app.statements.get();
        let data = app.ok(SYSTEM_KEY, query, json!({ "o": fx.org, "t": a })).await;
        (app.statements.get() - before, data)
    };
    let (first, answer) = view().await;
    assert_eq!(answer["organization"]["usage"]["tenant"]["consumed"], "42");
    let (again, same) = view().await;
    assert_eq!(same, answer);
    assert!(again < first, "{again} statements asked again, {first} the first time");
    consume(&app, &a, "8", "2026-11-05", "EXECUTION").await;
    let (_, after) = view().await;
    assert_eq!(after["organization"]["usage"]["tenant"]["consumed"], "50");
    assert_eq!(after["organization"]["usage"]["tenant"]["byService"]["total"], "50");
    app.finish().await;
}
