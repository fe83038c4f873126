//! A TENANT_ADMIN reads its own card's attribution, and nothing of the other tenants'.

use serde_json::json;

use super::figures::{folder_lines, process_lines, read_tenant};
use super::scenario::{ONE_EXECUTION_FOLDERS, ONE_OWNERSHIP_FOLDERS, ONE_OWNERSHIP_PROCESSES, lines, scenario};
use crate::helpers::{SYSTEM_KEY, key};

#[tokio::test]
async fn a_tenant_admin_reads_its_own_cards_attribution_only() {
    let s = scenario().await;
    let admin = key(&s.app, "TENANT_ADMIN", Some(&s.org), Some(&s.one)).await;
    let (figures, card) = read_tenant(&s.app, &admin, &s.org, &s.one).await;
    assert_eq!(folder_lines(&figures.execution_folders), lines(ONE_EXECUTION_FOLDERS));
    assert_eq!(folder_lines(&figures.ownership_folders), lines(ONE_OWNERSHIP_FOLDERS));
    assert_eq!(
        process_lines(&figures.ownership_processes),
        lines(ONE_OWNERSHIP_PROCESSES)
    );
    let (_, as_system) = read_tenant(&s.app, SYSTEM_KEY, &s.org, &s.one).await;
    assert_eq!(card, as_system, "the same card as the SYSTEM key reads");

    let data = s
        .app
        .ok(
            &admin,
            "query($o: ID!, $two: ID!) { organization(id: $o) { usage(unitType: \"units\") { tenants { tenant { id } folders(attribution: OWNERSHIP) { consumed } } two: tenant(id: $two) { consumed } } } }",
            json!({ "o": s.org, "two": s.two }),
        )
        .await;
    let usage = &data["organization"]["usage"];
    assert_eq!(usage["tenants"].as_array().unwrap().len(), 1);
    assert_eq!(usage["tenants"][0]["tenant"]["id"], s.one.as_str());
    assert!(usage["two"].is_null());
    for mode in ["EXECUTION", "OWNERSHIP"] {
        for field in [
            format!("folders(attribution: {mode}) {{ consumed }}"),
            format!("processes(attribution: {mode}) {{ edges {{ cursor }} }}"),
        ] {
            let query =
                format!("query($o: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ {field} }} }} }}");
            let (code, _) = s.app.err(&admin, &query, json!({ "o": s.org })).await;
            assert_eq!(code, "FORBIDDEN", "{field}");
        }
    }
    s.app.finish().await;
}
