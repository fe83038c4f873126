//! Moving a populated database to a new layout keeps every figure: the database is taken
//! back to the layout before a migration and forward again, and every answer that reads
//! what it moved is the same.

use serde_json::{Value, json};

use crate::helpers::*;

/// What the scenario's answers are made of: figures, the tree, controls, notifications and
/// the raw events.
async fn answers(app: &TestApp, org: &str, folder: &str) -> Vec<Value> {
    let mut answers = vec![
        app.organization(
            SYSTEM_KEY,
            org,
            "usage(unitType: \"units\") { consumed remaining allocated status \
             tenants { displayName allocated consumed remaining consumedFromAllocated } }",
        )
        .await,
        app.organization(
            SYSTEM_KEY,
            org,
            "tenants(first: 10) { edges { node { name \
             allocation(unitType: \"units\") { amount } \
             consumptionControl(unitType: \"units\") { stopAtAllocation alertThresholds } \
             folders(first: 10) { edges { node { name externalKey \
               processes(first: 10) { edges { node { name externalKey } } } \
               children(first: 10) { edges { node { name processes(first: 10) { edges { node { name } } } } } } } } } } } }",
        )
        .await,
        app.organization(
            SYSTEM_KEY,
            org,
            "notifications(first: 50) { edges { node { kind tenantId threshold consumed } } }",
        )
        .await,
    ];
    for mode in ["EXECUTION", "OWNERSHIP"] {
        let fields = format!(
            "usage(unitType: \"units\") {{ \
             folders(attribution: {mode}) {{ folder {{ name }} consumed }} \
             folder(id: \"{folder}\", attribution: {mode}) {{ consumed \
               processes {{ process {{ name }} own consumed children {{ process {{ name }} own consumed }} }} \
               children {{ folder {{ name }} consumed }} }} }}"
        );
        answers.push(app.organization(SYSTEM_KEY, org, &fields).await);
    }
    let (header, rows) = export(
        app,
        SYSTEM_KEY,
        "events",
        &[("organization", org), ("unitType", "units")],
    )
    .await;
    answers.push(json!({ "header": header, "rows": rows }));
    answers
}

/// The thresholds crossed so far, as notifications tell.
async fn thresholds_crossed(app: &TestApp, org: &str) -> usize {
    let data = app
        .organization(
            SYSTEM_KEY,
            org,
            "notifications(first: 50, kinds: [THRESHOLD_CROSSED]) { edges { node { threshold } } }",
        )
        .await;
    data["notifications"]["edges"].as_array().unwrap().len()
}

/// Migration 000019 gives every row of an organization's data its organization (copied
/// from the tenant) and keys the watcher's marks by it; 000020 leads every such table's key
/// with it on PostgreSQL; 000021 to 000023 change indexes and store fingerprints as bytes.
/// A populated database taken back to the layout before them and forward again answers the
/// same, takes a resend of its events as duplicates, and does not send an alert again.
#[tokio::test]
async fn every_row_given_its_organization_and_keyed_by_it_answers_the_same() {
    use migration::MigratorTrait;
    let (app, fx, [alpha, beta]) = acme_with_tenants(["Alpha", "Beta"]).await;
    allocate(&app, &alpha, Some("400")).await;
    let control = json!({ "tenantId": alpha, "unitType": "units", "stopAtAllocation": ["robots"], "alertThresholds": [0.25, 0.9] });
    app.mutate(SYSTEM_KEY, "setConsumptionControl", control).await;
    let top = create_folder(&app, &alpha, None, "Top").await;
    let inner = create_folder(&app, &alpha, Some(&top), "Inner").await;
    let parent = create_process(&app, &top, "Parent").await;
    let child = create_process(&app, &inner, "Child").await;
    let recorded = [
        event("r1", &alpha, "50", "2026-11-10T09:00:00Z")
            .with(json!({ "jobId": "j1", "processId": parent, "folderId": top })),
        event("c1", &alpha, "70", "2026-11-12T09:00:00Z")
            .with(json!({ "jobId": "j2", "parentJobId": "j1", "processId": child })),
        event("b1", &beta, "30", "2026-11-20T09:00:00Z"),
    ];
    record(&app, recorded.clone()).await;
    let mut crossed = 0;
    for _ in 0..50 {
        crossed = thresholds_crossed(&app, &fx.org).await;
        if crossed > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(crossed > 0, "Alpha crossed 0.25 of its allocation");
    let before = answers(&app, &fx.org, &top).await;

    let db = quotagraph::store::connect(&app.database_url).await.unwrap();
    let migrations = migration::Migrator::migrations();
    let moving = migrations
        .iter()
        .position(|m| m.name() == "m20261207_000019_organization_in_every_row")
        .expect("the migration that names the organization in every row");
    let steps = u32::try_from(migrations.len() - moving).unwrap();
    migration::Migrator::down(&db, Some(steps)).await.unwrap();
    quotagraph::store::migrate(&db).await.unwrap();
    db.close().await.unwrap();
    // Past this age nothing kept in memory is answered (docs/design.md §11): all is read.
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
    assert_eq!(answers(&app, &fx.org, &top).await, before);
    // A resend of what was recorded before is a duplicate, not a conflict: the stored
    // fingerprints (000023 keeps them as 16 bytes) still match.
    let resent = app
        .mutate(SYSTEM_KEY, "recordUsage", json!({ "events": recorded }))
        .await;
    assert_eq!(resent["duplicates"], 3, "{resent}");
    assert_eq!(answers(&app, &fx.org, &top).await, before);

    record(
        &app,
        [event("r2", &alpha, "1", "2026-11-22T09:00:00Z").with(json!({ "jobId": "j3", "processId": parent }))],
    )
    .await;
    // The watcher looks every second; it has looked twice by now.
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    assert_eq!(
        thresholds_crossed(&app, &fx.org).await,
        crossed,
        "a threshold already announced is not announced again"
    );
    app.finish().await;
}
