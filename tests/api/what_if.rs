//! What-if (docs/design.md §15.6): `previewAllocations` answers what `setAllocations`
//! would leave, writing nothing; `setAllocations` applies a batch checked against the state
//! it leaves, all or nothing, with an event and an audit entry per change.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme_with_tenants, allocate, event, key, organization_with_license, record, set_tenant_state,
    tenant, tenant_card,
};

/// The whole card set: the organization's figures, its forecast and every tenant's card.
const USAGE: &str = "unitType { code } bundle { startDate current } from to totalCapacity limit consumed consumedFromAllocated consumedFromOrganization remaining allocated availableForAllocation overage overAllocation capacityCard { mode value } breakdown { consumedFromAllocated consumedFromOrganization remaining } status forecast { dailyRate projected runsOutOn } tenants { tenant { id } displayName allocated consumed consumedFromAllocated consumedFromOrganization consumptionRate remaining overage availableForAllocation status forecast { dailyRate projected runsOutOn } }";

fn preview_document() -> String {
    format!("mutation($input: SetAllocationsInput!) {{ previewAllocations(input: $input) {{ {USAGE} }} }}")
}

fn set_document() -> String {
    format!("mutation($input: SetAllocationsInput!) {{ setAllocations(input: $input) {{ usage {{ {USAGE} }} }} }}")
}

fn batch(org: &str, changes: &[(&str, Option<&str>)]) -> Value {
    let changes: Vec<Value> = changes
        .iter()
        .map(|(tenant, amount)| json!({ "tenantId": tenant, "amount": amount }))
        .collect();
    json!({ "input": { "organizationId": org, "unitType": "units", "changes": changes } })
}

async fn usage(app: &TestApp, org: &str) -> Value {
    app.organization(SYSTEM_KEY, org, &format!("usage(unitType: \"units\") {{ {USAGE} }}"))
        .await["usage"]
        .clone()
}

/// What a batch could have written: the audit log and the stored notifications.
async fn written(app: &TestApp, org: &str) -> Value {
    app.organization(
        SYSTEM_KEY,
        org,
        "auditLog(first: 100) { edges { node { action targetId before after } } }
         notifications(first: 100) { edges { node { kind tenantId consumed remaining } } }",
    )
    .await
}

/// acme (capacity 1000) with A holding 800 (100 consumed) and B 200: nothing is free.
async fn fully_allocated() -> (TestApp, String, [String; 2]) {
    let (app, fx, [a, b]) = acme_with_tenants(["A", "B"]).await;
    allocate(&app, &a, Some("800")).await;
    allocate(&app, &b, Some("200")).await;
    record(&app, [event("a1", &a, "100", "2026-11-10T12:00:00Z")]).await;
    (app, fx.org, [a, b])
}

#[tokio::test]
async fn a_preview_writes_nothing_and_equals_the_figures_after_the_same_batch() {
    let (app, org, [a, b]) = fully_allocated().await;
    let before = usage(&app, &org).await;
    let log_before = written(&app, &org).await;
    assert_eq!(before["availableForAllocation"], "0");

    // Raising B first, alone, is refused: nothing is free.
    let raise = json!({ "tenantId": b, "unitType": "units", "amount": "700" });
    app.mutate_refused(SYSTEM_KEY, "setAllocation", raise, "BAD_USER_INPUT", &["700"])
        .await;

    let moved = batch(&org, &[(&a, Some("300")), (&b, Some("700"))]);
    let preview = app.ok(SYSTEM_KEY, &preview_document(), moved.clone()).await["previewAllocations"].clone();
    assert_eq!(preview["allocated"], "1000");
    assert_eq!(tenant_card(&preview, &a)["allocated"], "300");
    assert_eq!(tenant_card(&preview, &b)["allocated"], "700");
    assert_eq!(usage(&app, &org).await, before, "a preview changes no figure");
    assert_eq!(
        written(&app, &org).await,
        log_before,
        "a preview writes no entry nor notification"
    );

    let set = app.ok(SYSTEM_KEY, &set_document(), moved).await["setAllocations"]["usage"].clone();
    assert_eq!(set, preview, "the preview is what the batch leaves");
    assert_eq!(usage(&app, &org).await, preview, "and what the usage reads after it");

    let log = written(&app, &org).await;
    let entries: Vec<&Value> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|e| e["action"] == "setAllocations")
        .collect();
    assert_eq!(entries.len(), 2, "one entry per change: {log:#}");
    assert_eq!(entries[0]["targetId"], a.as_str());
    assert_eq!(entries[0]["before"]["amount"], "800");
    assert_eq!(
        entries[0]["after"],
        json!({ "unitType": "units", "amount": "300", "effectiveOn": "2026-11-23" })
    );
    assert_eq!(entries[1]["targetId"], b.as_str());
    let changed: Vec<&Value> = log["notifications"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["node"])
        .filter(|n| n["kind"] == "ALLOCATION_CHANGED")
        .collect();
    let last_two: Vec<Value> = changed[changed.len() - 2..]
        .iter()
        .map(|n| json!([n["tenantId"], n["consumed"], n["remaining"]]))
        .collect();
    assert_eq!(last_two, [json!([a, "100", "200"]), json!([b, "0", "700"])]);
    app.finish().await;
}

