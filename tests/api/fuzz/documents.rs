//! Broken documents: token soup, random text, and valid documents cut and spliced.

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Value, json};

use super::cases::{Body, Case, body_text};
use super::mutations::{IN_VARIABLES, mutation_cases};
use super::reads::{keyed, read_cases};
use super::world::World;

const TOKENS: &[&str] = &[
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ":",
    ",",
    "$",
    "$input",
    "@",
    "!",
    "=",
    "|",
    "&",
    "...",
    "..",
    "\"",
    "\"\"\"",
    "#",
    "\n",
    " ",
    "\u{feff}",
    "query",
    "mutation",
    "subscription",
    "fragment",
    "on",
    "true",
    "false",
    "null",
    "viewer",
    "role",
    "node",
    "id",
    "organization",
    "organizations",
    "tenants",
    "nodes",
    "usage",
    "quota",
    "consumed",
    "unitType",
    "\"units\"",
    "createTenant",
    "recordUsage",
    "startExecution",
    "setAllocation",
    "createUnitType",
    "input",
    "events",
    "name",
    "__typename",
    "__schema",
    "__type",
    "types",
    "@skip(if: true)",
    "@include(if: $x)",
    "@deprecated",
    "0",
    "-1",
    "1e400",
    "99999999999999999999",
    "1.5",
    "-0",
    "\"x\"",
    "\"\\u0000\"",
    "\"\\uD800\"",
    "\"\\uDFFF\\uD800\"",
    "\"\\u{1F600}\"",
    "\"\\q\"",
    "\"unterminated",
    "\"\"\"block\"\"\"",
    "String!",
    "ID",
    "[Int!]!",
    "...on Query",
    "...F",
    "fragment F on Query { ...F }",
    "query($x: Boolean = true)",
];

fn soup() -> BoxedStrategy<String> {
    prop_oneof![
        4 => prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..40).prop_map(|t| t.join(" ")),
        2 => prop::collection::vec(prop::sample::select(TOKENS.to_vec()), 0..40).prop_map(|t| t.concat()),
        2 => any::<String>(),
        1 => "\\PC{0,200}",
        1 => "[{}()\\[\\]:$!@ a-z\"]{0,120}",
    ]
    .boxed()
}

/// The deepest argument value the fuzz cases send to the shared server. Deeper ones
/// (from about 280 levels in a debug build) overflow the stack of the server's thread
/// and abort the process: see `a_deeply_nested_argument_value_does_not_crash_the_server`.
const MAX_SAFE_VALUE_DEPTH: usize = 200;

/// Documents no parser or validator should take down.
fn nasty_documents() -> BoxedStrategy<String> {
    prop_oneof![
        // Deep selection sets and deep list literals, past any sane limit.
        (1usize..3000).prop_map(|n| format!("{}{}", "{ viewer ".repeat(n), "}".repeat(n))),
        // Deep argument values: see `a_deeply_nested_argument_value_does_not_crash_the_server`
        // for depths that take the whole process down; these stay below them.
        (1usize..=MAX_SAFE_VALUE_DEPTH).prop_map(|n| format!("{{ node(id: {}\"x\"{}) {{ id }} }}", "[".repeat(n), "]".repeat(n))),
        (1usize..=MAX_SAFE_VALUE_DEPTH).prop_map(|n| format!(
            "mutation {{ createTenant(input: {}) {{ __typename }} }}",
            "{a: ".repeat(n) + "1" + &"}".repeat(n)
        )),
        (1usize..600).prop_map(|n| format!(
            "query {{ ...F0 }} {}",
            (0..n).map(|i| format!("fragment F{i} on Query {{ ...F{} }}", (i + 1) % n)).collect::<String>()
        )),
        Just("query { ...A } fragment A on Query { viewer { role } ...A }".to_owned()),
        Just("query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }".to_owned()),
        (1usize..2000).prop_map(|n| format!("{{ {} }}", "__typename ".repeat(n))),
        (1usize..500).prop_map(|n| format!("{{ {} }}", (0..n).map(|i| format!("a{i}: organizations(first: 100) {{ nodes {{ tenants(first: 100) {{ nodes {{ id }} }} }} }}")).collect::<String>())),
        (1usize..200).prop_map(|n| format!("{{ viewer {{ role {} }} }}", "@skip(if: false) ".repeat(n))),
        (1usize..200).prop_map(|n| format!("query({}) {{ viewer {{ role }} }}", (0..n).map(|i| format!("$v{i}: Int ")).collect::<String>())),
        Just("subscription { quotaEvents(organizationId: \"x\") { kind } }".to_owned()),
        Just("query { __schema { types { name fields { name type { name ofType { name ofType { name ofType { name } } } } } } } }".to_owned()),
        Just("query Q { viewer { role } } query Q { viewer { role } }".to_owned()),
        Just("{ viewer { role } } mutation { __typename }".to_owned()),
        Just("mutation { __typename }".to_owned()),
        Just("{ __type(name: \"Query\") { fields(includeDeprecated: true) { name } } }".to_owned()),
    ]
    .boxed()
}

