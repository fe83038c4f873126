//! Bodies that are not a GraphQL request at all.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use super::cases::{Body, Case, body_text};
use super::mutations::{EVERY_WAY, mutation_cases};
use super::reads::{choose, read_cases, total_weight};
use super::values::pick;
use super::world::World;

const CONTENT_TYPES: [Option<&str>; 10] = [
    None,
    Some("application/json"),
    Some("application/json"),
    Some("text/plain"),
    Some("application/graphql"),
    Some("multipart/form-data"),
    Some("multipart/form-data; boundary=XyZ"),
    Some("application/x-www-form-urlencoded"),
    Some("application/json; charset=utf-16"),
    Some("*/*"),
];

/// A text body, not a mutation.
fn text(s: String) -> (Body, bool) {
    (Body::Text(s), false)
}

fn raw_bodies(w: &World) -> BoxedStrategy<(Body, bool)> {
    let poisoned_mutation = mutation_cases(w, &EVERY_WAY).prop_map(|c| match c.body {
        Body::Text(t) => serde_json::from_str::<Value>(&t).unwrap_or(Value::Null),
        _ => Value::Null,
    });
    let read = Just(json!({ "query": "{ viewer { role } }" }));
    prop_oneof![
        // Bytes and text.
        2 => prop::collection::vec(any::<u8>(), 0..300).prop_map(|b| (Body::Bytes(b), false)),
        2 => any::<String>().prop_map(text),
        // JSON that is not an object.
        2 => pick(vec![
            json!(null), json!(true), json!(5), json!(-1.5), json!("{ viewer { role } }"), json!([]), json!([[]]),
            json!([null]), json!([5]), json!("")
        ]).prop_map(|v| text(v.to_string())),
        // Batches, with reads and poisoned mutations.
        3 => prop::collection::vec(prop_oneof![read, poisoned_mutation], 1..4)
            .prop_map(|batch| (Body::Text(body_text(&Value::Array(batch))), true)),
        // Objects of the wrong shape.
        3 => pick(vec![
            json!({}),
            json!({ "query": null }),
            json!({ "query": 5 }),
            json!({ "query": ["{ viewer { role } }"] }),
            json!({ "query": { "a": 1 } }),
            json!({ "variables": {} }),
            json!({ "query": "{ viewer { role } }", "variables": "x" }),
            json!({ "query": "{ viewer { role } }", "variables": [1] }),
            json!({ "query": "{ viewer { role } }", "variables": 5 }),
            json!({ "query": "{ viewer { role } }", "operationName": 5 }),
            json!({ "query": "{ viewer { role } }", "operationName": "Nope" }),
            json!({ "query": "query A { viewer { role } } query B { viewer { role } }", "operationName": null }),
            json!({ "query": "{ viewer { role } }", "extensions": "x" }),
            json!({ "query": "{ viewer { role } }", "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "00" } } }),
            json!({ "extensions": { "persistedQuery": { "version": 1, "sha256Hash": "abc" } } }),
            json!({ "query": "query($n: Int!) { organizations(first: $n) { nodes { id } } }", "variables": { "n": "5" } }),
            json!({ "query": "query($n: Int!) { organizations(first: $n) { nodes { id } } }", "variables": {} }),
            json!({ "query": "query($n: Int!) { organizations(first: $n) { nodes { id } } }", "variables": { "n": 1.5 } }),
            json!({ "query": "query($n: Int) { organizations(first: $n) { nodes { id } } }", "variables": { "n": 2_147_483_648_i64 } }),
            json!({ "query": "query($n: [Int!]!) { viewer { role } }", "variables": { "n": [null] } }),
        ]).prop_map(|v| text(v.to_string())),
        // JSON the parser must refuse.
        2 => prop::sample::select(vec![
            "{\"query\": \"{ viewer { role } }\"".to_owned(),
            "{\"query\": \"{ viewer { role } }\",}".to_owned(),
            "{\"query\": \"{ viewer { role } }\", \"query\": \"{ __typename }\"}".to_owned(),
            "{\"query\": \"\\ud800\"}".to_owned(),
            "{\"query\": \"{ viewer { role } }\", \"variables\": {\"a\": 1e400}}".to_owned(),
            "{\"query\": \"{ viewer { role } }\", \"variables\": {\"a\": NaN}}".to_owned(),
            "{'query': '{ viewer { role } }'}".to_owned(),
            "\u{feff}{\"query\": \"{ viewer { role } }\"}".to_owned(),
            "{\"query\": \"{ viewer { role } }\"} trailing".to_owned(),
            "{\"query\": \"{ viewer { role } }\"}\u{0}".to_owned(),
            "query { viewer { role } }".to_owned(),
            "query=%7B%20viewer%20%7B%20role%20%7D%20%7D".to_owned(),
        ]).prop_map(text),
        // Invalid UTF-8 inside a JSON string.
        1 => prop::collection::vec(128u8..=255, 1..8).prop_map(|bad| {
            let mut b = b"{\"query\": \"{ viewer { role } }\", \"variables\": {\"x\": \"".to_vec();
            b.extend(bad);
            b.extend(b"\"}}");
            (Body::Bytes(b), false)
        }),
        // Deep JSON.
        2 => (1usize..20_000).prop_map(|n| text(format!("{}{}", "[".repeat(n), "]".repeat(n)))),
        2 => (1usize..20_000).prop_map(|n| text(format!(
            "{{\"query\": \"{{ viewer {{ role }} }}\", \"variables\": {{\"v\": {}1{}}}}}",
            "{\"a\": ".repeat(n), "}".repeat(n)
        ))),
        // A valid request cut short, or spliced.
        2 => (any::<Index>(), read_cases(w)).prop_map(|(at, c)| match c.body {
            Body::Text(t) => {
                let cut: String = t.chars().take(at.index(t.chars().count() + 1)).collect();
                text(cut)
            }
            other => (other, false),
        }),
    ]
    .boxed()
}

pub(super) fn raw_cases(w: &World) -> BoxedStrategy<Case> {
    let keys = w.keys.clone();
    (
        raw_bodies(w),
        prop::sample::select(CONTENT_TYPES.to_vec()),
        0..total_weight(w),
    )
        .prop_map(move |((body, must_refuse), content_type, roll)| Case {
            key: choose(&keys, roll),
            content_type,
            body,
            must_refuse,
        })
        .boxed()
}
