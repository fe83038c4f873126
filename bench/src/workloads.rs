//! The workloads W1–W6, each against quotagraph and its baselines, every answer checked.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use quotagraph::graphql::node::{Kind, encode};
use quotagraph::store::StatementCounter;
use rand::{SeedableRng, rngs::StdRng};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use uuid::Uuid;

use crate::check::{self, DASHBOARD, Expected, FOLDER_VIEW, TENANT_VIEW, TREE};
use crate::generator::{INGEST_UNIT, Plan, SERVICES};
use crate::limit::{Ask, Limit, LimitEvent};
use crate::load::{Http, Measured, Span, closed_loop, closed_loop_kinds};
use crate::setup::{W5_TENANTS, World};
use crate::subscribers::micros;

/// One line of the results.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub workload: &'static str,
    pub case: String,
    pub system: &'static str,
    #[serde(flatten)]
    pub measured: Measured,
    /// Throughput in the workload's unit (events/s for ingestion, else requests/s).
    pub throughput: f64,
    pub extra: Value,
}

pub const QUOTAGRAPH: &str = "quotagraph";
pub const LIMIT_INPROC: &str = "limit in-process";
pub const LIMIT_AXUM: &str = "limit axum";
pub const NAIVE: &str = "naive peer";

/// Everything a workload talks to.
pub struct Bench {
    pub plan: Arc<Plan>,
    pub world: Arc<World>,
    pub span: Span,
    pub server: String,
    pub statements: StatementCounter,
    pub limit: Limit,
    pub limit_url: String,
    pub naive_url: String,
    pub naive_statements: StatementCounter,
    pub dashboard: Value,
    pub tenant_view: Value,
    pub folder_view: Value,
    pub tree: Value,
    /// The tenant the tenant view shows (the heaviest).
    pub view_tenant: Uuid,
    /// The folder the folder view shows (that tenant's heaviest top-level folder).
    pub view_folder: Uuid,
    pub rows: Vec<Row>,
    pub failures: Vec<String>,
}

fn body(query: &str, variables: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "query": query, "variables": variables })).expect("JSON")
}

fn to_bytes(value: &impl Serialize) -> Vec<u8> {
    serde_json::to_vec(value).expect("JSON")
}

const RECORD: &str =
    "mutation($events: [UsageEventInput!]!) { recordUsage(input: {events: $events}) { accepted duplicates } }";

/// Events of today for the ingestion unit type: skewed tenants and processes like the history.
struct Writes {
    plan: Arc<Plan>,
    world: Arc<World>,
    occurred_at: String,
}

impl Writes {
    fn new(plan: Arc<Plan>, world: Arc<World>) -> Writes {
        let occurred_at = (crate::generator::now() - chrono::TimeDelta::minutes(1)).to_rfc3339();
        Writes {
            plan,
            world,
            occurred_at,
        }
    }

    /// `n` events keyed `{prefix}-{i}`, as GraphQL input and as the limit's.
    fn events(&self, prefix: &str, seed: u64, n: usize) -> (Vec<Value>, Vec<LimitEvent>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let (mut graphql, mut limit) = (Vec::with_capacity(n), Vec::with_capacity(n));
        for i in 0..n {
            let tenant = self.plan.tenant(&mut rng);
            let process = self.plan.process(tenant, &mut rng);
            let folder = self.plan.process_folder[process];
            let service = self.plan.service(&mut rng);
            let quantity = i64::try_from(1 + i % 7).unwrap_or(1) * 5_000;
            let key = format!("{prefix}-{i}");
            let w = &self.world;
            graphql.push(json!({
                "idempotencyKey": key,
                "tenantId": encode(Kind::Tenant, w.tenants[tenant]).0,
                "unitType": INGEST_UNIT,
                "service": SERVICES[service],
                "quantity": quotagraph::domain::Quantity::from_scaled(quantity).to_string(),
                "occurredAt": self.occurred_at,
                "processId": encode(Kind::Process, w.processes[process]).0,
                "folderId": encode(Kind::Folder, w.folders[folder]).0,
            }));
            limit.push(LimitEvent {
                key,
                tenant: w.tenants[tenant],
                service: w.services[service],
                quantity,
                process: w.processes[process],
                folder: w.folders[folder],
                owner: w.folders[folder],
            });
        }
        (graphql, limit)
    }
}

