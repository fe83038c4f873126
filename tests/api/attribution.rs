//! Who used it (docs/design.md §4) over real HTTP: folder and process figures in both
//! attribution modes, at tenant and organization level, hand-computed on job chains that
//! cross folders; a sub-range, paging, scope, the start-up backfill of usage recorded
//! before attribution existed; and a property test against figures recomputed here from
//! the generated runs.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use async_graphql::ID;
use proptest::prelude::*;
use proptest::sample::Index;
use quotagraph::domain::Quantity;
use quotagraph::graphql::node::{Kind, decode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, create_folder, create_process, create_unit_type, event, key, organization_with_license,
    record, tenant,
};

/// Expansion depth (subfolders, process chain) the hand-computed scenario needs.
const HAND: (usize, usize) = (2, 3);

fn scaled(text: &str) -> i64 {
    text.parse::<Quantity>().unwrap().scaled()
}

fn text(scaled: i64) -> String {
    Quantity::from_scaled(scaled).to_string()
}

fn uuid_of_process(id: &str) -> uuid::Uuid {
    decode(&ID(id.to_owned()), Kind::Process).unwrap()
}

// ---------------------------------------------------------------------------------------
// Reading the figures

/// A process row as answered: its own and rolled-up figures and its expansion.
#[derive(Clone, Debug)]
struct ProcessRow {
    id: String,
    name: String,
    own: String,
    consumed: String,
    children: Vec<ProcessRow>,
}

/// A folder row as answered; `id: None` is the "no folder" row.
#[derive(Clone, Debug)]
struct FolderRow {
    id: Option<String>,
    name: String,
    consumed: String,
    children: Vec<FolderRow>,
    processes: Vec<ProcessRow>,
}

impl ProcessRow {
    fn own(&self) -> i64 {
        scaled(&self.own)
    }

    fn consumed(&self) -> i64 {
        scaled(&self.consumed)
    }
}

impl FolderRow {
    fn consumed(&self) -> i64 {
        scaled(&self.consumed)
    }
}

fn assert_largest_first(figures: impl Iterator<Item = i64>, context: &Value) {
    let figures: Vec<i64> = figures.collect();
    assert!(
        figures.windows(2).all(|w| w[0] >= w[1]),
        "rows not largest first ({figures:?}): {context:#}"
    );
}

fn process_row(value: &Value) -> ProcessRow {
    assert!(
        value.get("own").is_some(),
        "a process expansion deeper than the query asked for: {value:#}"
    );
    let children: Vec<ProcessRow> = value["children"].as_array().unwrap().iter().map(process_row).collect();
    assert_largest_first(children.iter().map(ProcessRow::consumed), value);
    ProcessRow {
        id: value["process"]["id"].as_str().unwrap().to_owned(),
        name: value["process"]["name"].as_str().unwrap().to_owned(),
        own: value["own"].as_str().unwrap().to_owned(),
        consumed: value["consumed"].as_str().unwrap().to_owned(),
        children,
    }
}

fn folder_row(value: &Value) -> FolderRow {
    assert!(
        value.get("consumed").is_some(),
        "a folder tree deeper than the query asked for: {value:#}"
    );
    let children: Vec<FolderRow> = value["children"].as_array().unwrap().iter().map(folder_row).collect();
    assert_largest_first(children.iter().map(FolderRow::consumed), value);
    assert!(
        children.iter().all(|c| c.id.is_some()),
        "a subfolder without folder: {value:#}"
    );
    let processes: Vec<ProcessRow> = value["processes"].as_array().unwrap().iter().map(process_row).collect();
    assert_largest_first(processes.iter().map(ProcessRow::consumed), value);
    let folder = &value["folder"];
    FolderRow {
        id: folder["id"].as_str().map(str::to_owned),
        name: folder["name"].as_str().unwrap_or("(none)").to_owned(),
        consumed: value["consumed"].as_str().unwrap().to_owned(),
        children,
        processes,
    }
}

/// A top-level folder list: folders largest first, then the "no folder" row, always last.
fn folder_list(value: &Value) -> Vec<FolderRow> {
    let rows: Vec<FolderRow> = value.as_array().unwrap().iter().map(folder_row).collect();
    let (last, folders) = rows.split_last().expect("at least the \"no folder\" row");
    assert!(last.id.is_none(), "the \"no folder\" row comes last: {value:#}");
    assert!(
        folders.iter().all(|f| f.id.is_some()),
        "one \"no folder\" row only: {value:#}"
    );
    assert_largest_first(folders.iter().map(FolderRow::consumed), value);
    rows
}

