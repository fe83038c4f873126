//! `GET /export/{report}.csv` over real HTTP: each report's rows equal the GraphQL answer
//! for the same filters, quoting survives a CSV parser, the events report streams every
//! row, and the export takes the same keys and scope as GraphQL.

use serde_json::{Value, json};

use crate::helpers::{
    SYSTEM_KEY, TestApp, create_folder, create_organization, create_process, event, export, export_refused, key,
    organization_with_license, record, saved_as, tenant,
};

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|h| h == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// The cells of `columns` in each row.
fn pick(header: &[String], rows: &[Vec<String>], columns: &[&str]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| columns.iter().map(|c| r[column(header, c)].clone()).collect())
        .collect()
}

/// An export's query: the organization's "units", `more`, and the tenant if given.
fn filters<'a>(org: &'a str, tenant: Option<&'a str>, more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut query = vec![("organization", org), ("unitType", "units")];
    query.extend_from_slice(more);
    query.extend(tenant.map(|t| ("tenant", t)));
    query
}

/// The organization's `usage` in `data`, or its `tenant`'s when the export was of one.
fn scoped<'a>(data: &'a Value, tenant: Option<&str>) -> &'a Value {
    let usage = &data["organization"]["usage"];
    if tenant.is_some() { &usage["tenant"] } else { usage }
}

struct Scenario {
    org: String,
    a: String,
    b: String,
}

/// Two tenants (one named with a comma, a quote and a newline), a folder tree, a job
/// chain across folders, several services and days, and an upload.
async fn scenario(app: &TestApp) -> Scenario {
    let fx = organization_with_license(app, "acme", "1000").await;
    let a = tenant(app, &fx.org, "Ops, \"Blue\"\nteam").await;
    let b = tenant(app, &fx.org, "b").await;
    let top = create_folder(app, &a, None, "Top, \"quoted\"").await;
    let sub = create_folder(app, &a, Some(&top), "Sub").await;
    let other = create_folder(app, &a, None, "Other").await;
    let p1 = create_process(app, &top, "Nightly, \"full\"\nsuite").await;
    let p2 = create_process(app, &other, "Smoke").await;
    let p3 = create_process(app, &sub, "Deep").await;
    let events = vec![
        event("k,1 \"first\"\nline", &a, "10", "2026-11-02T08:00:00Z").with(json!({ "jobId": "j1", "processId": p1, "folderId": top, "durationMs": 1500 })),
        event("k2", &a, "20.5", "2026-11-03T08:00:00Z").with(json!({ "service": "orchestrator", "jobId": "j2", "parentJobId": "j1", "processId": p2, "folderId": other })),
        event("k3", &a, "30", "2026-11-09T08:00:00Z").with(json!({ "jobId": "j3", "parentJobId": "j2", "processId": p3, "folderId": sub })),
        event("k4", &a, "4", "2026-11-10T08:00:00Z").with(json!({ "service": "test-manager" })),
        event("k5", &b, "7.25", "2026-11-16T08:00:00Z"),
        event("k6", &a, "99", "2026-11-17T08:00:00Z").with(json!({ "kind": "UPLOAD", "durationMs": 60000 })),
    ];
    record(app, events).await;
    Scenario { org: fx.org, a, b }
}