impl Bench {
    fn graphql(&self, key: &str) -> Http {
        Http::new(format!("http://{}/graphql", self.server), Some(key.to_owned()))
    }

    fn limit_http(&self, path: &str) -> Http {
        Http::new(format!("http://{}{path}", self.limit_url), None)
    }

    /// Records a measurement, or a warm-up (`timed` false) as the case's first answer: on
    /// a server just started, the first answer after a restart.
    fn record_if(&mut self, workload: &'static str, case: &str, system: &'static str, measured: Measured, timed: bool) {
        if timed {
            self.record(workload, case, system, measured, Value::Null);
        } else {
            self.record(
                workload,
                &format!("{case}, first answer"),
                system,
                measured,
                Value::Null,
            );
        }
    }

    fn record(&mut self, workload: &'static str, case: &str, system: &'static str, measured: Measured, extra: Value) {
        if measured.wrong > 0 {
            self.failures.push(format!(
                "{workload} {case} {system} at {} clients: {} wrong answers, first: {}",
                measured.clients,
                measured.wrong,
                measured.first_wrong.clone().unwrap_or_default()
            ));
        }
        eprintln!(
            "  {workload} {case:<22} {system:<17} {:>3} clients {:>10.1}/s p50 {:>8.2} ms p99 {:>8.2} ms{}",
            measured.clients,
            measured.throughput(),
            measured.p50_ms,
            measured.p99_ms,
            if measured.wrong > 0 { "  WRONG" } else { "" }
        );
        self.rows.push(Row {
            workload,
            case: case.to_owned(),
            system,
            throughput: measured.throughput(),
            measured,
            extra,
        });
    }

    fn org_gid(&self) -> String {
        encode(Kind::Organization, self.world.organization).0
    }

    fn ask(&self, (tenant, folder): (Option<Uuid>, Option<Uuid>)) -> Ask {
        Ask {
            organization: self.world.organization,
            unit: self.world.dashboard_unit,
            tenant,
            folder,
            events: Vec::new(),
        }
    }

    /// Times a checked GraphQL request at each concurrency.
    async fn graphql_loop(&self, key: &str, clients: usize, span: Span, payload: Vec<u8>, expected: Value) -> Measured {
        let (http, expected) = (self.graphql(key), Arc::new(Expected::graphql(expected)));
        closed_loop(
            clients,
            span,
            1,
            move |_, _| {
                let (http, payload) = (http.clone(), payload.clone());
                async move { http.post(payload).await }
            },
            move |bytes| expected.check(&bytes),
        )
        .await
    }

    async fn plain_loop(&self, path: &str, clients: usize, span: Span, payload: Vec<u8>, expected: Value) -> Measured {
        let (http, expected) = (self.limit_http(path), Arc::new(Expected::plain(expected)));
        closed_loop(
            clients,
            span,
            1,
            move |_, _| {
                let (http, payload) = (http.clone(), payload.clone());
                async move { http.post(payload).await }
            },
            move |bytes| expected.check(&bytes),
        )
        .await
    }

