//! Webhooks (docs/design.md §15.4): endpoints, signed deliveries to a real receiver,
//! retries and their end, manual retry, kinds and tenants, refused targets and roles, a
//! delivery that outlives a SIGKILL, and two replicas delivering each event once.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::{extract::State, http::HeaderMap, http::StatusCode, routing::post};
use base64::{Engine, engine::general_purpose::STANDARD};
use hmac::{Hmac, Mac};
use quotagraph::config::NotificationSettings;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

#[derive(Default)]
struct Script {
    /// The statuses to answer first, in order...
    next: VecDeque<u16>,
    /// ...then this one.
    then: u16,
    got: Vec<Received>,
}

/// A webhook receiver on 127.0.0.1 that records every request and answers scripted statuses.
struct Receiver {
    url: String,
    script: Arc<Mutex<Script>>,
    task: tokio::task::JoinHandle<()>,
}

async fn hook(State(script): State<Arc<Mutex<Script>>>, headers: HeaderMap, body: String) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let mut script = script.lock().unwrap();
    script.got.push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body,
    });
    let status = script.next.pop_front().unwrap_or(script.then);
    StatusCode::from_u16(status).unwrap()
}

impl Receiver {
    /// Answers `first` in order, then `then` to every request.
    async fn start(first: &[u16], then: u16) -> Receiver {
        let script = Arc::new(Mutex::new(Script {
            next: first.iter().copied().collect(),
            then,
            got: Vec::new(),
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let router = axum::Router::new()
            .route("/hook", post(hook))
            .with_state(script.clone());
        let task = tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        Receiver { url, script, task }
    }

    fn answer(&self, status: u16) {
        self.script.lock().unwrap().then = status;
    }

    fn got(&self) -> Vec<Received> {
        self.script.lock().unwrap().got.clone()
    }

    /// Waits until it got `count` requests (at most `seconds`).
    async fn until(&self, count: usize, seconds: u64) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
        loop {
            let got = self.got();
            if got.len() >= count || tokio::time::Instant::now() > deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn settings(schedule: &str, allow_private: bool) -> NotificationSettings {
    NotificationSettings {
        webhook_retry_schedule: schedule.into(),
        webhook_allow_private: allow_private,
        ..NotificationSettings::default()
    }
}

const CREATE: &str = "mutation($input: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $input) {
    secret endpoint { id url kinds enabled tenantId description } } }";

const DELIVERIES: &str = "query($o: ID!) { organization(id: $o) { webhookEndpoints { id deliveries {
    edges { node { id status attempts responseStatus lastError event { id kind tenantId } } } } } } }";

/// Makes an endpoint as SYSTEM; its id and secret.
async fn endpoint(app: &TestApp, input: Value) -> (String, String) {
    let data = app.ok(SYSTEM_KEY, CREATE, json!({ "input": input })).await;
    let made = &data["createWebhookEndpoint"];
    (
        made["endpoint"]["id"].as_str().unwrap().to_owned(),
        made["secret"].as_str().unwrap().to_owned(),
    )
}

