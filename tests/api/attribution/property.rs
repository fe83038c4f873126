//! The property test: the figures answered for generated runs equal the oracle's, and
//! add up in both modes (conservation).

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::json;

use super::figures::{
    Figures, FolderRow, ProcessRow, folder_lines, folder_trees, org_page, process_lines, range, read_all, scaled, text,
    tree_lines,
};
use super::generated::{CHAIN_LENGTH, FOLDER_DEPTH, Generated, TENANTS, World, folder_name, generated, process_name};
use super::oracle::Expected;
use crate::helpers::{
    SYSTEM_KEY, TestApp, create_folder, create_process, event, organization_with_license, record, tenant,
};

/// Checks what must hold whatever the data: rows add up, subfolders within their folder,
/// expansions within their process.
fn check_conservation(figures: &Figures, anonymous_in_chains: bool, context: &str) {
    let consumed = scaled(&figures.consumed);
    for mode in ["EXECUTION", "OWNERSHIP"] {
        let rows = figures.folders(mode);
        assert_eq!(
            rows.iter().map(FolderRow::consumed).sum::<i64>(),
            consumed,
            "{context} {mode}: top-level folders and the \"no folder\" row add up to consumed"
        );
        fn nested(row: &FolderRow, context: &str) {
            assert!(
                row.consumed() >= row.children.iter().map(FolderRow::consumed).sum::<i64>(),
                "{context}: {row:?}"
            );
            for child in &row.children {
                nested(child, context);
            }
        }
        for row in rows {
            nested(row, &format!("{context} {mode}"));
        }
    }
    for p in &figures.execution_processes {
        assert!(p.children.is_empty() && p.own == p.consumed, "{context}: {p:?}");
    }
    assert!(
        figures
            .ownership_processes
            .iter()
            .map(ProcessRow::consumed)
            .sum::<i64>()
            <= consumed,
        "{context}: root processes within the consumption"
    );
    fn rolled_up(p: &ProcessRow, exact: bool, context: &str) {
        let parts = p.own() + p.children.iter().map(ProcessRow::consumed).sum::<i64>();
        if exact {
            assert_eq!(p.consumed(), parts, "{context}: consumed = own + children: {p:?}");
        } else {
            assert!(p.consumed() >= parts, "{context}: consumed ≥ own + children: {p:?}");
        }
        for child in &p.children {
            rolled_up(child, exact, context);
        }
    }
    for p in &figures.ownership_processes {
        rolled_up(p, !anonymous_in_chains, context);
    }
}

