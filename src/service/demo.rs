//! `serve --demo`: on an empty store, a realistic organization to explore — tenants in
//! every state, nested folders, processes whose runs start each other across folders,
//! two unit types, a test-execution license with a 130% burst, topped up this month and
//! spending its burst, and three months of usage — made through the same use cases as
//! the API, as the SYSTEM operator.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{AppContext, allocation, api_key, folder, ingestion, license, organization, tenant, unit_type, usage};
use crate::domain::{
    access::{Actor, Role},
    ids::{ApiKeyId, FolderId, LicenseId, OrganizationId, ProcessId, TenantId},
    ingestion::UsageKind,
    period::Period,
    tenant::TenantState,
};
use crate::error::AppResult;
use crate::store;

/// What the demo made, to print.
pub struct Demo {
    pub organization_id: OrganizationId,
    pub owner_key: String,
    pub events: usize,
}

impl fmt::Display for Demo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Demo organization 'Acme Corp' created with {} usage events.",
            self.events
        )?;
        write!(f, "Its OWNER API key (shown once): {}", self.owner_key)
    }
}

/// One process of the demo, where it runs and which process it starts.
struct DemoProcess {
    id: ProcessId,
    folder: FolderId,
    tenant: TenantId,
    /// The index of the process a run of this one starts, if any.
    starts: Option<usize>,
}

/// Seeds the demo when the store has no organization yet; `None` otherwise.
pub async fn seed(ctx: &AppContext) -> AppResult<Option<Demo>> {
    if store::organization::any(&ctx.db).await? {
        return Ok(None);
    }
    let system = operator();
    ensure_unit_types(ctx, &system).await?;
    let org = organization::create(
        ctx,
        &system,
        organization::NewOrganization {
            name: "Acme Corp".into(),
            slug: "acme".into(),
            time_zone: "Europe/Paris".into(),
        },
    )
    .await?;
    let org_id = OrganizationId(org.id);
    let today = ctx.clock.today_in(super::zone_of(&org)?);
    let month_start = NaiveDate::from_ymd_opt(today.year(), today.month(), 1).unwrap_or(today);
    let start = month_start.checked_sub_months(Months::new(2)).unwrap_or(month_start);
    let test_license = buy_licenses(ctx, &system, org_id, start).await?;
    let tenants = create_tenants(ctx, &system, org_id).await?;
    allocate(ctx, &system, &tenants).await?;
    let folders = create_folders(ctx, &system, &tenants).await?;
    let processes = create_processes(ctx, &system, &tenants, &folders).await?;
    let events = record_usage(ctx, &system, &tenants, &processes, start, today).await?;
    top_up_and_spend_the_burst(ctx, &system, org_id, test_license, tenants[0]).await?;
    name_services(ctx, &system).await?;
    tenant::update(ctx, &system, tenants[3], None, Some(TenantState::Disabled)).await?;
    tenant::update(ctx, &system, tenants[4], None, Some(TenantState::Deleted)).await?;
    let owner_key = api_key::issue(ctx, Role::Owner, org.id, "demo owner").await?;
    Ok(Some(Demo {
        organization_id: org_id,
        owner_key,
        events,
    }))
}

/// The demo is made as the operator would make it.
fn operator() -> Actor {
    Actor {
        key_id: ApiKeyId(uuid::Uuid::nil()),
        role: Role::System,
        organization_id: None,
        tenant_id: None,
    }
}

async fn ensure_unit_types(ctx: &AppContext, system: &Actor) -> AppResult<()> {
    let units = [
        ("test-executions", "Test executions"),
        ("platform-units", "Platform units"),
    ];
    for (code, name) in units {
        if store::unit_type::find_by_code(&ctx.db, code).await?.is_none() {
            unit_type::create(ctx, system, code.into(), name.into()).await?;
        }
    }
    Ok(())
}

/// A monthly test-execution license with a 130% burst for its first 3 months, and a yearly
/// platform-unit one, both from `start`.
/// Returns the test-execution license.
async fn buy_licenses(ctx: &AppContext, system: &Actor, org: OrganizationId, start: NaiveDate) -> AppResult<LicenseId> {
    let licenses = [
        ("test-executions", "Test Cloud Pro", "5000", Period::Month, 130, 3, true),
        (
            "platform-units",
            "Automation Enterprise",
            "120000",
            Period::Year,
            100,
            0,
            false,
        ),
    ];
    let mut bought = Vec::new();
    for (unit, plan, capacity, period, burst_percent, burst_periods, enforced) in licenses {
        let license = license::NewLicense {
            organization_id: org,
            unit_type: unit.into(),
            plan_name: plan.into(),
            capacity: capacity.into(),
            period,
            starts_on: start,
            ends_on: None,
            burst_percent,
            burst_periods,
            enforced,
        };
        bought.push(LicenseId(license::create(ctx, system, license).await?.id));
    }
    Ok(bought[0])
}