/// The deliveries of an endpoint, newest first.
async fn deliveries(app: &TestApp, org: &str, endpoint: &str) -> Vec<Value> {
    let data = app.ok(SYSTEM_KEY, DELIVERIES, json!({ "o": org })).await;
    let endpoints = data["organization"]["webhookEndpoints"].as_array().unwrap().clone();
    let found = endpoints.into_iter().find(|e| e["id"] == endpoint).unwrap();
    found["deliveries"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

/// Waits until the endpoint's newest delivery is `status` (at most `seconds`); it.
async fn settled(app: &TestApp, org: &str, endpoint: &str, status: &str, seconds: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(seconds);
    loop {
        let list = deliveries(app, org, endpoint).await;
        if let Some(first) = list.first()
            && (first["status"] == status || tokio::time::Instant::now() > deadline)
        {
            return first.clone();
        }
        assert!(tokio::time::Instant::now() <= deadline, "no delivery: {list:#?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn verify(secret: &str, got: &Received) {
    let key = STANDARD.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", got.id, got.timestamp, got.body).as_bytes());
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    assert_eq!(got.signature, expected, "the signature is Standard Webhooks'");
}

#[tokio::test]
async fn webhooks_a_delivery_is_signed_and_carries_the_event() {
    let app = TestApp::spawn_with_notifications(settings("0.2", true)).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &fx.org, "Team").await;
    let receiver = Receiver::start(&[], 200).await;
    let (id, secret) = endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": receiver.url, "kinds": ["ALLOCATION_CHANGED"], "description": "ops" }),
    )
    .await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    assert_eq!(STANDARD.decode(&secret[6..]).unwrap().len(), 32);

    allocate(&app, &t, Some("100")).await;
    let got = receiver.until(1, 10).await;
    assert_eq!(got.len(), 1, "{got:#?}");
    let request = &got[0];
    verify(&secret, request);
    let now = chrono::Utc::now().timestamp();
    let sent: i64 = request.timestamp.parse().unwrap();
    assert!((now - sent).abs() < 60, "webhook-timestamp is the real send time");
    let body = request.json();
    assert_eq!(body["type"], "quota.allocation_changed");
    assert_eq!(body["data"]["kind"], "ALLOCATION_CHANGED");
    assert_eq!(body["data"]["id"], request.id.as_str());
    assert_eq!(body["data"]["organizationId"], fx.org.as_str());
    assert_eq!(body["data"]["tenantId"], t.as_str());
    assert_eq!(body["data"]["unitType"], "units");
    assert_eq!(body["timestamp"], body["data"]["at"]);
    assert!(body["data"]["cursor"].is_string());
    // The event is the stored notification, as the history answers it.
    let history = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "notifications(kinds: [ALLOCATION_CHANGED]) { nodes { id cursor at } }",
        )
        .await;
    let stored = &history["notifications"]["nodes"][0];
    assert_eq!(stored["id"], request.id.as_str());
    assert_eq!(stored["cursor"], body["data"]["cursor"]);
    assert_eq!(stored["at"], body["timestamp"]);

    let delivery = settled(&app, &fx.org, &id, "SUCCEEDED", 5).await;
    assert_eq!(delivery["attempts"], 1);
    assert_eq!(delivery["responseStatus"], 200);
    assert_eq!(delivery["event"]["id"], request.id.as_str());

    // The secret is answered once: nothing reads it back.
    let answer = app
        .gql(
            SYSTEM_KEY,
            DELIVERIES
                .replace(
                    "webhookEndpoints { id",
                    "webhookEndpoints { id url kinds enabled tenantId description createdAt",
                )
                .as_str(),
            json!({ "o": fx.org }),
        )
        .await;
    assert!(!answer.to_string().contains(&secret[6..]), "{answer:#}");
    let asked = app
        .gql(
            SYSTEM_KEY,
            "query($o: ID!) { organization(id: $o) { webhookEndpoints { secret } } }",
            json!({ "o": fx.org }),
        )
        .await;
    assert!(
        asked["errors"][0]["message"].as_str().unwrap().contains("secret"),
        "{asked:#}"
    );
    app.finish().await;
}

#[tokio::test]
async fn webhooks_failures_are_retried_then_failed_and_retried_by_hand() {
    let app = TestApp::spawn_with_notifications(settings("0.2,0.2,0.2", true)).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &fx.org, "Team").await;
    let flaky = Receiver::start(&[500, 500], 200).await;
    let broken = Receiver::start(&[], 500).await;
    let kinds = json!(["ALLOCATION_CHANGED"]);
    let (flaky_id, _) = endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": flaky.url, "kinds": kinds }),
    )
    .await;
    let (broken_id, _) = endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": broken.url, "kinds": kinds }),
    )
    .await;

    allocate(&app, &t, Some("100")).await;
    let delivered = settled(&app, &fx.org, &flaky_id, "SUCCEEDED", 10).await;
    assert_eq!(delivered["attempts"], 3);
    assert_eq!(delivered["responseStatus"], 200);
    let got = flaky.got();
    assert_eq!(got.len(), 3, "{got:#?}");
    assert!(
        got.iter().all(|r| r.id == got[0].id),
        "every attempt is the same message"
    );

    // Three waits: four attempts, then FAILED.
    let failed = settled(&app, &fx.org, &broken_id, "FAILED", 10).await;
    assert_eq!(failed["attempts"], 4);
    assert_eq!(failed["responseStatus"], 500);
    assert_eq!(broken.got().len(), 4);

    broken.answer(200);
    let retried = app
        .ok(
            SYSTEM_KEY,
            "mutation($id: ID!) { retryWebhookDelivery(input: {id: $id}) { delivery { id status attempts } } }",
            json!({ "id": failed["id"] }),
        )
        .await;
    assert_eq!(retried["retryWebhookDelivery"]["delivery"]["status"], "PENDING");
    assert_eq!(retried["retryWebhookDelivery"]["delivery"]["attempts"], 4);
    let delivered = settled(&app, &fx.org, &broken_id, "SUCCEEDED", 10).await;
    assert_eq!(delivered["attempts"], 5);
    assert_eq!(delivered["responseStatus"], 200);
    assert_eq!(broken.got().len(), 5);

    let metrics = metrics(&app).await;
    for name in [
        "quotagraph_webhook_attempts_total{outcome=\"succeeded\"}",
        "quotagraph_webhook_attempts_total{outcome=\"failed_attempt\"}",
        "quotagraph_webhook_attempts_total{outcome=\"failed\"}",
        "quotagraph_webhook_pending",
        "quotagraph_webhook_delivery_lag_seconds",
    ] {
        assert!(metrics.contains(name), "{name} is missing:\n{metrics}");
    }
    app.finish().await;
}

