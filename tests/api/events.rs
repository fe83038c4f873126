//! Quota events over WebSocket (docs/design.md §7): thresholds and status changes heard
//! once within a second on both protocols, a tenant admin's narrow view, replicas on
//! PostgreSQL, a period rollover under a moved clock (and the burst ending with it),
//! the live `usage` cards, and refused admissions.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::{
    DEFAULT_NOW, SYSTEM_KEY, Socket, TestApp, acme, acme_with_tenants, allocate, bearer, create_license,
    create_organization, create_unit_type, event, init, key, key_with_id, open_socket, organization_with_license,
    record, tenant,
};

const QUOTA_EVENTS: &str = "subscription($o: ID!, $u: String, $t: ID) { quotaEvents(organizationId: $o, unitType: $u, tenantId: $t) { kind at organizationId tenantId unitType threshold previousStatus status consumed remaining } }";
const USAGE: &str = "subscription($o: ID!) { usage(organizationId: $o, unitType: \"units\") { consumed status tenants { displayName consumed status } } }";
const QUOTA: &str =
    "quota(unitType: \"units\") { used quota limit remaining burstActive periodStart periodEnd resetsOn }";

/// How long a subscription is given to reach the bus after its `subscribe` message:
/// neither protocol acknowledges a subscription, so a write sent at once could beat it.
pub(crate) const SETTLE: Duration = Duration::from_secs(1);

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Protocol {
    /// `graphql-transport-ws`: subscribe / next.
    Transport,
    /// The legacy `graphql-ws`: start / data.
    Legacy,
}

impl Protocol {
    fn name(self) -> &'static str {
        match self {
            Protocol::Transport => "graphql-transport-ws",
            Protocol::Legacy => "graphql-ws",
        }
    }
}

/// One WebSocket connection holding one subscription.
pub(crate) struct Subscriber {
    socket: Socket,
    protocol: Protocol,
}

impl Subscriber {
    /// Opens a connection and authenticates with `key` in `connection_init`.
    pub(crate) async fn connect(app: &TestApp, protocol: Protocol, key: &str) -> Subscriber {
        let socket = open_socket(app, protocol.name()).await;
        let mut subscriber = Subscriber { socket, protocol };
        subscriber
            .send(json!({ "type": "connection_init", "payload": bearer(key) }))
            .await;
        let ack = subscriber
            .message(within_ms(5000))
            .await
            .expect("connection_ack in time");
        assert_eq!(ack["type"], "connection_ack", "{ack}");
        subscriber
    }