#[tokio::test]
async fn tenants_report_equals_the_tenant_cards_and_quotes_survive() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    let data = app
        .organization(SYSTEM_KEY, &s.org, "usage(unitType: \"units\", range: {from: \"2026-11-03\", to: \"2026-11-20\"}) { tenants { tenant { id } displayName allocated consumed consumedFromAllocated consumedFromOrganization consumptionRate remaining overage availableForAllocation status } }")
        .await;
    let cards = data["usage"]["tenants"].as_array().unwrap().clone();
    let range = [("from", "2026-11-03"), ("to", "2026-11-20")];
    let (header, rows) = export(&app, SYSTEM_KEY, "tenants", &filters(&s.org, None, &range)).await;
    assert_eq!(rows.len(), cards.len());
    for (row, card) in rows.iter().zip(&cards) {
        let cell = |name: &str| row[column(&header, name)].clone();
        assert_eq!(cell("tenant_id"), card["tenant"]["id"].as_str().unwrap());
        assert_eq!(cell("display_name"), card["displayName"].as_str().unwrap());
        assert_eq!(cell("status"), card["status"].as_str().unwrap());
        assert_eq!(cell("allocated"), card["allocated"].as_str().unwrap_or(""));
        for (csv, gql) in [
            ("consumed", "consumed"),
            ("consumed_from_allocated", "consumedFromAllocated"),
            ("consumed_from_organization", "consumedFromOrganization"),
            ("remaining", "remaining"),
            ("overage", "overage"),
            ("available_for_allocation", "availableForAllocation"),
        ] {
            assert_eq!(cell(csv), card[gql].as_str().unwrap(), "{csv}");
        }
    }
    // The name with a comma, a quote and a newline comes back whole.
    let a = rows.iter().find(|r| r[0] == s.a).unwrap();
    assert_eq!(a[column(&header, "display_name")], "Ops, \"Blue\"\nteam");
    assert_eq!(a[column(&header, "consumed")], "54.5");
    app.finish().await;
}

