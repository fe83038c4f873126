//! Overload (docs/operator.md, "Database connections"): a request that gets no database
//! connection within the pool's acquire timeout is answered HTTP 503, `UNAVAILABLE`, with
//! `Retry-After`, on GraphQL and on exports alike, and the server answers again once
//! connections come free.
//!
//! The server runs with one connection (on SQLite: one reader and the one writer) and a
//! short acquire timeout. The test holds the database for real from a connection of its
//! own: a write transaction on SQLite (`BEGIN IMMEDIATE`), table locks on PostgreSQL. A
//! write that waits for it keeps the server's connection busy, so the next request finds
//! none.

use std::time::Duration;

use quotagraph::config::PoolSettings;
use sea_orm::{
    ConnectionTrait, Database, DatabaseTransaction, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp, key, organization_with_license};

/// Long enough for a request sent just before to reach the lock and wait there.
const SETTLE: Duration = Duration::from_secs(1);

const CREATE_TENANT: &str =
    "mutation($org: ID!) { createTenant(input: {organizationId: $org, name: \"Late\"}) { tenant { name } } }";

/// Takes the locks every write of the test waits for, from the test's own connection.
async fn hold_the_database(app: &TestApp) -> DatabaseTransaction {
    let db = Database::connect(&app.database_url).await.unwrap();
    let lock = db
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
        .unwrap();
    if app.on_postgres() {
        // Reads go on; writes to these tables wait (a key's first use writes its last use).
        lock.execute_unprepared("LOCK TABLE api_keys, tenants IN EXCLUSIVE MODE")
            .await
            .unwrap();
    }
    lock
}

fn post(app: &TestApp, key: &str, query: &str, variables: Value) -> reqwest::RequestBuilder {
    app.client
        .post(app.url("/graphql"))
        .bearer_auth(key)
        .json(&json!({ "query": query, "variables": variables }))
}

/// A 503 `UNAVAILABLE` answer with `Retry-After`.
async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(response.status(), 503);
    let retry: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(retry >= 1, "Retry-After: {retry}");
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["errors"][0]["extensions"]["code"], "UNAVAILABLE", "{answer:#}");
    assert!(
        answer["errors"][0]["message"].as_str().unwrap().contains("busy"),
        "{answer:#}"
    );
}

#[tokio::test]
async fn a_request_that_gets_no_connection_in_time_is_told_to_retry() {
    let app = TestApp::spawn_with_pool(PoolSettings {
        db_max_connections: 1,
        db_acquire_timeout_ms: 250,
        db_writer_acquire_timeout_ms: 250,
    })
    .await;
    let fx = organization_with_license(&app, "acme", "10").await;
    let fresh = key(&app, "VIEWER", Some(&fx.org), None).await;
    let lock = hold_the_database(&app).await;

    // A write waits for the lock on the connection writes take.
    let waiting_write = tokio::spawn(post(&app, SYSTEM_KEY, CREATE_TENANT, json!({ "org": fx.org })).send());
    tokio::time::sleep(SETTLE).await;
    // The next write finds no connection.
    let refused = post(&app, SYSTEM_KEY, CREATE_TENANT, json!({ "org": fx.org }))
        .send()
        .await
        .unwrap();
    assert_unavailable(refused).await;

    // A key's first use writes its last use: it waits for the lock on a reader's connection
    // (on PostgreSQL the one connection is taken already, and it is refused too).
    let first_use = tokio::spawn(post(&app, &fresh, "{ viewer { role } }", json!({})).send());
    tokio::time::sleep(SETTLE).await;
    let export = app
        .client
        .get(app.url(&format!("/export/tenants.csv?organization={}&unitType=units", fx.org)))
        .bearer_auth(SYSTEM_KEY)
        .send()
        .await
        .unwrap();
    assert_unavailable(export).await;

    lock.rollback().await.unwrap();
    // The requests that waited are answered once the lock is gone.
    let written = waiting_write.await.unwrap().unwrap();
    assert_eq!(written.status(), 200);
    let written: Value = written.json().await.unwrap();
    assert_eq!(written["data"]["createTenant"]["tenant"]["name"], "Late", "{written:#}");
    let first_use = first_use.await.unwrap().unwrap();
    assert_eq!(first_use.status(), if app.on_postgres() { 503 } else { 200 });
    // And so is the next one.
    let data = app.ok(SYSTEM_KEY, "{ viewer { role } }", json!({})).await;
    assert_eq!(data["viewer"]["role"], "SYSTEM");
    app.finish().await;
}