#[derive(Clone, Debug)]
pub(super) enum Edit {
    Delete(Index, u8),
    Insert(Index, &'static str),
    Duplicate(Index, u8),
    Truncate(Index),
    Replace(Index, char),
}

fn edit(text: &str, edits: &[Edit]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for e in edits {
        let len = chars.len();
        match e {
            Edit::Delete(at, n) if len > 0 => {
                let start = at.index(len);
                let end = (start + usize::from(*n)).min(len);
                chars.drain(start..end);
            }
            Edit::Insert(at, token) => {
                let at = at.index(len + 1);
                chars.splice(at..at, token.chars());
            }
            Edit::Duplicate(at, n) if len > 0 => {
                let start = at.index(len);
                let end = (start + usize::from(*n)).min(len);
                let copy: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, copy);
            }
            Edit::Truncate(at) => chars.truncate(at.index(len + 1)),
            Edit::Replace(at, c) if len > 0 => {
                let at = at.index(len);
                chars[at] = *c;
            }
            _ => {}
        }
    }
    chars.into_iter().collect()
}

fn edits() -> BoxedStrategy<Vec<Edit>> {
    let one = prop_oneof![
        3 => (any::<Index>(), 1u8..20).prop_map(|(a, n)| Edit::Delete(a, n)),
        3 => (any::<Index>(), prop::sample::select(TOKENS.to_vec())).prop_map(|(a, t)| Edit::Insert(a, t)),
        1 => (any::<Index>(), 1u8..30).prop_map(|(a, n)| Edit::Duplicate(a, n)),
        1 => any::<Index>().prop_map(Edit::Truncate),
        2 => (any::<Index>(), any::<char>()).prop_map(|(a, c)| Edit::Replace(a, c)),
    ];
    prop::collection::vec(one, 1..4).boxed()
}

/// Valid documents, then edited: the mutations keep their poisoned variables, so that
/// whatever the edit leaves must still be refused.
pub(super) fn broken_cases(w: &World) -> BoxedStrategy<Case> {
    let mutations = mutation_cases(w, &IN_VARIABLES);
    let reads = read_cases(w);
    let cut = |case: Case, edits: Vec<Edit>| {
        let Body::Text(text) = &case.body else {
            return case;
        };
        let mut body: Value = serde_json::from_str(text).unwrap_or(Value::Null);
        let mut skipped = false;
        if let Some(query) = body.get("query").and_then(Value::as_str) {
            let edited = edit(query, &edits);
            skipped = edited.contains("@skip(if: true)");
            body["query"] = json!(edited);
        }
        Case {
            body: Body::Text(serde_json::to_string(&body).unwrap()),
            // A mutation skipped by an inserted `@skip(if: true)` runs nothing, and GraphQL
            // answers it without error even when its (unused) input is bad.
            must_refuse: case.must_refuse && !skipped,
            ..case
        }
    };
    prop_oneof![
        3 => (mutations, edits()).prop_map(move |(c, e)| cut(c, e)),
        2 => (reads, edits()).prop_map(move |(c, e)| cut(c, e)),
    ]
    .boxed()
}

pub(super) fn soup_cases(w: &World) -> BoxedStrategy<Case> {
    let bodies = prop_oneof![
        6 => soup(),
        2 => nasty_documents(),
    ]
    .prop_map(|query| body_text(&json!({ "query": query })));
    keyed(w, bodies.boxed(), false)
}