#[tokio::test]
async fn distribution_and_services_reports_equal_the_graphql_answer() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    for (granularity, tenant) in [
        ("DAY", None),
        ("WEEK", None),
        ("MONTH", Some(s.a.clone())),
        ("WEEK", Some(s.b.clone())),
    ] {
        let data = app
            .ok(
                SYSTEM_KEY,
                "query($o: ID!, $t: ID!, $g: Granularity!) { organization(id: $o) { usage(unitType: \"units\") { distribution(granularity: $g) { start end consumed } byService { total services { service { code name } consumed share percent } } tenant(id: $t) { distribution(granularity: $g) { start end consumed } byService { total services { service { code name } consumed share percent } } } } } }",
                json!({ "o": s.org, "t": tenant.clone().unwrap_or_else(|| s.a.clone()), "g": granularity }),
            )
            .await;
        let scoped = scoped(&data, tenant.as_deref());
        let query = filters(&s.org, tenant.as_deref(), &[("granularity", granularity)]);
        let (header, rows) = export(&app, SYSTEM_KEY, "distribution", &query).await;
        assert_eq!(header, ["start", "end", "consumed"]);
        let buckets: Vec<Vec<String>> = scoped["distribution"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                ["start", "end", "consumed"]
                    .map(|f| b[f].as_str().unwrap().to_owned())
                    .to_vec()
            })
            .collect();
        assert_eq!(rows, buckets, "{granularity} {tenant:?}");

        let (header, rows) = export(&app, SYSTEM_KEY, "services", &query).await;
        assert_eq!(header, ["service", "name", "consumed", "share", "percent"]);
        let services = scoped["byService"]["services"].as_array().unwrap();
        assert_eq!(rows.len(), services.len());
        for (row, service) in rows.iter().zip(services) {
            assert_eq!(row[0], service["service"]["code"].as_str().unwrap());
            assert_eq!(row[2], service["consumed"].as_str().unwrap());
            assert_eq!(row[1], service["service"]["name"].as_str().unwrap());
            for (cell, field) in [(&row[3], "share"), (&row[4], "percent")] {
                let value: f64 = cell.parse().unwrap();
                assert!((value - service[field].as_f64().unwrap()).abs() < 1e-12, "{field}");
            }
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn folders_and_processes_reports_equal_the_graphql_answer_in_both_modes() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    const FOLDER: &str = "folder { id name } consumed";
    let folder_query =
        format!("folders(attribution: $m) {{ {FOLDER} children {{ {FOLDER} children {{ {FOLDER} }} }} }}");
    let process_query = "processes(attribution: $m, first: 100) { edges { node { process { id name } own consumed children { process { id } own consumed children { process { id } own consumed } } } } }";
    for mode in ["EXECUTION", "OWNERSHIP"] {
        for tenant in [None, Some(s.a.clone())] {
            let query = format!(
                "query($o: ID!, $t: ID!, $m: Attribution!) {{ organization(id: $o) {{ usage(unitType: \"units\") {{ {folder_query} {process_query} tenant(id: $t) {{ {folder_query} {process_query} }} }} }} }}"
            );
            let data = app
                .ok(SYSTEM_KEY, &query, json!({ "o": s.org, "t": s.a, "m": mode }))
                .await;
            let scoped = scoped(&data, tenant.as_deref());
            let filters = filters(&s.org, tenant.as_deref(), &[("attribution", mode)]);

            // Folders: the tree depth first, as (id, name, depth, consumed).
            fn flatten_folders(list: &Value, depth: usize, out: &mut Vec<Vec<String>>) {
                for f in list.as_array().unwrap() {
                    out.push(vec![
                        f["folder"]["id"].as_str().unwrap_or("").to_owned(),
                        f["folder"]["name"].as_str().unwrap_or("").to_owned(),
                        depth.to_string(),
                        f["consumed"].as_str().unwrap().to_owned(),
                    ]);
                    if !f["children"].is_null() {
                        flatten_folders(&f["children"], depth + 1, out);
                    }
                }
            }
            let mut expected = Vec::new();
            flatten_folders(&scoped["folders"], 0, &mut expected);
            let (header, rows) = export(&app, SYSTEM_KEY, "folders", &filters).await;
            let picked = pick(&header, &rows, &["folder_id", "folder", "depth", "consumed"]);
            assert_eq!(picked, expected, "folders {mode} {tenant:?}");

            // Processes: every row and its chain depth first, as (id, depth, own, consumed).
            fn flatten_processes(list: &[Value], depth: usize, out: &mut Vec<Vec<String>>) {
                for p in list {
                    out.push(vec![
                        p["process"]["id"].as_str().unwrap().to_owned(),
                        depth.to_string(),
                        p["own"].as_str().unwrap().to_owned(),
                        p["consumed"].as_str().unwrap().to_owned(),
                    ]);
                    if let Some(children) = p["children"].as_array() {
                        flatten_processes(children, depth + 1, out);
                    }
                }
            }
            let nodes: Vec<Value> = scoped["processes"]["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone())
                .collect();
            let mut expected = Vec::new();
            flatten_processes(&nodes, 0, &mut expected);
            let (header, rows) = export(&app, SYSTEM_KEY, "processes", &filters).await;
            let picked = pick(&header, &rows, &["process_id", "depth", "own", "consumed"]);
            assert_eq!(picked, expected, "processes {mode} {tenant:?}");
            if mode == "OWNERSHIP" {
                // The chain j1 → j2 → j3 is one root row with two levels below it.
                assert_eq!(
                    picked.iter().map(|r| r[1].as_str()).collect::<Vec<_>>(),
                    ["0", "1", "2"]
                );
                assert_eq!(picked[0][3], "60.5");
            }
            let names: Vec<&str> = rows.iter().map(|r| r[column(&header, "process")].as_str()).collect();
            assert!(names.contains(&"Nightly, \"full\"\nsuite"), "{names:?}");
        }
    }
    app.finish().await;
}

#[tokio::test]
async fn events_report_lists_every_event_of_the_range_with_quoting_intact() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    let (header, rows) = export(&app, SYSTEM_KEY, "events", &filters(&s.org, None, &[])).await;
    // The last two mark voided events (voidUsage); none is here.
    assert_eq!(header.len(), 14);
    assert_eq!(header[12..], ["voided_at", "void_reason"]);
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r[12..] == ["", ""]), "{rows:?}");
    let keys: Vec<&str> = rows
        .iter()
        .map(|r| r[column(&header, "idempotency_key")].as_str())
        .collect();
    assert_eq!(keys, ["k,1 \"first\"\nline", "k2", "k3", "k4", "k5", "k6"]);
    let first = &rows[0];
    assert_eq!(first[column(&header, "occurred_at")], "2026-11-02T08:00:00Z");
    assert_eq!(first[column(&header, "day")], "2026-11-02");
    assert_eq!(first[column(&header, "tenant_id")], s.a);
    assert_eq!(first[column(&header, "service")], "robots");
    assert_eq!(first[column(&header, "job_id")], "j1");
    assert_eq!(first[column(&header, "duration_ms")], "1500");
    assert_eq!(rows[1][column(&header, "quantity")], "20.5");
    assert_eq!(rows[5][column(&header, "kind")], "UPLOAD");

    // A range and a tenant narrow it, like GraphQL's filters.
    let range = [("from", "2026-11-09"), ("to", "2026-11-16")];
    let (_, rows) = export(&app, SYSTEM_KEY, "events", &filters(&s.org, Some(&s.a), &range)).await;
    let keys: Vec<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(keys, ["k3", "k4"]);
    app.finish().await;
}