    /// W3: the dashboard, the tenant view and the folder view at 1, 16 and 64 clients.
    pub async fn w3(&mut self) {
        let org = self.org_gid();
        let tenant = encode(Kind::Tenant, self.view_tenant).0;
        let folder = encode(Kind::Folder, self.view_folder).0;
        let unit = crate::generator::DASHBOARD_UNIT;
        let cases = [
            (
                "dashboard",
                body(DASHBOARD, json!({ "org": org, "unit": unit })),
                self.dashboard.clone(),
                "/dashboard",
                (None, None),
            ),
            (
                "tenant view",
                body(TENANT_VIEW, json!({ "org": org, "unit": unit, "tenant": tenant })),
                self.tenant_view.clone(),
                "/tenant",
                (Some(self.view_tenant), None),
            ),
            (
                "folder view",
                body(FOLDER_VIEW, json!({ "org": org, "unit": unit, "folder": folder })),
                self.folder_view.clone(),
                "/folder",
                (None, Some(self.view_folder)),
            ),
        ];
        let viewer = self.world.viewer_key.clone();
        // Each case starts with one answer of each system that is reported apart, as the
        // case's first answer: the first request of a case finds its rows in no cache yet,
        // and whichever system came first paid for that (at M on SQLite, a first tenant view
        // of 6.8 s and, in another run, 15.6 s, the next ones about 1.2 s). quotagraph's
        // comes first: its first answer is the first after a restart.
        let warm_up = Span {
            duration: Duration::ZERO,
            min_per_client: 1,
            timeout: None,
        };
        for (case, payload, expected, path, view) in cases {
            for (clients, timed) in [(1, false), (1, true), (16, true), (64, true)] {
                let span = if timed { self.span } else { warm_up };
                let m = self
                    .graphql_loop(&viewer, clients, span, payload.clone(), expected.clone())
                    .await;
                self.record_if("W3", case, QUOTAGRAPH, m, timed);
                let (limit, ask, answer) = (
                    self.limit.clone(),
                    self.ask(view),
                    Arc::new(Expected::plain(expected.clone())),
                );
                let m = closed_loop(
                    clients,
                    span,
                    1,
                    move |_, _| {
                        let limit = limit.clone();
                        let (org, unit, tenant, folder) = (ask.organization, ask.unit, ask.tenant, ask.folder);
                        async move {
                            match (tenant, folder) {
                                (_, Some(f)) => limit.folder_view(org, unit, f).await,
                                (Some(t), None) => limit.tenant_view(org, unit, t).await,
                                (None, None) => limit.dashboard(org, unit).await,
                            }
                            .map_err(|e| e.to_string())
                        }
                    },
                    move |value| answer.check_value(&value),
                )
                .await;
                self.record_if("W3", case, LIMIT_INPROC, m, timed);
                let m = self
                    .plain_loop(path, clients, span, to_bytes(&self.ask(view)), expected.clone())
                    .await;
                self.record_if("W3", case, LIMIT_AXUM, m, timed);
            }
            // The naive peer sums raw events field by field: one client, and a bound on
            // how long one answer may take.
            let span = Span {
                min_per_client: 1,
                timeout: Some(Duration::from_secs(120)),
                ..self.span
            };
            let (http, answer) = (
                Http::new(format!("http://{}/graphql", self.naive_url), None),
                Arc::new(Expected::graphql(expected.clone())),
            );
            let m = closed_loop(
                1,
                span,
                1,
                move |_, _| {
                    let (http, payload) = (http.clone(), payload.clone());
                    async move { http.post(payload).await }
                },
                move |bytes| answer.check(&bytes),
            )
            .await;
            self.record("W3", case, NAIVE, m, Value::Null);
        }
    }