async fn check(generated: Generated, from: u32, to: u32) {
    let world = World::resolve(&generated);
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "100000").await;
    let mut tenants = Vec::new();
    let mut folders: Vec<Vec<String>> = Vec::new();
    let mut processes: Vec<Vec<String>> = Vec::new();
    for t in 0..TENANTS {
        let id = tenant(&app, &fx.org, &format!("t{t}")).await;
        let mut ids: Vec<String> = Vec::new();
        for (f, parent) in world.folders[t].iter().enumerate() {
            let parent = parent.map(|p| ids[p].clone());
            ids.push(create_folder(&app, &id, parent.as_deref(), &folder_name(t, f)).await);
        }
        let mut owned = Vec::new();
        for (p, folder) in world.processes[t].iter().enumerate() {
            owned.push(create_process(&app, &ids[*folder], &process_name(t, p)).await);
        }
        tenants.push(id);
        folders.push(ids);
        processes.push(owned);
    }
    let mut events = Vec::new();
    for (r, run) in world.runs.iter().enumerate() {
        let t = run.tenant;
        for (k, e) in run.events.iter().enumerate() {
            let mut extra = json!({ "kind": if e.upload { "UPLOAD" } else { "EXECUTION" }, "durationMs": 1000 });
            if run.job {
                extra["jobId"] = json!(format!("j{r}"));
            }
            if !run.job || k == 0 || e.repeat {
                if let Some(p) = run.parent {
                    extra["parentJobId"] = json!(format!("j{p}"));
                }
                if let Some(p) = run.process {
                    extra["processId"] = json!(processes[t][p]);
                }
                if let Some(f) = run.folder {
                    extra["folderId"] = json!(folders[t][f]);
                }
            }
            let at = format!("2026-11-{:02}T12:00:00Z", e.day);
            events.push(event(&format!("r{r}e{k}"), &tenants[t], &text(e.quantity), &at).with(extra));
        }
    }
    // Two batches, so that the second adds to rollup rows the first wrote (parents still
    // come first: runs are in order).
    let second = events.split_off(events.len() / 2);
    for batch in [events, second] {
        if !batch.is_empty() {
            record(&app, batch).await;
        }
    }
    let anonymous_in_chains = world.runs.iter().any(|r| r.parent.is_some() && r.process.is_none());

    let range = range(&format!("2026-11-{from:02}"), &format!("2026-11-{to:02}"));
    let (org, cards, _) = read_all(&app, &fx.org, &range, (FOLDER_DEPTH, CHAIN_LENGTH - 1)).await;
    // The trees alone, read from the rollups by list, are the same trees.
    let trees = folder_trees(&app, &fx.org, &range, FOLDER_DEPTH).await;
    for mode in ["EXECUTION", "OWNERSHIP"] {
        assert_eq!(
            trees[&(String::new(), mode)],
            tree_lines(org.folders(mode)),
            "organization {mode}"
        );
        for (tenant, card) in &cards {
            assert_eq!(
                trees[&(tenant.clone(), mode)],
                tree_lines(card.folders(mode)),
                "{tenant} {mode}"
            );
        }
    }
    let mut organization_lines: HashMap<&str, (Vec<String>, Vec<String>, i64)> = HashMap::new();
    let mut total = 0;
    for t in 0..TENANTS {
        let expected = Expected::of(&world, t, from, to);
        let figures = &cards[&tenants[t]];
        let context = format!("tenant {t}");
        assert_eq!(figures.consumed, text(expected.consumed), "{context}");
        check_conservation(figures, anonymous_in_chains, &context);
        total += expected.consumed;
        for mode in ["EXECUTION", "OWNERSHIP"] {
            let mut folder_expected = expected.folder_lines(&world, t, mode);
            let none = expected.direct(mode).get(&None).copied().unwrap_or_default();
            let mut got = folder_lines(figures.folders(mode));
            assert_eq!(got.pop(), Some(format!("(none) {}", text(none))), "{context} {mode}");
            got.sort();
            folder_expected.sort();
            assert_eq!(got, folder_expected, "{context} {mode} folders");
            let mut process_expected = expected.process_lines(t, mode);
            let mut got = process_lines(figures.processes(mode));
            got.sort();
            process_expected.sort();
            assert_eq!(got, process_expected, "{context} {mode} processes");
            let entry = organization_lines.entry(mode).or_default();
            entry.0.extend(folder_expected);
            entry.1.extend(process_expected);
            entry.2 += none;
        }
    }
    // The organization: the tenants' rows together, one "no folder" row; conservation again.
    assert_eq!(org.consumed, text(total));
    check_conservation(&org, anonymous_in_chains, "organization");
    let tenants_total: i64 = cards.values().map(|c| scaled(&c.consumed)).sum();
    assert_eq!(tenants_total, total);
    for mode in ["EXECUTION", "OWNERSHIP"] {
        let (mut folder_expected, mut process_expected, none) = organization_lines.remove(mode).unwrap();
        let mut got = folder_lines(org.folders(mode));
        assert_eq!(got.pop(), Some(format!("(none) {}", text(none))), "organization {mode}");
        got.sort();
        folder_expected.sort();
        assert_eq!(got, folder_expected, "organization {mode} folders");
        let mut got = process_lines(org.processes(mode));
        got.sort();
        process_expected.sort();
        assert_eq!(got, process_expected, "organization {mode} processes");
        // Tenants' folder totals add up to the organization's consumption.
        let by_tenants: i64 = cards
            .values()
            .flat_map(|c| c.folders(mode).iter())
            .map(FolderRow::consumed)
            .sum();
        assert_eq!(by_tenants, total, "{mode}");
    }
    // Paging two at a time walks the same rows as one page.
    for mode in ["EXECUTION", "OWNERSHIP"] {
        let whole: Vec<String> = org
            .processes(mode)
            .iter()
            .map(|p| format!("{} {}", p.name, p.consumed))
            .collect();
        let mut paged = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let variables = json!({ "o": fx.org, "first": 2, "after": after, "mode": mode });
            let data = app.ok(SYSTEM_KEY, &org_page(&range), variables).await;
            let connection = &data["organization"]["usage"]["processes"];
            for edge in connection["edges"].as_array().unwrap() {
                paged.push(format!(
                    "{} {}",
                    edge["node"]["process"]["name"].as_str().unwrap(),
                    edge["node"]["consumed"].as_str().unwrap()
                ));
                after = Some(edge["cursor"].as_str().unwrap().to_owned());
            }
            if connection["pageInfo"]["hasNextPage"] == false {
                break;
            }
            assert!(paged.len() <= whole.len(), "paging does not end");
        }
        assert_eq!(paged, whole, "{mode}");
    }
    crate::helpers::assert_derived_rollups_match(&app.database_url).await;
    app.finish().await;
}

proptest! {
    // Each case starts a server with a fresh database: few cases, many runs each.
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn folder_and_process_figures_add_up_in_both_modes(generated in generated(), first in 1u32..=22, length in 0u32..=21) {
        let to = (first + length).min(22);
        let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
        runtime.block_on(check(generated, first, to));
    }
}
