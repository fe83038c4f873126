//! The fuzz run: every family of cases against one server, the stored data compared after
//! each case and each family. proptest keeps the seeds of failed runs in
//! `proptest-regressions/fuzz/runner.txt`.

use std::cell::{Cell, RefCell};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRunner};
use serde_json::{Value, json};

use super::bodies::raw_cases;
use super::cases::{Body, Case, body_text, json_case};
use super::documents::{broken_cases, soup_cases};
use super::mutations::{EVERY_WAY, mutation_cases};
use super::oracle::{judge, send};
use super::probe::{Probe, dump_diff};
use super::reads::read_cases;
use super::world::World;
use crate::helpers::{SYSTEM_KEY, TestApp};

/// Runs the cases of one family on the shared server; the number run.
pub(super) struct Runner<'a> {
    pub(super) runtime: &'a tokio::runtime::Runtime,
    pub(super) app: &'a TestApp,
    pub(super) probe: &'a Probe,
    /// The row counts after the last case.
    pub(super) counts: RefCell<Vec<i64>>,
    /// How many cases were answered without error (reads).
    pub(super) answered: Cell<usize>,
    pub(super) sent: Cell<usize>,
    pub(super) slowest: Cell<Duration>,
    /// How many errors of each code the answers held.
    pub(super) codes: RefCell<std::collections::BTreeMap<String, usize>>,
    /// Time spent waiting for answers, and reading the row counts.
    pub(super) waiting: Cell<Duration>,
    pub(super) counting: Cell<Duration>,
}

impl Runner<'_> {
    pub(super) fn check(&self, case: &Case) -> Result<(), String> {
        let started = Instant::now();
        let (status, body) = self.runtime.block_on(send(self.app, case))?;
        let took = started.elapsed();
        self.waiting.set(self.waiting.get() + took);
        self.sent.set(self.sent.get() + 1);
        if took > self.slowest.get() {
            self.slowest.set(took);
        }
        // The counts are taken before judging, so that a write is never blamed on the
        // cases that come after it.
        let counting = Instant::now();
        let counts = self.runtime.block_on(self.probe.counts());
        self.counting.set(self.counting.get() + counting.elapsed());
        let before = self.counts.replace(counts.clone());
        let refused = judge(status, &body, case)?;
        if let Ok(answer) = serde_json::from_slice::<Value>(&body) {
            let mut codes = self.codes.borrow_mut();
            for error in answer["errors"].as_array().into_iter().flatten() {
                let code = error["extensions"]["code"].as_str().unwrap_or_default().to_owned();
                *codes.entry(code).or_default() += 1;
            }
        }
        if counts != before {
            let tables: Vec<String> = self
                .probe
                .tables
                .iter()
                .zip(before.iter().zip(&counts))
                .filter(|(_, (b, a))| b != a)
                .map(|((t, _), (b, a))| format!("{t}: {b} -> {a}"))
                .collect();
            let what = if refused {
                "a refused request"
            } else {
                "a request no case makes valid"
            };
            return Err(format!(
                "{what} changed the stored data ({}): {}",
                tables.join(", "),
                String::from_utf8_lossy(&body)
            ));
        }
        if !refused {
            self.answered.set(self.answered.get() + 1);
        }
        Ok(())
    }

    pub(super) fn family(&self, name: &str, cases: u32, strategy: BoxedStrategy<Case>) {
        let before = self.runtime.block_on(self.probe.dump());
        let answered = self.answered.get();
        let (waiting, counting) = (self.waiting.get(), self.counting.get());
        let started = Instant::now();
        let mut runner = TestRunner::new(Config {
            cases,
            max_shrink_iters: 256,
            max_shrink_time: 60_000,
            source_file: Some(file!()),
            // ChaCha, the default, costs most of the generation time in a debug build.
            rng_algorithm: RngAlgorithm::XorShift,
            ..Config::default()
        });
        let result = runner.run(&strategy, |case| {
            self.check(&case)
                .map_err(|e| TestCaseError::fail(format!("[key {}] {e}", case.key.label)))
        });
        if let Err(err) = result {
            panic!("{name}: {err}");
        }
        let after = self.runtime.block_on(self.probe.dump());
        assert!(
            before == after,
            "{name}: the stored data changed\n{}",
            dump_diff(&before, &after)
        );
        eprintln!(
            "fuzz {name}: {cases} cases in {:.1?} (answers {:.1?}, row counts {:.1?}); {} answered without error",
            started.elapsed(),
            self.waiting.get() - waiting,
            self.counting.get() - counting,
            self.answered.get() - answered,
        );
    }
}