#[tokio::test]
async fn an_invalid_change_names_its_index_and_numbers_and_nothing_is_written() {
    let (app, org, [a, b]) = fully_allocated().await;
    let before = usage(&app, &org).await;
    let log_before = written(&app, &org).await;
    for document in [preview_document(), set_document()] {
        // Below what A consumed: the second change.
        let below = batch(&org, &[(&b, Some("250")), (&a, Some("50"))]);
        let message = app.refused(SYSTEM_KEY, &document, below, "BAD_USER_INPUT", &[]).await;
        assert_eq!(
            message,
            "changes[1]: tenant 'A': allocation 50 is below its consumption 100 in the bundle starting 2026-11-01"
        );
        // More than the capacity in total.
        let above = batch(&org, &[(&b, Some("1200"))]);
        let message = app.refused(SYSTEM_KEY, &document, above, "BAD_USER_INPUT", &[]).await;
        assert_eq!(
            message,
            "the changes allocate 2000 in total but the organization can allocate 1000 (capacity 1000 less 0 consumed from its pool)"
        );
        // The same tenant twice; no change at all; a bad amount.
        let twice = batch(&org, &[(&a, Some("1")), (&b, Some("1")), (&a, Some("2"))]);
        app.refused(
            SYSTEM_KEY,
            &document,
            twice,
            "BAD_USER_INPUT",
            &["changes[0]", "changes[2]"],
        )
        .await;
        app.refused(SYSTEM_KEY, &document, batch(&org, &[]), "BAD_USER_INPUT", &["changes"])
            .await;
        let negative = batch(&org, &[(&a, Some("300")), (&b, Some("-1"))]);
        app.refused(
            SYSTEM_KEY,
            &document,
            negative,
            "BAD_USER_INPUT",
            &["changes[1].amount", "-1"],
        )
        .await;
        // A valid change does not carry an invalid one through.
        let mixed = batch(&org, &[(&a, Some("300")), (&b, Some("5000"))]);
        app.refused(SYSTEM_KEY, &document, mixed, "BAD_USER_INPUT", &["5300", "1000"])
            .await;
    }
    assert_eq!(usage(&app, &org).await, before);
    assert_eq!(written(&app, &org).await, log_before);
    app.finish().await;
}

#[tokio::test]
async fn tenants_are_checked_by_state_and_organization() {
    let (app, org, [a, b]) = fully_allocated().await;
    let (globex, _) = crate::helpers::globex_owner(&app).await;
    let stranger = tenant(&app, &globex.org, "G").await;
    for document in [preview_document(), set_document()] {
        let foreign = batch(&org, &[(&a, Some("300")), (&stranger, Some("1"))]);
        app.refused(SYSTEM_KEY, &document, foreign, "NOT_FOUND", &["changes[1].tenantId"])
            .await;
        let garbage = batch(&org, &[(&a, Some("300")), ("not-an-id", Some("1"))]);
        app.refused(SYSTEM_KEY, &document, garbage, "NOT_FOUND", &["changes[1].tenantId"])
            .await;
    }
    // A DISABLED tenant may only be released, which gives its allocation back at once.
    set_tenant_state(&app, &b, "DISABLED").await;
    let raise = batch(&org, &[(&a, Some("900")), (&b, Some("100"))]);
    app.refused(
        SYSTEM_KEY,
        &set_document(),
        raise,
        "BAD_USER_INPUT",
        &["changes[1]", "DISABLED"],
    )
    .await;
    let release = batch(&org, &[(&a, Some("1000")), (&b, None)]);
    let set = app.ok(SYSTEM_KEY, &set_document(), release).await["setAllocations"]["usage"].clone();
    assert_eq!(tenant_card(&set, &a)["allocated"], "1000");
    assert!(tenant_card(&set, &b)["allocated"].is_null());
    app.finish().await;
}

#[tokio::test]
async fn managers_may_preview_and_set_other_roles_may_not() {
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &fx.org, "A").await;
    let input = batch(&fx.org, &[(&t, Some("10"))]);
    for role in ["OWNER", "ADMIN", "BILLING_MANAGER"] {
        let key = key(&app, role, Some(&fx.org), None).await;
        app.ok(&key, &preview_document(), input.clone()).await;
        app.ok(&key, &set_document(), input.clone()).await;
    }
    for (role, tenant) in [("VIEWER", None), ("TENANT_ADMIN", Some(t.as_str())), ("INGEST", None)] {
        let key = key(&app, role, Some(&fx.org), tenant).await;
        app.refused(&key, &preview_document(), input.clone(), "FORBIDDEN", &[])
            .await;
        app.refused(&key, &set_document(), input.clone(), "FORBIDDEN", &[])
            .await;
    }
    app.finish().await;
}
