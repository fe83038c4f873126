//! The deterministic generator: the organization's shape (tenants, a folder tree per
//! tenant, processes) and its usage history, from a fixed seed. Use is skewed (Zipf-like):
//! a few tenants, and a few processes of each tenant, carry most of it. Runs are single
//! runs or job chains (a root job starting one to three child jobs), and some run in
//! another folder than the one owning their process.
//!
//! Everything is addressed by index here; `setup` maps indexes to the ids it creates.

use chrono::{Days, NaiveDate};
use rand::{Rng, SeedableRng, rngs::StdRng};

/// The unit type the dashboards read; its figures never change after loading.
pub const DASHBOARD_UNIT: &str = "test-executions";
/// The unit type every write of the workloads goes to, so the dashboard's expected
/// figures stay exact while writes run (W6).
pub const INGEST_UNIT: &str = "platform-units";
/// Services, most used first.
pub const SERVICES: [&str; 5] = ["orchestrator", "robots", "test-manager", "studio", "apps"];
/// Days of history, ending the day before "now".
pub const DAYS: u32 = 90;
/// Top-level folders per tenant; later folders nest under earlier ones.
const TOP_FOLDERS: usize = 3;

/// The first day of history, also the licenses' start (a yearly license: the whole
/// history is in the current bundle).
pub fn first_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 9, 1).expect("a valid date")
}

/// The server's pinned "now": the day after the history, at noon UTC.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    let day = first_day() + Days::new(u64::from(DAYS));
    day.and_hms_opt(12, 0, 0).expect("a valid time").and_utc()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
pub enum Scale {
    S,
    M,
    L,
}

/// How big a scale is.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Size {
    pub tenants: usize,
    pub folders: usize,
    pub processes: usize,
    pub events: u64,
}

impl Scale {
    pub fn size(self) -> Size {
        let (tenants, folders, processes, events) = match self {
            Scale::S => (10, 100, 1_000, 100_000),
            Scale::M => (100, 2_000, 20_000, 10_000_000),
            Scale::L => (1_000, 20_000, 200_000, 100_000_000),
        };
        Size {
            tenants,
            folders,
            processes,
            events,
        }
    }
}

/// Cumulative weights `1 / (rank + 1)^s`, sampled by binary search.
#[derive(Clone, Debug)]
pub struct Zipf(Vec<f64>);

impl Zipf {
    pub fn new(n: usize, s: f64) -> Zipf {
        let mut total = 0.0;
        let cumulative = (0..n)
            .map(|rank| {
                total += 1.0 / ((rank + 1) as f64).powf(s);
                total
            })
            .collect();
        Zipf(cumulative)
    }

    pub fn sample(&self, rng: &mut impl Rng) -> usize {
        let total = self.0.last().copied().unwrap_or(0.0);
        let x = rng.random::<f64>() * total;
        self.0.partition_point(|c| *c <= x).min(self.0.len().saturating_sub(1))
    }
}

/// The organization's shape, by index.
pub struct Plan {
    pub size: Size,
    pub folder_tenant: Vec<usize>,
    pub folder_parent: Vec<Option<usize>>,
    pub process_folder: Vec<usize>,
    pub tenant_folders: Vec<Vec<usize>>,
    pub tenant_processes: Vec<Vec<usize>>,
    pub folder_processes: Vec<Vec<usize>>,
    tenant_zipf: Zipf,
    process_zipf: Vec<Zipf>,
    service_zipf: Zipf,
}

/// One usage event, by index.
#[derive(Clone, Debug)]
pub struct Event {
    pub key: u64,
    pub tenant: usize,
    /// True for the dashboard's unit type, false for the ingestion one.
    pub dashboard: bool,
    pub service: usize,
    /// Ten-thousandths.
    pub quantity: i64,
    pub day: u32,
    pub second: u32,
    pub upload: bool,
    pub duration_ms: i64,
    pub job: Option<u64>,
    pub parent: Option<u64>,
    pub process: Option<usize>,
    /// The folder it ran in.
    pub folder: Option<usize>,
    /// The folder its chain is owed to (OWNERSHIP).
    pub owner: Option<usize>,
}

