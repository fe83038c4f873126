//! `recordUsage`: idempotency, all-or-nothing batches, and every validation rule,
//! with the stored sums read back from the database.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme, acme_with_tenants, create_folder, create_process, key, organization_with_license,
    set_tenant_state, tenant,
};

/// Records the batch `events` as SYSTEM; returns `{ accepted, duplicates }`.
async fn record(app: &TestApp, events: Value) -> Value {
    app.mutate(SYSTEM_KEY, "recordUsage", json!({ "events": events })).await
}

/// Expects the batch `events` refused with `code` and a message that starts with `field`:
/// the event refused and its field (`events[1].idempotencyKey`), or "" for any.
async fn refused(app: &TestApp, key: &str, events: Value, code: &str, field: &str) {
    let message = app
        .mutate_refused(key, "recordUsage", json!({ "events": events }), code, &[])
        .await;
    assert!(message.starts_with(field), "{field}: {message}");
}

fn event(key: &str, tenant: &str, quantity: &str) -> Value {
    json!({
        "idempotencyKey": key,
        "tenantId": tenant,
        "unitType": "units",
        "service": "robots",
        "quantity": quantity,
        "occurredAt": "2026-11-20T10:00:00+01:00",
    })
}

/// (events, sum of quantities in ten-thousandths) stored for the organization, read from
/// the raw events table, and the same sum from the rollups (whose per-day and per-month
/// rows must agree).
async fn stored(app: &TestApp, org: &str) -> (i64, i64, i64) {
    let db = quotagraph::store::connect(&app.database_url).await.unwrap();
    let org =
        quotagraph::graphql::node::decode::<quotagraph::domain::ids::OrganizationId>(&async_graphql::ID(org.into()))
            .unwrap()
            .0;
    let (events, total) = quotagraph::store::usage::raw_totals(&db, org).await.unwrap();
    let rollup: i64 = quotagraph::store::usage::consumed_by_tenant(
        &db,
        org,
        unit_type_id(&db).await,
        "2000-01-01".parse().unwrap(),
        "2100-01-01".parse().unwrap(),
    )
    .await
    .unwrap()
    .values()
    .sum();
    let (daily, monthly) = quotagraph::store::usage::rollup_totals(&db, org).await.unwrap();
    assert_eq!(daily, monthly, "per-day and per-month rollups disagree");
    db.close().await.ok();
    (events, total, rollup)
}

async fn unit_type_id(db: &sea_orm::DatabaseConnection) -> uuid::Uuid {
    quotagraph::store::unit_type::find_by_code(db, "units")
        .await
        .unwrap()
        .unwrap()
        .id
}

#[tokio::test]
async fn the_same_batch_twice_is_all_duplicates_and_changes_nothing() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let events = json!([event("a", &t, "1.5"), event("b", &t, "2"), event("c", &t, "0.0001")]);
    let first = record(&app, events.clone()).await;
    assert_eq!(first, json!({ "accepted": 3, "duplicates": 0 }));
    let after_first = stored(&app, &fx.org).await;
    assert_eq!(after_first, (3, 35_001, 35_001));
    let second = record(&app, events).await;
    assert_eq!(second, json!({ "accepted": 0, "duplicates": 3 }));
    assert_eq!(stored(&app, &fx.org).await, after_first);
    app.finish().await;
}

#[tokio::test]
async fn a_key_reused_with_other_content_is_a_conflict_and_writes_nothing() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    record(&app, json!([event("a", &t, "1")])).await;
    let reused = json!([event("new", &t, "5"), event("a", &t, "2")]);
    refused(&app, SYSTEM_KEY, reused, "CONFLICT", "events[1].idempotencyKey").await;
    assert_eq!(stored(&app, &fx.org).await, (1, 10_000, 10_000));
    // Within one batch too.
    let twice = json!([event("x", &t, "1"), event("x", &t, "2")]);
    refused(&app, SYSTEM_KEY, twice, "CONFLICT", "").await;
    let same = record(&app, json!([event("y", &t, "1"), event("y", &t, "1")])).await;
    assert_eq!(same, json!({ "accepted": 1, "duplicates": 1 }));
    app.finish().await;
}