    pub(crate) async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .unwrap();
    }

    /// Subscribes (id "1") and gives the subscription time to reach the bus.
    async fn subscribe(&mut self, query: &str, variables: Value) {
        let kind = match self.protocol {
            Protocol::Transport => "subscribe",
            Protocol::Legacy => "start",
        };
        self.send(json!({ "type": kind, "id": "1", "payload": { "query": query, "variables": variables } }))
            .await;
        tokio::time::sleep(SETTLE).await;
    }

    /// The next protocol message before `deadline` (keep-alives and pings answered and
    /// skipped), or `None` when the deadline passes first.
    pub(crate) async fn message(&mut self, deadline: Instant) -> Option<Value> {
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(remaining, self.socket.next()).await.ok()?;
            let text = match frame {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                other => panic!("the connection ended: {other:?}"),
            };
            let message: Value = serde_json::from_str(&text).unwrap();
            match message["type"].as_str() {
                Some("ka" | "pong") => continue,
                Some("ping") => {
                    self.send(json!({ "type": "pong" })).await;
                    continue;
                }
                _ => return Some(message),
            }
        }
    }

    /// The next result's `data` before `deadline`; an error or completion fails the test.
    async fn data(&mut self, deadline: Instant) -> Option<Value> {
        let message = self.message(deadline).await?;
        let kind = match self.protocol {
            Protocol::Transport => "next",
            Protocol::Legacy => "data",
        };
        assert_eq!(message["type"], kind, "expected a result: {message}");
        assert_eq!(message["id"], "1");
        assert!(message["payload"]["errors"].is_null(), "errors: {message}");
        Some(message["payload"]["data"].clone())
    }

    /// The next result's `data`, which must come within `ms` milliseconds: `expected`
    /// says what it is.
    async fn answer(&mut self, ms: u64, expected: &str) -> Value {
        self.data(within_ms(ms))
            .await
            .unwrap_or_else(|| panic!("no {expected} within {ms} ms"))
    }

    /// The next quota event before `deadline`.
    async fn event(&mut self, deadline: Instant) -> Option<Value> {
        Some(self.data(deadline).await?["quotaEvents"].clone())
    }

    /// Every quota event heard until `deadline`.
    async fn events_until(&mut self, deadline: Instant) -> Vec<Value> {
        let mut events = Vec::new();
        while let Some(event) = self.event(deadline).await {
            events.push(event);
        }
        events
    }

    /// Reads events until one satisfies `wanted` or `deadline` passes; returns every event
    /// read, the wanted one last.
    async fn wait_for(&mut self, deadline: Instant, wanted: impl Fn(&Value) -> bool) -> (Option<Value>, Vec<Value>) {
        let mut seen = Vec::new();
        while let Some(event) = self.event(deadline).await {
            seen.push(event.clone());
            if wanted(&event) {
                return (Some(event), seen);
            }
        }
        (None, seen)
    }

    /// The next message must be an error for the subscription; returns its payload.
    async fn refusal(&mut self, deadline: Instant) -> Value {
        let message = self.message(deadline).await.expect("an answer in time");
        // An `error` message, or (async-graphql's way for a resolver's error) a result
        // carrying errors and no data.
        let refused = message["type"] == "error" || !message["payload"]["errors"].is_null();
        assert!(refused, "expected an error: {message}");
        message["payload"].clone()
    }

    pub(crate) async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

async fn quota(app: &TestApp, org: &str) -> Value {
    app.organization(SYSTEM_KEY, org, QUOTA).await["quota"].clone()
}

/// The instant `ms` milliseconds from now: a deadline.
pub(crate) fn within_ms(ms: u64) -> Instant {
    Instant::now() + Duration::from_millis(ms)
}

fn kinds(events: &[Value]) -> Vec<&str> {
    events.iter().map(|e| e["kind"].as_str().unwrap()).collect()
}

fn at(rfc3339: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(rfc3339).unwrap().to_utc()
}