#[tokio::test]
async fn webhooks_an_endpoint_gets_only_its_kinds_and_its_tenant() {
    let app = TestApp::spawn_with_notifications(settings("0.2", true)).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let alpha = tenant(&app, &fx.org, "Alpha").await;
    let beta = tenant(&app, &fx.org, "Beta").await;
    let thresholds = Receiver::start(&[], 200).await;
    let alphas = Receiver::start(&[], 200).await;
    endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": thresholds.url, "kinds": ["THRESHOLD_CROSSED"] }),
    )
    .await;
    let (_, _) = endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": alphas.url, "kinds": ["ALLOCATION_CHANGED", "THRESHOLD_CROSSED"], "tenantId": alpha }),
    )
    .await;

    allocate(&app, &alpha, Some("100")).await;
    allocate(&app, &beta, Some("100")).await;
    record(&app, [event("b-80", &beta, "80", "2026-11-20T10:00:00Z")]).await;
    record(&app, [event("a-80", &alpha, "80", "2026-11-20T10:00:00Z")]).await;
    // Beta's and alpha's crossings (0.7 of their allocations) and alpha's allocation.
    let got = thresholds.until(2, 10).await;
    let alpha_got = alphas.until(2, 10).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let got_after = thresholds.got();
    assert_eq!(got.len(), got_after.len());
    assert!(!got.is_empty());
    for request in &got_after {
        assert_eq!(request.json()["type"], "quota.threshold_crossed", "{request:#?}");
    }
    let tenants: HashSet<String> = got_after
        .iter()
        .filter_map(|r| r.json()["data"]["tenantId"].as_str().map(str::to_owned))
        .collect();
    assert!(tenants.contains(&alpha) && tenants.contains(&beta), "{tenants:?}");
    let alpha_after = alphas.got();
    assert_eq!(alpha_got.len(), alpha_after.len());
    let types: HashSet<String> = alpha_after
        .iter()
        .map(|r| {
            let body = r.json();
            assert_eq!(body["data"]["tenantId"], alpha.as_str(), "only alpha's: {body:#}");
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        types,
        HashSet::from([
            "quota.allocation_changed".to_owned(),
            "quota.threshold_crossed".to_owned()
        ])
    );
    app.finish().await;
}