#[test]
fn every_malformed_request_is_a_coded_error_that_changes_nothing() {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let app = runtime.block_on(TestApp::spawn());
    let world = runtime.block_on(World::build(&app));
    let probe = runtime.block_on(Probe::connect(&app.database_url));
    let baseline = runtime.block_on(probe.settled_dump());
    let counts = runtime.block_on(probe.counts());
    eprintln!("fuzz setup: {:.1?}", started.elapsed());
    let runner = Runner {
        runtime: &runtime,
        app: &app,
        probe: &probe,
        counts: RefCell::new(counts),
        answered: Cell::new(0),
        sent: Cell::new(0),
        slowest: Cell::new(Duration::ZERO),
        waiting: Cell::new(Duration::ZERO),
        counting: Cell::new(Duration::ZERO),
        codes: RefCell::new(std::collections::BTreeMap::new()),
    };

    runner.family("mutations", 5_000, mutation_cases(&world, &EVERY_WAY));
    runner.family("reads", 1_200, read_cases(&world));
    runner.family("broken documents", 1_500, broken_cases(&world));
    runner.family("token soup", 1_500, soup_cases(&world));
    runner.family("raw bodies", 1_200, raw_cases(&world));

    // Oversize bodies (a few: they are slow), and a batch of events past the limit.
    let system = world.keys[0].1.clone();
    for (size, content_type) in [
        (16 * 1024 * 1024 + 1, Some("application/json")),
        (17 * 1024 * 1024, None),
        (20 * 1024 * 1024, Some("text/plain")),
    ] {
        let case = Case {
            key: system.clone(),
            content_type,
            body: Body::Huge(size),
            must_refuse: true,
        };
        match runtime.block_on(send(&app, &case)) {
            Ok((status, body)) => {
                assert_eq!(status, 413, "{}", String::from_utf8_lossy(&body));
                judge(status, &body, &case).unwrap();
            }
            // The server may answer before it has read the whole body, and close.
            Err(e) => assert!(!e.contains("hang"), "{e}"),
        }
    }
    let tenant = world.objects.iter().find(|o| o.kind == "Tenant").unwrap().id.clone();
    let events: Vec<Value> = (0..10_001)
        .map(|i| {
            json!({ "idempotencyKey": format!("big-{i}"), "tenantId": tenant, "unitType": "units",
                "service": "robots", "quantity": "1", "occurredAt": "2026-11-20T10:00:00Z" })
        })
        .collect();
    let case = json_case(
        &system,
        body_text(&json!({
            "query": "mutation($input: RecordUsageInput!) { recordUsage(input: $input) { accepted } }",
            "variables": { "input": { "events": events } },
        })),
        true,
    );
    runner.check(&case).unwrap();

    let total = runner.sent.get();
    let slowest = runner.slowest.get();
    let after = runtime.block_on(probe.dump());
    assert!(
        baseline == after,
        "the stored data changed\n{}",
        dump_diff(&baseline, &after)
    );
    // The server still answers.
    let role = runtime.block_on(app.ok(SYSTEM_KEY, "{ viewer { role } }", json!({})));
    assert_eq!(role["viewer"]["role"], "SYSTEM");
    eprintln!(
        "fuzz: {total} requests in {:.1?}, slowest {slowest:.1?}; errors by code: {:?}",
        started.elapsed(),
        runner.codes.borrow()
    );
    assert!(total >= 10_000, "{total} requests");
    runtime.block_on(app.finish());
}