/// A tenant going from 60 to 70 of its 100 units is told once, within a second; one
/// more unit brings only USAGE_RECORDED.
async fn threshold_and_status_heard_once(protocol: Protocol) {
    let (app, fx, [t]) = acme_with_tenants(["Team"]).await;
    allocate(&app, &t, Some("100")).await;
    record(&app, [event("u-60", &t, "60", "2026-11-20T10:00:00Z")]).await;

    let mut subscriber = Subscriber::connect(&app, protocol, SYSTEM_KEY).await;
    subscriber
        .subscribe(QUOTA_EVENTS, json!({ "o": fx.org, "u": "units" }))
        .await;

    let sent = Instant::now();
    record(&app, [event("u-70", &t, "10", "2026-11-21T10:00:00Z")]).await;
    let deadline = sent + Duration::from_secs(1);
    let mut heard = Vec::new();
    let (mut threshold, mut status) = (None, None);
    while threshold.is_none() || status.is_none() {
        let Some(event) = subscriber.event(deadline).await else {
            panic!(
                "{protocol:?}: THRESHOLD_CROSSED and STATUS_CHANGED not both heard within 1 s; heard {:?}",
                heard
            );
        };
        heard.push(event.clone());
        match event["kind"].as_str().unwrap() {
            "THRESHOLD_CROSSED" => {
                assert!(
                    threshold.is_none(),
                    "{protocol:?}: a second THRESHOLD_CROSSED: {heard:?}"
                );
                threshold = Some(event);
            }
            "STATUS_CHANGED" => {
                assert!(status.is_none(), "{protocol:?}: a second STATUS_CHANGED: {heard:?}");
                status = Some(event);
            }
            "USAGE_RECORDED" => {}
            other => panic!("{protocol:?}: unexpected {other}: {event}"),
        }
    }
    let (threshold, status) = (threshold.unwrap(), status.unwrap());
    assert_eq!(threshold["tenantId"], t.as_str(), "{threshold}");
    assert!(
        (threshold["threshold"].as_f64().unwrap() - 0.7).abs() < 1e-9,
        "{threshold}"
    );
    assert_eq!(threshold["organizationId"], fx.org.as_str());
    assert_eq!(threshold["unitType"], "units");
    assert_eq!(threshold["consumed"], "70", "{threshold}");
    assert_eq!(threshold["remaining"], "30", "{threshold}");
    assert!(
        threshold["at"].as_str().unwrap().starts_with("2026-11-23T10:00:00"),
        "`at` comes from the pinned clock: {threshold}"
    );
    assert_eq!(status["tenantId"], t.as_str(), "{status}");
    assert_eq!(status["previousStatus"], "HEALTHY", "{status}");
    assert_eq!(status["status"], "WARNING", "{status}");
    assert_eq!(status["consumed"], "70", "{status}");
    // Let the rest of this write's events (its coalesced USAGE_RECORDED) arrive.
    let rest = subscriber.events_until(within_ms(500)).await;
    assert!(
        rest.iter().all(|e| e["kind"] == "USAGE_RECORDED"),
        "{protocol:?}: {:?}",
        kinds(&rest)
    );

    record(&app, [event("u-71", &t, "1", "2026-11-22T10:00:00Z")]).await;
    let after = subscriber.events_until(within_ms(1500)).await;
    assert!(
        after.iter().all(|e| e["kind"] == "USAGE_RECORDED"),
        "{protocol:?}: the threshold or status was repeated: {after:#?}"
    );
    assert!(
        after
            .iter()
            .any(|e| e["tenantId"] == t.as_str() && e["consumed"] == "71"),
        "{protocol:?}: the tenant's USAGE_RECORDED with consumed 71 is missing: {after:#?}"
    );
    assert!(
        after.iter().any(|e| e["tenantId"].is_null() && e["consumed"] == "71"),
        "{protocol:?}: the organization's USAGE_RECORDED is missing: {after:#?}"
    );
    subscriber.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_threshold_and_status_are_heard_once_over_graphql_transport_ws() {
    threshold_and_status_heard_once(Protocol::Transport).await;
}

#[tokio::test]
async fn events_threshold_and_status_are_heard_once_over_legacy_graphql_ws() {
    threshold_and_status_heard_once(Protocol::Legacy).await;
}

#[tokio::test]
async fn events_a_tenant_admin_hears_only_its_own_tenant() {
    let app = TestApp::spawn().await;
    // Capacity 200: the writes below also cross organization thresholds.
    let fx = organization_with_license(&app, "acme", "200").await;
    let own = tenant(&app, &fx.org, "Own").await;
    let other = tenant(&app, &fx.org, "Other").await;
    allocate(&app, &own, Some("100")).await;
    allocate(&app, &other, Some("100")).await;
    let admin = key(&app, "TENANT_ADMIN", Some(&fx.org), Some(&own)).await;

    let mut everything = Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY).await;
    everything.subscribe(QUOTA_EVENTS, json!({ "o": fx.org })).await;
    let mut narrow = Subscriber::connect(&app, Protocol::Transport, &admin).await;
    narrow.subscribe(QUOTA_EVENTS, json!({ "o": fx.org })).await;

    record(&app, [event("other-80", &other, "80", "2026-11-20T10:00:00Z")]).await;
    record(&app, [event("own-75", &own, "75", "2026-11-20T11:00:00Z")]).await;
    let deadline = within_ms(1500);
    let all = everything.events_until(deadline).await;
    let mine = narrow.events_until(deadline).await;

    // The other tenant's and the organization's events were raised...
    let raised = |tenant: Option<&str>, kind: &str| {
        all.iter()
            .any(|e| e["kind"] == kind && e["tenantId"].as_str() == tenant)
    };
    assert!(raised(Some(&other), "THRESHOLD_CROSSED"), "{all:#?}");
    assert!(raised(Some(&other), "USAGE_RECORDED"), "{all:#?}");
    assert!(raised(None, "THRESHOLD_CROSSED"), "{all:#?}");
    assert!(raised(None, "USAGE_RECORDED"), "{all:#?}");
    // ...and the tenant admin heard none of them, but all of its own.
    for event in &mine {
        assert_eq!(event["tenantId"], own.as_str(), "a tenant admin heard {event}");
    }
    for kind in ["THRESHOLD_CROSSED", "STATUS_CHANGED", "USAGE_RECORDED"] {
        assert!(
            mine.iter().any(|e| e["kind"] == kind),
            "the tenant admin missed its {kind}: {mine:#?}"
        );
    }
    let own_events = all.iter().filter(|e| e["tenantId"] == own.as_str()).count();
    assert_eq!(mine.len(), own_events, "mine: {mine:#?}\nall: {all:#?}");

    // Asking for the other tenant's events by id is refused.
    let mut nosy = Subscriber::connect(&app, Protocol::Transport, &admin).await;
    nosy.send(json!({ "type": "subscribe", "id": "1", "payload": { "query": QUOTA_EVENTS, "variables": { "o": fx.org, "t": other } } }))
        .await;
    let refusal = nosy.refusal(within_ms(2000)).await;
    assert!(refusal.to_string().contains("NOT_FOUND"), "{refusal}");

    everything.close().await;
    narrow.close().await;
    nosy.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_a_replica_hears_what_the_primary_caused() {
    let app = TestApp::spawn().await;
    if !app.on_postgres() {
        println!("not run: replicas share events only on PostgreSQL (set TEST_DATABASE_URL)");
        app.finish().await;
        return;
    }
    let fx = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &fx.org, "Team").await;
    allocate(&app, &t, Some("100")).await;
    let replica = app.replica(DEFAULT_NOW).await;

    let mut subscriber = Subscriber::connect(&replica, Protocol::Transport, SYSTEM_KEY).await;
    subscriber.subscribe(QUOTA_EVENTS, json!({ "o": fx.org })).await;
    record(&app, [event("primary-70", &t, "70", "2026-11-20T10:00:00Z")]).await;
    let heard = subscriber.events_until(within_ms(1500)).await;
    assert!(
        heard.iter().any(|e| e["kind"] == "THRESHOLD_CROSSED"
            && e["tenantId"] == t.as_str()
            && e["threshold"].as_f64() == Some(0.7)),
        "{heard:#?}"
    );
    assert!(
        heard
            .iter()
            .any(|e| e["kind"] == "USAGE_RECORDED" && e["tenantId"] == t.as_str() && e["consumed"] == "70"),
        "{heard:#?}"
    );
    // Each event once, though both servers listen.
    let thresholds = heard.iter().filter(|e| e["kind"] == "THRESHOLD_CROSSED").count();
    assert_eq!(thresholds, 1, "{heard:#?}");

    subscriber.close().await;
    replica.finish().await;
    app.finish().await;
}

