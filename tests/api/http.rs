//! GraphQL over HTTP (docs/rules.md, "GraphQL over HTTP"): media types and `Accept`,
//! status codes of request errors, GET queries and refused GET mutations, malformed
//! requests, automatic persisted queries over POST and GET, and the WebSocket's init
//! timeout (4408) and drain (1001).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use reqwest::{RequestBuilder, StatusCode};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{SYSTEM_KEY, Socket, TestApp, bearer, content_type, init, open_socket};

const JSON: &str = "application/json";
const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

/// Sends a request; its status, `Content-Type` and JSON body.
async fn send(request: RequestBuilder) -> (StatusCode, String, Value) {
    let response = request.send().await.unwrap();
    let status = response.status();
    let kind = content_type(&response).to_owned();
    let text = response.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    (status, kind, body)
}

fn post(app: &TestApp, accept: Option<&str>, body: &Value) -> RequestBuilder {
    let request = app.client.post(app.url("/graphql")).bearer_auth(SYSTEM_KEY).json(body);
    match accept {
        Some(accept) => request.header("accept", accept),
        None => request,
    }
}

fn get(app: &TestApp, accept: Option<&str>, params: &[(&str, &str)]) -> RequestBuilder {
    let request = app
        .client
        .get(app.url("/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .query(params);
    match accept {
        Some(accept) => request.header("accept", accept),
        None => request,
    }
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"].as_str().unwrap_or("<none>")
}

#[tokio::test]
async fn the_answers_media_type_follows_accept() {
    let app = TestApp::spawn().await;
    let body = json!({ "query": "{ __typename }" });
    for (accept, expected) in [
        (None, JSON),
        (Some("*/*"), JSON),
        (Some("application/json"), JSON),
        (Some("application/graphql-response+json"), GRAPHQL_RESPONSE),
        (
            Some("application/graphql-response+json, application/json;q=0.9"),
            GRAPHQL_RESPONSE,
        ),
        (Some("application/graphql-response+json;q=0.5, application/json"), JSON),
    ] {
        let (status, kind, answer) = send(post(&app, accept, &body)).await;
        assert_eq!(status, 200, "{accept:?}");
        assert!(kind.starts_with(expected), "{accept:?}: {kind}");
        assert!(kind.contains("charset=utf-8"), "{kind}");
        assert_eq!(answer, json!({ "data": { "__typename": "Query" } }));
    }
    // Neither media type accepted: 406, in JSON.
    let (status, kind, answer) = send(post(&app, Some("text/html"), &body)).await;
    assert_eq!(status, 406);
    assert!(kind.starts_with(JSON));
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    app.finish().await;
}

#[tokio::test]
async fn request_errors_have_no_data_and_are_400_under_graphql_response_json() {
    let app = TestApp::spawn().await;
    let cases = [
        (json!({ "query": "{ viewer { role }" }), "GRAPHQL_PARSE_FAILED"),
        (json!({ "query": "{ viewer { nope } }" }), "GRAPHQL_VALIDATION_FAILED"),
        (
            json!({ "query": "query($n: Int) { organizations(first: $n) { edges { cursor } } }", "variables": { "n": "many" } }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query($id: ID!) { node(id: $id) { id } }", "variables": { "id": null } }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "query A { __typename } query B { __typename }" }),
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            json!({ "query": "{ viewer(x: \"\\u0000\") { role } }" }),
            "BAD_USER_INPUT",
        ),
    ];
    for (body, expected) in cases {
        let (status, kind, answer) = send(post(&app, Some(GRAPHQL_RESPONSE), &body)).await;
        assert_eq!(status, 400, "{body}: {answer}");
        assert!(kind.starts_with(GRAPHQL_RESPONSE));
        assert!(answer.get("data").is_none(), "{answer}");
        assert_eq!(code(&answer), expected, "{body}: {answer}");
        // Under application/json: HTTP 200, still without data.
        let (status, kind, answer) = send(post(&app, Some(JSON), &body)).await;
        assert_eq!(status, 200, "{body}: {answer}");
        assert!(kind.starts_with(JSON));
        assert!(answer.get("data").is_none(), "{answer}");
        assert_eq!(code(&answer), expected, "{body}: {answer}");
    }
    // A field error is no request error: HTTP 200 with data, whatever the media type.
    let body = json!({ "query": "{ viewer { role } organizations(first: 1000) { edges { cursor } } }" });
    let (status, _, answer) = send(post(&app, Some(GRAPHQL_RESPONSE), &body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["viewer"]["role"], "SYSTEM", "{answer}");
    assert_eq!(code(&answer), "BAD_USER_INPUT");
    app.finish().await;
}

#[tokio::test]
async fn malformed_requests_are_refused_before_anything_runs() {
    let app = TestApp::spawn().await;
    let url = app.url("/graphql");
    let raw = |content_type: Option<&str>, body: &str| {
        let request = app.client.post(&url).bearer_auth(SYSTEM_KEY).body(body.to_owned());
        match content_type {
            Some(kind) => request.header("content-type", kind),
            None => request,
        }
    };
    let valid = r#"{"query": "{ __typename }"}"#;
    for (content_type, body, status, expected) in [
        (None, valid, 415, "BAD_USER_INPUT"),
        (Some("text/plain"), valid, 415, "BAD_USER_INPUT"),
        (Some("application/graphql"), "{ __typename }", 415, "BAD_USER_INPUT"),
        (Some("multipart/form-data; boundary=x"), valid, 415, "BAD_USER_INPUT"),
        (Some("application/json; charset=utf-16"), valid, 415, "BAD_USER_INPUT"),
        (Some("application/json"), "", 400, "GRAPHQL_PARSE_FAILED"),
        (Some("application/json"), "{ \"not a JSON", 400, "GRAPHQL_PARSE_FAILED"),
        (Some("application/json"), "5", 400, "GRAPHQL_PARSE_FAILED"),
        (Some("application/json"), "{}", 400, "GRAPHQL_PARSE_FAILED"),
        (
            Some("application/json"),
            r#"{"qeury": "{ __typename }"}"#,
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        (Some("application/json"), r#"{"query": 5}"#, 400, "GRAPHQL_PARSE_FAILED"),
        (
            Some("application/json"),
            r#"{"query": "{ __typename }", "operationName": {}}"#,
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            Some("application/json"),
            r#"{"query": "{ __typename }", "variables": "{}"}"#,
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            Some("application/json"),
            r#"{"query": "{ __typename }", "extensions": []}"#,
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            Some("application/json"),
            r#"{"query": "{ __typename }", "query": "{ __typename }"}"#,
            400,
            "GRAPHQL_PARSE_FAILED",
        ),
        (
            Some("application/json"),
            r#"[{"query": "{ __typename }"}]"#,
            400,
            "BAD_USER_INPUT",
        ),
        (Some("application/json; charset=UTF-8"), valid, 200, "<none>"),
    ] {
        let (got, _, answer) = send(raw(content_type, body)).await;
        assert_eq!(got, status, "{content_type:?} {body}: {answer}");
        assert_eq!(code(&answer), expected, "{content_type:?} {body}: {answer}");
        if status != 200 {
            assert!(answer.get("data").is_none(), "{answer}");
        }
    }
    // The key is checked first: without one, 401 whatever the body.
    let response = app.client.post(&url).body("nonsense").send().await.unwrap();
    assert_eq!(response.status(), 401);
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    app.finish().await;
}

#[tokio::test]
async fn get_runs_queries_and_refuses_mutations_with_405() {
    let app = TestApp::spawn().await;
    let (status, kind, answer) = send(get(&app, None, &[("query", "{ viewer { role } }")])).await;
    assert_eq!(status, 200, "{answer}");
    assert!(kind.starts_with(JSON));
    assert_eq!(answer["data"]["viewer"]["role"], "SYSTEM");

    let (status, _, answer) = send(get(
        &app,
        Some(GRAPHQL_RESPONSE),
        &[
            ("query", "query Type($name: String!) { __type(name: $name) { name } }"),
            ("variables", r#"{"name": "Query"}"#),
            ("operationName", "Type"),
        ],
    ))
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["__type"]["name"], "Query");

    // A mutation over GET: 405, nothing done; in either media type.
    let create = "mutation { createUnitType(input: {code: \"by-get\", name: \"By GET\"}) { unitType { code } } }";
    for accept in [None, Some(GRAPHQL_RESPONSE)] {
        let response = get(&app, accept, &[("query", create)]).send().await.unwrap();
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers()["allow"], "POST");
        let answer: Value = response.json().await.unwrap();
        assert!(answer.get("data").is_none(), "{answer}");
        assert_eq!(code(&answer), "BAD_USER_INPUT");
    }
    // The operation picked by operationName decides.
    let document = format!(
        "query Read {{ __typename }} {}",
        create.replacen("mutation", "mutation Write", 1)
    );
    let (status, _, answer) = send(get(&app, None, &[("query", &document), ("operationName", "Read")])).await;
    assert_eq!(status, 200, "{answer}");
    let (status, _, _) = send(get(&app, None, &[("query", &document), ("operationName", "Write")])).await;
    assert_eq!(status, 405);
    let data = app.ok(SYSTEM_KEY, "{ unitTypes { code } }", json!({})).await;
    assert!(!data.to_string().contains("by-get"), "{data}");

    // Malformed GETs.
    for params in [
        vec![("query", "{ __typename }"), ("variables", "{not json")],
        vec![("query", "{ __typename }"), ("variables", "[1]")],
        vec![("query", "{ __typename }"), ("query", "{ __typename }")],
    ] {
        let (status, _, answer) = send(get(&app, None, &params)).await;
        assert_eq!(status, 400, "{params:?}: {answer}");
        assert_eq!(code(&answer), "GRAPHQL_PARSE_FAILED");
    }
    // Without a key: 401. Without a query, or from a browser: the playground.
    let response = app
        .client
        .get(app.url("/graphql"))
        .query(&[("query", "{ __typename }")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    for request in [
        app.client.get(app.url("/graphql")),
        app.client
            .get(app.url("/graphql"))
            .query(&[("query", "{ __typename }")])
            .header("accept", "text/html,application/xhtml+xml,*/*;q=0.8"),
    ] {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(content_type(&response).starts_with("text/html"));
    }
    app.finish().await;
}

fn sha256(text: &str) -> String {
    use std::fmt::Write;
    let digest = <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes());
    digest.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    })
}

fn persisted(hash: &str) -> Value {
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
}

#[tokio::test]
async fn automatic_persisted_queries_over_post_and_get() {
    let app = TestApp::spawn().await;
    let query = "query Role { viewer { role } }";
    let hash = sha256(query);

    // Unknown hash: PERSISTED_QUERY_NOT_FOUND, a request error.
    let hash_only = json!({ "extensions": persisted(&hash) });
    let (status, _, answer) = send(post(&app, None, &hash_only)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND");
    assert_eq!(answer["errors"][0]["message"], "PersistedQueryNotFound");
    assert!(answer.get("data").is_none());
    let (status, _, answer) = send(post(&app, Some(GRAPHQL_RESPONSE), &hash_only)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND");
    let extensions = persisted(&hash).to_string();
    let (status, _, answer) = send(get(&app, None, &[("extensions", &extensions)])).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND");

    // A hash that is not the query's: refused, and nothing is registered.
    let wrong = json!({ "query": query, "extensions": persisted(&sha256("{ __typename }")) });
    let (status, _, answer) = send(post(&app, Some(GRAPHQL_RESPONSE), &wrong)).await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(code(&answer), "PERSISTED_QUERY_HASH_MISMATCH");
    // A malformed persistedQuery.
    for bad in [
        json!({ "persistedQuery": { "version": 2, "sha256Hash": hash } }),
        json!({ "persistedQuery": { "version": 1, "sha256Hash": "abc" } }),
        json!({ "persistedQuery": "yes" }),
    ] {
        let (_, _, answer) = send(post(&app, None, &json!({ "query": query, "extensions": bad }))).await;
        assert_eq!(code(&answer), "BAD_USER_INPUT", "{answer}");
    }
    // A document that does not validate is not registered.
    let invalid = "{ viewer { nope } }";
    let (_, _, answer) = send(post(
        &app,
        None,
        &json!({ "query": invalid, "extensions": persisted(&sha256(invalid)) }),
    ))
    .await;
    assert_eq!(code(&answer), "GRAPHQL_VALIDATION_FAILED");
    let (_, _, answer) = send(post(&app, None, &json!({ "extensions": persisted(&sha256(invalid)) }))).await;
    assert_eq!(code(&answer), "PERSISTED_QUERY_NOT_FOUND");

    // Sent with its hash, the query runs and is registered (in upper case too).
    let (status, _, answer) = send(post(
        &app,
        None,
        &json!({ "query": query, "extensions": persisted(&hash.to_uppercase()) }),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(answer["data"]["viewer"]["role"], "SYSTEM", "{answer}");
    // Then the hash alone runs it, over POST and GET.
    let (status, _, answer) = send(post(&app, Some(GRAPHQL_RESPONSE), &hash_only)).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["viewer"]["role"], "SYSTEM");
    let (status, _, answer) = send(get(
        &app,
        None,
        &[("extensions", &extensions), ("operationName", "Role")],
    ))
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["data"]["viewer"]["role"], "SYSTEM");

    // A persisted mutation still runs over POST only.
    let mutation =
        "mutation { createUnitType(input: {code: \"persisted\", name: \"Persisted\"}) { unitType { code } } }";
    let mutation_hash = sha256(mutation);
    let (status, _, answer) = send(post(
        &app,
        None,
        &json!({ "query": mutation, "extensions": persisted(&mutation_hash) }),
    ))
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        answer["data"]["createUnitType"]["unitType"]["code"], "persisted",
        "{answer}"
    );
    let extensions = persisted(&mutation_hash).to_string();
    let (status, _, answer) = send(get(&app, None, &[("extensions", &extensions)])).await;
    assert_eq!(status, 405, "{answer}");
    app.finish().await;
}

/// The code the server closes the socket with, within `wait`; text messages are skipped.
async fn close_code(socket: &mut Socket, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let frame = tokio::time::timeout_at(deadline, socket.next()).await.ok()??;
        match frame {
            Ok(Message::Close(frame)) => return frame.map(|f| u16::from(f.code)),
            Ok(_) => continue,
            Err(_) => return None,
        }
    }
}

#[tokio::test]
async fn a_websocket_that_never_initialises_is_closed_with_4408() {
    let app = TestApp::spawn().await;
    let started = tokio::time::Instant::now();
    let (mut transport, mut legacy) = tokio::join!(
        open_socket(&app, "graphql-transport-ws"),
        open_socket(&app, "graphql-ws")
    );
    let (a, b) = tokio::join!(
        close_code(&mut transport, Duration::from_secs(15)),
        close_code(&mut legacy, Duration::from_secs(15))
    );
    assert_eq!((a, b), (Some(4408), Some(4408)));
    assert!(started.elapsed() >= Duration::from_secs(9), "{:?}", started.elapsed());
    app.finish().await;
}

#[tokio::test]
async fn draining_closes_every_websocket_with_1001() {
    let app = TestApp::spawn().await;
    let mut socket = open_socket(&app, "graphql-transport-ws").await;
    let ack = init(&mut socket, bearer(SYSTEM_KEY)).await;
    assert!(ack.as_ref().is_some_and(|a| a["type"] == "connection_ack"), "{ack:?}");
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { __typename }" } });
    socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
    // One not yet initialised is closed the same way.
    let mut fresh = open_socket(&app, "graphql-ws").await;
    app.finish().await;
    assert_eq!(close_code(&mut socket, Duration::from_secs(5)).await, Some(1001));
    assert_eq!(close_code(&mut fresh, Duration::from_secs(5)).await, Some(1001));
}