/// A whole connection (one page): consumed descending, then process id.
fn process_list(value: &Value) -> Vec<ProcessRow> {
    assert_eq!(value["pageInfo"]["hasNextPage"], false, "{value:#}");
    let rows: Vec<ProcessRow> = value["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|edge| process_row(&edge["node"]))
        .collect();
    let keys: Vec<(std::cmp::Reverse<i64>, uuid::Uuid)> = rows
        .iter()
        .map(|r| (std::cmp::Reverse(r.consumed()), uuid_of_process(&r.id)))
        .collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "not ordered by consumed then id: {value:#}"
    );
    rows
}

fn sorted_folders(rows: &[FolderRow]) -> Vec<&FolderRow> {
    let mut rows: Vec<&FolderRow> = rows.iter().collect();
    rows.sort_by(|a, b| b.consumed().cmp(&a.consumed()).then(a.name.cmp(&b.name)));
    rows
}

fn sorted_processes(rows: &[ProcessRow]) -> Vec<&ProcessRow> {
    let mut rows: Vec<&ProcessRow> = rows.iter().collect();
    rows.sort_by(|a, b| b.consumed().cmp(&a.consumed()).then(a.name.cmp(&b.name)));
    rows
}

fn push_process(out: &mut Vec<String>, prefix: &str, row: &ProcessRow) {
    out.push(format!("{prefix}{} {}/{}", row.name, row.own, row.consumed));
    for child in sorted_processes(&row.children) {
        push_process(out, &format!("{prefix}{} > ", row.name), child);
    }
}

fn push_folder(out: &mut Vec<String>, parent: &str, row: &FolderRow) {
    let path = if parent.is_empty() {
        row.name.clone()
    } else {
        format!("{parent}/{}", row.name)
    };
    out.push(format!("{path} {}", row.consumed));
    for process in sorted_processes(&row.processes) {
        push_process(out, &format!("{path}: "), process);
    }
    for child in sorted_folders(&row.children) {
        push_folder(out, &path, child);
    }
}

/// One line per folder (`A/Asub 32`: path and consumed), per process of a folder
/// (`A: P1 15.5/79.5`: own/consumed) and per step of its expansion (`A: P1 > P2 20/50`).
/// Rows already checked largest first; ties listed by name so that lines are stable.
fn folder_lines(rows: &[FolderRow]) -> Vec<String> {
    let mut out = Vec::new();
    let (none, folders) = rows.split_last().unwrap();
    for row in sorted_folders(folders) {
        push_folder(&mut out, "", row);
    }
    push_folder(&mut out, "", none);
    out
}

/// One line per process (`P1 15.5/79.5`) and per step of its expansion (`P1 > P2 20/50`).
fn process_lines(rows: &[ProcessRow]) -> Vec<String> {
    let mut out = Vec::new();
    for row in sorted_processes(rows) {
        push_process(&mut out, "", row);
    }
    out
}

/// The folder and process figures of one usage answer (the organization or a tenant card).
#[derive(Clone, Debug)]
struct Figures {
    consumed: String,
    execution_folders: Vec<FolderRow>,
    ownership_folders: Vec<FolderRow>,
    execution_processes: Vec<ProcessRow>,
    ownership_processes: Vec<ProcessRow>,
}

impl Figures {
    fn from(value: &Value) -> Figures {
        Figures {
            consumed: value["consumed"].as_str().unwrap().to_owned(),
            execution_folders: folder_list(&value["executionFolders"]),
            ownership_folders: folder_list(&value["ownershipFolders"]),
            execution_processes: process_list(&value["executionProcesses"]),
            ownership_processes: process_list(&value["ownershipProcesses"]),
        }
    }

    fn folders(&self, mode: &str) -> &[FolderRow] {
        match mode {
            "EXECUTION" => &self.execution_folders,
            _ => &self.ownership_folders,
        }
    }

    fn processes(&self, mode: &str) -> &[ProcessRow] {
        match mode {
            "EXECUTION" => &self.execution_processes,
            _ => &self.ownership_processes,
        }
    }
}

fn process_fields(depth: usize) -> String {
    if depth == 0 {
        "process { id name } own consumed children { process { id } }".to_owned()
    } else {
        format!(
            "process {{ id name }} own consumed children {{ {} }}",
            process_fields(depth - 1)
        )
    }
}