#[tokio::test]
async fn one_bad_event_refuses_the_whole_batch_and_names_it() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let other_org = organization_with_license(&app, "other", "1000").await;
    let foreign = tenant(&app, &other_org.org, "Foreign").await;
    let owner = key(&app, "OWNER", Some(&fx.org), None).await;
    let good = |k: &str| event(k, &t, "1");
    let with = |k: &str, field: &str, value: Value| {
        let mut e = good(k);
        e[field] = value;
        e
    };
    // Each field with a value it refuses, and the code; each case's key is its field's name.
    let cases = [
        ("quantity", json!("1.00001"), "BAD_USER_INPUT"),
        ("quantity", json!("-1"), "BAD_USER_INPUT"),
        ("unitType", json!("nope"), "BAD_USER_INPUT"),
        ("service", json!("has space"), "BAD_USER_INPUT"),
        ("occurredAt", json!("2026-11-23T10:05:01Z"), "BAD_USER_INPUT"),
        ("durationMs", json!(-5), "BAD_USER_INPUT"),
        ("idempotencyKey", json!("  "), "BAD_USER_INPUT"),
        ("tenantId", json!(foreign), "NOT_FOUND"),
        ("tenantId", json!("garbage"), "NOT_FOUND"),
        ("parentJobId", json!("ghost"), "BAD_USER_INPUT"),
        ("folderId", json!("Zm9v"), "NOT_FOUND"),
    ];
    for (field, value, code) in cases {
        let mut bad = with(field, field, value);
        if field == "parentJobId" {
            bad["jobId"] = json!("child");
        }
        let batch = json!([good("g1"), good("g2"), bad]);
        refused(&app, &owner, batch, code, &format!("events[2].{field}")).await;
        assert_eq!(stored(&app, &fx.org).await.0, 0, "{field} wrote something");
    }
    // Exactly five minutes ahead is still accepted (clock skew).
    let edge = with("edge", "occurredAt", json!("2026-11-23T10:05:00Z"));
    record(&app, json!([edge])).await;
    app.finish().await;
}

#[tokio::test]
async fn jobs_chain_to_known_parents_and_must_stay_consistent() {
    let (app, _, [t]) = acme_with_tenants(["T"]).await;
    let folder = create_folder(&app, &t, None, "F").await;
    let (root, child) = (
        create_process(&app, &folder, "Root").await,
        create_process(&app, &folder, "Child").await,
    );
    let job = |key: &str, job: &str, parent: Option<&str>, process: &str| {
        let mut e = event(key, &t, "1");
        e["jobId"] = json!(job);
        e["parentJobId"] = json!(parent);
        e["processId"] = json!(process);
        e["folderId"] = json!(folder);
        e
    };
    // A parent recorded earlier in the same batch is known to its child.
    let recorded = record(
        &app,
        json!([job("1", "r1", None, &root), job("2", "c1", Some("r1"), &child)]),
    )
    .await;
    assert_eq!(recorded["accepted"], 2);
    // A later event of the same job may repeat its facts, or leave them out.
    let mut again = event("3", &t, "1");
    again["jobId"] = json!("c1");
    record(&app, json!([job("4", "c1", Some("r1"), &child), again])).await;
    // It may not contradict them.
    let other_process = json!([job("5", "c1", Some("r1"), &root)]);
    refused(&app, SYSTEM_KEY, other_process, "BAD_USER_INPUT", "events[0].processId").await;
    let other_parent = json!([job("6", "c1", None, &child), job("7", "c1", Some("c1"), &child)]);
    refused(
        &app,
        SYSTEM_KEY,
        other_parent,
        "BAD_USER_INPUT",
        "events[1].parentJobId",
    )
    .await;
    // A child whose parent is unknown is refused; a parent without a job id is meaningless.
    let orphan = json!([job("8", "orphan", Some("nobody"), &child)]);
    refused(&app, SYSTEM_KEY, orphan, "BAD_USER_INPUT", "").await;
    let mut no_job = event("9", &t, "1");
    no_job["parentJobId"] = json!("r1");
    refused(&app, SYSTEM_KEY, json!([no_job]), "BAD_USER_INPUT", "").await;
    app.finish().await;
}

#[tokio::test]
async fn uploads_deleted_tenants_and_batch_size() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let mut upload = event("up", &t, "3");
    upload["kind"] = json!("UPLOAD");
    upload["durationMs"] = json!(1500);
    record(&app, json!([upload])).await;
    let (events, total, rollup_executions) = stored(&app, &fx.org).await;
    assert_eq!((events, total), (1, 30_000));
    assert_eq!(rollup_executions, 0, "an upload never counts as consumption");

    let gone = tenant(&app, &fx.org, "Gone").await;
    set_tenant_state(&app, &gone, "DELETED").await;
    refused(&app, SYSTEM_KEY, json!([event("g", &gone, "1")]), "BAD_USER_INPUT", "").await;

    let many: Vec<Value> = (0..10_001).map(|i| event(&format!("m{i}"), &t, "1")).collect();
    refused(&app, SYSTEM_KEY, json!(many), "BAD_USER_INPUT", "").await;
    let full: Vec<Value> = (0..10_000).map(|i| event(&format!("m{i}"), &t, "1")).collect();
    assert_eq!(record(&app, json!(full)).await["accepted"], 10_000);
    assert_eq!(
        stored(&app, &fx.org).await,
        (10_001, 30_000 + 10_000 * 10_000, 10_000 * 10_000)
    );
    app.finish().await;
}