/// This month the vendor sold 500 more test executions, and a nightly load test took the
/// organization past its capacity into its burst: 110% of it, within the 130% limit, so it
/// NEEDS_ATTENTION rather than being CRITICAL.
async fn top_up_and_spend_the_burst(
    ctx: &AppContext,
    system: &Actor,
    org: OrganizationId,
    license: LicenseId,
    tenant: TenantId,
) -> AppResult<()> {
    let top_up = license::TopUpRequest {
        license_id: license,
        amount: "500".into(),
        effective_on: None,
    };
    license::add_capacity(ctx, system, top_up).await?;
    let query = usage::UsageQuery {
        organization_id: org,
        unit_type: "test-executions".into(),
        bundle: None,
        range: None,
    };
    let figures = usage::report(ctx, system, query).await?.figures.usage.organization;
    let target = figures.total_capacity.percent_of(110);
    if figures.consumed >= target {
        return Ok(());
    }
    let load_test = ingestion::NewUsageEvent {
        idempotency_key: "demo-load-test".into(),
        tenant_id: tenant,
        unit_type: "test-executions".into(),
        service: "test-manager".into(),
        quantity: (target - figures.consumed).to_string(),
        occurred_at: ctx.clock.now().fixed_offset(),
        kind: UsageKind::Execution,
        job_id: None,
        parent_job_id: None,
        process_id: None,
        folder_id: None,
        process_key: None,
        folder_key: None,
        duration_ms: Some(3_600_000),
    };
    ingestion::record(ctx, system, vec![load_test]).await?;
    Ok(())
}

async fn create_tenants(ctx: &AppContext, system: &Actor, org: OrganizationId) -> AppResult<Vec<TenantId>> {
    let mut tenants = Vec::new();
    for name in ["Production", "Staging", "QA", "Research", "Legacy"] {
        tenants.push(TenantId(tenant::create(ctx, system, org, name.into()).await?.id));
    }
    Ok(tenants)
}

async fn allocate(ctx: &AppContext, system: &Actor, tenants: &[TenantId]) -> AppResult<()> {
    let allocations = [
        (0, "platform-units", "50000"),
        (1, "platform-units", "25000"),
        (3, "platform-units", "8000"),
        (4, "platform-units", "10000"),
        (0, "test-executions", "2500"),
        (1, "test-executions", "1500"),
        (3, "test-executions", "400"),
    ];
    for (index, unit, amount) in allocations {
        let change = allocation::AllocationChange {
            tenant_id: tenants[index],
            unit_type: unit.into(),
            amount: Some(amount.into()),
            effective_on: None,
        };
        allocation::set(ctx, system, change).await?;
    }
    Ok(())
}

/// Production: Finance (with Invoices inside) and HR; Staging: Shared; QA: Regression;
/// Legacy: Archive.
async fn create_folders(ctx: &AppContext, system: &Actor, tenants: &[TenantId]) -> AppResult<Vec<FolderId>> {
    let mut folders: Vec<FolderId> = Vec::new();
    for (tenant_index, parent, name) in [
        (0, None, "Finance"),
        (0, Some(0), "Invoices"),
        (0, None, "HR"),
        (1, None, "Shared"),
        (2, None, "Regression"),
        (4, None, "Archive"),
    ] {
        let parent: Option<usize> = parent;
        let made = folder::create_folder(
            ctx,
            system,
            tenants[tenant_index],
            parent.map(|p| folders[p]),
            name.into(),
            None,
        )
        .await?;
        folders.push(FolderId(made.id));
    }
    Ok(folders)
}

/// The processes, and which process a run of each starts.
async fn create_processes(
    ctx: &AppContext,
    system: &Actor,
    tenants: &[TenantId],
    folders: &[FolderId],
) -> AppResult<Vec<DemoProcess>> {
    let specs: [(usize, usize, &str, Option<usize>); 7] = [
        (0, 0, "Month-end close", Some(1)),
        (0, 1, "Invoice OCR", Some(2)),
        (0, 2, "Payroll export", None),
        (1, 3, "Nightly regression", Some(4)),
        (1, 3, "Smoke tests", None),
        (2, 4, "Exploratory suite", None),
        (4, 5, "Old importer", None),
    ];
    let mut processes = Vec::new();
    for (tenant_index, folder_index, name, starts) in specs {
        let made = folder::create_process(ctx, system, folders[folder_index], name.into(), None).await?;
        processes.push(DemoProcess {
            id: ProcessId(made.id),
            folder: folders[folder_index],
            tenant: tenants[tenant_index],
            starts,
        });
    }
    Ok(processes)
}

