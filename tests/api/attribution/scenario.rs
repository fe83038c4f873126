//! The hand-computed scenario: two tenants with folders, processes and job chains that
//! cross folders, and the figures expected of them in both modes.

use std::collections::HashMap;

use serde_json::json;

use crate::helpers::{
    TestApp, create_folder, create_process, create_unit_type, event, organization_with_license, record, tenant,
};

/// Expansion depth (subfolders, process chain) the hand-computed scenario needs.
pub(crate) const HAND: (usize, usize) = (2, 3);

/// Tenant `one`: folders A ⊃ Asub, B and C (top level, never used); processes P1 (owned by
/// A), P2 (B), P3 (Asub), P4 (B). Tenant `two`: folder D, process P5.
pub(crate) struct Scenario {
    pub(crate) app: TestApp,
    pub(crate) org: String,
    pub(crate) one: String,
    pub(crate) two: String,
    pub(crate) ids: HashMap<&'static str, String>,
}

impl Scenario {
    pub(crate) fn id(&self, name: &str) -> &str {
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
pub(crate) async fn scenario() -> Scenario {
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
pub(crate) const ONE_EXECUTION_FOLDERS: &[&str] = &[
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
pub(crate) const ONE_EXECUTION_PROCESSES: &[&str] = &["P3 32/32", "P2 25/25", "P1 15.5/15.5", "P4 8/8"];

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
pub(crate) const ONE_OWNERSHIP_FOLDERS: &[&str] = &[
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
pub(crate) const ONE_OWNERSHIP_PROCESSES: &[&str] = &[
    "P1 15.5/79.5",
    "P1 > P2 20/50",
    "P1 > P2 > P3 30/30",
    "P1 > P4 8/8",
    "P2 5/5",
    "P3 2/2",
];

// Tenant two: e12 100 (P5 in D), e13 0.5 (nothing) = 100.5, the same in both modes.
pub(crate) const TWO_FOLDERS: &[&str] = &["D 100", "D: P5 100/100", "(none) 0.5"];
pub(crate) const TWO_PROCESSES: &[&str] = &["P5 100/100"];

pub(crate) fn lines(expected: &[&str]) -> Vec<String> {
    expected.iter().map(|s| (*s).to_owned()).collect()
}

/// The organization's rows are the tenants' rows together, one "no folder" row.
pub(crate) fn merged(tenants: &[&[&str]], none: &str) -> Vec<String> {
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

pub(crate) fn sorted(mut lines: Vec<String>) -> Vec<String> {
    let none = lines.iter().position(|l| l.starts_with("(none)"));
    let none = none.map(|i| lines.remove(i));
    lines.sort();
    lines.extend(none);
    lines
}