impl Plan {
    pub fn new(size: Size) -> Plan {
        let (t, f) = (size.tenants, size.folders);
        // Folder i belongs to tenant i % t and is that tenant's folder number i / t.
        let folder_tenant: Vec<usize> = (0..f).map(|i| i % t).collect();
        let folder_parent: Vec<Option<usize>> = (0..f)
            .map(|i| {
                let local = i / t;
                (local >= TOP_FOLDERS).then(|| ((local - TOP_FOLDERS) / 2) * t + i % t)
            })
            .collect();
        let process_folder: Vec<usize> = (0..size.processes).map(|p| p % f).collect();
        let mut tenant_folders = vec![Vec::new(); t];
        for (folder, tenant) in folder_tenant.iter().enumerate() {
            tenant_folders[*tenant].push(folder);
        }
        let mut tenant_processes = vec![Vec::new(); t];
        let mut folder_processes = vec![Vec::new(); f];
        for (process, folder) in process_folder.iter().enumerate() {
            tenant_processes[folder_tenant[*folder]].push(process);
            folder_processes[*folder].push(process);
        }
        let process_zipf = tenant_processes.iter().map(|p| Zipf::new(p.len(), 1.0)).collect();
        Plan {
            size,
            folder_tenant,
            folder_parent,
            process_folder,
            tenant_folders,
            tenant_processes,
            folder_processes,
            tenant_zipf: Zipf::new(t, 1.1),
            process_zipf,
            service_zipf: Zipf::new(SERVICES.len(), 1.0),
        }
    }

    /// A tenant, skewed.
    pub fn tenant(&self, rng: &mut impl Rng) -> usize {
        self.tenant_zipf.sample(rng)
    }

    /// A process of a tenant, skewed.
    pub fn process(&self, tenant: usize, rng: &mut impl Rng) -> usize {
        self.tenant_processes[tenant][self.process_zipf[tenant].sample(rng)]
    }

    /// Where a run of `process` executes: its own folder, or (with probability `away`)
    /// another folder of its tenant.
    pub fn run_folder(&self, process: usize, away: f64, rng: &mut impl Rng) -> usize {
        let own = self.process_folder[process];
        let folders = &self.tenant_folders[self.folder_tenant[own]];
        if folders.len() > 1 && rng.random_bool(away) {
            folders[rng.random_range(0..folders.len())]
        } else {
            own
        }
    }

    pub fn service(&self, rng: &mut impl Rng) -> usize {
        self.service_zipf.sample(rng)
    }

    /// The history, run by run (a chain's events together, parents first).
    pub fn history(&self) -> History<'_> {
        History {
            plan: self,
            rng: StdRng::seed_from_u64(7),
            emitted: 0,
            runs: 0,
        }
    }
}

/// The runs of the history, in order.
pub struct History<'a> {
    plan: &'a Plan,
    rng: StdRng,
    emitted: u64,
    runs: u64,
}

impl Iterator for History<'_> {
    type Item = Vec<Event>;

    fn next(&mut self) -> Option<Vec<Event>> {
        let left = self.plan.size.events - self.emitted;
        if left == 0 {
            return None;
        }
        let plan = self.plan;
        let rng = &mut self.rng;
        self.runs += 1;
        let run = self.runs;
        let tenant = plan.tenant(rng);
        let dashboard = rng.random_bool(0.8);
        let day = rng.random_range(0..DAYS);
        let second = rng.random_range(0..80_000);
        let shape: f64 = rng.random();
        let event = |rng: &mut StdRng, process: Option<usize>, folder: Option<usize>, owner: Option<usize>| {
            let upload = rng.random_bool(0.05);
            Event {
                key: 0,
                tenant,
                dashboard,
                service: plan.service(rng),
                quantity: rng.random_range(1..=20) * 2_500,
                day,
                second,
                upload,
                duration_ms: rng.random_range(1_000..600_000),
                job: None,
                parent: None,
                process,
                folder,
                owner,
            }
        };
        let mut events = Vec::new();
        if shape < 0.02 {
            // A run that names no process and no folder: the "no folder" row.
            events.push(event(rng, None, None, None));
        } else if shape < 0.30 {
            // A job chain: the root's process owns it; children run other processes,
            // sometimes in other folders, each started by the previous run or the root.
            let root = plan.process(tenant, rng);
            let owner = Some(plan.process_folder[root]);
            let folder = plan.run_folder(root, 0.1, rng);
            let mut first = event(rng, Some(root), Some(folder), owner);
            first.job = Some(run * 10);
            events.push(first);
            for child in 1..=rng.random_range(1..=3u64) {
                let process = plan.process(tenant, rng);
                let folder = plan.run_folder(process, 0.2, rng);
                let mut next = event(rng, Some(process), Some(folder), owner);
                next.job = Some(run * 10 + child);
                next.parent = Some(run * 10 + rng.random_range(0..child));
                next.second += u32::try_from(child * 60).unwrap_or(0);
                events.push(next);
            }
        } else {
            let process = plan.process(tenant, rng);
            let folder = plan.run_folder(process, 0.1, rng);
            events.push(event(
                rng,
                Some(process),
                Some(folder),
                Some(plan.process_folder[process]),
            ));
        }
        events.truncate(usize::try_from(left).unwrap_or(usize::MAX));
        for e in &mut events {
            e.key = self.emitted;
            self.emitted += 1;
        }
        Some(events)
    }
}