    /// W4: the nested tree, one request at a time, with the SQL statements each one ran.
    pub async fn w4(&mut self) {
        let depth = check::depth(TREE);
        let bound = depth + 2;
        let payload = body(TREE, json!({ "org": self.org_gid() }));
        let span = Span {
            min_per_client: 10,
            ..self.span
        };
        for (system, url, counter) in [
            (
                QUOTAGRAPH,
                format!("http://{}/graphql", self.server),
                self.statements.clone(),
            ),
            (
                NAIVE,
                format!("http://{}/graphql", self.naive_url),
                self.naive_statements.clone(),
            ),
        ] {
            let key = (system == QUOTAGRAPH).then(|| self.world.viewer_key.clone());
            let tree_payload = payload.clone();
            let (http, expected) = (Http::new(url, key), Arc::new(Expected::graphql(self.tree.clone())));
            let (most, total) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
            let (most_in, total_in) = (most.clone(), total.clone());
            let m = closed_loop(
                1,
                span,
                1,
                move |_, _| {
                    let (http, payload, counter) = (http.clone(), tree_payload.clone(), counter.clone());
                    let (most, total) = (most_in.clone(), total_in.clone());
                    async move {
                        let before = counter.get();
                        let bytes = http.post(payload).await?;
                        let ran = counter.get() - before;
                        most.fetch_max(ran, Ordering::Relaxed);
                        total.fetch_add(ran, Ordering::Relaxed);
                        Ok(bytes)
                    }
                },
                move |bytes| expected.check(&bytes),
            )
            .await;
            let (most, mean) = (
                most.load(Ordering::Relaxed),
                total.load(Ordering::Relaxed) as f64 / m.requests.max(1) as f64,
            );
            if system == QUOTAGRAPH && most > bound as u64 {
                self.failures.push(format!(
                    "W4: quotagraph ran up to {most} SQL statements for the tree, above its depth {depth} + 2 = {bound}"
                ));
            }
            let extra = json!({ "depth": depth, "bound": bound, "statements_max": most, "statements_mean": mean });
            self.record("W4", "tree", system, m, extra);
        }
        let (limit, answer) = (self.limit.clone(), Arc::new(Expected::plain(self.tree.clone())));
        let org = self.world.organization;
        let m = closed_loop(
            1,
            span,
            1,
            move |_, _| {
                let limit = limit.clone();
                async move { limit.tree(org).await.map_err(|e| e.to_string()) }
            },
            move |value| answer.check_value(&value),
        )
        .await;
        self.record("W4", "tree", LIMIT_INPROC, m, json!({ "statements_max": 3 }));
        let m = self
            .plain_loop("/tree", 1, span, to_bytes(&self.ask((None, None))), self.tree.clone())
            .await;
        self.record("W4", "tree", LIMIT_AXUM, m, json!({ "statements_max": 3 }));
    }

    /// One `recordUsage` through quotagraph (checked) and the limit's equivalent.
    fn ingestion(&self, clients: usize, batch: usize, tag: &'static str) -> (WriteLoop, WriteLoop) {
        let writes = Arc::new(Writes::new(self.plan.clone(), self.world.clone()));
        let graphql = self.graphql(&self.world.ingest_key);
        let limit = self.limit_http("/ingest");
        let (org, unit) = (self.world.organization, self.world.ingest_unit);
        let prefix = format!("{tag}-{clients}-{batch}");
        (
            WriteLoop {
                writes: writes.clone(),
                http: graphql,
                batch,
                prefix: format!("{prefix}-q"),
                limit: None,
            },
            WriteLoop {
                writes,
                http: limit,
                batch,
                prefix: format!("{prefix}-l"),
                limit: Some((org, unit)),
            },
        )
    }

