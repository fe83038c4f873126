//! The start-up backfill rebuilds the attribution of usage recorded before it existed.

use sea_orm::ConnectionTrait;
use serde_json::json;

use super::figures::{folder_lines, process_lines, range, read_all};
use super::scenario::{HAND, lines, scenario};
use crate::helpers::{event, record};

/// Waits until the running server answers nothing it kept in memory from before writes made
/// behind its back (as no write of the service's own is: it forgets them itself).
async fn behind_the_servers_back() {
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
}

#[tokio::test]
async fn start_up_backfill_rebuilds_the_same_attribution() {
    let s = scenario().await;
    let whole = read_all(&s.app, &s.org, "", HAND).await.2;
    let week = read_all(&s.app, &s.org, &range("2026-11-06", "2026-11-12"), HAND)
        .await
        .2;
    let october = read_all(&s.app, &s.org, ", bundle: \"2026-10-01\"", HAND).await.2;

    // Forget every job's place and the rollup, as before attribution existed.
    let db = sea_orm::Database::connect(&s.app.database_url).await.unwrap();
    for statement in [
        "UPDATE jobs SET node_id = NULL, owner_folder_id = NULL",
        "DELETE FROM usage_attribution_daily",
        "DELETE FROM usage_attribution_monthly",
        "DELETE FROM usage_process_daily",
        "DELETE FROM usage_process_monthly",
        "DELETE FROM usage_list_daily",
        "DELETE FROM usage_list_monthly",
        "DELETE FROM chain_nodes",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    behind_the_servers_back().await;
    let (forgotten, _, _) = read_all(&s.app, &s.org, "", HAND).await;
    assert_eq!(
        forgotten.consumed, "197",
        "consumption itself does not come from attribution"
    );
    assert_eq!(
        folder_lines(&forgotten.execution_folders),
        lines(&["A 0", "A/Asub 0", "B 0", "C 0", "D 0", "(none) 0"])
    );
    assert!(forgotten.ownership_processes.is_empty());

    quotagraph::startup::prepare_database(&db).await.unwrap();
    behind_the_servers_back().await;
    crate::helpers::assert_derived_rollups_match(&s.app.database_url).await;
    assert_eq!(read_all(&s.app, &s.org, "", HAND).await.2, whole);
    assert_eq!(
        read_all(&s.app, &s.org, &range("2026-11-06", "2026-11-12"), HAND)
            .await
            .2,
        week
    );
    assert_eq!(
        read_all(&s.app, &s.org, ", bundle: \"2026-10-01\"", HAND).await.2,
        october
    );
    // Running it again changes nothing.
    quotagraph::startup::prepare_database(&db).await.unwrap();
    behind_the_servers_back().await;
    assert_eq!(read_all(&s.app, &s.org, "", HAND).await.2, whole);
    db.close().await.unwrap();

    // Jobs placed by the backfill take later events and children as usual: one more j1 event
    // (1), and a P3 run started by j2 (path P1 > P2 > P3, like j3) of 2.5.
    record(
        &s.app,
        vec![
            event("late1", &s.one, "1", "2026-11-14T09:00:00Z").with(json!({ "jobId": "j1" })),
            event("late2", &s.one, "2.5", "2026-11-14T09:00:00Z")
                .with(json!({ "jobId": "j9", "parentJobId": "j2", "processId": s.id("P3") })),
        ],
    )
    .await;
    let (_, tenants, _) = read_all(&s.app, &s.org, "", HAND).await;
    assert_eq!(
        process_lines(&tenants[&s.one].ownership_processes),
        lines(&[
            "P1 16.5/83",
            "P1 > P2 20/52.5",
            "P1 > P2 > P3 32.5/32.5",
            "P1 > P4 8/8",
            "P2 5/5",
            "P3 2/2",
        ])
    );
    // EXECUTION: j1 ran in A (+1); j9 names no folder, so it ran in P3's folder Asub (+2.5).
    assert_eq!(
        folder_lines(&tenants[&s.one].execution_folders)[..4],
        lines(&["A 53", "A: P1 12.5/12.5", "A/Asub 34.5", "A/Asub: P3 34.5/34.5"])
    );
    s.app.finish().await;
}