fn folder_fields(depth: usize, process_depth: usize) -> String {
    let processes = process_fields(process_depth);
    let children = if depth == 0 {
        "folder { id }".to_owned()
    } else {
        folder_fields(depth - 1, process_depth)
    };
    format!("folder {{ id name }} consumed processes {{ {processes} }} children {{ {children} }}")
}

/// The fields [`Figures::from`] reads, expanding subfolders `folder_depth` levels and
/// process chains `process_depth` levels deep.
fn figure_fields(folder_depth: usize, process_depth: usize) -> String {
    let folders = folder_fields(folder_depth, process_depth);
    let processes = process_fields(process_depth);
    let connection = format!("edges {{ cursor node {{ {processes} }} }} pageInfo {{ hasNextPage }}");
    format!(
        "consumed executionFolders: folders(attribution: EXECUTION) {{ {folders} }} \
         ownershipFolders: folders(attribution: OWNERSHIP) {{ {folders} }} \
         executionProcesses: processes(attribution: EXECUTION) {{ {connection} }} \
         ownershipProcesses: processes(attribution: OWNERSHIP) {{ {connection} }}"
    )
}

/// The `usage` arguments after the unit type that select a range.
fn range(from: &str, to: &str) -> String {
    format!(", range: {{from: \"{from}\", to: \"{to}\"}}")
}