#[tokio::test]
async fn events_report_streams_many_pages_in_recording_order() {
    let app = TestApp::spawn().await;
    let fx = organization_with_license(&app, "acme", "100000").await;
    let t = tenant(&app, &fx.org, "t").await;
    // 2,500 events: two full pages and a partial one.
    let events = (0..2_500).map(|i| {
        event(
            &format!("e{i:05}"),
            &t,
            "1",
            &format!("2026-11-{:02}T10:00:00Z", 1 + i % 20),
        )
    });
    record(&app, events).await;
    let (_, rows) = export(&app, SYSTEM_KEY, "events", &filters(&fx.org, None, &[])).await;
    assert_eq!(rows.len(), 2_500);
    let mut ids: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let in_order = ids.clone();
    ids.sort_unstable();
    assert_eq!(ids, in_order, "rows come in recording order");
    ids.dedup();
    assert_eq!(ids.len(), 2_500, "no row twice");
    app.finish().await;
}

#[tokio::test]
async fn exports_take_the_same_keys_scope_and_filters_as_graphql() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    let base = format!("/export/tenants.csv?organization={}&unitType=units", s.org);
    assert_eq!(export_refused(&app, None, &base).await, (401, "UNAUTHENTICATED".into()));
    let nothing = format!("/export/nothing.csv?organization={}&unitType=units", s.org);
    assert_eq!(
        export_refused(&app, Some(SYSTEM_KEY), &nothing).await,
        (404, "NOT_FOUND".into())
    );
    for path in [
        format!("{base}&colour=blue"),
        format!("{base}&from=2026-11-02"),
        format!("{base}&from=2026-10-02&to=2026-11-02"),
        "/export/tenants.csv?unitType=units".to_owned(),
        format!(
            "/export/folders.csv?organization={}&unitType=units&attribution=WHO",
            s.org
        ),
    ] {
        assert_eq!(
            export_refused(&app, Some(SYSTEM_KEY), &path).await,
            (400, "BAD_USER_INPUT".into()),
            "{path}"
        );
    }

    // A key of another organization sees nothing of this one.
    let other = create_organization(&app, "other", "UTC").await;
    let outsider = key(&app, "VIEWER", Some(&other), None).await;
    assert_eq!(
        export_refused(&app, Some(&outsider), &base).await,
        (404, "NOT_FOUND".into())
    );

    // A TENANT_ADMIN's export covers its own tenant; another tenant is not found.
    let admin = key(&app, "TENANT_ADMIN", Some(&s.org), Some(&s.a)).await;
    let (_, rows) = export(&app, &admin, "tenants", &filters(&s.org, None, &[])).await;
    assert_eq!(rows.iter().map(|r| r[0].as_str()).collect::<Vec<_>>(), [s.a.as_str()]);
    let (_, rows) = export(&app, &admin, "events", &filters(&s.org, None, &[])).await;
    assert_eq!(rows.len(), 5, "the events of tenant a only");
    assert_eq!(
        export_refused(&app, Some(&admin), &format!("{base}&tenant={}", s.b)).await,
        (404, "NOT_FOUND".into())
    );
    app.finish().await;
}

