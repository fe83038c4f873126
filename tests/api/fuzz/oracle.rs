//! Sending a case and judging its answer: JSON, a well-formed GraphQL answer, coded
//! errors, no leak, no hang.

use std::time::Duration;

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::Value;

use super::cases::{Body, Case};
use crate::helpers::TestApp;

/// The codes an error may carry (docs/design.md §8), INTERNAL excepted.
const CODES: [&str; 10] = [
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "QUOTA_EXCEEDED",
    "RATE_LIMITED",
    "TENANT_INACTIVE",
];

/// What an error message must never show.
const LEAKS: [&str; 12] = [
    "SELECT ",
    "INSERT INTO",
    "UPDATE \"",
    "DELETE FROM",
    "sqlx",
    "sea_orm",
    "DbErr",
    "panicked",
    "SqliteError",
    "error returned from database",
    "stack backtrace",
    "src/",
];

/// The longest a request may take.
pub(super) const TIMEOUT: Duration = Duration::from_secs(10);

fn latin1(text: &str) -> Vec<u8> {
    text.chars()
        .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
        .collect()
}

/// Sends a case; the status and body of the answer, or why there is none.
pub(super) async fn send(app: &TestApp, case: &Case) -> Result<(u16, Vec<u8>), String> {
    let mut request = app.client.post(app.url("/graphql"));
    if let Some(header) = &case.key.header {
        request = request.header(AUTHORIZATION, HeaderValue::from_bytes(&latin1(header)).unwrap());
    }
    if let Some(content_type) = case.content_type {
        request = request.header(CONTENT_TYPE, content_type);
    }
    let body: Vec<u8> = match &case.body {
        Body::Text(t) => t.clone().into_bytes(),
        Body::Bytes(b) => b.clone(),
        Body::Huge(size) => {
            let head = b"{\"query\": \"{ viewer { role } }\", \"variables\": {\"p\": \"";
            let tail = b"\"}}";
            let mut b = Vec::with_capacity(*size);
            b.extend_from_slice(head);
            b.resize(size - tail.len(), b'x');
            b.extend_from_slice(tail);
            b
        }
    };
    let exchange = async {
        let response = request.body(body).send().await.map_err(|e| format!("no answer: {e}"))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.map_err(|e| format!("answer cut: {e}"))?;
        Ok::<_, String>((status, bytes.to_vec()))
    };
    match tokio::time::timeout(TIMEOUT, exchange).await {
        Ok(answer) => answer,
        Err(_) => Err(format!("no answer within {TIMEOUT:?}: a hang")),
    }
}

/// Checks an answer's shape; whether it carried errors.
pub(super) fn judge(status: u16, body: &[u8], case: &Case) -> Result<bool, String> {
    let text = String::from_utf8_lossy(body);
    if status >= 500 {
        return Err(format!("HTTP {status}: {text}"));
    }
    let answer: Value = serde_json::from_slice(body).map_err(|e| format!("HTTP {status}, not JSON ({e}): {text}"))?;
    let object = answer
        .as_object()
        .ok_or_else(|| format!("HTTP {status}, not an object: {text}"))?;
    let refused = match object.get("errors") {
        None => false,
        Some(Value::Array(errors)) if !errors.is_empty() => {
            for error in errors {
                let message = error["message"]
                    .as_str()
                    .ok_or_else(|| format!("an error without a message: {text}"))?;
                let code = error["extensions"]["code"]
                    .as_str()
                    .ok_or_else(|| format!("an error without extensions.code: {text}"))?;
                if !CODES.contains(&code) {
                    return Err(format!("code {code}: {text}"));
                }
                if let Some(leak) = LEAKS.iter().find(|l| message.contains(*l)) {
                    return Err(format!("the message shows {leak:?}: {text}"));
                }
            }
            true
        }
        Some(_) => return Err(format!("errors is not a list of errors: {text}")),
    };
    if !refused {
        if status != 200 {
            return Err(format!("HTTP {status} without errors: {text}"));
        }
        // `{ viewer @skip(if: true) { role } }` answers `{"data": null}` (async-graphql's
        // way with an empty selection), which is no error.
        if !object.get("data").is_some_and(|d| d.is_object() || d.is_null()) {
            return Err(format!("neither data nor errors: {text}"));
        }
    }
    if case.must_refuse {
        if !refused {
            return Err(format!("a request that must be refused was answered: {text}"));
        }
        if let Some(data) = object.get("data").and_then(Value::as_object)
            // `__typename` (under any alias) is the one root field that changes nothing.
            && let Some((field, _)) = data
                .iter()
                .find(|(_, v)| !v.is_null() && *v != "Mutation" && *v != "Query")
        {
            return Err(format!("a refused mutation answered {field}: {text}"));
        }
    }
    Ok(refused)
}