/// Every figure of the organization and of each tenant card (by tenant id), and the raw answer.
async fn read_all(
    app: &TestApp,
    org: &str,
    arguments: &str,
    depth: (usize, usize),
) -> (Figures, HashMap<String, Figures>, Value) {
    let fields = figure_fields(depth.0, depth.1);
    let query = format!(
        "query($o: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\"{arguments}) {{ {fields} tenants {{ tenant {{ id }} {fields} }} }} }} }}"
    );
    let data = app.ok(SYSTEM_KEY, &query, json!({ "o": org })).await;
    let usage = &data["organization"]["usage"];
    let tenants = usage["tenants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|card| (card["tenant"]["id"].as_str().unwrap().to_owned(), Figures::from(card)))
        .collect();
    (Figures::from(usage), tenants, data)
}

/// One tenant card's figures through `usage { tenant(id:) }`, with any key.
async fn read_tenant(app: &TestApp, key: &str, org: &str, tenant: &str) -> (Figures, Value) {
    let query = format!(
        "query($o: ID!, $t: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ tenant(id: $t) {{ {} }} }} }} }}",
        figure_fields(2, 3)
    );
    let data = app.ok(key, &query, json!({ "o": org, "t": tenant })).await;
    let card = data["organization"]["usage"]["tenant"].clone();
    (Figures::from(&card), card)
}

// ---------------------------------------------------------------------------------------
// The hand-computed scenario

/// Tenant `one`: folders A ⊃ Asub, B and C (top level, never used); processes P1 (owned by
/// A), P2 (B), P3 (Asub), P4 (B). Tenant `two`: folder D, process P5.
struct Scenario {
    app: TestApp,
    org: String,
    one: String,
    two: String,
    ids: HashMap<&'static str, String>,
}

impl Scenario {
    fn id(&self, name: &str) -> &str {
        &self.ids[name]
    }
}

/// The events, by tenant `one` unless said (EXECUTION unless said):
///
/// | key | job | parent | process | folder | quantity | day |
/// |-----|-----|--------|---------|--------|----------|-----|
/// | e0  | j0  |        | P1      | A      | 1000     | 10-20 (previous bundle) |
/// | e0b | j0b | j0     | P2      | B      | 1000     | 10-21 (previous bundle) |
/// | e1  | j1  |        | P1      | A      | 10       | 11-05 |
/// | e2  | j1  | (repeats only the job) |  |  | 1.5   | 11-06 |
/// | e3  | j2  | j1     | P2      | B      | 20       | 11-06 |
/// | e4  | j3  | j2     | P3      | Asub   | 30       | 11-07 |
/// | e5  | j4  |        | P2      | B      | 5        | 11-08 |
/// | e6  |     |        | P1      | B      | 4        | 11-09 |
/// | e7  |     |        | P3      |        | 2        | 11-10 |
/// | e8  |     |        |         | B      | 7        | 11-10 |
/// | e9  |     |        |         |        | 3        | 11-11 |
/// | u1  | j1  | UPLOAD |         |        | 1000     | 11-11 |
/// | u2  |     | UPLOAD | P3      | Asub   | 500      | 11-11 |
/// | u3  | j8  | j2, UPLOAD | P1  | A      | 50       | 11-13 |
/// | e10 | j6  | j1     |         | A      | 6        | 11-12 |
/// | e11 | j7  | j6     | P4      |        | 8        | 11-12 |
/// | e12 | j1 (tenant two) |  | P5 | D     | 100      | 11-05 |
/// | e13 | (tenant two)    |  |    |       | 0.5      | 11-06 |
/// | x1  | j1, unit type `other` |   |  |       | 999      | 11-05 |
/// | x2  | unit type `other` |  |      | C      | 999      | 11-05 |
async fn scenario() -> Scenario {
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "10000").await;
    create_unit_type(&app, "other", "Other").await;
    let one = tenant(&app, &fx.org, "one").await;
    let two = tenant(&app, &fx.org, "two").await;
    let mut ids: HashMap<&'static str, String> = HashMap::new();
    let a = create_folder(&app, &one, None, "A").await;
    let asub = create_folder(&app, &one, Some(&a), "Asub").await;
    let b = create_folder(&app, &one, None, "B").await;
    let c = create_folder(&app, &one, None, "C").await;
    let d = create_folder(&app, &two, None, "D").await;
    for (name, folder) in [("P1", &a), ("P2", &b), ("P3", &asub), ("P4", &b), ("P5", &d)] {
        ids.insert(name, create_process(&app, folder, name).await);
    }
    for (name, id) in [("A", a), ("Asub", asub), ("B", b), ("C", c), ("D", d)] {
        ids.insert(name, id);
    }
    let id = |name: &str| ids[name].clone();
    let at = |day: &str| format!("2026-{day}T09:00:00Z");
    // A parent and its children in one batch, and children of jobs of an earlier batch.
    record(
        &app,
        vec![
            event("e0", &one, "1000", &at("10-20"))
                .with(json!({ "jobId": "j0", "processId": id("P1"), "folderId": id("A") })),
            event("e0b", &one, "1000", &at("10-21"))
                .with(json!({ "jobId": "j0b", "parentJobId": "j0", "processId": id("P2"), "folderId": id("B") })),
            event("e1", &one, "10", &at("11-05"))
                .with(json!({ "jobId": "j1", "processId": id("P1"), "folderId": id("A") })),
            event("e2", &one, "1.5", &at("11-06")).with(json!({ "jobId": "j1" })),
            event("e3", &one, "20", &at("11-06"))
                .with(json!({ "jobId": "j2", "parentJobId": "j1", "processId": id("P2"), "folderId": id("B") })),
            event("e4", &one, "30", &at("11-07"))
                .with(json!({ "jobId": "j3", "parentJobId": "j2", "processId": id("P3"), "folderId": id("Asub") })),
            event("e5", &one, "5", &at("11-08"))
                .with(json!({ "jobId": "j4", "processId": id("P2"), "folderId": id("B") })),
        ],
    )
    .await;
    record(
        &app,
        vec![
            event("e6", &one, "4", &at("11-09")).with(json!({ "processId": id("P1"), "folderId": id("B") })),
            event("e7", &one, "2", &at("11-10")).with(json!({ "processId": id("P3") })),
            event("e8", &one, "7", &at("11-10")).with(json!({ "folderId": id("B") })),
            event("e9", &one, "3", &at("11-11")),
            event("u1", &one, "1000", &at("11-11")).with(json!({ "jobId": "j1", "kind": "UPLOAD" })),
            event("u2", &one, "500", &at("11-11")).with(json!({ "processId": id("P3"), "folderId": id("Asub"), "kind": "UPLOAD" })),
            event("u3", &one, "50", &at("11-13")).with(json!({ "jobId": "j8", "parentJobId": "j2", "processId": id("P1"), "folderId": id("A"), "kind": "UPLOAD" })),
            event("e10", &one, "6", &at("11-12")).with(json!({ "jobId": "j6", "parentJobId": "j1", "folderId": id("A") })),
            event("e11", &one, "8", &at("11-12")).with(json!({ "jobId": "j7", "parentJobId": "j6", "processId": id("P4") })),
            event("e12", &two, "100", &at("11-05")).with(json!({ "jobId": "j1", "processId": id("P5"), "folderId": id("D") })),
            event("e13", &two, "0.5", &at("11-06")),
            event("x1", &one, "999", &at("11-05")).with(json!({ "jobId": "j1", "unitType": "other" })),
            event("x2", &one, "999", &at("11-05")).with(json!({ "folderId": id("C"), "unitType": "other" })),
        ],
    )
    .await;
    Scenario {
        app,
        org: fx.org,
        one,
        two,
        ids,
    }
}