#[tokio::test]
async fn activity_report_equals_the_weekly_activity() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    let data = app
        .organization(SYSTEM_KEY, &s.org, "activity(unitType: \"units\", weeks: 4) { weeks { weekStart runs executions uploads durationSeconds } precedingWeek { weekStart } }")
        .await;
    let query = [("organization", s.org.as_str()), ("unitType", "units"), ("weeks", "4")];
    let (header, rows) = export(&app, SYSTEM_KEY, "activity", &query).await;
    assert_eq!(
        header,
        [
            "week_start",
            "preceding",
            "runs",
            "executions",
            "uploads",
            "duration_seconds"
        ]
    );
    let weeks = data["activity"]["weeks"].as_array().unwrap();
    assert_eq!(rows.len(), weeks.len());
    let preceding = data["activity"]["precedingWeek"]["weekStart"].as_str().unwrap();
    for (row, week) in rows.iter().zip(weeks) {
        let start = week["weekStart"].as_str().unwrap();
        assert_eq!(row[0], start);
        assert_eq!(row[1], (start == preceding).to_string());
        assert_eq!(row[2], week["runs"].to_string());
        assert_eq!(row[3], week["executions"].as_str().unwrap());
        assert_eq!(row[4], week["uploads"].as_str().unwrap());
        let seconds: f64 = row[5].parse().unwrap();
        assert!((seconds - week["durationSeconds"].as_f64().unwrap()).abs() < 1e-9);
    }
    assert!(rows.iter().any(|r| r[3] != "0"), "the scenario ran tests: {rows:?}");
    app.finish().await;
}

#[tokio::test]
async fn quota_report_is_every_started_bundle_oldest_first() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    record(&app, [event("oct", &s.a, "12", "2026-10-20T08:00:00Z")]).await;
    let query = [("organization", s.org.as_str()), ("unitType", "units")];
    let (header, rows) = export(&app, SYSTEM_KEY, "quota", &query).await;
    assert_eq!(
        header,
        [
            "period_start",
            "period_end",
            "current",
            "used",
            "quota",
            "limit",
            "remaining",
            "burst_active",
            "enforced",
            "plan"
        ]
    );
    let starts: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "oldest first");
    for row in &rows {
        let field = format!(
            "quota(unitType: \"units\", bundle: \"{}\") {{ periodEnd used quota limit remaining burstActive }}",
            row[0]
        );
        let quota = &app.organization(SYSTEM_KEY, &s.org, &field).await["quota"];
        assert_eq!(
            row[1..8],
            [
                quota["periodEnd"].as_str().unwrap().to_owned(),
                (row[0] == "2026-11-01").to_string(),
                quota["used"].as_str().unwrap().to_owned(),
                quota["quota"].as_str().unwrap().to_owned(),
                quota["limit"].as_str().unwrap().to_owned(),
                quota["remaining"].as_str().unwrap().to_owned(),
                quota["burstActive"].to_string(),
            ],
            "{row:?}"
        );
    }
    let october = rows.iter().find(|r| r[0] == "2026-10-01").expect("October's bundle");
    assert_eq!(october[3], "12");
    let tenant_admin = key(&app, "TENANT_ADMIN", Some(&s.org), Some(&s.a)).await;
    let path = format!("/export/quota.csv?organization={}&unitType=units", s.org);
    assert_eq!(
        export_refused(&app, Some(&tenant_admin), &path).await,
        (403, "FORBIDDEN".into())
    );
    app.finish().await;
}

