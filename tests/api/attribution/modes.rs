//! The scenario's folder and process figures in both attribution modes, at tenant and
//! organization level: all at once, each asked for alone, over a sub-range and over a
//! closed bundle.

use serde_json::json;

use super::figures::{
    FolderRow, ProcessRow, folder_fields, folder_lines, folder_list, process_fields, process_lines, process_list,
    process_row, range, read_all, read_tenant,
};
use super::scenario::{
    HAND, ONE_EXECUTION_FOLDERS, ONE_EXECUTION_PROCESSES, ONE_OWNERSHIP_FOLDERS, ONE_OWNERSHIP_PROCESSES, TWO_FOLDERS,
    TWO_PROCESSES, lines, merged, scenario, sorted,
};
use crate::helpers::SYSTEM_KEY;

#[tokio::test]
async fn folders_and_processes_in_both_modes_at_tenant_and_organization_level() {
    let s = scenario().await;
    let (org, tenants, _) = read_all(&s.app, &s.org, "", HAND).await;
    let one = &tenants[&s.one];
    let two = &tenants[&s.two];

    assert_eq!(one.consumed, "96.5");
    assert_eq!(folder_lines(&one.execution_folders), lines(ONE_EXECUTION_FOLDERS));
    assert_eq!(process_lines(&one.execution_processes), lines(ONE_EXECUTION_PROCESSES));
    assert_eq!(folder_lines(&one.ownership_folders), lines(ONE_OWNERSHIP_FOLDERS));
    assert_eq!(process_lines(&one.ownership_processes), lines(ONE_OWNERSHIP_PROCESSES));

    assert_eq!(two.consumed, "100.5");
    for mode in ["EXECUTION", "OWNERSHIP"] {
        assert_eq!(folder_lines(two.folders(mode)), lines(TWO_FOLDERS), "{mode}");
        assert_eq!(process_lines(two.processes(mode)), lines(TWO_PROCESSES), "{mode}");
    }

    // The organization: 96.5 + 100.5 = 197; D (100) comes first in both modes; the "no
    // folder" row is 3 + 0.5 = 3.5, last although C (0) is smaller.
    assert_eq!(org.consumed, "197");
    assert_eq!(org.execution_folders[0].name, "D");
    assert_eq!(org.ownership_folders[0].name, "D");
    assert_eq!(
        org.execution_folders
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>(),
        ["D", "A", "B", "C", "(none)"]
    );
    assert_eq!(
        sorted(folder_lines(&org.execution_folders)),
        merged(&[ONE_EXECUTION_FOLDERS, TWO_FOLDERS], "3.5")
    );
    assert_eq!(
        sorted(folder_lines(&org.ownership_folders)),
        merged(&[ONE_OWNERSHIP_FOLDERS, TWO_FOLDERS], "3.5")
    );
    assert_eq!(
        process_lines(&org.execution_processes),
        lines(&["P5 100/100", "P3 32/32", "P2 25/25", "P1 15.5/15.5", "P4 8/8"])
    );
    // Tenant two's P5 (100) before tenant one's chains: the largest first.
    assert_eq!(
        process_lines(&org.ownership_processes),
        lines(&[TWO_PROCESSES, ONE_OWNERSHIP_PROCESSES].concat())
    );

    // The rows name the right folders and processes (not only the right names).
    let a = &one.execution_folders[0];
    assert_eq!(a.id.as_deref(), Some(s.id("A")));
    assert_eq!(a.children[0].id.as_deref(), Some(s.id("Asub")));
    assert_eq!(a.processes[0].id, s.id("P1"));
    let p1 = &one.ownership_processes[0];
    assert_eq!(
        (
            p1.id.as_str(),
            p1.children[0].id.as_str(),
            p1.children[0].children[0].id.as_str(),
            p1.children[1].id.as_str()
        ),
        (s.id("P1"), s.id("P2"), s.id("P3"), s.id("P4"))
    );
    // EXECUTION processes are never expanded.
    assert!(
        one.execution_processes
            .iter()
            .chain(a.processes.iter())
            .all(|p| p.children.is_empty() && p.own == p.consumed)
    );
    s.app.finish().await;
}

