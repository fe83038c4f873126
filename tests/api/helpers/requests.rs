//! Request builders and the checks of their answers. Every mutation of the API takes one
//! `input`, so one document shape serves them all ([`mutation`]), selecting what tests
//! check of each payload; most reads go through one organization ([`organization_query`]).
//!
//! ```ignore
//! let made = app.mutate(SYSTEM_KEY, "createTenant", json!({ "organizationId": org, "name": "a" })).await;
//! app.mutate_refused(&viewer, "updateTenant", json!({ "tenantId": t, "name": "b" }), "FORBIDDEN", &[]).await;
//! let quota = app.organization(SYSTEM_KEY, &org, "quota(unitType: \"units\") { used }").await;
//! ```

use serde_json::{Value, json};

use super::TestApp;

/// `mutation($input: <Name>Input!) { <name>(input: $input) { <selection> } }`.
pub fn mutation(name: &str, selection: &str) -> String {
    let mut input_type = name[..1].to_uppercase();
    input_type.push_str(&name[1..]);
    format!("mutation($input: {input_type}Input!) {{ {name}(input: $input) {{ {selection} }} }}")
}

/// The document [`TestApp::mutate`] sends for the mutation `name`.
pub fn document(name: &str) -> String {
    mutation(name, payload(name))
}

/// What [`TestApp::mutate`] selects of each mutation's payload.
fn payload(name: &str) -> &'static str {
    match name {
        "createOrganization" => "organization { id name slug timeZone }",
        "createUnitType" => "unitType { id code name }",
        "createApiKey" => "secret apiKey { id name role organization { id } tenant { id } revokedAt }",
        "revokeApiKey" => "apiKey { id revokedAt }",
        "createLicense" | "upgradeLicense" | "addCapacity" => {
            "license { id planName capacity period startsOn endsOn burstPercent burstPeriods enforced
                unitType { code } organization { id } replaces { id startsOn endsOn } }"
        }
        "createTenant" | "updateTenant" => "tenant { id name state }",
        "setAllocation" => "allocation { amount effectiveOn unitType { code } tenant { id } }",
        "createFolder" => "folder { id name externalKey parent { id } tenant { id } }",
        "createProcess" => "process { id name externalKey folder { id } tenant { id } }",
        "recordUsage" => "accepted duplicates",
        "startExecution" => "granted quota { used limit remaining enforced }",
        "finishExecution" => "durationMs",
        "updateService" => "service { code name }",
        "setOrganizationAlertThresholds" => "organization { id alertThresholds(unitType: \"units\") }",
        "setConsumptionControl" => {
            "consumptionControl { stopAtAllocation alertThresholds tenant { id } unitType { code } }"
        }
        "createWebhookEndpoint" => "secret endpoint { id url kinds enabled tenantId description }",
        "deleteWebhookEndpoint" => "deletedId",
        "retryWebhookDelivery" => "delivery { id status attempts responseStatus }",
        "createExportLink" => "url expiresAt",
        "voidUsage" => "voided alreadyVoided",
        "setAllocations" => "usage { allocated availableForAllocation tenants { tenant { id } allocated } }",
        _ => panic!("tell helpers/requests.rs what to select of {name}"),
    }
}

/// `query($o: ID!) { organization(id: $o) { <fields> } }`, for the variables `{ "o": id }`.
pub fn organization_query(fields: &str) -> String {
    format!("query($o: ID!) {{ organization(id: $o) {{ {fields} }} }}")
}

/// Expects `answer` to be an error of `code` whose message contains each of `words`;
/// returns the message.
pub fn assert_error(answer: &Value, code: &str, words: &[&str]) -> String {
    check_error(answer, code, words, "")
}

/// [`assert_error`], naming `request` when it fails.
fn check_error(answer: &Value, code: &str, words: &[&str], request: &str) -> String {
    let error = &answer["errors"][0];
    assert!(error.is_object(), "expected an error: {answer:#}\n{request}");
    assert_eq!(error["extensions"]["code"], code, "{answer:#}\n{request}");
    let message = error["message"].as_str().unwrap_or_default();
    for word in words {
        assert!(
            message.contains(word),
            "{word:?} missing from the message: {answer:#}\n{request}"
        );
    }
    message.to_owned()
}

/// A response's `Content-Type` ("" when it has none).
pub fn content_type(response: &reqwest::Response) -> &str {
    response
        .headers()
        .get("content-type")
        .map_or("", |kind| kind.to_str().expect("a Content-Type in text"))
}

/// The card of `tenant` among the `tenants` of a `usage` answer.
pub fn tenant_card<'a>(usage: &'a Value, tenant: &str) -> &'a Value {
    let cards = usage["tenants"]
        .as_array()
        .unwrap_or_else(|| panic!("no tenants: {usage:#}"));
    cards
        .iter()
        .find(|c| c["tenant"]["id"] == tenant)
        .unwrap_or_else(|| panic!("no card of {tenant}: {usage:#}"))
}

impl TestApp {
    /// Runs the mutation `name` with `input` and expects no error; returns its payload.
    pub async fn mutate(&self, key: &str, name: &str, input: Value) -> Value {
        self.ok(key, &document(name), json!({ "input": input })).await[name].clone()
    }

    /// Runs the mutation `name` with `input` and expects it refused as [`assert_error`] does;
    /// returns the message.
    pub async fn mutate_refused(&self, key: &str, name: &str, input: Value, code: &str, words: &[&str]) -> String {
        self.refused(key, &document(name), json!({ "input": input }), code, words)
            .await
    }

    /// Expects the request refused as [`assert_error`] does; returns the message.
    pub async fn refused(&self, key: &str, query: &str, variables: Value, code: &str, words: &[&str]) -> String {
        let request = format!("{query}\n{variables}");
        let answer = self.gql(key, query, variables).await;
        check_error(&answer, code, words, &request)
    }

    /// Reads `fields` of the organization `org` and expects no error.
    pub async fn organization(&self, key: &str, org: &str, fields: &str) -> Value {
        self.ok(key, &organization_query(fields), json!({ "o": org })).await["organization"].clone()
    }

    /// Reads `fields` of the organization `org` and expects it refused as [`assert_error`]
    /// does; returns the message.
    pub async fn organization_refused(&self, key: &str, org: &str, fields: &str, code: &str, words: &[&str]) -> String {
        self.refused(key, &organization_query(fields), json!({ "o": org }), code, words)
            .await
    }
}