#[tokio::test]
async fn a_job_chain_holds_at_most_64_runs() {
    let (app, _, [t]) = acme_with_tenants(["t"]).await;
    let run = |i: usize| {
        json!({
            "idempotencyKey": format!("run-{i}"), "tenantId": t, "unitType": "units", "service": "robots",
            "quantity": "1", "occurredAt": "2026-11-20T10:00:00Z", "jobId": format!("job-{i}"),
            "parentJobId": if i == 0 { Value::Null } else { json!(format!("job-{}", i - 1)) },
        })
    };
    let chain: Vec<Value> = (0..64).map(run).collect();
    assert_eq!(record(&app, json!(chain)).await["accepted"], 64);
    let message = app
        .mutate_refused(
            SYSTEM_KEY,
            "recordUsage",
            json!({ "events": [run(64)] }),
            "BAD_USER_INPUT",
            &["64"],
        )
        .await;
    assert!(message.starts_with("events[0].parentJobId:"), "{message}");
    app.finish().await;
}

/// Requests that arrive while a group is being written are written together as the next
/// group, and each keeps the outcome it would have had alone, in arrival order: a refused
/// request writes nothing and refuses nothing else, a repeat is a duplicate, and only the
/// requests that recorded something leave an audit entry.
#[tokio::test]
async fn requests_written_in_one_group_keep_their_own_outcomes() {
    let (app, fx, [t]) = acme_with_tenants(["T"]).await;
    let (ctx, actor) = group_context(&app).await;
    let tenant_id = tenant_id(&t);
    let nobody = quotagraph::domain::ids::TenantId(uuid::Uuid::now_v7());
    let requests = vec![
        vec![one("a", tenant_id, "1")],
        vec![one("a", tenant_id, "1")],
        vec![one("a", tenant_id, "2")],
        vec![one("x", nobody, "7")],
        vec![one("b", tenant_id, "3")],
        vec![one("c", tenant_id, "4"), one("d", tenant_id, "5")],
        vec![one("b", tenant_id, "3")],
        vec![one("e", tenant_id, "6"), one("a", tenant_id, "9")],
    ];
    // Polled together: the first request starts a group and the others wait for the next.
    let outcomes = submit_together(&ctx, &actor, requests).await;
    let taken: Vec<Result<(usize, usize), &str>> = outcomes
        .iter()
        .map(|o| match o {
            Ok(recorded) => Ok((recorded.accepted, recorded.duplicates)),
            Err(err) => Err(err.code()),
        })
        .collect();
    assert_eq!(
        taken,
        vec![
            Ok((1, 0)),
            Ok((0, 1)),
            Err("CONFLICT"),
            Err("NOT_FOUND"),
            Ok((1, 0)),
            Ok((2, 0)),
            Ok((0, 1)),
            Err("CONFLICT"),
        ]
    );
    // a, b, c and d: 1 + 3 + 4 + 5; nothing of the refused requests (e is not recorded).
    assert_eq!(stored(&app, &fx.org).await, (4, 130_000, 130_000));
    let log = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "auditLog(first: 100) { edges { node { action after } } }",
        )
        .await;
    let accepted: Vec<i64> = log["auditLog"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["node"]["action"] == "recordUsage")
        .map(|e| e["node"]["after"]["accepted"].as_i64().unwrap())
        .collect();
    assert_eq!(accepted, vec![1, 1, 2]);

    // A group that is all good is written as one batch, and split back per request.
    let requests = vec![
        vec![one("f", tenant_id, "1")],
        vec![one("g", tenant_id, "1"), one("h", tenant_id, "1")],
        vec![one("f", tenant_id, "1"), one("i", tenant_id, "1")],
    ];
    let outcomes = submit_together(&ctx, &actor, requests).await;
    let taken: Vec<(usize, usize)> = outcomes
        .into_iter()
        .map(|o| o.map(|r| (r.accepted, r.duplicates)).unwrap())
        .collect();
    assert_eq!(taken, vec![(1, 0), (2, 0), (1, 1)]);
    assert_eq!(stored(&app, &fx.org).await, (8, 170_000, 170_000));
    // Not closed: on PostgreSQL the event bus holds a connection of this pool until dropped.
    drop(ctx);
    app.finish().await;
}

