//! The processes connection pages by consumption, then by process id.

use serde_json::json;

use super::figures::{org_page, uuid_of_process};
use super::scenario::scenario;
use crate::helpers::{SYSTEM_KEY, TestApp, create_folder, create_process, event, record, tenant};

const PAGE: &str = "query($o: ID!, $t: ID!, $first: Int, $after: String, $mode: Attribution!) { organization(id: $o) { usage(unitType: \"units\") { tenant(id: $t) { processes(attribution: $mode, first: $first, after: $after) { edges { cursor node { process { id name } consumed } } pageInfo { hasNextPage } } } } } }";

/// One page: (name consumed) per row, the last cursor, and hasNextPage.
async fn page(
    app: &TestApp,
    org: &str,
    tenant: Option<&str>,
    mode: &str,
    first: i64,
    after: Option<&str>,
) -> (Vec<String>, Option<String>, bool) {
    let variables = json!({ "o": org, "t": tenant, "first": first, "after": after, "mode": mode });
    let data = match tenant {
        Some(_) => app.ok(SYSTEM_KEY, PAGE, variables).await["organization"]["usage"]["tenant"]["processes"].clone(),
        None => app.ok(SYSTEM_KEY, &org_page(""), variables).await["organization"]["usage"]["processes"].clone(),
    };
    let edges = data["edges"].as_array().unwrap();
    let rows = edges
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["node"]["process"]["name"].as_str().unwrap(),
                e["node"]["consumed"].as_str().unwrap()
            )
        })
        .collect();
    let cursor = edges.last().map(|e| e["cursor"].as_str().unwrap().to_owned());
    (rows, cursor, data["pageInfo"]["hasNextPage"].as_bool().unwrap())
}

#[tokio::test]
async fn the_processes_connection_pages_by_consumption_then_id() {
    let s = scenario().await;
    let (app, org, one) = (&s.app, s.org.as_str(), Some(s.one.as_str()));
    // Tenant one, EXECUTION: P3 32, P2 25, P1 15.5, P4 8.
    let (rows, cursor, more) = page(app, org, one, "EXECUTION", 1, None).await;
    assert_eq!((rows, more), (vec!["P3 32".to_owned()], true));
    let (rows, cursor, more) = page(app, org, one, "EXECUTION", 2, cursor.as_deref()).await;
    assert_eq!((rows, more), (vec!["P2 25".to_owned(), "P1 15.5".to_owned()], true));
    let (rows, _, more) = page(app, org, one, "EXECUTION", 2, cursor.as_deref()).await;
    assert_eq!((rows, more), (vec!["P4 8".to_owned()], false));
    // The organization, OWNERSHIP: P5 100, P1 79.5, P2 5, P3 2; a page ending on the last
    // row has no next page.
    let (rows, cursor, more) = page(app, org, None, "OWNERSHIP", 2, None).await;
    assert_eq!((rows, more), (vec!["P5 100".to_owned(), "P1 79.5".to_owned()], true));
    let (rows, cursor, more) = page(app, org, None, "OWNERSHIP", 2, cursor.as_deref()).await;
    assert_eq!((rows, more), (vec!["P2 5".to_owned(), "P3 2".to_owned()], false));
    let (rows, _, more) = page(app, org, None, "OWNERSHIP", 2, cursor.as_deref()).await;
    assert_eq!((rows.len(), more), (0, false));
    let (rows, _, more) = page(app, org, None, "OWNERSHIP", 0, None).await;
    assert_eq!((rows.len(), more), (0, true));

    // Ties: five processes of a third tenant with 10 each page by id, none twice or lost.
    let three = tenant(app, org, "three").await;
    let e = create_folder(app, &three, None, "E").await;
    let mut ids = Vec::new();
    let mut events = Vec::new();
    for i in 0..5 {
        let id = create_process(app, &e, &format!("Q{i}")).await;
        events.push(
            event(&format!("q{i}"), &three, "10", "2026-11-20T08:00:00Z")
                .with(json!({ "jobId": format!("q{i}"), "processId": id })),
        );
        ids.push(id);
    }
    record(app, events).await;
    let mut expected: Vec<&String> = ids.iter().collect();
    expected.sort_by_key(|id| uuid_of_process(id));
    for mode in ["EXECUTION", "OWNERSHIP"] {
        let mut seen = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let variables = json!({ "o": org, "t": three, "first": 2, "after": after, "mode": mode });
            let data = app.ok(SYSTEM_KEY, PAGE, variables).await;
            let connection = &data["organization"]["usage"]["tenant"]["processes"];
            for edge in connection["edges"].as_array().unwrap() {
                assert_eq!(edge["node"]["consumed"], "10");
                seen.push(edge["node"]["process"]["id"].as_str().unwrap().to_owned());
                after = Some(edge["cursor"].as_str().unwrap().to_owned());
            }
            if connection["pageInfo"]["hasNextPage"] == false {
                break;
            }
            assert!(seen.len() < 10, "paging does not end");
        }
        assert_eq!(seen.iter().collect::<Vec<_>>(), expected, "{mode}");
    }

    for (first, after) in [(-1, None), (101, None), (1, Some("not-a-cursor"))] {
        let variables = json!({ "o": org, "t": three, "first": first, "after": after, "mode": "EXECUTION" });
        let (code, message) = app.err(SYSTEM_KEY, PAGE, variables).await;
        assert_eq!(code, "BAD_USER_INPUT", "first {first}, after {after:?}: {message}");
    }
    s.app.finish().await;
}
