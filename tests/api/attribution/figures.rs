//! Reading the figures: the folder and process rows of a `usage` answer, their order
//! checked as they are read, and written as lines to compare.

use std::collections::HashMap;

use async_graphql::ID;
use quotagraph::domain::Quantity;
use quotagraph::domain::ids::ProcessId;
use quotagraph::graphql::node::decode;
use serde_json::{Value, json};

use crate::helpers::{SYSTEM_KEY, TestApp};

pub(super) fn scaled(text: &str) -> i64 {
    text.parse::<Quantity>().unwrap().scaled()
}

pub(super) fn text(scaled: i64) -> String {
    Quantity::from_scaled(scaled).to_string()
}

pub(super) fn uuid_of_process(id: &str) -> uuid::Uuid {
    decode::<ProcessId>(&ID(id.to_owned())).unwrap().0
}

/// A process row as answered: its own and rolled-up figures and its expansion.
#[derive(Clone, Debug)]
pub(super) struct ProcessRow {
    pub(super) id: String,
    pub(super) name: String,
    pub(super) own: String,
    pub(super) consumed: String,
    pub(super) children: Vec<ProcessRow>,
}

/// A folder row as answered; `id: None` is the "no folder" row.
#[derive(Clone, Debug)]
pub(super) struct FolderRow {
    pub(super) id: Option<String>,
    pub(super) name: String,
    pub(super) consumed: String,
    pub(super) children: Vec<FolderRow>,
    pub(super) processes: Vec<ProcessRow>,
}

impl ProcessRow {
    pub(super) fn own(&self) -> i64 {
        scaled(&self.own)
    }

    pub(super) fn consumed(&self) -> i64 {
        scaled(&self.consumed)
    }
}

