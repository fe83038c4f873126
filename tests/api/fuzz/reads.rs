//! Reads with odd arguments: they may answer, but never with a 5xx or an uncoded error.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use proptest::prelude::*;
use serde_json::{Value, json};

use super::cases::{Case, body_text, json_case};
use super::values::{ABSENT, bad_date, bad_enum, bad_unit, garbage_id, odd_date, pick, raw, strs};
use super::world::{Key, World};

pub(super) fn read_cases(w: &World) -> BoxedStrategy<Case> {
    let all_ids = w.ids(|_| true);
    let id =
        prop_oneof![2 => pick(all_ids.clone()), 2 => garbage_id("Tenant", w), 1 => garbage_id("Folder", w)].boxed();
    let org =
        prop_oneof![3 => pick(strs(&[w.org_a.as_str(), w.org_b.as_str()])), 1 => garbage_id("Organization", w)].boxed();
    let tenant = prop_oneof![2 => pick(w.ids(|o| o.kind == "Tenant")), 1 => garbage_id("Tenant", w)].boxed();
    let opt = |s: BoxedStrategy<Value>| prop_oneof![3 => s, 1 => Just(json!(ABSENT))].boxed();
    let int = opt(pick(vec![
        json!(0),
        json!(1),
        json!(5),
        json!(100),
        json!(101),
        json!(-1),
        json!(2_147_483_647),
        json!(2_147_483_648_i64),
        json!(-2_147_483_649_i64),
        json!(1.5),
        json!("5"),
        Value::Null,
        raw("1e400"),
    ]));
    let cursor = opt(prop_oneof![
        prop::collection::vec(any::<u8>(), 16..=16).prop_map(|b| json!(URL_SAFE_NO_PAD.encode(b))),
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|b| json!(URL_SAFE_NO_PAD.encode(b))),
        pick(vec![
            json!(""),
            json!("x"),
            json!(5),
            Value::Null,
            json!("===="),
            json!("😀")
        ]),
        pick(all_ids),
    ]
    .boxed());
    let unit = prop_oneof![3 => pick(strs(&["units"])), 1 => bad_unit()].boxed();
    let date = opt(prop_oneof![
        3 => pick(strs(&["2026-11-01", "2026-10-01", "2026-01-01", "2026-11-02", "2025-12-01"])),
        1 => bad_date(),
        1 => odd_date(),
        1 => Just(Value::Null),
    ]
    .boxed());
    let bound = pick(strs(&[
        "2026-11-01",
        "2026-11-23",
        "2026-11-30",
        "2026-12-01",
        "2026-10-31",
    ]));
    let range = opt(prop_oneof![
        (bound.clone(), bound).prop_map(|(from, to)| json!({ "from": from, "to": to })),
        (bad_date(), bad_date()).prop_map(|(from, to)| json!({ "from": from, "to": to })),
        pick(vec![
            json!({}),
            json!({ "from": "2026-11-01" }),
            json!("2026-11-01"),
            Value::Null
        ]),
    ]
    .boxed());
    let enum_of = |values: &[&str]| prop_oneof![4 => pick(strs(values)), 1 => bad_enum()].boxed();
    let states = opt(prop_oneof![
        pick(vec![
            json!(["ACTIVE"]),
            json!(["DELETED", "DISABLED"]),
            json!([]),
            Value::Null,
            json!("ACTIVE")
        ]),
        pick(vec![json!(["active"]), json!([null]), json!([1])]),
    ]
    .boxed());

    const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id
        ... on Tenant { name state organization { id } allocation(unitType: \"units\") { amount effectiveOn } folders(first: 3) { nodes { id } } }
        ... on Folder { name parent { id } tenant { id } children(first: 5) { nodes { id } } processes { nodes { id } } }
        ... on Process { name }
        ... on License { planName capacity replaces { id } }
        ... on ApiKey { name role revokedAt }
        ... on Organization { slug timeZone } } }";
    const USAGE: &str = "query($org: ID!, $unit: String!, $bundle: Date, $range: DateRangeInput, $g: Granularity!, $a: Attribution!, $first: Int, $after: String, $states: [TenantState!], $tenant: ID!) {
        organization(id: $org) { usage(unitType: $unit, bundle: $bundle, range: $range) {
            from to consumed remaining status overage availableForAllocation capacityCard { mode value }
            tenants(states: $states) { displayName consumed consumptionRate status }
            tenant(id: $tenant) { consumed status distribution(granularity: $g) { start consumed } folders(attribution: $a) { consumed } }
            distribution(granularity: $g) { start end consumed }
            byService { total services { percent } }
            folders(attribution: $a) { consumed children { consumed } processes { consumed } }
            processes(attribution: $a, first: $first, after: $after) { pageInfo { hasNextPage endCursor } }
        } } }";
    const ORG: &str = "query($org: ID!, $unit: String!, $weeks: Int, $first: Int, $after: String, $states: [TenantState!]) {
        organization(id: $org) { name quota(unitType: $unit) { used limit remaining resetsOn }
            activity(unitType: $unit, weeks: $weeks) { weeks { weekStart executions } precedingWeek { executions } }
            bundles(unitType: $unit) { startDate endDate capacity current }
            licenses(unitType: $unit) { id }
            tenants(first: $first, after: $after, states: $states) { nodes { id state } pageInfo { endCursor hasNextPage } } } }";
    const ORGS: &str = "query($first: Int, $after: String) { organizations(first: $first, after: $after) { nodes { id slug } pageInfo { hasNextPage } } viewer { role organization { id } tenant { id } } unitTypes { code } }";
    const VIEWER: &str = "{ viewer { role } }";

    let node = id
        .prop_map(|id| json!({ "query": NODE, "variables": { "id": id } }))
        .boxed();
    let usage = (
        org.clone(),
        unit.clone(),
        date,
        range,
        enum_of(&["DAY", "WEEK", "MONTH"]),
        enum_of(&["EXECUTION", "OWNERSHIP"]),
        int.clone(),
        cursor.clone(),
        states.clone(),
        tenant,
    )
        .prop_map(|(org, unit, bundle, range, g, a, first, after, states, tenant)| {
            json!({ "query": USAGE, "variables": {
                "org": org, "unit": unit, "bundle": bundle, "range": range, "g": g, "a": a,
                "first": first, "after": after, "states": states, "tenant": tenant,
            } })
        })
        .boxed();
    let weeks = opt(pick(vec![
        json!(0),
        json!(1),
        json!(12),
        json!(53),
        json!(1000),
        json!(-5),
        json!(2_147_483_647),
        json!(2_147_483_648_i64),
        Value::Null,
    ]));
    let org_query = (org, unit, weeks, int.clone(), cursor.clone(), states)
        .prop_map(|(org, unit, weeks, first, after, states)| {
            json!({ "query": ORG, "variables": {
                "org": org, "unit": unit, "weeks": weeks, "first": first, "after": after, "states": states,
            } })
        })
        .boxed();
    let orgs = (int, cursor)
        .prop_map(|(first, after)| json!({ "query": ORGS, "variables": { "first": first, "after": after } }))
        .boxed();
    let viewer = Just(json!({ "query": VIEWER })).boxed();

    let bodies = prop_oneof![3 => node, 4 => usage, 3 => org_query, 1 => orgs, 1 => viewer].prop_map(|mut body| {
        if let Some(vars) = body.get_mut("variables").and_then(Value::as_object_mut) {
            vars.retain(|_, v| *v != json!(ABSENT));
        }
        body_text(&body)
    });
    keyed(w, bodies.boxed(), false)
}

/// The key a roll in `0..total weight` picks.
pub(super) fn choose(keys: &[(u32, Key)], mut roll: u32) -> Key {
    for (weight, key) in keys {
        if roll < *weight {
            return key.clone();
        }
        roll -= weight;
    }
    keys[0].1.clone()
}

pub(super) fn total_weight(w: &World) -> u32 {
    w.keys.iter().map(|(weight, _)| *weight).sum()
}

pub(super) fn keyed(w: &World, bodies: BoxedStrategy<String>, must_refuse: bool) -> BoxedStrategy<Case> {
    let keys = w.keys.clone();
    (bodies, 0..total_weight(w))
        .prop_map(move |(body, roll)| json_case(&choose(&keys, roll), body, must_refuse))
        .boxed()
}