// Tenant one, whole bundle to date (EXECUTION events e1..e11; e0/e0b are in October and the
// uploads never count): 10 + 1.5 + 20 + 30 + 5 + 4 + 2 + 7 + 3 + 6 + 8 = 96.5.
//
// EXECUTION (where it ran; a run naming a process but no folder ran in its process's folder):
//   A direct   = e1 10 + e2 1.5 + e10 6 (process-less)          = 17.5
//   Asub       = e4 30 + e7 2 (P3, no folder → P3's folder Asub) = 32    → A = 49.5
//   B          = e3 20 + e5 5 + e6 4 (P1 ran in B) + e8 7 + e11 8 (P4, no folder → B) = 44
//   C = 0; no folder = e9 3. Sum 49.5 + 44 + 0 + 3 = 96.5.
//   Processes: P3 30 + 2 = 32; P2 20 + 5 = 25; P1 11.5 + 4 = 15.5; P4 8.
const ONE_EXECUTION_FOLDERS: &[&str] = &[
    "A 49.5",
    "A: P1 11.5/11.5",
    "A/Asub 32",
    "A/Asub: P3 32/32",
    "B 44",
    "B: P2 25/25",
    "B: P4 8/8",
    "B: P1 4/4",
    "C 0",
    "(none) 3",
];
const ONE_EXECUTION_PROCESSES: &[&str] = &["P3 32/32", "P2 25/25", "P1 15.5/15.5", "P4 8/8"];

// OWNERSHIP (every event goes to its chain's root; the folder owning the root's process):
//   chain P1 (root node shared by the j1 runs and the job-less P1 run e6):
//     P1 own       = e1 10 + e2 1.5 + e6 4                  = 15.5
//     P1 > P2      = e3 20, its P3 child e4 30              → 20/50
//     P1 > (j6, no process) 6 stays in P1's consumed; the P4 run it started (e11 8) is
//       lifted under P1                                     → P1 > P4 8/8
//     P1 consumed  = 15.5 + 50 + 6 + 8                      = 79.5, owned by A (P1's folder)
//     (the upload u3 made a P1 > P2 > P1 run with no consumption: not shown)
//   chain P2 (j4) 5 → B; chain P3 (e7) 2 → Asub (P3's folder);
//   process-less roots: e8 7 ran in B → B (not a process row); e9 3 → no folder.
//   A = 79.5 + Asub 2 = 81.5; B = 5 + 7 = 12; C = 0; no folder = 3. Sum 96.5.
const ONE_OWNERSHIP_FOLDERS: &[&str] = &[
    "A 81.5",
    "A: P1 15.5/79.5",
    "A: P1 > P2 20/50",
    "A: P1 > P2 > P3 30/30",
    "A: P1 > P4 8/8",
    "A/Asub 2",
    "A/Asub: P3 2/2",
    "B 12",
    "B: P2 5/5",
    "C 0",
    "(none) 3",
];
const ONE_OWNERSHIP_PROCESSES: &[&str] = &[
    "P1 15.5/79.5",
    "P1 > P2 20/50",
    "P1 > P2 > P3 30/30",
    "P1 > P4 8/8",
    "P2 5/5",
    "P3 2/2",
];

// Tenant two: e12 100 (P5 in D), e13 0.5 (nothing) = 100.5, the same in both modes.
const TWO_FOLDERS: &[&str] = &["D 100", "D: P5 100/100", "(none) 0.5"];
const TWO_PROCESSES: &[&str] = &["P5 100/100"];

fn lines(expected: &[&str]) -> Vec<String> {
    expected.iter().map(|s| (*s).to_owned()).collect()
}

/// The organization's rows are the tenants' rows together, one "no folder" row.
fn merged(tenants: &[&[&str]], none: &str) -> Vec<String> {
    let mut all: Vec<String> = tenants
        .iter()
        .flat_map(|t| t.iter())
        .filter(|line| !line.starts_with("(none)"))
        .map(|s| (*s).to_owned())
        .collect();
    all.sort();
    all.push(format!("(none) {none}"));
    all
}

