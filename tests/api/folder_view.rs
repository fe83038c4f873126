//! The folder view (docs/design.md §15.3): `OrganizationUsage.folder(id, attribution)`
//! answers the folder's row of its tenant's `folders(attribution)`, in both modes, with
//! its distribution and its consumption by service; hidden folders read as null; and the
//! page costs the same statements whatever the number of folders.

use quotagraph::domain::Quantity;
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};

use crate::attribution::scenario::{Scenario, scenario};
use crate::helpers::{
    DEFAULT_NOW, SYSTEM_KEY, TestApp, create_folder, create_process, event, globex_owner, key,
    organization_with_license, record, tenant,
};

const MODES: [&str; 2] = ["EXECUTION", "OWNERSHIP"];

/// A folder row two levels of subfolders and three of processes deep.
const ROW: &str = "folder { id name } consumed \
    processes { process { name } own consumed children { process { name } own consumed children { process { name } own consumed } } } \
    children { folder { id name } consumed processes { process { name } own consumed } \
               children { folder { id name } consumed processes { process { name } own consumed } } }";

/// What the folder view adds to a row.
const SPREAD: &str = "distribution(granularity: DAY) { start end consumed } byService { total services { service { code name } consumed share } }";

fn total(values: impl Iterator<Item = Value>) -> Quantity {
    values.map(|v| v.as_str().unwrap().parse::<Quantity>().unwrap()).sum()
}

/// The row of `folder` anywhere in a `folders` answer.
fn find_row<'a>(rows: &'a Value, folder: &str) -> Option<&'a Value> {
    rows.as_array().unwrap().iter().find_map(|row| {
        if row["folder"]["id"] == folder {
            Some(row)
        } else {
            find_row(&row["children"], folder)
        }
    })
}

/// `value` cut to the fields `like` has (a row found deeper in a list is selected less
/// deep than the folder view's own).
fn shaped_like(value: &Value, like: &Value) -> Value {
    match (value, like) {
        (Value::Object(fields), Value::Object(wanted)) => wanted
            .keys()
            .map(|k| (k.clone(), shaped_like(&fields[k], &wanted[k])))
            .collect::<serde_json::Map<_, _>>()
            .into(),
        (Value::Array(items), Value::Array(wanted)) if items.len() == wanted.len() => {
            items.iter().zip(wanted).map(|(v, w)| shaped_like(v, w)).collect()
        }
        _ => value.clone(),
    }
}

/// The tenant view's folder list and the folder view of `folder`, in `mode`, in one query.
async fn both_views(app: &TestApp, key: &str, org: &str, tenant: &str, folder: &str, mode: &str) -> (Value, Value) {
    let query = format!(
        "query($o: ID!, $t: ID!, $f: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ \
         tenant(id: $t) {{ folders(attribution: {mode}) {{ {ROW} }} }} \
         folder(id: $f, attribution: {mode}) {{ {ROW} {SPREAD} }} }} }} }}"
    );
    let data = app.ok(key, &query, json!({ "o": org, "t": tenant, "f": folder })).await;
    let usage = &data["organization"]["usage"];
    (usage["tenant"]["folders"].clone(), usage["folder"].clone())
}

/// Reads the folder view of `folder` alone.
async fn folder_view(app: &TestApp, key: &str, org: &str, folder: &str, mode: &str) -> Value {
    let query = format!(
        "query($o: ID!, $f: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ \
         folder(id: $f, attribution: {mode}) {{ {ROW} {SPREAD} }} }} }} }}"
    );
    app.ok(key, &query, json!({ "o": org, "f": folder })).await["organization"]["usage"]["folder"].clone()
}

/// The scenario plus a run of another service: an `apps` run started by j1 (owned by A)
/// that ran in B.
async fn scenario_with_two_services() -> Scenario {
    let s = scenario().await;
    record(
        &s.app,
        [event("apps1", &s.one, "10", "2026-11-14T09:00:00Z").with(json!({
            "service": "apps", "jobId": "j10", "parentJobId": "j1", "processId": s.id("P2"), "folderId": s.id("B"),
        }))],
    )
    .await;
    s
}