#[tokio::test]
async fn webhooks_refuse_private_and_odd_targets_and_other_roles() {
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest",
        "http://[::1]/hook",
        "ftp://203.0.113.10/hook",
        "not a url",
        "http://host.invalid/hook",
    ] {
        let (code, message) = app
            .err(
                SYSTEM_KEY,
                CREATE,
                json!({ "input": { "organizationId": fx.org, "url": url, "kinds": ["QUOTA_EXHAUSTED"] } }),
            )
            .await;
        assert_eq!(code, "BAD_USER_INPUT", "{url}: {message}");
        assert!(message.contains("url"), "{url}: {message}");
    }
    let public = json!({ "organizationId": fx.org, "url": "http://203.0.113.10/hook", "kinds": ["QUOTA_EXHAUSTED"] });
    for role in ["BILLING_MANAGER", "VIEWER"] {
        let k = key(&app, role, Some(&fx.org), None).await;
        let (code, _) = app.err(&k, CREATE, json!({ "input": public })).await;
        assert_eq!(code, "FORBIDDEN", "{role}");
        app.organization_refused(&k, &fx.org, "webhookEndpoints { id }", "FORBIDDEN", &[])
            .await;
    }
    let admin = key(&app, "ADMIN", Some(&fx.org), None).await;
    let made = app.ok(&admin, CREATE, json!({ "input": public })).await;
    let id = made["createWebhookEndpoint"]["endpoint"]["id"]
        .as_str()
        .unwrap()
        .to_owned();

    let (globex, stranger) = globex_owner(&app).await;
    let (code, _) = app.err(&stranger, CREATE, json!({ "input": public })).await;
    assert_eq!(code, "NOT_FOUND");
    const DELETE: &str = "mutation($id: ID!) { deleteWebhookEndpoint(input: {id: $id}) { deletedId } }";
    let (code, _) = app.err(&stranger, DELETE, json!({ "id": id })).await;
    assert_eq!(code, "NOT_FOUND");
    let theirs = app
        .organization(&stranger, &globex.org, "webhookEndpoints { id }")
        .await;
    assert_eq!(theirs["webhookEndpoints"], json!([]));

    let deleted = app.ok(&admin, DELETE, json!({ "id": id })).await;
    assert_eq!(deleted["deleteWebhookEndpoint"]["deletedId"], id.as_str());
    let left = app.organization(&admin, &fx.org, "webhookEndpoints { id }").await;
    assert_eq!(left["webhookEndpoints"], json!([]));
    let log = app
        .organization(&admin, &fx.org, "auditLog { nodes { action targetKind } }")
        .await;
    let actions: Vec<&str> = log["auditLog"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["targetKind"] == "WebhookEndpoint")
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["createWebhookEndpoint", "deleteWebhookEndpoint"]);
    app.finish().await;
}

/// GraphQL as SYSTEM to a server process.
async fn system(address: &str, query: &str, variables: Value) -> Value {
    let answer: Value = reqwest::Client::new()
        .post(format!("http://{address}/graphql"))
        .bearer_auth(SYSTEM_KEY)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(answer.get("errors").is_none(), "{answer:#}");
    answer["data"].clone()
}