    /// W1 (single events at 1, 16, 64 clients) and W2 (batches of 100 and 1,000).
    pub async fn w1_w2(&mut self) {
        let runs: [(&'static str, usize, usize); 5] = [
            ("W1", 1, 1),
            ("W1", 16, 1),
            ("W1", 64, 1),
            ("W2", 4, 100),
            ("W2", 4, 1_000),
        ];
        for (workload, clients, batch) in runs {
            let case = if batch == 1 {
                "single event".to_owned()
            } else {
                format!("batches of {batch}")
            };
            let (quotagraph, limit) = self.ingestion(clients, batch, workload);
            for (system, write) in [(QUOTAGRAPH, quotagraph), (LIMIT_AXUM, limit)] {
                let m = write.run(clients, self.span).await;
                self.record(workload, &case, system, m, Value::Null);
            }
        }
    }

    /// W6: 90% dashboard reads, 10% single-event writes, 16 clients.
    pub async fn w6(&mut self) {
        let clients = 16;
        let (quotagraph, limit) = self.ingestion(clients, 1, "W6");
        let org = self.org_gid();
        let reads = [
            (
                QUOTAGRAPH,
                self.graphql(&self.world.viewer_key),
                body(
                    DASHBOARD,
                    json!({ "org": org, "unit": crate::generator::DASHBOARD_UNIT }),
                ),
                Expected::graphql(self.dashboard.clone()),
                quotagraph,
            ),
            (
                LIMIT_AXUM,
                self.limit_http("/dashboard"),
                to_bytes(&self.ask((None, None))),
                Expected::plain(self.dashboard.clone()),
                limit,
            ),
        ];
        for (system, http, payload, expected, write) in reads {
            let (write, expected) = (Arc::new(write), Arc::new(expected));
            let write_expected = write.expected();
            let measured = closed_loop_kinds(
                clients,
                self.span,
                2,
                move |client, seq| {
                    let (http, payload, write) = (http.clone(), payload.clone(), write.clone());
                    async move {
                        // Every tenth request of each client writes.
                        if (seq + client as u64).is_multiple_of(10) {
                            write.send(client, seq).await.map(|b| (1, b))
                        } else {
                            http.post(payload).await.map(|b| (0, b))
                        }
                    }
                },
                move |bytes| {
                    if expected.check(&bytes).is_ok() {
                        return Ok(());
                    }
                    write_expected
                        .check(&bytes)
                        .map_err(|e| format!("neither a dashboard nor a write: {e}"))
                },
            )
            .await;
            let (read, written) = (&measured[0], &measured[1]);
            let extra = json!({
                "reads_per_second": read.per_second, "read_p50_ms": read.p50_ms, "read_p99_ms": read.p99_ms,
                "writes_per_second": written.per_second, "write_p50_ms": written.p50_ms, "write_p99_ms": written.p99_ms,
            });
            let mut all = read.clone();
            all.requests += written.requests;
            all.per_second += written.per_second;
            self.record("W6", "90% reads, 10% writes", system, all, extra);
        }
    }

    /// W5: subscribers in a child process, thresholds crossed by `recordUsage`.
    pub async fn w5(&mut self) {
        let rounds = [(100usize, 0usize), (1_000, W5_TENANTS / 2)];
        let mut after_close = Vec::new();
        for (count, first_tenant) in rounds {
            match self.w5_round(count, first_tenant, true).await {
                Ok((m, extra, closed)) => {
                    after_close.push(closed);
                    self.record("W5", &format!("{count} subscribers"), QUOTAGRAPH, m, extra);
                }
                Err(e) => self.failures.push(format!("W5 with {count} subscribers: {e:#}")),
            }
        }
        // The same 1,000 connect and disconnect again: memory must come back to where the
        // first time left it.
        match self.w5_round(1_000, 0, false).await {
            Ok((_, _, closed)) => {
                let first = after_close.last().copied().unwrap_or(closed);
                let growth = closed.saturating_sub(first);
                eprintln!("  W5 RSS after disconnecting 1,000 twice: {first} kB, then {closed} kB");
                if let Some(row) = self.rows.iter_mut().rev().find(|r| r.workload == "W5") {
                    row.extra["rss_after_second_cycle_kb"] = json!(closed);
                    row.extra["growth_after_second_cycle_kb"] = json!(growth);
                }
            }
            Err(e) => self.failures.push(format!("W5 second cycle: {e:#}")),
        }
    }

    async fn w5_round(&self, count: usize, first_tenant: usize, cross: bool) -> anyhow::Result<(Measured, Value, u64)> {
        let before = rss_kb();
        let mut child = tokio::process::Command::new(std::env::current_exe()?)
            .args(["subscribers", "--url", &format!("ws://{}/graphql", self.server)])
            .args([
                "--key",
                &self.world.viewer_key,
                "--org",
                &self.org_gid(),
                "--unit",
                INGEST_UNIT,
            ])
            .args(["--count", &count.to_string()])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()?;
        let mut stdin = child.stdin.take().ok_or_else(|| anyhow::anyhow!("no stdin"))?;
        let mut lines = BufReader::new(child.stdout.take().ok_or_else(|| anyhow::anyhow!("no stdout"))?).lines();
        loop {
            match next(&mut lines, 300).await? {
                Some(line) if line == "subscribed" => break,
                Some(line) if line.starts_with('E') => anyhow::bail!("{line}"),
                Some(_) => {}
                None => anyhow::bail!("the subscribers never subscribed"),
            }
        }
        // Usage until every subscriber has heard an event: each is on the bus.
        let graphql = self.graphql(&self.world.ingest_key);
        let writes = Writes::new(self.plan.clone(), self.world.clone());
        let mut warm = 0u64;
        loop {
            let (events, _) = writes.events(&format!("w5-warm-{count}-{cross}-{warm}"), warm, 1);
            graphql
                .post(body(RECORD, json!({ "events": events })))
                .await
                .map_err(anyhow::Error::msg)?;
            warm += 1;
            match next(&mut lines, 1).await? {
                Some(line) if line == "live" => break,
                Some(line) if line.starts_with('E') => anyhow::bail!("{line}"),
                _ if warm > 120 => anyhow::bail!("the subscribers never all heard an event"),
                _ => {}
            }
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
        let with = rss_kb();
        let mut latencies = hdrhistogram::Histogram::<u64>::new(3)?;
        let mut missing = 0usize;
        if cross {
            for t in first_tenant..first_tenant + W5_TENANTS / 2 {
                let tenant = encode(Kind::Tenant, self.world.w5_tenants[t]).0;
                for (quantity, threshold) in [("71", 0.7), ("20", 0.9), ("10", 1.0)] {
                    let event = json!({
                        "idempotencyKey": format!("w5-{count}-{t}-{threshold}"), "tenantId": tenant,
                        "unitType": INGEST_UNIT, "service": SERVICES[0], "quantity": quantity,
                        "occurredAt": writes.occurred_at,
                    });
                    let sent = micros();
                    let answer = graphql
                        .post(body(RECORD, json!({ "events": [event] })))
                        .await
                        .map_err(anyhow::Error::msg)?;
                    Expected::graphql(json!({ "recordUsage": { "accepted": 1, "duplicates": 0 } }))
                        .check(&answer)
                        .map_err(anyhow::Error::msg)?;
                    let mut heard = 0;
                    while heard < count {
                        let Some(line) = next(&mut lines, 10).await? else { break };
                        let parts: Vec<&str> = line.split(' ').collect();
                        if let ["R", who, level, at] = parts[..]
                            && who == tenant
                            && level.parse::<f64>().is_ok_and(|l| (l - threshold).abs() < 1e-9)
                        {
                            heard += 1;
                            let _ = latencies.record(u64::try_from(at.parse::<i64>()? - sent).unwrap_or(0).max(1));
                        } else if line.starts_with('E') {
                            anyhow::bail!("{line}");
                        }
                    }
                    missing += count - heard;
                }
            }
        }
        stdin.write_all(b"close\n").await?;
        while let Some(line) = next(&mut lines, 60).await? {
            if line == "closed" {
                break;
            }
        }
        child.wait().await?;
        tokio::time::sleep(Duration::from_secs(2)).await;
        let after = rss_kb();
        let per_subscriber = with.saturating_sub(before) as f64 * 1024.0 / count as f64;
        let ms = |q: f64| latencies.value_at_quantile(q) as f64 / 1000.0;
        let measured = Measured {
            clients: count,
            requests: latencies.len(),
            per_request: 1,
            seconds: 0.0,
            per_second: 0.0,
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            wrong: missing as u64,
            first_wrong: (missing > 0).then(|| format!("{missing} receipts never came")),
            timed_out: false,
        };
        let extra = json!({
            "crossings": 3 * (W5_TENANTS / 2), "receipts": latencies.len(),
            "rss_before_kb": before, "rss_with_subscribers_kb": with, "rss_after_close_kb": after,
            "bytes_per_subscriber": per_subscriber,
        });
        Ok((measured, extra, after))
    }
}

/// One write client setup: quotagraph's `recordUsage` or the limit's `/ingest`.
struct WriteLoop {
    writes: Arc<Writes>,
    http: Http,
    batch: usize,
    prefix: String,
    /// The limit's organization and unit type; None for quotagraph.
    limit: Option<(Uuid, Uuid)>,
}

impl WriteLoop {
    fn expected(&self) -> Expected {
        match self.limit {
            None => Expected::graphql(json!({ "recordUsage": { "accepted": self.batch, "duplicates": 0 } })),
            Some(_) => Expected::plain(json!({ "accepted": self.batch })),
        }
    }

    async fn send(&self, client: usize, seq: u64) -> Result<bytes::Bytes, String> {
        let seed = (client as u64) << 32 | seq;
        let (graphql, limit) = self
            .writes
            .events(&format!("{}-{client}-{seq}", self.prefix), seed, self.batch);
        let payload = match self.limit {
            None => body(RECORD, json!({ "events": graphql })),
            Some((organization, unit)) => to_bytes(&Ask {
                organization,
                unit,
                tenant: None,
                folder: None,
                events: limit,
            }),
        };
        self.http.post(payload).await
    }

    async fn run(self, clients: usize, span: Span) -> Measured {
        let batch = self.batch as u64;
        let expected = self.expected();
        let this = Arc::new(self);
        closed_loop(
            clients,
            span,
            batch,
            move |client, seq| {
                let this = this.clone();
                async move { this.send(client, seq).await }
            },
            move |bytes| expected.check(&bytes),
        )
        .await
    }
}

/// The child's next line, or None when none came within `wait` seconds.
async fn next(
    lines: &mut tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    wait: u64,
) -> anyhow::Result<Option<String>> {
    match tokio::time::timeout(Duration::from_secs(wait), lines.next_line()).await {
        Ok(Ok(Some(line))) => Ok(Some(line)),
        Ok(Ok(None)) => anyhow::bail!("the subscribers exited"),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Ok(None),
    }
}

/// This process's resident memory (the server's, since it runs in-process), in kB.
pub fn rss_kb() -> u64 {
    // Without a trim, RSS counts the heap the allocator kept from earlier work (loading M
    // frees gigabytes) and falls whenever it happens to return some, which hid W5's memory
    // per subscriber at M.
    // SAFETY: malloc_trim only returns free heap pages to the system; it takes the
    // allocator's own locks, so any thread may call it at any time.
    unsafe { libc::malloc_trim(0) };
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Ratios of quotagraph to its baselines, from the rows.
pub fn ratios(rows: &[Row]) -> Vec<Value> {
    let find = |workload: &str, case: &str, system: &str, clients: usize| {
        rows.iter()
            .find(|r| r.workload == workload && r.case == case && r.system == system && r.measured.clients == clients)
    };
    let mut out = Vec::new();
    let mut seen: HashMap<(String, String, usize), ()> = HashMap::new();
    for row in rows.iter().filter(|r| r.system == QUOTAGRAPH && r.workload != "W5") {
        let key = (row.workload.to_owned(), row.case.clone(), row.measured.clients);
        if seen.insert(key, ()).is_some() {
            continue;
        }
        let mut ratio = json!({ "workload": row.workload, "case": row.case, "clients": row.measured.clients });
        for (name, system) in [("limit_in_process", LIMIT_INPROC), ("limit_axum", LIMIT_AXUM)] {
            if let Some(base) = find(row.workload, &row.case, system, row.measured.clients) {
                ratio[format!("throughput_vs_{name}")] = json!(row.throughput / base.throughput);
                ratio[format!("p50_vs_{name}")] = json!(row.measured.p50_ms / base.measured.p50_ms);
            }
        }
        if let Some(naive) = find(row.workload, &row.case, NAIVE, 1) {
            ratio["throughput_vs_naive_at_1_client"] = json!(row.throughput / naive.throughput);
            ratio["naive_timed_out"] = json!(naive.measured.timed_out);
        }
        out.push(ratio);
    }
    out
}
