//! `setAllocation` (capacity 1000, today 2026-11-23, current bundle 2026-11-01..2026-12-01):
//! what it reserves, the limits it keeps (what is available, what was consumed, the
//! effective day), and what it refuses and to whom.

use serde_json::{Value, json};

use super::UPDATE_TENANT;
use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license, tenant};

const SET_ALLOCATION: &str = "mutation($input: SetAllocationInput!) {
    setAllocation(input: $input) { allocation { amount effectiveOn unitType { code } tenant { id } } }
}";

const TENANT_ALLOCATION: &str = "query($id: ID!) {
    node(id: $id) { ... on Tenant { allocation(unitType: \"units\") { amount effectiveOn } } }
}";

const RECORD_USAGE: &str = "mutation($input: RecordUsageInput!) {
    recordUsage(input: $input) { accepted duplicates }
}";

async fn allocation(app: &TestApp, tenant: &str) -> Value {
    app.ok(SYSTEM_KEY, TENANT_ALLOCATION, json!({ "id": tenant })).await["node"]["allocation"].clone()
}

async fn set_allocation(app: &TestApp, key: &str, input: Value) -> Value {
    app.ok(key, SET_ALLOCATION, json!({ "input": input })).await["setAllocation"]["allocation"].clone()
}

async fn set_allocation_err(app: &TestApp, key: &str, input: Value) -> (String, String) {
    app.err(key, SET_ALLOCATION, json!({ "input": input })).await
}

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