#[tokio::test]
async fn events_the_period_rolls_over_when_the_clock_moves_and_the_burst_ends() {
    let app = TestApp::spawn_with("2026-11-30T23:59:00Z", 200).await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let t = tenant(&app, &fx.org, "Team").await;
    record(&app, [event("nov-30", &t, "25", "2026-11-30T12:00:00Z")]).await;
    let burst = create_organization(&app, "bursty", "UTC").await;
    create_license(&app, &burst, json!({ "planName": "Burst", "capacity": "100", "startsOn": "2026-09-01", "enforced": false, "burstPercent": 130, "burstPeriods": 3 })).await;

    let q = quota(&app, &fx.org).await;
    assert_eq!(
        (q["used"].as_str(), q["periodStart"].as_str()),
        (Some("25"), Some("2026-11-01")),
        "{q}"
    );
    // November is the burst license's third period (index 2): the burst applies.
    let b = quota(&app, &burst).await;
    assert_eq!(b["quota"], "100", "{b}");
    assert_eq!(b["limit"], "130", "{b}");
    assert_eq!(b["burstActive"], true, "{b}");

    let mut subscriber = Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY).await;
    subscriber.subscribe(QUOTA_EVENTS, json!({ "o": fx.org })).await;
    app.clock.set(at("2026-12-01T00:00:30Z"));
    let (rolled, seen) = subscriber
        .wait_for(within_ms(2000), |e| e["kind"] == "PERIOD_ROLLED_OVER")
        .await;
    let rolled = rolled.unwrap_or_else(|| panic!("no PERIOD_ROLLED_OVER within 2 s; heard {seen:#?}"));
    assert!(rolled["tenantId"].is_null(), "{rolled}");
    assert_eq!(rolled["organizationId"], fx.org.as_str());
    assert_eq!(rolled["consumed"], "0", "{rolled}");
    assert_eq!(rolled["remaining"], "1000", "{rolled}");
    assert!(
        rolled["at"].as_str().unwrap().starts_with("2026-12-01T00:00:30"),
        "{rolled}"
    );
    // Once only, though the watcher keeps looking.
    let later = subscriber.events_until(within_ms(800)).await;
    assert!(
        later.iter().all(|e| e["kind"] != "PERIOD_ROLLED_OVER"),
        "repeated: {later:#?}"
    );

    let q = quota(&app, &fx.org).await;
    assert_eq!(q["periodStart"], "2026-12-01", "{q}");
    assert_eq!(q["used"], "0", "{q}");
    // December is the burst license's fourth period (index 3): no burst any more.
    let b = quota(&app, &burst).await;
    assert_eq!(b["periodStart"], "2026-12-01", "{b}");
    assert_eq!(b["limit"], "100", "{b}");
    assert_eq!(b["burstActive"], false, "{b}");

    subscriber.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_the_usage_subscription_answers_now_and_after_a_change() {
    let (app, fx, [t]) = acme_with_tenants(["Team"]).await;
    allocate(&app, &t, Some("100")).await;
    record(&app, [event("u-5", &t, "5", "2026-11-20T10:00:00Z")]).await;

    let mut subscriber = Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY).await;
    subscriber.subscribe(USAGE, json!({ "o": fx.org })).await;
    let first = subscriber.answer(2000, "answer at subscribe time").await["usage"].clone();
    assert_eq!(first["consumed"], "5", "{first}");
    assert_eq!(first["status"], "HEALTHY", "{first}");
    assert_eq!(
        first["tenants"],
        json!([{ "displayName": "Team", "consumed": "5", "status": "HEALTHY" }])
    );
    // Nothing more until something changes.
    assert!(
        subscriber.data(within_ms(500)).await.is_none(),
        "an answer without a change"
    );

    record(&app, [event("u-15", &t, "10", "2026-11-21T10:00:00Z")]).await;
    let second = subscriber.answer(2000, "answer after the change").await["usage"].clone();
    assert_eq!(second["consumed"], "15", "{second}");
    assert_eq!(second["tenants"][0]["consumed"], "15", "{second}");

    subscriber.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_a_refused_admission_is_heard() {
    let app = TestApp::spawn().await;
    create_unit_type(&app, "units", "Units").await;
    let org = create_organization(&app, "strict", "UTC").await;
    // Started 2026-01-01: November is period 10, past the three burst periods.
    create_license(&app, &org, json!({ "planName": "Burst", "capacity": "10", "startsOn": "2026-01-01", "enforced": true, "burstPercent": 130, "burstPeriods": 3 })).await;
    let t = tenant(&app, &org, "Team").await;

    let mut subscriber = Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY).await;
    subscriber.subscribe(QUOTA_EVENTS, json!({ "o": org })).await;

    let start = |key: &str, quantity: &str| json!({ "idempotencyKey": key, "tenantId": t, "unitType": "units", "service": "robots", "quantity": quantity });
    let granted = app.mutate(SYSTEM_KEY, "startExecution", start("run-1", "8")).await;
    assert_eq!(granted["granted"], true);
    assert_eq!(granted["quota"]["limit"], "10");
    app.mutate_refused(SYSTEM_KEY, "startExecution", start("run-2", "5"), "QUOTA_EXCEEDED", &[])
        .await;

    let (refused, seen) = subscriber
        .wait_for(within_ms(1000), |e| e["kind"] == "ADMISSION_REFUSED")
        .await;
    let refused = refused.unwrap_or_else(|| panic!("no ADMISSION_REFUSED within 1 s; heard {seen:#?}"));
    assert_eq!(refused["tenantId"], t.as_str(), "{refused}");
    assert_eq!(refused["organizationId"], org.as_str());
    assert_eq!(refused["unitType"], "units");
    assert_eq!(refused["consumed"], "8", "{refused}");
    assert_eq!(refused["remaining"], "2", "{refused}");
    // The refused run recorded nothing.
    let q = quota(&app, &org).await;
    assert_eq!(q["used"], "8", "{q}");

    subscriber.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_revoking_a_key_ends_its_subscriptions() {
    let (app, fx) = acme().await;
    let (secret, id) = key_with_id(&app, "VIEWER", Some(&fx.org), None).await;
    let mut viewer = Subscriber::connect(&app, Protocol::Transport, &secret).await;
    viewer.subscribe(QUOTA_EVENTS, json!({ "o": fx.org })).await;
    let mut usage = Subscriber::connect(&app, Protocol::Transport, &secret).await;
    usage.subscribe(USAGE, json!({ "o": fx.org })).await;
    app.mutate(SYSTEM_KEY, "revokeApiKey", json!({ "apiKeyId": id })).await;
    for subscriber in [&mut viewer, &mut usage] {
        let deadline = within_ms(1000);
        let mut completed = false;
        while let Some(message) = subscriber.message(deadline).await {
            if message["type"] == "complete" {
                completed = true;
                break;
            }
        }
        assert!(completed, "the revoked key's subscription ends within a second");
    }
    viewer.close().await;
    usage.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_connections_per_key_and_subscriptions_per_connection_are_bounded() {
    let app = TestApp::spawn_with_limits(quotagraph::config::LimitSettings {
        max_connections_per_key: 2,
        max_subscriptions: 2,
        ..crate::helpers::generous()
    })
    .await;
    let fx = organization_with_license(&app, "acme", "1000").await;
    let viewer = key(&app, "VIEWER", Some(&fx.org), None).await;
    let mut first = Subscriber::connect(&app, Protocol::Transport, &viewer).await;
    let second = Subscriber::connect(&app, Protocol::Transport, &viewer).await;

    // A third connection of the same key gets no acknowledgement.
    let mut third = open_socket(&app, "graphql-transport-ws").await;
    let reply = init(&mut third, bearer(&viewer)).await;
    let acknowledged = reply.as_ref().is_some_and(|r| r["type"] == "connection_ack");
    assert!(!acknowledged, "a third connection was acknowledged: {reply:?}");
    // Another key is not affected.
    Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY)
        .await
        .close()
        .await;

    // Two live subscriptions on one connection, and no third.
    for id in ["1", "2", "3"] {
        first
            .send(json!({ "type": "subscribe", "id": id, "payload": { "query": QUOTA_EVENTS, "variables": { "o": fx.org } } }))
            .await;
    }
    let refusal = first.refusal(within_ms(5000)).await;
    let refusal = refusal.to_string();
    assert!(
        refusal.contains("RATE_LIMITED") && refusal.contains("live subscriptions"),
        "{refusal}"
    );
    // Closing a connection frees its slot for the key.
    second.close().await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    Subscriber::connect(&app, Protocol::Transport, &viewer)
        .await
        .close()
        .await;
    first.close().await;
    app.finish().await;
}