impl FolderRow {
    pub(super) fn consumed(&self) -> i64 {
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

pub(super) fn process_row(value: &Value) -> ProcessRow {
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
    // A tree asked for without its processes has none.
    let processes: Vec<ProcessRow> = value
        .get("processes")
        .map(|list| list.as_array().unwrap().iter().map(process_row).collect())
        .unwrap_or_default();
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
pub(super) fn folder_list(value: &Value) -> Vec<FolderRow> {
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
pub(super) fn process_list(value: &Value) -> Vec<ProcessRow> {
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

pub(super) fn push_process(out: &mut Vec<String>, prefix: &str, row: &ProcessRow) {
    out.push(format!("{prefix}{} {}/{}", row.name, row.own, row.consumed));
    for child in sorted_processes(&row.children) {
        push_process(out, &format!("{prefix}{} > ", row.name), child);
    }
}

pub(super) fn push_folder(out: &mut Vec<String>, parent: &str, row: &FolderRow) {
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
pub(super) fn folder_lines(rows: &[FolderRow]) -> Vec<String> {
    let mut out = Vec::new();
    let (none, folders) = rows.split_last().unwrap();
    for row in sorted_folders(folders) {
        push_folder(&mut out, "", row);
    }
    push_folder(&mut out, "", none);
    out
}

/// [`folder_lines`] of the folders alone, without the processes in them.
pub(super) fn tree_lines(rows: &[FolderRow]) -> Vec<String> {
    fn strip(rows: &[FolderRow]) -> Vec<FolderRow> {
        rows.iter()
            .map(|row| FolderRow {
                children: strip(&row.children),
                processes: Vec::new(),
                ..row.clone()
            })
            .collect()
    }
    folder_lines(&strip(rows))
}

/// The folder trees asked for without their processes (what a tenant view asks; read from
/// the rollups by list), `depth` levels deep, of the organization (key "") and of each
/// tenant card (key: its id), in both modes, as [`tree_lines`].
pub(super) async fn folder_trees(
    app: &TestApp,
    org: &str,
    arguments: &str,
    depth: usize,
) -> HashMap<(String, &'static str), Vec<String>> {
    fn tree(depth: usize) -> String {
        let children = if depth == 0 {
            "folder { id }".to_owned()
        } else {
            tree(depth - 1)
        };
        format!("folder {{ id name }} consumed children {{ {children} }}")
    }
    let fields = format!(
        "execution: folders(attribution: EXECUTION) {{ {0} }} ownership: folders(attribution: OWNERSHIP) {{ {0} }}",
        tree(depth)
    );
    let query = format!(
        "query($o: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\"{arguments}) {{ {fields} tenants {{ tenant {{ id }} {fields} }} }} }} }}"
    );
    let data = app.ok(SYSTEM_KEY, &query, json!({ "o": org })).await;
    let usage = &data["organization"]["usage"];
    let mut trees = HashMap::new();
    let cards = usage["tenants"].as_array().unwrap();
    let owners = std::iter::once((String::new(), usage)).chain(
        cards
            .iter()
            .map(|card| (card["tenant"]["id"].as_str().unwrap().to_owned(), card)),
    );
    for (owner, value) in owners {
        for (mode, field) in [("EXECUTION", "execution"), ("OWNERSHIP", "ownership")] {
            trees.insert((owner.clone(), mode), folder_lines(&folder_list(&value[field])));
        }
    }
    trees
}

/// One line per process (`P1 15.5/79.5`) and per step of its expansion (`P1 > P2 20/50`).
pub(super) fn process_lines(rows: &[ProcessRow]) -> Vec<String> {
    let mut out = Vec::new();
    for row in sorted_processes(rows) {
        push_process(&mut out, "", row);
    }
    out
}

/// The folder and process figures of one usage answer (the organization or a tenant card).
#[derive(Clone, Debug)]
pub(super) struct Figures {
    pub(super) consumed: String,
    pub(super) execution_folders: Vec<FolderRow>,
    pub(super) ownership_folders: Vec<FolderRow>,
    pub(super) execution_processes: Vec<ProcessRow>,
    pub(super) ownership_processes: Vec<ProcessRow>,
}

impl Figures {
    pub(super) fn from(value: &Value) -> Figures {
        Figures {
            consumed: value["consumed"].as_str().unwrap().to_owned(),
            execution_folders: folder_list(&value["executionFolders"]),
            ownership_folders: folder_list(&value["ownershipFolders"]),
            execution_processes: process_list(&value["executionProcesses"]),
            ownership_processes: process_list(&value["ownershipProcesses"]),
        }
    }

    pub(super) fn folders(&self, mode: &str) -> &[FolderRow] {
        match mode {
            "EXECUTION" => &self.execution_folders,
            _ => &self.ownership_folders,
        }
    }

    pub(super) fn processes(&self, mode: &str) -> &[ProcessRow] {
        match mode {
            "EXECUTION" => &self.execution_processes,
            _ => &self.ownership_processes,
        }
    }
}

pub(super) fn process_fields(depth: usize) -> String {
    if depth == 0 {
        "process { id name } own consumed children { process { id } }".to_owned()
    } else {
        format!(
            "process {{ id name }} own consumed children {{ {} }}",
            process_fields(depth - 1)
        )
    }
}

pub(super) fn folder_fields(depth: usize, process_depth: usize) -> String {
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
pub(super) fn range(from: &str, to: &str) -> String {
    format!(", range: {{from: \"{from}\", to: \"{to}\"}}")
}

/// A page of the organization's processes connection over a range (default: the bundle).
pub(super) fn org_page(arguments: &str) -> String {
    format!(
        "query($o: ID!, $first: Int, $after: String, $mode: Attribution!) {{ organization(id: $o) {{ usage(unitType: \"units\"{arguments}) {{ processes(attribution: $mode, first: $first, after: $after) {{ edges {{ cursor node {{ process {{ id name }} consumed }} }} pageInfo {{ hasNextPage }} }} }} }} }}"
    )
}

/// Every figure of the organization and of each tenant card (by tenant id), and the raw answer.
pub(super) async fn read_all(
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
pub(super) async fn read_tenant(app: &TestApp, key: &str, org: &str, tenant: &str) -> (Figures, Value) {
    let query = format!(
        "query($o: ID!, $t: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ tenant(id: $t) {{ {} }} }} }} }}",
        figure_fields(2, 3)
    );
    let data = app.ok(key, &query, json!({ "o": org, "t": tenant })).await;
    let card = data["organization"]["usage"]["tenant"].clone();
    (Figures::from(&card), card)
}
