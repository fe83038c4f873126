//! `setAllocation` (capacity 1000, today 2026-11-23, current bundle 2026-11-01..2026-12-01):
//! what it reserves, the limits it keeps (what is available, what was consumed, the
//! effective day), and what it refuses and to whom.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme_with_tenants, event, globex_owner, key, record, set_tenant_state, tenant,
};

const TENANT_ALLOCATION: &str = "query($id: ID!) {
    node(id: $id) { ... on Tenant { allocation(unitType: \"units\") { amount effectiveOn } } }
}";

async fn allocation(app: &TestApp, tenant: &str) -> Value {
    app.ok(SYSTEM_KEY, TENANT_ALLOCATION, json!({ "id": tenant })).await["node"]["allocation"].clone()
}

/// `setAllocation`'s input: `amount` units to `tenant`, with `fields` added.
fn input(tenant: &str, amount: impl Into<Value>, fields: Value) -> Value {
    let mut input = json!({ "tenantId": tenant, "unitType": "units", "amount": amount.into() });
    input
        .as_object_mut()
        .unwrap()
        .extend(fields.as_object().unwrap().clone());
    input
}

/// Sets `amount` units to `tenant` as `key`; returns the allocation made.
async fn set(app: &TestApp, key: &str, tenant: &str, amount: impl Into<Value>) -> Value {
    app.mutate(key, "setAllocation", input(tenant, amount, json!({}))).await["allocation"].clone()
}

/// Expects setting `amount` units to `tenant` as `key` refused with `code`, and a message
/// naming each of `words`.
async fn refused(app: &TestApp, key: &str, tenant: &str, amount: impl Into<Value>, code: &str, words: &[&str]) {
    let input = input(tenant, amount, json!({}));
    app.mutate_refused(key, "setAllocation", input, code, words).await;
}

#[tokio::test]
async fn set_allocation_reserves_units_to_a_tenant() {
    let (app, fixture, [id]) = acme_with_tenants(["Research"]).await;
    assert_eq!(allocation(&app, &id).await, Value::Null, "no allocation is N/A");

    let made = set(&app, SYSTEM_KEY, &id, "400").await;
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
    set(&app, &owner, &id, "250.5").await;
    assert_eq!(allocation(&app, &id).await["amount"], "250.5");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_more_than_current_plus_available() {
    let (app, fixture, [a]) = acme_with_tenants(["Research"]).await;
    let b = tenant(&app, &fixture.org, "B").await;
    set(&app, SYSTEM_KEY, &a, "400").await;

    // b holds nothing; 600 are available.
    refused(&app, SYSTEM_KEY, &b, "601", "BAD_USER_INPUT", &["601", "600"]).await;
    assert_eq!(allocation(&app, &b).await, Value::Null);

    // a holds 400 and may grow to 400 + 600 = 1000, not past it.
    let words = ["1000.0001", "1000", "400", "600"];
    refused(&app, SYSTEM_KEY, &a, "1000.0001", "BAD_USER_INPUT", &words).await;
    assert_eq!(allocation(&app, &a).await["amount"], "400");

    set(&app, SYSTEM_KEY, &a, "1000").await;
    set(&app, SYSTEM_KEY, &b, "0").await;
    assert_eq!(allocation(&app, &b).await["amount"], "0");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_less_than_consumed_in_the_current_bundle() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;
    record(
        &app,
        [
            // In the current bundle: counts.
            event("e1", &id, "120", "2026-11-20T10:00:00Z"),
            // In the previous bundle: does not count against this one.
            event("e2", &id, "500", "2026-10-20T10:00:00Z"),
        ],
    )
    .await;

    refused(
        &app,
        SYSTEM_KEY,
        &id,
        "119.9999",
        "BAD_USER_INPUT",
        &["119.9999", "120"],
    )
    .await;
    assert_eq!(allocation(&app, &id).await, Value::Null);
    assert_eq!(set(&app, SYSTEM_KEY, &id, "120").await["amount"], "120");
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_a_tenant_that_is_not_active() {
    let (app, _, [disabled, deleted]) = acme_with_tenants(["Paused", "Gone"]).await;
    set_tenant_state(&app, &disabled, "DISABLED").await;
    set_tenant_state(&app, &deleted, "DELETED").await;
    for (id, state) in [(&disabled, "DISABLED"), (&deleted, "DELETED")] {
        refused(&app, SYSTEM_KEY, id, "10", "BAD_USER_INPUT", &[state]).await;
        assert_eq!(allocation(&app, id).await, Value::Null);
    }
    app.finish().await;
}

#[tokio::test]
async fn a_disabled_tenants_allocation_may_be_released_and_nothing_else() {
    let (app, fx, [paused, other]) = acme_with_tenants(["Paused", "Other"]).await;
    set(&app, SYSTEM_KEY, &paused, "300").await;
    set_tenant_state(&app, &paused, "DISABLED").await;
    refused(
        &app,
        SYSTEM_KEY,
        &paused,
        "200",
        "BAD_USER_INPUT",
        &["DISABLED", "amount: null"],
    )
    .await;
    assert_eq!(allocation(&app, &paused).await["amount"], "300");
    let released = set(&app, SYSTEM_KEY, &paused, Value::Null).await;
    assert_eq!(released["amount"], Value::Null);
    assert_eq!(allocation(&app, &paused).await["amount"], Value::Null);
    // What it held is the pool's again: all 1000 may go to another tenant.
    set(&app, SYSTEM_KEY, &other, "1000").await;
    let usage = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "usage(unitType: \"units\") { allocated availableForAllocation }",
        )
        .await;
    assert_eq!(
        usage["usage"],
        json!({ "allocated": "1000", "availableForAllocation": "0" })
    );
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_with_no_amount_removes_it() {
    let (app, fixture, [id]) = acme_with_tenants(["Research"]).await;
    let from_the_first = input(&id, "400", json!({ "effectiveOn": "2026-11-01" }));
    app.mutate(SYSTEM_KEY, "setAllocation", from_the_first).await;
    assert_eq!(allocation(&app, &id).await["amount"], "400");

    let removed = set(&app, SYSTEM_KEY, &id, Value::Null).await;
    assert_eq!(removed["amount"], Value::Null);
    assert_eq!(
        allocation(&app, &id).await["amount"],
        Value::Null,
        "N/A: no amount in effect"
    );

    // Its 400 are available again for another tenant.
    let other = tenant(&app, &fixture.org, "Other").await;
    set(&app, SYSTEM_KEY, &other, "1000").await;
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_takes_effect_on_a_day_of_the_current_bundle_up_to_today() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;
    for day in ["2026-10-31", "2026-11-24", "2027-01-01"] {
        let input = input(&id, "100", json!({ "effectiveOn": day }));
        app.mutate_refused(
            SYSTEM_KEY,
            "setAllocation",
            input,
            "BAD_USER_INPUT",
            &["effectiveOn", day],
        )
        .await;
    }
    assert_eq!(allocation(&app, &id).await, Value::Null);

    for day in ["2026-11-01", "2026-11-23"] {
        let input = input(&id, "100", json!({ "effectiveOn": day }));
        assert_eq!(
            app.mutate(SYSTEM_KEY, "setAllocation", input).await["allocation"]["effectiveOn"],
            day
        );
    }
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_an_unknown_unit_type() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;
    let input = input(&id, "1", json!({ "unitType": "no-such-unit" }));
    app.mutate_refused(SYSTEM_KEY, "setAllocation", input, "BAD_USER_INPUT", &["no-such-unit"])
        .await;
    app.finish().await;
}

#[tokio::test]
async fn set_allocation_refuses_a_negative_or_too_precise_amount() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;
    for amount in ["-1", "0.00001"] {
        refused(&app, SYSTEM_KEY, &id, amount, "BAD_USER_INPUT", &["amount"]).await;
    }
    assert_eq!(allocation(&app, &id).await, Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn a_viewer_may_not_set_allocations() {
    let (app, fixture, [id]) = acme_with_tenants(["Research"]).await;
    set(&app, SYSTEM_KEY, &id, "400").await;
    let viewer = key(&app, "VIEWER", Some(&fixture.org), None).await;
    for amount in [json!("500"), Value::Null] {
        refused(&app, &viewer, &id, amount, "FORBIDDEN", &[]).await;
    }
    assert_eq!(allocation(&app, &id).await["amount"], "400");
    app.finish().await;
}

#[tokio::test]
async fn an_owner_of_another_organization_does_not_find_the_tenant_to_allocate_to() {
    let (app, _, [id]) = acme_with_tenants(["Research"]).await;
    let (_, stranger) = globex_owner(&app).await;
    refused(&app, &stranger, &id, "10", "NOT_FOUND", &[]).await;
    assert_eq!(allocation(&app, &id).await, Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn an_allocation_change_cannot_be_back_dated_behind_a_later_one() {
    let (app, _, [t]) = acme_with_tenants(["T"]).await;
    set(&app, SYSTEM_KEY, &t, "400").await;
    let back_dated = input(&t, "100", json!({ "effectiveOn": "2026-11-01" }));
    app.mutate_refused(SYSTEM_KEY, "setAllocation", back_dated, "BAD_USER_INPUT", &[])
        .await;
    assert_eq!(allocation(&app, &t).await["amount"], "400");
    app.finish().await;
}