#[tokio::test]
async fn events_the_organizations_own_thresholds_are_the_ones_announced() {
    let (app, fx) = acme().await;
    let t = tenant(&app, &fx.org, "Team").await;
    let input = json!({ "organizationId": fx.org, "unitType": "units", "thresholds": [0.3, 0.6] });
    app.mutate(SYSTEM_KEY, "setOrganizationAlertThresholds", input).await;
    let mut subscriber = Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY).await;
    subscriber.subscribe(QUOTA_EVENTS, json!({ "o": fx.org })).await;

    // 0 → 550 of 1000 crosses 0.3 (and the default 0.5 is no longer one).
    record(&app, [event("u-550", &t, "550", "2026-11-20T10:00:00Z")]).await;
    let heard = subscriber.events_until(within_ms(1500)).await;
    let crossed: Vec<f64> = heard
        .iter()
        .filter(|e| e["kind"] == "THRESHOLD_CROSSED" && e["tenantId"].is_null())
        .map(|e| e["threshold"].as_f64().unwrap())
        .collect();
    assert_eq!(crossed, [0.3], "{heard:#?}");
    subscriber.close().await;
    app.finish().await;
}

/// The ids of the organization's stored events after `after` (all when empty), in order.
async fn stored_after(app: &TestApp, org: &str, after: &str) -> Vec<String> {
    let mut ids = Vec::new();
    let mut after = after.to_owned();
    loop {
        let arguments = if after.is_empty() {
            "first: 100".to_owned()
        } else {
            format!("first: 100, after: \"{after}\"")
        };
        let field = format!("notifications({arguments}) {{ edges {{ cursor node {{ id }} }} }}");
        let page = app.organization(SYSTEM_KEY, org, &field).await;
        let edges = page["notifications"]["edges"].as_array().unwrap().clone();
        if edges.is_empty() {
            return ids;
        }
        for edge in edges {
            ids.push(edge["node"]["id"].as_str().unwrap().to_owned());
            after = edge["cursor"].as_str().unwrap().to_owned();
        }
    }
}

