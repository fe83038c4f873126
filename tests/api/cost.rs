//! The complexity limit (docs/rules.md, "Limits and keys"): every field counts 1 and every
//! list its selection once per item it may hold, so nested pages multiply. The views the
//! documentation shows and GraphiQL's introspection answer under the default limit; four
//! nested pages of 100 are refused before anything runs.

use quotagraph::config::LimitSettings;
use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, generous, tenant};

/// The introspection query GraphiQL 4 sends (graphql-js's `getIntrospectionQuery` with
/// every option on: descriptions, `specifiedByURL`, `isRepeatable`, the schema's
/// description, deprecated input values and `isOneOf`).
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    description
    queryType { name kind }
    mutationType { name kind }
    subscriptionType { name kind }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) {
    name description
    args(includeDeprecated: true) { ...InputValue }
    type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }
}";

/// Four nested pages of `first` (literal or `$n`) organizations, tenants, folders and
/// processes.
fn four_pages(first: &str) -> String {
    let page = |field: &str, inner: &str| format!("{field}(first: {first}) {{ edges {{ node {{ {inner} }} }} }}");
    let processes = page("processes", "id name");
    let folders = page("folders", &processes);
    let tenants = page("tenants", &folders);
    let organizations = page("organizations", &tenants);
    if first.starts_with('$') {
        format!("query Pages({first}: Int) {{ {organizations} }}")
    } else {
        format!("{{ {organizations} }}")
    }
}

/// The GraphQL examples of docs/dashboard.md.
fn documented_views() -> Vec<&'static str> {
    include_str!("../../docs/dashboard.md")
        .split("```graphql\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .collect()
}

/// An organization with licenses of the unit types the documented views read, a tenant,
/// a folder with a process (so that every level of the tree answers something) and the
/// event the documented correction voids; the ids of the organization, the tenant and the
/// folder.
async fn organization(app: &TestApp) -> (String, String, String) {
    let data = app
        .ok(
            SYSTEM_KEY,
            "mutation { createOrganization(input: {name: \"Org\", slug: \"acme\"}) { organization { id } } }",
            json!({}),
        )
        .await;
    let org = data["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for unit in ["platform-units", "test-executions"] {
        app.ok(
            SYSTEM_KEY,
            "mutation($org: ID!, $unit: String!) {
               createUnitType(input: {code: $unit, name: $unit}) { unitType { code } }
               createLicense(input: {organizationId: $org, unitType: $unit, planName: \"Plan\", capacity: \"1000\",
                                     period: MONTH, startsOn: \"2026-01-01\"}) { license { id } } }",
            json!({ "org": org, "unit": unit }),
        )
        .await;
    }
    let tenant = tenant(app, &org, "Production").await;
    let folder = app
        .ok(
            SYSTEM_KEY,
            "mutation($t: ID!) { createFolder(input: {tenantId: $t, name: \"Finance\"}) { folder { id } } }",
            json!({ "t": tenant }),
        )
        .await["createFolder"]["folder"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.ok(
        SYSTEM_KEY,
        "mutation($f: ID!) { createProcess(input: {folderId: $f, name: \"Close\"}) { process { id } } }",
        json!({ "f": folder }),
    )
    .await;
    // The event the documented correction voids.
    app.ok(
        SYSTEM_KEY,
        "mutation($t: ID!) { recordUsage(input: {events: [{idempotencyKey: \"run-2026-11-20-0042\", tenantId: $t,
           unitType: \"platform-units\", service: \"robots\", quantity: \"3\", occurredAt: \"2026-11-20T10:00:00Z\"}]})
           { accepted } }",
        json!({ "t": tenant }),
    )
    .await;
    (org, tenant, folder)
}

#[tokio::test]
async fn the_documented_views_and_graphiqls_introspection_answer_under_the_default_limit() {
    let app = TestApp::spawn().await;
    let (org, tenant, folder) = organization(&app).await;
    let views = documented_views();
    assert!(views.len() >= 4, "docs/dashboard.md shows its views");
    for view in views {
        let mut variables = json!({ "org": org });
        if view.contains("$tenant") {
            variables["tenant"] = json!(tenant);
        }
        if view.contains("$folder") {
            variables["folder"] = json!(folder);
        }
        // The reference dashboard's queries take the view's choices as variables.
        for (name, value) in [
            ("unit", "test-executions"),
            ("granularity", "WEEK"),
            ("attribution", "OWNERSHIP"),
        ] {
            if view.contains(&format!("${name}:")) {
                variables[name] = json!(value);
            }
        }
        if view.contains("$changes") {
            variables["changes"] = json!([{ "tenantId": tenant, "amount": "100" }]);
        }
        app.ok(SYSTEM_KEY, view, variables).await;
    }
    let schema = app.ok(SYSTEM_KEY, INTROSPECTION, json!({})).await;
    assert_eq!(schema["__schema"]["queryType"]["name"], "Query");
    // Pages of 10 four deep cost 43,331: they answer.
    let data = app.ok(SYSTEM_KEY, &four_pages("10"), json!({})).await;
    let tree = &data["organizations"]["edges"][0]["node"]["tenants"]["edges"][0]["node"];
    assert_eq!(
        tree["folders"]["edges"][0]["node"]["processes"]["edges"][0]["node"]["name"],
        "Close"
    );
    // A nullable `first` left out is a default page, as in the resolver.
    let data = app
        .ok(
            SYSTEM_KEY,
            "query($org: ID!, $first: Int) { organization(id: $org) { tenants(first: $first) { nodes { name } } } }",
            json!({ "org": org }),
        )
        .await;
    assert_eq!(data["organization"]["tenants"]["nodes"][0]["name"], "Production");
    app.finish().await;
}

/// The refusal of four nested pages of 100: a validation error naming the cost and the
/// limit, and no `data` (nothing ran).
fn assert_refused(answer: &Value, limit: usize) {
    let error = &answer["errors"][0];
    assert_eq!(error["extensions"]["code"], "GRAPHQL_VALIDATION_FAILED", "{answer:#}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("costs 403030301") && message.contains(&format!("at most {limit} is accepted")),
        "{message}"
    );
    assert!(
        message.contains("smaller pages"),
        "the refusal says what to change: {message}"
    );
    assert!(answer.get("data").is_none(), "{answer:#}");
}

#[tokio::test]
async fn four_nested_pages_of_a_hundred_are_refused_before_anything_runs() {
    let app = TestApp::spawn().await;
    organization(&app).await;
    let limit = LimitSettings::default().max_complexity;
    let answer = app.gql(SYSTEM_KEY, &four_pages("100"), json!({})).await;
    assert_refused(&answer, limit);
    // Page sizes given as variables count the same.
    let answer = app.gql(SYSTEM_KEY, &four_pages("$n"), json!({ "n": 100 })).await;
    assert_refused(&answer, limit);
    // The server goes on answering.
    app.ok(SYSTEM_KEY, &four_pages("$n"), json!({ "n": 2 })).await;
    app.finish().await;

    // A server with a lower limit applies it.
    let app = TestApp::spawn_with_limits(LimitSettings {
        max_complexity: 1_000,
        ..generous()
    })
    .await;
    let (code, message) = app.err(SYSTEM_KEY, &four_pages("10"), json!({})).await;
    assert_eq!(code, "GRAPHQL_VALIDATION_FAILED");
    assert!(message.contains("costs 43331, and at most 1000"), "{message}");
    app.finish().await;
}
