//! Found by the fuzz cases: each kept as a test of its own, the crash against a server in a
//! child process, so that it fails this test alone and not the whole test binary.

use serde_json::{Value, json};

use super::cases::json_case;
use super::oracle::{TIMEOUT, judge};
use super::probe::Probe;
use super::world::{Key, Scope};
use crate::helpers::{SYSTEM_KEY, ServerProcess, TestApp, organization_with_license};

/// Whether the server at `address` answers `{ viewer { role } }`.
async fn answers(address: &str) -> bool {
    let answer = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .timeout(TIMEOUT)
        .send()
        .await;
    match answer {
        Ok(response) => response
            .json::<Value>()
            .await
            .is_ok_and(|v| v["data"]["viewer"]["role"] == "SYSTEM"),
        Err(_) => false,
    }
}

/// An argument value nested deep enough (objects or lists, in any argument, even an
/// unknown one: about 280 levels in a debug build, 2000 in a release build) used to
/// overflow the stack of the worker that parses it (`async_graphql_parser` recurses once
/// per level) and abort the whole process. The document's nesting is now bounded before it
/// is parsed (`graphql::limits::MAX_NESTING`): a coded error, and the server goes on. The
/// server runs as a child process, since an overflow would abort this test binary too.
#[tokio::test]
async fn a_deeply_nested_argument_value_does_not_crash_the_server() {
    let server = ServerProcess::start(&[("RUST_LOG", "error")]).await;
    let mut failures = Vec::new();
    // 300 and 460 levels abort a debug build; 2000 and more a release build, whose frames
    // are smaller (1500 levels pass there).
    for (what, depth) in [
        ("object", 300),
        ("list", 460),
        ("object", 2000),
        ("list", 2500),
        ("list", 5000),
    ] {
        let value = if what == "object" {
            format!("{}1{}", "{a: ".repeat(depth), "}".repeat(depth))
        } else {
            format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
        };
        let query = format!("{{ viewer(nested: {value}) {{ role }} }}");
        let answer = reqwest::Client::new()
            .post(format!("http://{}/graphql", server.address))
            .bearer_auth(SYSTEM_KEY)
            .json(&json!({ "query": query }))
            .timeout(TIMEOUT)
            .send()
            .await;
        let answer = match answer {
            Ok(response) => {
                let status = response.status().as_u16();
                let body = response.bytes().await.unwrap_or_default();
                let case = json_case(
                    &Key {
                        label: "SYSTEM",
                        header: None,
                        scope: Scope::System,
                        tenant: None,
                        read_only: false,
                        ingest_only: false,
                    },
                    String::new(),
                    true,
                );
                judge(status, &body, &case).map(|_| ())
            }
            Err(e) => Err(format!("no answer: {e}")),
        };
        let alive = answers(&server.address).await;
        if answer.is_err() || !alive {
            failures.push(format!(
                "{what} {depth} levels deep: {answer:?}; the server {}",
                if alive { "still answers" } else { "no longer answers" }
            ));
        }
        if !alive {
            break;
        }
    }
    let (_, stderr) = server.terminate().await;
    let overflow = stderr
        .lines()
        .find(|l| l.contains("overflow"))
        .unwrap_or_default()
        .to_owned();
    assert!(failures.is_empty(), "{failures:#?}\n{overflow}");
}

/// A string holding a NUL character (`"\u0000"`, valid in JSON and GraphQL) used to reach
/// PostgreSQL, which refuses NUL in text, and the answer was INTERNAL. Such text is now
/// refused before anything runs, with BAD_USER_INPUT, on every backend.
#[tokio::test]
async fn a_nul_character_in_a_string_is_refused_not_an_internal_error() {
    // The period watcher's first look would write its marks meanwhile: keep it quiet.
    let app = TestApp::spawn_with(crate::helpers::DEFAULT_NOW, 3_600_000).await;
    let fx = organization_with_license(&app, "nul", "100").await;
    let tenant = crate::helpers::tenant(&app, &fx.org, "t").await;
    let probe = Probe::connect(&app.database_url).await;
    let before = probe.settled_dump().await;
    let event = |key: &str, unit: &str, job: Option<&str>| {
        json!({ "idempotencyKey": key, "tenantId": tenant, "unitType": unit, "service": "robots",
            "quantity": "1", "occurredAt": "2026-11-20T10:00:00Z", "jobId": job })
    };
    let cases = [
        (
            "setConsumptionControl unitType",
            "mutation($t: ID!) { setConsumptionControl(input: {tenantId: $t, unitType: \"units\\u0000\", stopAtAllocation: [\"robots\"]}) { __typename } }",
            json!({ "t": tenant }),
        ),
        (
            "setAllocation unitType",
            "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\\u0000\", amount: \"1\"}) { __typename } }",
            json!({ "t": tenant }),
        ),
        (
            "quota unitType",
            "query($o: ID!) { organization(id: $o) { quota(unitType: \"units\\u0000\") { used } } }",
            json!({ "o": fx.org }),
        ),
        (
            "recordUsage unitType",
            "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
            json!({ "e": [event("k1", "units\u{0}", None)] }),
        ),
        (
            "recordUsage idempotencyKey",
            "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
            json!({ "e": [event("k\u{0}", "units", None)] }),
        ),
        (
            "recordUsage jobId",
            "mutation($e: [UsageEventInput!]!) { recordUsage(input: {events: $e}) { accepted } }",
            json!({ "e": [event("k2", "units", Some("job\u{0}"))] }),
        ),
        (
            "createTenant name",
            "mutation($o: ID!) { createTenant(input: {organizationId: $o, name: \"a\\u0000b\"}) { __typename } }",
            json!({ "o": fx.org }),
        ),
        (
            "createFolder name",
            "mutation($t: ID!) { createFolder(input: {tenantId: $t, name: \"a\\u0000b\"}) { __typename } }",
            json!({ "t": tenant }),
        ),
    ];
    let mut internal = Vec::new();
    for (what, query, variables) in cases {
        let answer = app.gql(SYSTEM_KEY, query, variables).await;
        let refused = answer.get("errors").is_some();
        if answer["errors"][0]["extensions"]["code"] == "INTERNAL" {
            internal.push(format!("{what}: {answer}"));
        } else if refused && probe.dump().await != before {
            internal.push(format!("{what}: refused, yet the data changed: {answer}"));
        }
    }
    app.finish().await;
    assert!(internal.is_empty(), "{internal:#?}");
}