#[tokio::test]
async fn events_a_resumed_subscription_gets_the_missed_events_then_the_live_ones_once() {
    let (app, fx, [t]) = acme_with_tenants(["Team"]).await;
    allocate(&app, &t, Some("100")).await;
    let first = app
        .organization(SYSTEM_KEY, &fx.org, "notifications(first: 1) { edges { cursor } }")
        .await;
    let cursor = first["notifications"]["edges"][0]["cursor"]
        .as_str()
        .unwrap()
        .to_owned();
    // Missed while away: thresholds and a status change.
    record(&app, [event("away-80", &t, "80", "2026-11-20T10:00:00Z")]).await;
    let missed = stored_after(&app, &fx.org, &cursor).await;
    assert!(missed.len() >= 2, "{missed:?}");

    // Allocation changes keep coming while the subscription starts: each is either
    // replayed or heard live, never both, never neither.
    let writer = async {
        for amount in 101..=110 {
            allocate(&app, &t, Some(&amount.to_string())).await;
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    };
    let listener = async {
        let mut subscriber = Subscriber::connect(&app, Protocol::Transport, SYSTEM_KEY).await;
        let query = "subscription($o: ID!, $after: String) { quotaEvents(organizationId: $o, after: $after) { id cursor kind } }";
        subscriber
            .subscribe(query, json!({ "o": fx.org, "after": cursor }))
            .await;
        let heard = subscriber.events_until(within_ms(3000)).await;
        subscriber.close().await;
        heard
    };
    let ((), heard) = tokio::join!(writer, listener);
    let heard_ids: Vec<String> = heard
        .iter()
        .filter_map(|e| e["id"].as_str().map(str::to_owned))
        .collect();
    let expected = stored_after(&app, &fx.org, &cursor).await;
    assert_eq!(expected.len(), missed.len() + 10, "{expected:?}");
    assert_eq!(heard_ids, expected, "replayed then live, in order, each once");
    assert_eq!(heard_ids[..missed.len()], missed[..]);
    app.finish().await;
}