/// A request loads the chain tree only when it selects OWNERSHIP processes, wherever they
/// are: every figure asked for alone answers what it answers beside all the others.
#[tokio::test]
async fn each_figure_asked_alone_answers_as_beside_the_others() {
    let s = scenario().await;
    let (all, _) = read_tenant(&s.app, SYSTEM_KEY, &s.org, &s.one).await;
    let alone = |fields: String| {
        let query = format!(
            "query($o: ID!, $t: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ tenant(id: $t) {{ {fields} }} }} }} }}"
        );
        let app = &s.app;
        let variables = json!({ "o": s.org, "t": s.one });
        async move { app.ok(SYSTEM_KEY, &query, variables).await["organization"]["usage"]["tenant"].clone() }
    };
    for mode in ["EXECUTION", "OWNERSHIP"] {
        let expected = all.folders(mode);
        let whole = alone(format!("folders(attribution: {mode}) {{ {} }}", folder_fields(2, 3))).await;
        assert_eq!(
            folder_lines(&folder_list(&whole["folders"])),
            folder_lines(expected),
            "{mode}"
        );

        let bare = alone(format!(
            "folders(attribution: {mode}) {{ folder {{ id }} consumed children {{ folder {{ id }} consumed }} }}"
        ))
        .await;
        let figures = |rows: &[FolderRow]| -> Vec<(Option<String>, String, Vec<String>)> {
            rows.iter()
                .map(|r| {
                    let children = r.children.iter().map(|c| c.consumed.clone()).collect();
                    (r.id.clone(), r.consumed.clone(), children)
                })
                .collect()
        };
        let answered: Vec<(Option<String>, String, Vec<String>)> = bare["folders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                let children = r["children"].as_array().unwrap();
                (
                    r["folder"]["id"].as_str().map(str::to_owned),
                    r["consumed"].as_str().unwrap().to_owned(),
                    children
                        .iter()
                        .map(|c| c["consumed"].as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect();
        assert_eq!(answered, figures(expected), "{mode}");

        // Processes asked for only below the subfolders.
        let nested = alone(format!(
            "folders(attribution: {mode}) {{ folder {{ id }} children {{ folder {{ id }} processes {{ {} }} }} }}",
            process_fields(3)
        ))
        .await;
        let answered: Vec<Vec<String>> = nested["folders"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|r| r["children"].as_array().unwrap().iter())
            .map(|c| {
                let rows: Vec<ProcessRow> = c["processes"].as_array().unwrap().iter().map(process_row).collect();
                process_lines(&rows)
            })
            .collect();
        let wanted: Vec<Vec<String>> = expected
            .iter()
            .flat_map(|r| r.children.iter())
            .map(|c| process_lines(&c.processes))
            .collect();
        assert!(
            wanted.iter().any(|lines| !lines.is_empty()),
            "{mode}: the scenario has subfolder processes"
        );
        assert_eq!(answered, wanted, "{mode}");

        let processes = alone(format!(
            "processes(attribution: {mode}) {{ edges {{ cursor node {{ {} }} }} pageInfo {{ hasNextPage }} }}",
            process_fields(3)
        ))
        .await;
        assert_eq!(
            process_lines(&process_list(&processes["processes"])),
            process_lines(all.processes(mode)),
            "{mode}"
        );
    }
    s.app.finish().await;
}

#[tokio::test]
async fn a_range_narrows_folder_and_process_figures() {
    let s = scenario().await;
    // 11-07..11-10 holds e4 30 (P1 > P2 > P3 in Asub), e5 5 (P2 in B), e6 4 (P1 in B),
    // e7 2 (P3, no folder), e8 7 (B, no process): 48; nothing of tenant two.
    let (org, tenants, data) = read_all(&s.app, &s.org, &range("2026-11-07", "2026-11-10"), HAND).await;
    assert_eq!(data["organization"]["usage"]["consumed"], "48");
    let one = &tenants[&s.one];
    let two = &tenants[&s.two];
    assert_eq!((one.consumed.as_str(), two.consumed.as_str()), ("48", "0"));
    // EXECUTION: Asub = 30 + 2 = 32 = A (no P1 event ran in A in the range); B = 5 + 4 + 7 = 16.
    let execution = [
        "A 32",
        "A/Asub 32",
        "A/Asub: P3 32/32",
        "B 16",
        "B: P2 5/5",
        "B: P1 4/4",
        "C 0",
        "(none) 0",
    ];
    assert_eq!(folder_lines(&one.execution_folders), lines(&execution));
    assert_eq!(
        process_lines(&one.execution_processes),
        lines(&["P3 32/32", "P2 5/5", "P1 4/4"])
    );
    // OWNERSHIP: the P1 chain keeps the path to e4 although its root and P2 runs consumed
    // nothing in the range: P1 own 4 (e6), consumed 4 + 30 = 34; P1 > P2 0/30.
    // A = 34 + Asub 2 (e7) = 36; B = 5 + 7 = 12.
    let ownership = [
        "A 36",
        "A: P1 4/34",
        "A: P1 > P2 0/30",
        "A: P1 > P2 > P3 30/30",
        "A/Asub 2",
        "A/Asub: P3 2/2",
        "B 12",
        "B: P2 5/5",
        "C 0",
        "(none) 0",
    ];
    assert_eq!(folder_lines(&one.ownership_folders), lines(&ownership));
    assert_eq!(
        process_lines(&one.ownership_processes),
        lines(&["P1 4/34", "P1 > P2 0/30", "P1 > P2 > P3 30/30", "P2 5/5", "P3 2/2"])
    );
    for mode in ["EXECUTION", "OWNERSHIP"] {
        assert_eq!(folder_lines(two.folders(mode)), lines(&["D 0", "(none) 0"]));
        assert!(two.processes(mode).is_empty());
    }
    assert_eq!(
        sorted(folder_lines(&org.execution_folders)),
        sorted(lines(&[&execution[..7], &["D 0", "(none) 0"]].concat()))
    );
    assert_eq!(
        sorted(folder_lines(&org.ownership_folders)),
        sorted(lines(&[&ownership[..9], &["D 0", "(none) 0"]].concat()))
    );

    // A one-day range: 11-12 holds only the anonymous j6 run (6) and the P4 run it started
    // (8), both owed to P1 (root) whose own runs consumed nothing that day.
    let (_, tenants, _) = read_all(&s.app, &s.org, &range("2026-11-12", "2026-11-12"), HAND).await;
    let one = &tenants[&s.one];
    assert_eq!(
        folder_lines(&one.execution_folders),
        lines(&["B 8", "B: P4 8/8", "A 6", "A/Asub 0", "C 0", "(none) 0"])
    );
    assert_eq!(
        folder_lines(&one.ownership_folders),
        lines(&[
            "A 14",
            "A: P1 0/14",
            "A: P1 > P4 8/8",
            "A/Asub 0",
            "B 0",
            "C 0",
            "(none) 0"
        ])
    );
    assert_eq!(
        process_lines(&one.ownership_processes),
        lines(&["P1 0/14", "P1 > P4 8/8"])
    );

    // The closed October bundle: e0 1000 (j0, P1 in A) and e0b 1000 (j0b, P2 in B, started
    // by j0).
    let (org, tenants, _) = read_all(&s.app, &s.org, ", bundle: \"2026-10-01\"", HAND).await;
    assert_eq!(org.consumed, "2000");
    let one = &tenants[&s.one];
    assert_eq!(
        folder_lines(&one.execution_folders),
        lines(&[
            "A 1000",
            "A: P1 1000/1000",
            "A/Asub 0",
            "B 1000",
            "B: P2 1000/1000",
            "C 0",
            "(none) 0"
        ])
    );
    assert_eq!(
        folder_lines(&one.ownership_folders),
        lines(&[
            "A 2000",
            "A: P1 1000/2000",
            "A: P1 > P2 1000/1000",
            "A/Asub 0",
            "B 0",
            "C 0",
            "(none) 0"
        ])
    );
    assert_eq!(
        process_lines(&org.ownership_processes),
        lines(&["P1 1000/2000", "P1 > P2 1000/1000"])
    );
    s.app.finish().await;
}
