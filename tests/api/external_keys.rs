//! External keys (docs/design.md §15.3): `Tenant.key`, folders and processes created by
//! the caller's own key (idempotently, once even when creates race), and usage reported
//! by `folderKey` / `processKey` instead of ids.

use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, acme_with_tenants, create_folder, document, event, record, set_tenant_state,
};

const AT: &str = "2026-11-20T10:00:00Z";

/// `createFolder`'s input: `name` at the top of `tenant`, under `key`.
fn folder(tenant: &str, name: &str, key: &str) -> Value {
    json!({ "tenantId": tenant, "name": name, "externalKey": key })
}

/// `createProcess`'s input: `name` in `folder`, under `key`.
fn process(folder: &str, name: &str, key: &str) -> Value {
    json!({ "folderId": folder, "name": name, "externalKey": key })
}

/// Creates a folder (or a process) with a key and returns what the payload says of it.
async fn made(app: &TestApp, mutation: &str, input: Value) -> Value {
    let payload = app.mutate(SYSTEM_KEY, mutation, input).await;
    let object = if mutation == "createFolder" {
        "folder"
    } else {
        "process"
    };
    payload[object].clone()
}

fn id(object: &Value) -> String {
    object["id"].as_str().expect("id").to_owned()
}

/// A tenant's folders with their processes, by name.
async fn tree(app: &TestApp, tenant: &str) -> Value {
    let query = "query($id: ID!) { node(id: $id) { ... on Tenant { folders { nodes {
        name externalKey processes { nodes { name externalKey } } } } } } }";
    app.ok(SYSTEM_KEY, query, json!({ "id": tenant })).await["node"]["folders"]["nodes"].clone()
}

/// The audit entries of `action`.
async fn audited(app: &TestApp, org: &str, action: &str) -> usize {
    let log = app
        .organization(SYSTEM_KEY, org, "auditLog(first: 100) { edges { node { action } } }")
        .await;
    let edges = log["auditLog"]["edges"].as_array().expect("edges").clone();
    edges.iter().filter(|e| e["node"]["action"] == action).count()
}

/// The organization's quota used this bundle.
async fn used(app: &TestApp, org: &str) -> Value {
    app.organization(SYSTEM_KEY, org, "quota(unitType: \"units\") { used }")
        .await["quota"]["used"]
        .clone()
}

/// A tenant's view in both attribution modes, folders and processes by name.
async fn view(app: &TestApp, org: &str, tenant: &str) -> Value {
    let fields = |mode: &str| {
        format!(
            "{mode}: tenant(id: $t) {{ consumed folders(attribution: {mode}) {{ folder {{ name }} consumed
                processes {{ process {{ name }} consumed }} children {{ folder {{ name }} consumed }} }}
                processes(attribution: {mode}) {{ edges {{ node {{ process {{ name }} own consumed }} }} }} }}"
        )
    };
    let query = format!(
        "query($o: ID!, $t: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ {} {} }} }} }}",
        fields("EXECUTION"),
        fields("OWNERSHIP")
    );
    app.ok(SYSTEM_KEY, &query, json!({ "o": org, "t": tenant })).await["organization"]["usage"].clone()
}