#[tokio::test]
async fn summary_report_is_one_row_of_every_organization_figure() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    let data = app
        .organization(SYSTEM_KEY, &s.org, "usage(unitType: \"units\", range: {from: \"2026-11-03\", to: \"2026-11-20\"}) { totalCapacity limit burstActive consumed consumedFromAllocated consumedFromOrganization remaining allocated availableForAllocation overage overAllocation capacityCard { mode value } status bundle { startDate endDate } }")
        .await;
    let u = &data["usage"];
    let query = [
        ("organization", s.org.as_str()),
        ("unitType", "units"),
        ("from", "2026-11-03"),
        ("to", "2026-11-20"),
    ];
    let (header, rows) = export(&app, SYSTEM_KEY, "summary", &query).await;
    assert_eq!(rows.len(), 1);
    let cell = |name: &str| rows[0][column(&header, name)].clone();
    let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    for (name, field) in [
        ("bundle_start", &u["bundle"]["startDate"]),
        ("bundle_end", &u["bundle"]["endDate"]),
        ("total_capacity", &u["totalCapacity"]),
        ("limit", &u["limit"]),
        ("burst_active", &u["burstActive"]),
        ("consumed", &u["consumed"]),
        ("consumed_from_allocated", &u["consumedFromAllocated"]),
        ("consumed_from_organization", &u["consumedFromOrganization"]),
        ("remaining", &u["remaining"]),
        ("allocated", &u["allocated"]),
        ("available_for_allocation", &u["availableForAllocation"]),
        ("overage", &u["overage"]),
        ("over_allocation", &u["overAllocation"]),
        ("capacity_card_mode", &u["capacityCard"]["mode"]),
        ("capacity_card_value", &u["capacityCard"]["value"]),
        ("status", &u["status"]),
    ] {
        assert_eq!(cell(name), text(field), "{name}");
    }
    assert_eq!(
        (cell("unit_type"), cell("from"), cell("to")),
        ("units".into(), "2026-11-03".into(), "2026-11-20".into())
    );
    app.finish().await;
}

#[tokio::test]
async fn every_export_is_saved_under_the_organization_report_unit_type_and_days() {
    let app = TestApp::spawn().await;
    let s = scenario(&app).await;
    let org = s.org.as_str();
    let range = [
        ("organization", org),
        ("unitType", "units"),
        ("from", "2026-11-03"),
        ("to", "2026-11-20"),
    ];
    for report in [
        "tenants",
        "distribution",
        "services",
        "folders",
        "processes",
        "events",
        "summary",
    ] {
        let name = saved(&app, report, &range).await;
        assert_eq!(name, format!("acme-{report}-units-2026-11-03-2026-11-20.csv"));
    }
    // Without a range: the bundle to date (today is 2026-11-23).
    let bundle = [("organization", org), ("unitType", "units")];
    assert_eq!(
        saved(&app, "tenants", &bundle).await,
        "acme-tenants-units-2026-11-01-2026-11-23.csv"
    );
    assert_eq!(
        saved(&app, "quota", &bundle).await,
        "acme-quota-units-2026-01-01-2026-11-30.csv"
    );
    let weeks = [("organization", org), ("unitType", "units"), ("weeks", "2")];
    assert_eq!(
        saved(&app, "activity", &weeks).await,
        "acme-activity-units-2026-11-16-2026-11-29.csv"
    );
    assert_eq!(saved(&app, "audit", &[("organization", org)]).await, "acme-audit.csv");
    app.finish().await;
}

async fn saved(app: &TestApp, report: &str, query: &[(&str, &str)]) -> String {
    let response = app
        .client
        .get(app.url(&format!("/export/{report}.csv")))
        .bearer_auth(SYSTEM_KEY)
        .query(query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{report}");
    saved_as(&response)
}