/// Three months of runs, recorded in batches: each day, each busy process runs a few
/// times, and some usage falls outside any folder or process.
async fn record_usage(
    ctx: &AppContext,
    system: &Actor,
    tenants: &[TenantId],
    processes: &[DemoProcess],
    from: NaiveDate,
    today: NaiveDate,
) -> AppResult<usize> {
    let mut usage = DemoUsage {
        rng: StdRng::seed_from_u64(20261123),
        now: ctx.clock.now(),
        sequence: 0,
        batch: Vec::new(),
    };
    let mut day = from;
    while day <= today {
        usage.runs_of(day, tenants, processes);
        usage.loose_usage(day, &tenants[..3]);
        if day == today {
            break;
        }
        day = day.succ_opt().unwrap_or(today);
    }
    let total = usage.batch.len();
    for chunk in usage.batch.chunks(5_000) {
        ingestion::record(ctx, system, chunk.to_vec()).await?;
    }
    Ok(total)
}

/// The demo's usage as it is generated, from a seeded generator (the same demo each time).
struct DemoUsage {
    rng: StdRng,
    now: chrono::DateTime<Utc>,
    sequence: usize,
    batch: Vec<ingestion::NewUsageEvent>,
}

const SERVICES: [&str; 4] = ["orchestrator", "robots", "test-manager", "apps"];

/// The display names the operator gives the demo's services (made by the usage above).
const SERVICE_NAMES: [(&str, &str); 4] = [
    ("orchestrator", "Orchestrator"),
    ("robots", "Unattended Robots"),
    ("test-manager", "Test Manager"),
    ("apps", "Apps"),
];

async fn name_services(ctx: &AppContext, system: &Actor) -> AppResult<()> {
    for (code, name) in SERVICE_NAMES {
        super::service_catalog::rename(ctx, system, code, name).await?;
    }
    Ok(())
}

impl DemoUsage {
    /// One day's runs: a run of a process that starts another records a child run in the
    /// other's folder, down its chain.
    fn runs_of(&mut self, day: NaiveDate, tenants: &[TenantId], processes: &[DemoProcess]) {
        for (index, process) in processes.iter().enumerate() {
            // A process that is started by another only runs as a child.
            if processes.iter().any(|p| p.starts == Some(index)) {
                continue;
            }
            let runs = self
                .rng
                .random_range(0..=if process.tenant == tenants[0] { 6 } else { 3 });
            for _ in 0..runs {
                let at = day
                    .and_hms_opt(self.rng.random_range(6..20), self.rng.random_range(0..60), 0)
                    .unwrap_or_default()
                    .and_utc();
                if at <= self.now {
                    self.chain(at, index, processes);
                }
            }
        }
    }

    /// A run of `first` at `at`, and the runs it starts down its chain.
    fn chain(&mut self, at: chrono::DateTime<Utc>, first: usize, processes: &[DemoProcess]) {
        let mut parent: Option<String> = None;
        let mut current = Some(first);
        while let Some(i) = current {
            let p = &processes[i];
            self.sequence += 1;
            let job = format!("run-{}", self.sequence);
            let unit = if self.rng.random_bool(0.5) {
                "platform-units"
            } else {
                "test-executions"
            };
            let event = ingestion::NewUsageEvent {
                idempotency_key: format!("demo-{}", self.sequence),
                tenant_id: p.tenant,
                unit_type: unit.into(),
                service: SERVICES[self.rng.random_range(0..SERVICES.len())].into(),
                quantity: if unit == "platform-units" {
                    self.rng.random_range(5..60).to_string()
                } else {
                    "1".into()
                },
                occurred_at: (at + TimeDelta::minutes(i64::try_from(i).unwrap_or(0))).fixed_offset(),
                kind: if self.rng.random_bool(0.15) {
                    UsageKind::Upload
                } else {
                    UsageKind::Execution
                },
                job_id: Some(job.clone()),
                parent_job_id: parent.clone(),
                process_id: Some(p.id),
                folder_id: Some(p.folder),
                process_key: None,
                folder_key: None,
                duration_ms: Some(self.rng.random_range(2_000..600_000)),
            };
            self.batch.push(event);
            parent = Some(job);
            current = p.starts;
        }
    }

    /// Some usage outside any folder or process, at noon.
    fn loose_usage(&mut self, day: NaiveDate, tenants: &[TenantId]) {
        for tenant in tenants {
            self.sequence += 1;
            let at = day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
            if at <= self.now.min(Utc::now()) {
                let event = ingestion::NewUsageEvent {
                    idempotency_key: format!("demo-{}", self.sequence),
                    tenant_id: *tenant,
                    unit_type: "platform-units".into(),
                    service: "apps".into(),
                    quantity: format!("{}.5", self.rng.random_range(1..20)),
                    occurred_at: at.fixed_offset(),
                    kind: UsageKind::Execution,
                    job_id: None,
                    parent_job_id: None,
                    process_id: None,
                    folder_id: None,
                    process_key: None,
                    folder_key: None,
                    duration_ms: None,
                };
                self.batch.push(event);
            }
        }
    }
}