#[tokio::test]
async fn tenant_key_is_its_uuid_which_a_deleted_tenants_card_shows() {
    let (app, fx, [tenant]) = acme_with_tenants(["Gone"]).await;
    let query = "query($id: ID!) { node(id: $id) { ... on Tenant { key } } }";
    let key = app.ok(SYSTEM_KEY, query, json!({ "id": tenant })).await["node"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let uuid = uuid::Uuid::parse_str(&key).expect("a UUID");
    assert_eq!(key, uuid.hyphenated().to_string(), "hyphenated, lower case");

    set_tenant_state(&app, &tenant, "DELETED").await;
    let usage = app
        .organization(
            SYSTEM_KEY,
            &fx.org,
            "usage(unitType: \"units\") { tenants { displayName tenant { key } } }",
        )
        .await;
    let card = &usage["usage"]["tenants"][0];
    assert_eq!(card["displayName"], key.as_str());
    assert_eq!(card["tenant"]["key"], key.as_str());
    app.finish().await;
}

#[tokio::test]
async fn creating_again_with_a_key_answers_the_same_folder_or_process_and_writes_nothing() {
    let (app, fx, [tenant]) = acme_with_tenants(["Research"]).await;

    let first = made(&app, "createFolder", folder(&tenant, "Ops", "ops-1")).await;
    assert_eq!(first["externalKey"], "ops-1");
    let again = made(&app, "createFolder", folder(&tenant, "Ops", "ops-1")).await;
    assert_eq!(again["id"], first["id"]);
    let ops = id(&first);

    let nightly = made(&app, "createProcess", process(&ops, "Nightly", "nightly")).await;
    assert_eq!(nightly["externalKey"], "nightly");
    let again = made(&app, "createProcess", process(&ops, "Nightly", "nightly")).await;
    assert_eq!(again["id"], nightly["id"]);

    assert_eq!(
        tree(&app, &tenant).await,
        json!([{ "name": "Ops", "externalKey": "ops-1",
                 "processes": { "nodes": [{ "name": "Nightly", "externalKey": "nightly" }] } }])
    );
    assert_eq!(audited(&app, &fx.org, "createFolder").await, 1, "one audit entry");
    assert_eq!(audited(&app, &fx.org, "createProcess").await, 1, "one audit entry");

    let plain = create_folder(&app, &tenant, None, "No key").await;
    let query = "query($id: ID!) { node(id: $id) { ... on Folder { externalKey } } }";
    let answer = app.ok(SYSTEM_KEY, query, json!({ "id": plain })).await;
    assert_eq!(answer["node"]["externalKey"], Value::Null);
    app.finish().await;
}

#[tokio::test]
async fn a_key_with_other_fields_is_a_conflict_naming_the_key_and_what_differs() {
    let (app, _, [tenant]) = acme_with_tenants(["Research"]).await;
    let ops = id(&made(&app, "createFolder", folder(&tenant, "Ops", "ops")).await);
    let other = id(&made(&app, "createFolder", folder(&tenant, "Other", "other")).await);
    made(&app, "createProcess", process(&ops, "Nightly", "nightly")).await;

    let renamed = folder(&tenant, "Operations", "ops");
    app.mutate_refused(
        SYSTEM_KEY,
        "createFolder",
        renamed,
        "CONFLICT",
        &["\"ops\"", "name", "Operations"],
    )
    .await;
    let moved = json!({ "tenantId": tenant, "parentId": other, "name": "Ops", "externalKey": "ops" });
    app.mutate_refused(SYSTEM_KEY, "createFolder", moved, "CONFLICT", &["\"ops\"", "parent"])
        .await;
    let moved = process(&other, "Nightly", "nightly");
    app.mutate_refused(
        SYSTEM_KEY,
        "createProcess",
        moved,
        "CONFLICT",
        &["\"nightly\"", "folder"],
    )
    .await;
    let renamed = process(&ops, "Weekly", "nightly");
    app.mutate_refused(
        SYSTEM_KEY,
        "createProcess",
        renamed,
        "CONFLICT",
        &["\"nightly\"", "name"],
    )
    .await;

    // Folders and processes are keyed apart: a process may take a folder's key.
    made(&app, "createProcess", process(&ops, "Ops runner", "ops")).await;
    app.finish().await;
}

#[tokio::test]
async fn the_same_key_names_one_folder_in_each_tenant() {
    let (app, _, [a, b]) = acme_with_tenants(["A", "B"]).await;
    let in_a = made(&app, "createFolder", folder(&a, "Ops", "ops")).await;
    let in_b = made(&app, "createFolder", folder(&b, "Ops", "ops")).await;
    assert_ne!(in_a["id"], in_b["id"]);
    assert_eq!(in_b["tenant"]["id"], b.as_str());

    let p_a = made(&app, "createProcess", process(&id(&in_a), "Nightly", "nightly")).await;
    let p_b = made(&app, "createProcess", process(&id(&in_b), "Nightly", "nightly")).await;
    assert_ne!(p_a["id"], p_b["id"]);
    app.finish().await;
}

#[tokio::test]
async fn a_key_has_1_to_200_characters() {
    let (app, _, [tenant]) = acme_with_tenants(["Research"]).await;
    let longest = "k".repeat(200);
    let ops = id(&made(&app, "createFolder", folder(&tenant, "Ops", &longest)).await);
    made(&app, "createProcess", process(&ops, "Nightly", &longest)).await;

    for (key, length) in [(String::new(), "0"), ("k".repeat(201), "201")] {
        let words = ["externalKey", length, "1 to 200"];
        app.mutate_refused(
            SYSTEM_KEY,
            "createFolder",
            folder(&tenant, "X", &key),
            "BAD_USER_INPUT",
            &words,
        )
        .await;
        app.mutate_refused(
            SYSTEM_KEY,
            "createProcess",
            process(&ops, "X", &key),
            "BAD_USER_INPUT",
            &words,
        )
        .await;
    }
    assert_eq!(
        tree(&app, &tenant).await.as_array().map(Vec::len),
        Some(1),
        "nothing more written"
    );
    app.finish().await;
}

/// A tenant with folders "Ops" (key "ops", owning "Nightly", key "nightly") and "Other"
/// (key "other"); returns the ids of Ops, Other and Nightly.
async fn keyed_tree(app: &TestApp, tenant: &str) -> (String, String, String) {
    let ops = id(&made(app, "createFolder", folder(tenant, "Ops", "ops")).await);
    let other = id(&made(app, "createFolder", folder(tenant, "Other", "other")).await);
    let nightly = id(&made(app, "createProcess", process(&ops, "Nightly", "nightly")).await);
    (ops, other, nightly)
}

#[tokio::test]
async fn events_by_key_land_where_events_by_id_do() {
    let (app, fx, [by_id, by_key]) = acme_with_tenants(["By id", "By key"]).await;
    let (ops, other, nightly) = keyed_tree(&app, &by_id).await;
    keyed_tree(&app, &by_key).await;

    record(
        &app,
        [
            event("i1", &by_id, "10", AT).with(json!({ "processId": nightly })),
            event("i2", &by_id, "20", AT).with(json!({ "processId": nightly, "folderId": other })),
            event("i3", &by_id, "30", AT).with(json!({ "folderId": ops })),
            event("i4", &by_id, "40", AT).with(json!({ "jobId": "j1", "processId": nightly })),
            event("i5", &by_id, "5", AT).with(json!({ "jobId": "j2", "parentJobId": "j1", "folderId": other })),
        ],
    )
    .await;
    record(
        &app,
        [
            event("k1", &by_key, "10", AT).with(json!({ "processKey": "nightly" })),
            event("k2", &by_key, "20", AT).with(json!({ "processKey": "nightly", "folderKey": "other" })),
            event("k3", &by_key, "30", AT).with(json!({ "folderKey": "ops" })),
            event("k4", &by_key, "40", AT).with(json!({ "jobId": "j1", "processKey": "nightly" })),
            event("k5", &by_key, "5", AT).with(json!({ "jobId": "j2", "parentJobId": "j1", "folderKey": "other" })),
        ],
    )
    .await;

    let (with_ids, with_keys) = (view(&app, &fx.org, &by_id).await, view(&app, &fx.org, &by_key).await);
    assert_eq!(with_ids["EXECUTION"]["consumed"], "105");
    assert_eq!(with_keys, with_ids);
    app.finish().await;
}

#[tokio::test]
async fn an_unknown_key_refuses_the_batch_naming_the_event() {
    let (app, fx, [tenant, elsewhere]) = acme_with_tenants(["Research", "Elsewhere"]).await;
    keyed_tree(&app, &tenant).await;
    keyed_tree(&app, &elsewhere).await;
    made(&app, "createFolder", folder(&elsewhere, "Only there", "only-there")).await;

    let tenant_uuid = app
        .ok(
            SYSTEM_KEY,
            "query($id: ID!) { node(id: $id) { ... on Tenant { key } } }",
            json!({ "id": tenant }),
        )
        .await["node"]["key"]
        .as_str()
        .expect("key")
        .to_owned();
    let good = |k: &str| event(k, &tenant, "10", AT).with(json!({ "processKey": "nightly" }));
    let cases = [
        (
            json!({ "processKey": "missing" }),
            "events[3].processKey",
            "\"missing\"",
        ),
        (json!({ "folderKey": "missing" }), "events[3].folderKey", "\"missing\""),
        // Another tenant's key is unknown in this one.
        (
            json!({ "folderKey": "only-there" }),
            "events[3].folderKey",
            "\"only-there\"",
        ),
    ];
    for (fields, field, key) in cases {
        let events = [
            good("a"),
            good("b"),
            good("c"),
            event("d", &tenant, "10", AT).with(fields),
        ];
        let input = json!({ "events": events });
        app.mutate_refused(
            SYSTEM_KEY,
            "recordUsage",
            input,
            "BAD_USER_INPUT",
            &[field, key, &tenant_uuid],
        )
        .await;
    }
    assert_eq!(used(&app, &fx.org).await, "0", "nothing of the batches was written");
    app.finish().await;
}

#[tokio::test]
async fn an_id_and_a_key_for_the_same_thing_are_refused() {
    let (app, fx, [tenant]) = acme_with_tenants(["Research"]).await;
    let (ops, _, nightly) = keyed_tree(&app, &tenant).await;

    let cases = [
        (json!({ "folderId": ops, "folderKey": "ops" }), "events[1].folderKey"),
        (
            json!({ "processId": nightly, "processKey": "nightly" }),
            "events[1].processKey",
        ),
    ];
    for (fields, field) in cases {
        let events = [
            event("a", &tenant, "10", AT),
            event("b", &tenant, "10", AT).with(fields.clone()),
        ];
        let input = json!({ "events": events });
        app.mutate_refused(SYSTEM_KEY, "recordUsage", input, "BAD_USER_INPUT", &[field, "not both"])
            .await;

        let mut run = json!({ "idempotencyKey": "run", "tenantId": tenant, "unitType": "units", "service": "robots" });
        run.as_object_mut()
            .expect("an object")
            .extend(fields.as_object().expect("fields").clone());
        app.mutate_refused(SYSTEM_KEY, "startExecution", run, "BAD_USER_INPUT", &["not both"])
            .await;
    }
    assert_eq!(used(&app, &fx.org).await, "0", "nothing was written");
    app.finish().await;
}

#[tokio::test]
async fn start_execution_takes_a_process_by_key() {
    let (app, fx, [by_id, by_key]) = acme_with_tenants(["By id", "By key"]).await;
    let (_, _, nightly) = keyed_tree(&app, &by_id).await;
    let (_, _, keyed) = keyed_tree(&app, &by_key).await;
    let run = |tenant: &str, key: &str, fields: Value| {
        let mut input = json!({ "idempotencyKey": key, "tenantId": tenant, "unitType": "units", "service": "robots", "quantity": "7" });
        input
            .as_object_mut()
            .expect("an object")
            .extend(fields.as_object().expect("fields").clone());
        input
    };

    app.mutate(
        SYSTEM_KEY,
        "startExecution",
        run(&by_id, "r1", json!({ "processId": nightly })),
    )
    .await;
    let granted = app
        .mutate(
            SYSTEM_KEY,
            "startExecution",
            run(&by_key, "r2", json!({ "processKey": "nightly" })),
        )
        .await;
    assert_eq!(granted["quota"]["used"], "14");
    assert_eq!(view(&app, &fx.org, &by_key).await, view(&app, &fx.org, &by_id).await);

    // The key stands for the id: asking again by id is the same run, granted before.
    let again = app
        .mutate(
            SYSTEM_KEY,
            "startExecution",
            run(&by_key, "r2", json!({ "processId": keyed })),
        )
        .await;
    assert_eq!(again["quota"]["used"], "14");

    let unknown = run(&by_key, "r3", json!({ "processKey": "missing" }));
    app.mutate_refused(
        SYSTEM_KEY,
        "startExecution",
        unknown,
        "BAD_USER_INPUT",
        &["processKey", "\"missing\""],
    )
    .await;
    assert_eq!(used(&app, &fx.org).await, "14", "the refused run recorded nothing");
    app.finish().await;
}

#[tokio::test]
async fn concurrent_creates_with_one_key_make_one_row() {
    let (app, fx, [tenant]) = acme_with_tenants(["Research"]).await;

    let create_folder = document("createFolder");
    let creates = (0..8).map(|_| {
        let variables = json!({ "input": folder(&tenant, "Ops", "ops") });
        app.gql(SYSTEM_KEY, &create_folder, variables)
    });
    let answers = join_all(creates).await;
    let ids: Vec<&Value> = answers
        .iter()
        .map(|a| &a["data"]["createFolder"]["folder"]["id"])
        .collect();
    assert!(ids[0].is_string(), "{:#}", answers[0]);
    assert!(ids.iter().all(|id| *id == ids[0]), "one folder for all: {answers:#?}");
    let ops = ids[0].as_str().expect("id").to_owned();

    let create_process = document("createProcess");
    let creates = (0..8).map(|_| {
        let variables = json!({ "input": process(&ops, "Nightly", "nightly") });
        app.gql(SYSTEM_KEY, &create_process, variables)
    });
    let answers = join_all(creates).await;
    let ids: Vec<&Value> = answers
        .iter()
        .map(|a| &a["data"]["createProcess"]["process"]["id"])
        .collect();
    assert!(ids[0].is_string(), "{:#}", answers[0]);
    assert!(ids.iter().all(|id| *id == ids[0]), "one process for all: {answers:#?}");

    assert_eq!(
        tree(&app, &tenant).await,
        json!([{ "name": "Ops", "externalKey": "ops",
                 "processes": { "nodes": [{ "name": "Nightly", "externalKey": "nightly" }] } }])
    );
    assert_eq!(audited(&app, &fx.org, "createFolder").await, 1);
    assert_eq!(audited(&app, &fx.org, "createProcess").await, 1);
    app.finish().await;
}