/// Checks a folder view's distribution and byService against its `consumed`; answers the
/// services as "code name consumed" lines.
fn check_spread(view: &Value, context: &str) -> Vec<String> {
    let consumed: Quantity = view["consumed"].as_str().unwrap().parse().unwrap();
    let buckets = view["distribution"].as_array().unwrap();
    // The whole bundle to date, a day each: 2026-11-01 to 2026-11-23.
    assert_eq!(buckets.len(), 23, "{context}");
    assert_eq!(
        total(buckets.iter().map(|b| b["consumed"].clone())),
        consumed,
        "{context}: buckets add up to consumed"
    );
    let by_service = &view["byService"];
    assert_eq!(by_service["total"], view["consumed"], "{context}: byService total");
    let services = by_service["services"].as_array().unwrap();
    assert_eq!(
        total(services.iter().map(|s| s["consumed"].clone())),
        consumed,
        "{context}"
    );
    services
        .iter()
        .map(|s| {
            format!(
                "{} {} {}",
                s["service"]["code"].as_str().unwrap(),
                s["service"]["name"].as_str().unwrap(),
                s["consumed"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn a_folder_answers_its_row_of_the_tenant_view_in_both_modes() {
    let s = scenario_with_two_services().await;
    let folders = [
        (&s.one, "A"),
        (&s.one, "Asub"),
        (&s.one, "B"),
        (&s.one, "C"),
        (&s.two, "D"),
    ];
    let mut services = Vec::new();
    for mode in MODES {
        for (tenant, name) in folders {
            let (list, view) = both_views(&s.app, SYSTEM_KEY, &s.org, tenant, s.id(name), mode).await;
            let row = find_row(&list, s.id(name)).unwrap_or_else(|| panic!("no row of {name}: {list:#}"));
            assert_eq!(&shaped_like(&view, row), row, "{mode} {name}");
            let context = format!("{mode} {name}");
            services.push((context.clone(), view["consumed"].clone(), check_spread(&view, &context)));
        }
    }
    let expected = |context: &str, consumed: &str, lines: &[&str]| {
        (
            context.to_owned(),
            json!(consumed),
            lines.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>(),
        )
    };
    // EXECUTION: the apps run ran in B; A counts Asub. OWNERSHIP: j1's chain is A's, the
    // apps run with it; Asub owns only the lone P3 run.
    assert_eq!(
        services,
        vec![
            expected("EXECUTION A", "49.5", &["robots robots 49.5"]),
            expected("EXECUTION Asub", "32", &["robots robots 32"]),
            expected("EXECUTION B", "54", &["robots robots 44", "apps apps 10"]),
            expected("EXECUTION C", "0", &[]),
            expected("EXECUTION D", "100", &["robots robots 100"]),
            expected("OWNERSHIP A", "91.5", &["robots robots 81.5", "apps apps 10"]),
            expected("OWNERSHIP Asub", "2", &["robots robots 2"]),
            expected("OWNERSHIP B", "12", &["robots robots 12"]),
            expected("OWNERSHIP C", "0", &[]),
            expected("OWNERSHIP D", "100", &["robots robots 100"]),
        ]
    );
    s.app.finish().await;
}

#[tokio::test]
async fn every_folder_row_of_a_list_answers_its_distribution_and_services() {
    let s = scenario_with_two_services().await;
    for mode in MODES {
        let fields = format!(
            "usage(unitType: \"units\") {{ consumed tenant(id: \"{}\") {{ consumed folders(attribution: {mode}) {{ \
             folder {{ id }} consumed {SPREAD} children {{ folder {{ id }} consumed {SPREAD} }} }} }} }}",
            s.one
        );
        let usage = s.app.organization(SYSTEM_KEY, &s.org, &fields).await["usage"].clone();
        let rows = usage["tenant"]["folders"].as_array().unwrap();
        let mut top = Vec::new();
        for row in rows
            .iter()
            .chain(rows.iter().flat_map(|r| r["children"].as_array().unwrap()))
        {
            check_spread(row, &format!("{mode} {}", row["folder"]["id"]));
            if rows.contains(row) {
                top.push(row["consumed"].clone());
            }
        }
        // Conservation: the top-level rows and "no folder" add up to the tenant's consumption.
        assert_eq!(
            total(top.into_iter()),
            total([usage["tenant"]["consumed"].clone()].into_iter()),
            "{mode}"
        );
        let none = rows.last().unwrap();
        assert!(none["folder"].is_null());
        assert_eq!(
            none["byService"]["services"][0]["consumed"], "3",
            "{mode}: the no-folder row"
        );
    }
    s.app.finish().await;
}

#[tokio::test]
async fn a_folder_out_of_scope_reads_as_null() {
    let s = scenario().await;
    let (globex, stranger) = globex_owner(&s.app).await;
    let other_admin = key(&s.app, "TENANT_ADMIN", Some(&s.org), Some(&s.two)).await;
    let own_admin = key(&s.app, "TENANT_ADMIN", Some(&s.org), Some(&s.one)).await;
    for mode in MODES {
        // Another organization's folder, asked for in one's own organization.
        assert!(
            folder_view(&s.app, &stranger, &globex.org, s.id("A"), mode)
                .await
                .is_null()
        );
        // Another tenant's folder for a TENANT_ADMIN; its own tenant's is there.
        assert!(
            folder_view(&s.app, &other_admin, &s.org, s.id("A"), mode)
                .await
                .is_null()
        );
        let own = folder_view(&s.app, &own_admin, &s.org, s.id("A"), mode).await;
        assert_eq!(own["folder"]["name"], "A", "{mode}");
        // An unknown folder, and an id of something else.
        for id in [s.id("P1"), s.one.as_str(), "not-an-id"] {
            assert!(
                folder_view(&s.app, SYSTEM_KEY, &s.org, id, mode).await.is_null(),
                "{id}"
            );
        }
    }
    s.app.finish().await;
}

#[tokio::test]
async fn the_start_up_backfill_rebuilds_the_rollup_by_service() {
    let s = scenario_with_two_services().await;
    let mut before = Vec::new();
    for mode in MODES {
        before.push(folder_view(&s.app, SYSTEM_KEY, &s.org, s.id("A"), mode).await);
    }
    // As before the rollup by service existed.
    let db = sea_orm::Database::connect(&s.app.database_url).await.unwrap();
    db.execute_unprepared("DELETE FROM usage_attribution_services_daily")
        .await
        .unwrap();
    let emptied = folder_view(&s.app, SYSTEM_KEY, &s.org, s.id("A"), "OWNERSHIP").await;
    assert_eq!(emptied["byService"]["total"], "0");
    quotagraph::startup::prepare_database(&db).await.unwrap();
    db.close().await.unwrap();
    for (mode, before) in MODES.into_iter().zip(before) {
        assert_eq!(
            folder_view(&s.app, SYSTEM_KEY, &s.org, s.id("A"), mode).await,
            before,
            "{mode}"
        );
    }
    s.app.finish().await;
}

/// The rollup by service keyed tenant before day (migration 000018) keeps its rows: a
/// populated database's folder views, and the organization's folder rows (every tenant's),
/// answer the same after the database went back to the layout before it and forward again
/// (the later migrations went back and forward with it; the server answers only in the
/// newest layout).
#[tokio::test]
async fn re_keying_the_rollup_by_service_keeps_every_folder_figure() {
    use migration::MigratorTrait;
    let s = scenario_with_two_services().await;
    let views = || async {
        let mut views = Vec::new();
        for mode in MODES {
            views.push(folder_view(&s.app, SYSTEM_KEY, &s.org, s.id("A"), mode).await);
            let rows =
                format!("usage(unitType: \"units\") {{ folders(attribution: {mode}) {{ folder {{ id }} {SPREAD} }} }}");
            views.push(s.app.organization(SYSTEM_KEY, &s.org, &rows).await);
        }
        views
    };
    let before = views().await;
    assert_ne!(before[0]["byService"]["total"], "0");
    let db = quotagraph::store::connect(&s.app.database_url).await.unwrap();
    let migrations = migration::Migrator::migrations();
    let rekeying = migrations
        .iter()
        .position(|m| m.name() == "m20261207_000018_services_by_tenant")
        .expect("the migration that re-keys");
    let steps = u32::try_from(migrations.len() - rekeying).unwrap();
    migration::Migrator::down(&db, Some(steps)).await.unwrap();
    quotagraph::store::migrate(&db).await.unwrap();
    db.close().await.unwrap();
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
    assert_eq!(views().await, before);
    s.app.finish().await;
}

/// Runs a folder page (both modes, processes with their chains, distribution and services)
/// and returns how many SQL statements it cost.
async fn folder_page_statements(app: &TestApp, org: &str, folder: &str) -> u64 {
    let query = format!(
        "query($o: ID!, $f: ID!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ \
         execution: folder(id: $f, attribution: EXECUTION) {{ {ROW} {SPREAD} }} \
         ownership: folder(id: $f, attribution: OWNERSHIP) {{ {ROW} {SPREAD} }} }} }} }}"
    );
    // Past this age nothing kept in memory is answered (docs/design.md §11): all is read.
    tokio::time::sleep(quotagraph::service::memo::MAX_AGE).await;
    let before = app.statements.get();
    let data = app.ok(SYSTEM_KEY, &query, json!({ "o": org, "f": folder })).await;
    let after = app.statements.get();
    assert!(!data["organization"]["usage"]["ownership"].is_null());
    after - before
}

/// Adds `count` folders under `parent` to `tenant`, each with a process and a chain of two
/// runs whose child runs in the next folder.
async fn add_folders(app: &TestApp, tenant: &str, parent: &str, from: usize, count: usize) {
    let mut events = Vec::new();
    for i in from..from + count {
        let folder = create_folder(app, tenant, Some(parent), &format!("F{i}")).await;
        let process = create_process(app, &folder, &format!("P{i}")).await;
        let at = format!("2026-11-{:02}T09:00:00Z", 2 + i % 20);
        events.push(event(&format!("r{i}"), tenant, "1", &at).with(json!({
            "jobId": format!("j{i}"), "processId": process, "folderId": folder, "service": format!("s{}", i % 3),
        })));
        events.push(event(&format!("c{i}"), tenant, "2", &at).with(json!({
            "jobId": format!("k{i}"), "parentJobId": format!("j{i}"), "processId": process,
        })));
    }
    record(app, events).await;
}

#[tokio::test]
async fn a_folder_page_costs_the_same_statements_for_2_and_20_folders() {
    // The period watcher would add its own statements to the count: keep it quiet.
    let app = TestApp::spawn_with(DEFAULT_NOW, 3_600_000).await;
    let fx = organization_with_license(&app, "acme", "100000").await;
    let t = tenant(&app, &fx.org, "t").await;
    let other = tenant(&app, &fx.org, "other").await;
    let root = create_folder(&app, &t, None, "Root").await;
    add_folders(&app, &t, &root, 0, 2).await;
    let small = folder_page_statements(&app, &fx.org, &root).await;
    add_folders(&app, &t, &root, 2, 18).await;
    let elsewhere = create_folder(&app, &other, None, "Elsewhere").await;
    add_folders(&app, &other, &elsewhere, 20, 5).await;
    let large = folder_page_statements(&app, &fx.org, &root).await;
    assert_eq!(small, large, "statements for 2 folders: {small}, for 20: {large}");
    // The report (the key, the organization, the unit type, its licenses and their top-ups,
    // the tenants, their allocations and consumption: 8), then per mode: the folder's
    // tenant, the attribution sums, the folders, the processes, the chain nodes (OWNERSHIP)
    // and the rollup by service with its services (6 and 7). 21 measured.
    assert!(large <= 21, "{large} statements for one folder page");
    app.finish().await;
}

/// The folder view's CSV buttons: `folder=<id>` cuts the distribution, services, folders and
/// processes exports to that folder, with the same figures as `folder(id, attribution)`.
#[tokio::test]
async fn the_folder_exports_answer_the_folder_view() {
    let s = scenario_with_two_services().await;
    for mode in MODES {
        for name in ["A", "B"] {
            let folder = s.id(name);
            let view = folder_view(&s.app, SYSTEM_KEY, &s.org, folder, mode).await;
            let query = |extra: &[(&'static str, &'static str)]| {
                let mut q = vec![
                    ("organization", s.org.as_str()),
                    ("unitType", "units"),
                    ("folder", folder),
                    ("attribution", mode),
                ];
                q.extend_from_slice(extra);
                q
            };
            let context = format!("{mode} {name}");
            let (_, buckets) =
                crate::helpers::export(&s.app, SYSTEM_KEY, "distribution", &query(&[("granularity", "DAY")])).await;
            let expected: Vec<Vec<String>> = view["distribution"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| {
                    ["start", "end", "consumed"]
                        .map(|f| b[f].as_str().unwrap().to_owned())
                        .to_vec()
                })
                .collect();
            assert_eq!(buckets, expected, "{context}: distribution.csv");
            let (_, services) = crate::helpers::export(&s.app, SYSTEM_KEY, "services", &query(&[])).await;
            let expected: Vec<(String, String)> = view["byService"]["services"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["service"]["code"].as_str().unwrap().to_owned(),
                        s["consumed"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let shown: Vec<(String, String)> = services.iter().map(|r| (r[0].clone(), r[2].clone())).collect();
            assert_eq!(shown, expected, "{context}: services.csv");
            let (_, folders) = crate::helpers::export(&s.app, SYSTEM_KEY, "folders", &query(&[])).await;
            let children: Vec<(String, String)> = view["children"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["folder"]["name"].as_str().unwrap().to_owned(),
                        c["consumed"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            let top: Vec<(String, String)> = folders
                .iter()
                .filter(|r| r[4] == "0")
                .map(|r| (r[1].clone(), r[5].clone()))
                .collect();
            assert_eq!(top, children, "{context}: folders.csv");
            assert!(
                folders.iter().filter(|r| r[4] == "0").all(|r| r[3] == folder),
                "{context}: parent"
            );
            let (_, processes) = crate::helpers::export(&s.app, SYSTEM_KEY, "processes", &query(&[])).await;
            let expected: Vec<(String, String, String)> = view["processes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| {
                    let text = |f: &str| p[f].as_str().unwrap().to_owned();
                    (
                        p["process"]["name"].as_str().unwrap().to_owned(),
                        text("own"),
                        text("consumed"),
                    )
                })
                .collect();
            let top: Vec<(String, String, String)> = processes
                .iter()
                .filter(|r| r[5] == "0")
                .map(|r| (r[1].clone(), r[6].clone(), r[7].clone()))
                .collect();
            assert_eq!(top, expected, "{context}: processes.csv");
        }
    }
    // A folder of another organization reads as unknown; the cards take no folder.
    let (globex, other) = globex_owner(&s.app).await;
    let path = format!(
        "/export/folders.csv?organization={}&unitType=units&folder={}",
        globex.org,
        s.id("A")
    );
    assert_eq!(
        crate::helpers::export_refused(&s.app, Some(&other), &path).await,
        (404, "NOT_FOUND".to_owned())
    );
    let path = format!(
        "/export/tenants.csv?organization={}&unitType=units&folder={}",
        s.org,
        s.id("A")
    );
    assert_eq!(
        crate::helpers::export_refused(&s.app, Some(SYSTEM_KEY), &path).await,
        (400, "BAD_USER_INPUT".to_owned())
    );
    s.app.finish().await;
}