/// What the history adds up to for the dashboard's unit type (EXECUTION events only),
/// computed while generating: the figures every answer is checked against.
#[derive(Clone, Debug)]
pub struct Sums {
    pub tenant: Vec<i64>,
    pub tenant_day: Vec<Vec<i64>>,
    pub tenant_service: Vec<[i64; SERVICES.len()]>,
    /// Per folder: consumption that ran in it (EXECUTION) and that it owns (OWNERSHIP).
    pub executed_in: Vec<i64>,
    pub owned_by: Vec<i64>,
    /// Per tenant: the "no folder" row (the same in both modes here).
    pub no_folder: Vec<i64>,
    pub process_own: Vec<i64>,
    /// Per folder, what ran directly in it (EXECUTION): by day, by service, and by process.
    pub folder_day: Vec<Vec<i64>>,
    pub folder_service: Vec<[i64; SERVICES.len()]>,
    pub folder_process: std::collections::HashMap<(usize, usize), i64>,
    pub events: u64,
}

impl Sums {
    pub fn of(plan: &Plan) -> Sums {
        let t = plan.size.tenants;
        let mut sums = Sums {
            tenant: vec![0; t],
            tenant_day: vec![vec![0; DAYS as usize]; t],
            tenant_service: vec![[0; SERVICES.len()]; t],
            executed_in: vec![0; plan.size.folders],
            owned_by: vec![0; plan.size.folders],
            no_folder: vec![0; t],
            process_own: vec![0; plan.size.processes],
            folder_day: vec![vec![0; DAYS as usize]; plan.size.folders],
            folder_service: vec![[0; SERVICES.len()]; plan.size.folders],
            folder_process: std::collections::HashMap::new(),
            events: 0,
        };
        for event in plan.history().flatten() {
            sums.events += 1;
            if !event.dashboard || event.upload {
                continue;
            }
            let q = event.quantity;
            sums.tenant[event.tenant] += q;
            sums.tenant_day[event.tenant][event.day as usize] += q;
            sums.tenant_service[event.tenant][event.service] += q;
            match event.folder {
                Some(f) => {
                    sums.executed_in[f] += q;
                    sums.folder_day[f][event.day as usize] += q;
                    sums.folder_service[f][event.service] += q;
                    if let Some(p) = event.process {
                        *sums.folder_process.entry((f, p)).or_default() += q;
                    }
                }
                None => sums.no_folder[event.tenant] += q,
            }
            if let Some(f) = event.owner {
                sums.owned_by[f] += q;
            }
            if let Some(p) = event.process {
                sums.process_own[p] += q;
            }
        }
        sums
    }

    /// The allocation each tenant gets (ten-thousandths; None = N/A), so that the cards
    /// show every status: the heaviest tenant far past its allocation (CRITICAL), the next
    /// one without (WARNING), then alternately about 83% (WARNING) and 67% (HEALTHY) used.
    pub fn allocations(&self) -> Vec<Option<i64>> {
        let unit = 10_000;
        let round_up = |q: i64| (q / unit + 1) * unit;
        self.tenant
            .iter()
            .enumerate()
            .map(|(i, consumed)| match i {
                0 => Some(round_up(consumed / 2)),
                1 => None,
                i if i % 2 == 0 => Some(round_up(consumed * 6 / 5)),
                _ => Some(round_up(consumed * 3 / 2)),
            })
            .collect()
    }

    /// The dashboard license's capacity: a quarter more than the history, and more than
    /// the allocations (HEALTHY, with room left to allocate).
    pub fn capacity(&self) -> i64 {
        let used: i64 = self.tenant.iter().sum();
        let allocated: i64 = self.allocations().into_iter().flatten().sum();
        ((used * 5 / 4).max(allocated * 21 / 20) / 10_000 + 1) * 10_000
    }
}