/// A context of the service layer of its own beside the server's, to submit requests to
/// group commit directly, and the SYSTEM key's actor.
async fn group_context(app: &TestApp) -> (quotagraph::service::AppContext, quotagraph::domain::access::Actor) {
    use quotagraph::service::{self, AppContext};
    let db = quotagraph::store::connect(&app.database_url).await.unwrap();
    let ctx = AppContext {
        events: quotagraph::events::Bus::start(&db).await.unwrap(),
        writer: quotagraph::store::writer(&db, &app.database_url).await.unwrap(),
        db,
        clock: quotagraph::clock::Clock::pinned(crate::helpers::DEFAULT_NOW.parse().unwrap()),
        pepper: service::api_key::Pepper::new(crate::helpers::KEY_PEPPER),
        watcher: Default::default(),
        memo: Default::default(),
        groups: Default::default(),
        webhooks: Default::default(),
        event_retention_days: None,
    };
    let actor = service::api_key::authenticate(&ctx, SYSTEM_KEY).await.unwrap();
    (ctx, actor)
}

/// Submits `requests` to group commit at once; their outcomes, in order.
async fn submit_together(
    ctx: &quotagraph::service::AppContext,
    actor: &quotagraph::domain::access::Actor,
    requests: Vec<Vec<quotagraph::service::ingestion::NewUsageEvent>>,
) -> Vec<quotagraph::error::AppResult<quotagraph::service::ingestion::Recorded>> {
    let submitted = requests
        .into_iter()
        .map(|events| quotagraph::service::group_commit::submit(ctx, actor, events));
    futures_util::future::join_all(submitted).await
}

fn tenant_id(gid: &str) -> quotagraph::domain::ids::TenantId {
    quotagraph::graphql::node::decode(&async_graphql::ID(gid.to_owned())).unwrap()
}

/// One EXECUTION event of "units" for `recordUsage`'s use case.
fn one(
    key: &str,
    tenant: quotagraph::domain::ids::TenantId,
    quantity: &str,
) -> quotagraph::service::ingestion::NewUsageEvent {
    quotagraph::service::ingestion::NewUsageEvent {
        idempotency_key: key.into(),
        tenant_id: tenant,
        unit_type: "units".into(),
        service: "robots".into(),
        quantity: quantity.into(),
        occurred_at: "2026-11-20T10:00:00+01:00".parse().unwrap(),
        kind: quotagraph::domain::ingestion::UsageKind::Execution,
        job_id: None,
        parent_job_id: None,
        process_id: None,
        folder_id: None,
        process_key: None,
        folder_key: None,
        duration_ms: None,
    }
}

/// A group costs the same statements whatever the number of requests in it: the
/// lookups, writes and audit entries of all of them are made together.
#[tokio::test]
async fn a_group_of_30_requests_runs_the_statements_of_a_group_of_3() {
    use quotagraph::service::group_commit;

    let (app, fx) = acme().await;
    let t = tenant_id(&tenant(&app, &fx.org, "T").await);
    let (mut ctx, actor) = group_context(&app).await;
    // The first write of the day makes the rows (service, rollups) later ones add to.
    group_commit::submit(&ctx, &actor, vec![one("first", t, "1")])
        .await
        .unwrap();
    let statements = quotagraph::store::StatementCounter::install(&mut ctx.writer);
    let mut counted = Vec::new();
    for (round, requests) in [3, 30].into_iter().enumerate() {
        let before = statements.get();
        // Polled together: the requests of both rounds are grouped alike.
        let outcomes = futures_util::future::join_all(
            (0..requests).map(|i| group_commit::submit(&ctx, &actor, vec![one(&format!("{round}-{i}"), t, "1")])),
        )
        .await;
        assert!(outcomes.iter().all(|o| o.as_ref().is_ok_and(|r| r.accepted == 1)));
        counted.push(statements.get() - before);
    }
    assert_eq!(
        counted[0], counted[1],
        "statements for 3 requests, then for 30: {counted:?}"
    );
    assert_eq!(stored(&app, &fx.org).await, (34, 340_000, 340_000));
    drop(ctx);
    app.finish().await;
}