fn sorted(mut lines: Vec<String>) -> Vec<String> {
    let none = lines.iter().position(|l| l.starts_with("(none)"));
    let none = none.map(|i| lines.remove(i));
    lines.sort();
    lines.extend(none);
    lines
}

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
    assert_eq!(
        process_lines(&org.ownership_processes),
        lines(&[
            "P5 100/100",
            "P1 15.5/79.5",
            "P1 > P2 20/50",
            "P1 > P2 > P3 30/30",
            "P1 > P4 8/8",
            "P2 5/5",
            "P3 2/2",
        ])
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

const PAGE: &str = "query($o: ID!, $t: ID!, $first: Int, $after: String, $mode: Attribution!) { organization(id: $o) { usage(unitType: \"units\") { tenant(id: $t) { processes(attribution: $mode, first: $first, after: $after) { edges { cursor node { process { id name } consumed } } pageInfo { hasNextPage } } } } } }";

/// A page of the organization's processes connection over a range (default: the bundle).
fn org_page(arguments: &str) -> String {
    format!(
        "query($o: ID!, $first: Int, $after: String, $mode: Attribution!) {{ organization(id: $o) {{ usage(unitType: \"units\"{arguments}) {{ processes(attribution: $mode, first: $first, after: $after) {{ edges {{ cursor node {{ process {{ id name }} consumed }} }} pageInfo {{ hasNextPage }} }} }} }} }}"
    )
}

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
        "DELETE FROM chain_nodes",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
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

// ---------------------------------------------------------------------------------------
// Property: figures recomputed from generated runs, and conservation in both modes

const TENANTS: usize = 3;
/// Folders nest at most this deep below a top-level folder.
const FOLDER_DEPTH: usize = 2;
/// Chains are at most this many runs long.
const CHAIN_LENGTH: usize = 4;

#[derive(Clone, Debug)]
struct GenEvent {
    day: u32,
    quantity: i64,
    upload: bool,
    /// A later event of a job repeats the job's facts (else it names only the job).
    repeat: bool,
}

#[derive(Clone, Debug)]
struct GenRun {
    tenant: usize,
    job: bool,
    parent: Option<Index>,
    process: Option<Index>,
    folder: Option<Index>,
    events: Vec<GenEvent>,
}

#[derive(Clone, Debug)]
struct Generated {
    /// Per tenant, per folder: whether it has a parent, and which earlier folder.
    folders: Vec<Vec<(bool, Index)>>,
    /// Per tenant, per process: its folder.
    processes: Vec<Vec<Index>>,
    runs: Vec<GenRun>,
}

fn generated() -> impl Strategy<Value = Generated> {
    let folders = prop::collection::vec(prop::collection::vec((any::<bool>(), any::<Index>()), 0..5), TENANTS);
    let processes = prop::collection::vec(prop::collection::vec(any::<Index>(), 0..5), TENANTS);
    let event = (1u32..=22, 0i64..200_000, prop::bool::weighted(0.2), any::<bool>()).prop_map(
        |(day, quantity, upload, repeat)| GenEvent {
            day,
            quantity,
            upload,
            repeat,
        },
    );
    let run = (
        0..TENANTS,
        prop::bool::weighted(0.75),
        prop::option::weighted(0.7, any::<Index>()),
        prop::option::weighted(0.8, any::<Index>()),
        prop::option::weighted(0.5, any::<Index>()),
        prop::collection::vec(event, 1..4),
    )
        .prop_map(|(tenant, job, parent, process, folder, events)| GenRun {
            tenant,
            job,
            parent,
            process,
            folder,
            events,
        });
    (folders, processes, prop::collection::vec(run, 1..30)).prop_map(|(folders, processes, runs)| Generated {
        folders,
        processes,
        runs,
    })
}

/// A run once its choices are resolved against what exists.
#[derive(Clone, Debug)]
struct Run {
    tenant: usize,
    job: bool,
    parent: Option<usize>,
    process: Option<usize>,
    folder: Option<usize>,
    events: Vec<GenEvent>,
}

/// The generated world, resolved: folder parents, process folders, runs.
#[derive(Clone, Debug)]
struct World {
    folders: Vec<Vec<Option<usize>>>,
    processes: Vec<Vec<usize>>,
    runs: Vec<Run>,
}

impl World {
    fn resolve(generated: &Generated) -> World {
        let mut folders = Vec::new();
        let mut processes = Vec::new();
        for t in 0..TENANTS {
            let mut parents: Vec<Option<usize>> = Vec::new();
            for (i, (nested, index)) in generated.folders[t].iter().enumerate() {
                let parent = (*nested && i > 0).then(|| index.index(i));
                // How many levels the parent sits at (a top-level folder: 1).
                let mut levels = 0;
                let mut at = parent;
                while let Some(f) = at {
                    levels += 1;
                    at = parents[f];
                }
                parents.push(parent.filter(|_| levels <= FOLDER_DEPTH));
            }
            let owned = if parents.is_empty() {
                Vec::new()
            } else {
                generated.processes[t].iter().map(|i| i.index(parents.len())).collect()
            };
            folders.push(parents);
            processes.push(owned);
        }
        let mut runs: Vec<Run> = Vec::new();
        for run in &generated.runs {
            let t = run.tenant;
            let parent = if run.job {
                let candidates: Vec<usize> = (0..runs.len())
                    .filter(|&j| runs[j].tenant == t && runs[j].job && chain_length(&runs, j) < CHAIN_LENGTH)
                    .collect();
                run.parent
                    .filter(|_| !candidates.is_empty())
                    .map(|i| candidates[i.index(candidates.len())])
            } else {
                None
            };
            let pick = |choice: Option<Index>, len: usize| choice.filter(|_| len > 0).map(|i| i.index(len));
            runs.push(Run {
                tenant: t,
                job: run.job,
                parent,
                process: pick(run.process, processes[t].len()),
                folder: pick(run.folder, folders[t].len()),
                events: run.events.clone(),
            });
        }
        World {
            folders,
            processes,
            runs,
        }
    }
}

fn chain_length(runs: &[Run], mut at: usize) -> usize {
    let mut length = 1;
    while let Some(parent) = runs[at].parent {
        length += 1;
        at = parent;
    }
    length
}

fn folder_name(t: usize, f: usize) -> String {
    format!("t{t}f{f}")
}

fn process_name(t: usize, p: usize) -> String {
    format!("t{t}p{p}")
}

/// The path of processes from a run's chain root down to it.
type Path = Vec<Option<usize>>;

/// What the figures of one tenant over the range should be, recomputed from the runs.
#[derive(Default)]
struct Expected {
    consumed: i64,
    /// Direct shares per folder (None = no folder) in EXECUTION and OWNERSHIP.
    execution: HashMap<Option<usize>, i64>,
    ownership: HashMap<Option<usize>, i64>,
    /// EXECUTION: consumption per (folder it ran in, process), and per process.
    ran_in: BTreeMap<(usize, usize), i64>,
    per_process: BTreeMap<usize, i64>,
    /// OWNERSHIP: consumption per chain-tree node.
    nodes: BTreeMap<Path, i64>,
}

impl Expected {
    fn of(world: &World, t: usize, from: u32, to: u32) -> Expected {
        let mut expected = Expected::default();
        let process_folder = |p: Option<usize>| p.map(|p| world.processes[t][p]);
        for (r, run) in world.runs.iter().enumerate() {
            if run.tenant != t {
                continue;
            }
            let mut path: Path = vec![run.process];
            let mut root = r;
            while let Some(parent) = world.runs[root].parent {
                root = parent;
                path.insert(0, world.runs[root].process);
            }
            let root = &world.runs[root];
            let ran_in = run.folder.or(process_folder(run.process));
            let owner = process_folder(root.process).or(root.folder);
            for e in &run.events {
                if e.upload || e.day < from || e.day > to {
                    continue;
                }
                expected.consumed += e.quantity;
                *expected.execution.entry(ran_in).or_default() += e.quantity;
                *expected.ownership.entry(owner).or_default() += e.quantity;
                if let (Some(folder), Some(process)) = (ran_in, run.process) {
                    *expected.ran_in.entry((folder, process)).or_default() += e.quantity;
                    *expected.per_process.entry(process).or_default() += e.quantity;
                }
                *expected.nodes.entry(path.clone()).or_default() += e.quantity;
            }
        }
        expected
    }

    fn direct(&self, mode: &str) -> &HashMap<Option<usize>, i64> {
        match mode {
            "EXECUTION" => &self.execution,
            _ => &self.ownership,
        }
    }

    fn live(&self) -> BTreeSet<Path> {
        let mut live = BTreeSet::new();
        for path in self.nodes.keys() {
            for end in 1..=path.len() {
                live.insert(path[..end].to_vec());
            }
        }
        live
    }

    fn subtree(&self, path: &Path) -> i64 {
        self.nodes
            .iter()
            .filter(|(p, _)| p.starts_with(path))
            .map(|(_, q)| q)
            .sum()
    }

    /// The rows below a node: its live children, a process-less child replaced by its own.
    fn below(&self, live: &BTreeSet<Path>, path: &Path) -> Vec<Path> {
        let mut rows = Vec::new();
        for child in live.iter().filter(|c| c.len() == path.len() + 1 && c.starts_with(path)) {
            match child.last().unwrap() {
                Some(_) => rows.push(child.clone()),
                None => rows.extend(self.below(live, child)),
            }
        }
        rows
    }

    /// One row: the nodes of one process under one parent row (a process started both
    /// directly and through a process-less run has one row for both).
    fn push_process(&self, out: &mut Vec<String>, t: usize, live: &BTreeSet<Path>, prefix: &str, group: &[Path]) {
        let name = process_name(t, group[0].last().unwrap().unwrap());
        let own: i64 = group
            .iter()
            .map(|p| self.nodes.get(p).copied().unwrap_or_default())
            .sum();
        let total: i64 = group.iter().map(|p| self.subtree(p)).sum();
        out.push(format!("{prefix}{name} {}/{}", text(own), text(total)));
        let mut children: BTreeMap<usize, Vec<Path>> = BTreeMap::new();
        for path in group {
            for child in self.below(live, path) {
                children.entry(child.last().unwrap().unwrap()).or_default().push(child);
            }
        }
        for group in children.values() {
            self.push_process(out, t, live, &format!("{prefix}{name} > "), group);
        }
    }

    /// Root processes of the chains, with their expansion.
    fn roots(&self) -> Vec<Path> {
        self.live()
            .into_iter()
            .filter(|p| p.len() == 1 && p[0].is_some())
            .collect()
    }

    fn process_lines(&self, t: usize, mode: &str) -> Vec<String> {
        let mut out = Vec::new();
        match mode {
            "EXECUTION" => {
                for (p, q) in &self.per_process {
                    out.push(format!("{} {}/{}", process_name(t, *p), text(*q), text(*q)));
                }
            }
            _ => {
                let live = self.live();
                for root in self.roots() {
                    self.push_process(&mut out, t, &live, "", &[root]);
                }
            }
        }
        out
    }

    fn folder_total(&self, world: &World, t: usize, mode: &str, f: usize) -> i64 {
        self.direct(mode).get(&Some(f)).copied().unwrap_or_default()
            + (0..world.folders[t].len())
                .filter(|c| world.folders[t][*c] == Some(f))
                .map(|c| self.folder_total(world, t, mode, c))
                .sum::<i64>()
    }

    fn push_folder(&self, out: &mut Vec<String>, world: &World, t: usize, mode: &str, parent: &str, f: usize) {
        let name = folder_name(t, f);
        let path = if parent.is_empty() {
            name
        } else {
            format!("{parent}/{name}")
        };
        out.push(format!("{path} {}", text(self.folder_total(world, t, mode, f))));
        match mode {
            "EXECUTION" => {
                for ((folder, p), q) in &self.ran_in {
                    if *folder == f {
                        out.push(format!("{path}: {} {}/{}", process_name(t, *p), text(*q), text(*q)));
                    }
                }
            }
            _ => {
                let live = self.live();
                for root in self.roots() {
                    if world.processes[t][root[0].unwrap()] == f {
                        self.push_process(out, t, &live, &format!("{path}: "), &[root]);
                    }
                }
            }
        }
        for child in (0..world.folders[t].len()).filter(|c| world.folders[t][*c] == Some(f)) {
            self.push_folder(out, world, t, mode, &path, child);
        }
    }

    /// The folder lines without the "no folder" row.
    fn folder_lines(&self, world: &World, t: usize, mode: &str) -> Vec<String> {
        let mut out = Vec::new();
        for f in (0..world.folders[t].len()).filter(|f| world.folders[t][*f].is_none()) {
            self.push_folder(&mut out, world, t, mode, "", f);
        }
        out
    }
}

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