#[tokio::test]
async fn webhooks_a_pending_delivery_survives_a_sigkill() {
    let env = [
        ("QUOTAGRAPH_WEBHOOK_ALLOW_PRIVATE", "true"),
        (
            "QUOTAGRAPH_WEBHOOK_RETRY_SCHEDULE",
            "0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3,0.3",
        ),
    ];
    let mut first = ServerProcess::start(&env).await;
    let address = first.address.clone();
    system(
        &address,
        "mutation { createUnitType(input: {code: \"units\", name: \"Units\"}) { unitType { code } } }",
        json!({}),
    )
    .await;
    let org = system(
        &address,
        "mutation { createOrganization(input: {name: \"Org\", slug: \"acme\"}) { organization { id } } }",
        json!({}),
    )
    .await["createOrganization"]["organization"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    system(
        &address,
        "mutation($o: ID!) { createLicense(input: {organizationId: $o, unitType: \"units\", planName: \"P\", capacity: \"1000\", period: MONTH, startsOn: \"2026-01-01\"}) { license { id } } }",
        json!({ "o": org }),
    )
    .await;
    let t = system(
        &address,
        "mutation($o: ID!) { createTenant(input: {organizationId: $o, name: \"Team\"}) { tenant { id } } }",
        json!({ "o": org }),
    )
    .await["createTenant"]["tenant"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let receiver = Receiver::start(&[], 500).await;
    system(
        &address,
        CREATE,
        json!({ "input": { "organizationId": org, "url": receiver.url, "kinds": ["ALLOCATION_CHANGED"] } }),
    )
    .await;
    system(
        &address,
        "mutation($t: ID!) { setAllocation(input: {tenantId: $t, unitType: \"units\", amount: \"100\", effectiveOn: \"2026-11-01\"}) { allocation { amount } } }",
        json!({ "t": t }),
    )
    .await;
    let failing = receiver.until(1, 10).await;
    assert!(!failing.is_empty(), "the receiver was tried");
    let message = failing[0].id.clone();

    first.kill();
    receiver.answer(200);
    let seen = receiver.got().len();
    let second = ServerProcess::on(&first.database_url, &env).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let got = receiver.got();
        if got.len() > seen {
            assert_eq!(got[seen].id, message, "the same event arrives after the restart");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "nothing arrived after the restart"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (ok, _) = second.terminate().await;
    assert!(ok);
}

#[tokio::test]
async fn webhooks_two_replicas_deliver_each_event_once() {
    let app = TestApp::spawn_with_notifications(settings("0.2,0.2,0.2", true)).await;
    if !app.on_postgres() {
        println!("not run: replicas share a database only on PostgreSQL (set TEST_DATABASE_URL)");
        app.finish().await;
        return;
    }
    let replica = app.replica_with_notifications(settings("0.2,0.2,0.2", true)).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &fx.org, "Team").await;
    let receiver = Receiver::start(&[], 200).await;
    endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": receiver.url, "kinds": ["ALLOCATION_CHANGED"] }),
    )
    .await;
    for amount in 10..30 {
        let server = if amount % 2 == 0 { &app } else { &replica };
        allocate(server, &t, Some(&amount.to_string())).await;
    }
    let got = receiver.until(20, 20).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let got_after = receiver.got();
    assert_eq!(got.len(), got_after.len());
    let ids: HashSet<&str> = got_after.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 20, "20 events");
    assert_eq!(got_after.len(), 20, "each delivered once");
    replica.finish().await;
    app.finish().await;
}

#[tokio::test]
async fn webhooks_retention_keeps_what_is_still_to_send() {
    let app = TestApp::spawn_with_notifications(settings("60", true)).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let waiting = tenant(&app, &fx.org, "Waiting").await;
    let sent = tenant(&app, &fx.org, "Sent").await;
    let down = Receiver::start(&[], 500).await;
    let up = Receiver::start(&[], 200).await;
    let kinds = json!(["ALLOCATION_CHANGED"]);
    let (down_id, _) = endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": down.url, "kinds": kinds, "tenantId": waiting }),
    )
    .await;
    let (up_id, _) = endpoint(
        &app,
        json!({ "organizationId": fx.org, "url": up.url, "kinds": kinds, "tenantId": sent }),
    )
    .await;
    allocate(&app, &waiting, Some("100")).await;
    allocate(&app, &sent, Some("100")).await;
    settled(&app, &fx.org, &up_id, "SUCCEEDED", 10).await;
    down.until(1, 10).await;

    // 91 days later (the default keeps 90): the sent one goes with its delivery, the one
    // still to send stays.
    app.clock
        .set(chrono::DateTime::parse_from_rfc3339(DEFAULT_NOW).unwrap().to_utc() + chrono::Duration::days(91));
    let kept = "notifications(kinds: [ALLOCATION_CHANGED]) { nodes { tenantId } }";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = app.organization(SYSTEM_KEY, &fx.org, kept).await;
        let tenants: Vec<&str> = left["notifications"]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|n| n["tenantId"].as_str())
            .collect();
        if tenants == [waiting.as_str()] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not pruned as expected: {tenants:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(deliveries(&app, &fx.org, &up_id).await.is_empty());
    let pending = deliveries(&app, &fx.org, &down_id).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["status"], "PENDING");
    app.finish().await;
}
