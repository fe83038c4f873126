//! `serve --demo`: on an empty store, a realistic organization to explore — tenants in
//! every state, nested folders, processes whose runs start each other across folders,
//! two unit types, a test-execution license with a 130% burst, and three months of
//! usage — made through the same use cases as the API, as the SYSTEM operator.

use std::fmt;

use chrono::{Datelike, Months, NaiveDate, TimeDelta, Utc};
use rand::{Rng, SeedableRng, rngs::StdRng};

use super::{AppContext, allocation, api_key, folder, ingestion, license, organization, tenant, unit_type};
use crate::domain::{
    access::{Actor, Role},
    ids::{ApiKeyId, FolderId, OrganizationId, ProcessId, TenantId},
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
    let system = Actor {
        key_id: ApiKeyId(uuid::Uuid::nil()),
        role: Role::System,
        organization_id: None,
        tenant_id: None,
    };
    let units = [
        ("test-executions", "Test executions"),
        ("platform-units", "Platform units"),
    ];
    for (code, name) in units {
        if store::unit_type::find_by_code(&ctx.db, code).await?.is_none() {
            unit_type::create(ctx, &system, code.into(), name.into()).await?;
        }
    }
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
    let three_months_ago = month_start.checked_sub_months(Months::new(2)).unwrap_or(month_start);
    let licenses = [
        (
            "test-executions",
            "Test Cloud Pro",
            "5000",
            Period::Month,
            three_months_ago,
            130,
            3,
            true,
        ),
        (
            "platform-units",
            "Automation Enterprise",
            "120000",
            Period::Year,
            three_months_ago,
            100,
            0,
            false,
        ),
    ];
    for (unit, plan, capacity, period, starts_on, burst_percent, burst_periods, enforced) in licenses {
        license::create(
            ctx,
            &system,
            license::NewLicense {
                organization_id: org_id,
                unit_type: unit.into(),
                plan_name: plan.into(),
                capacity: capacity.into(),
                period,
                starts_on,
                ends_on: None,
                burst_percent,
                burst_periods,
                enforced,
            },
        )
        .await?;
    }

    let names = ["Production", "Staging", "QA", "Research", "Legacy"];
    let mut tenants = Vec::new();
    for name in names {
        tenants.push(TenantId(tenant::create(ctx, &system, org_id, name.into()).await?.id));
    }
    let allocations = [
        (0, "platform-units", Some("50000")),
        (1, "platform-units", Some("25000")),
        (2, "platform-units", None),
        (3, "platform-units", Some("8000")),
        (4, "platform-units", Some("10000")),
        (0, "test-executions", Some("2500")),
        (1, "test-executions", Some("1500")),
        (3, "test-executions", Some("400")),
    ];
    for (index, unit, amount) in allocations {
        let Some(amount) = amount else { continue };
        allocation::set(
            ctx,
            &system,
            allocation::AllocationChange {
                tenant_id: tenants[index],
                unit_type: unit.into(),
                amount: Some(amount.into()),
                effective_on: None,
            },
        )
        .await?;
    }

    // Production: Finance (with Invoices inside) and HR; Staging: Shared; QA: Regression.
    let mut folders = Vec::new();
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
            &system,
            tenants[tenant_index],
            parent.map(|p| folders[p]),
            name.into(),
        )
        .await?;
        folders.push(FolderId(made.id));
    }
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
        let made = folder::create_process(ctx, &system, folders[folder_index], name.into()).await?;
        processes.push(DemoProcess {
            id: ProcessId(made.id),
            folder: folders[folder_index],
            tenant: tenants[tenant_index],
            starts,
        });
    }

    let events = usage(ctx, &system, &tenants, &processes, three_months_ago, today).await?;

    tenant::update(ctx, &system, tenants[3], None, Some(TenantState::Disabled)).await?;
    tenant::update(ctx, &system, tenants[4], None, Some(TenantState::Deleted)).await?;
    let owner_key = api_key::issue(ctx, Role::Owner, org.id, "demo owner").await?;
    Ok(Some(Demo {
        organization_id: org_id,
        owner_key,
        events,
    }))
}

/// Three months of runs: each day, each busy process runs a few times; a run of a
/// process that starts another records a child run in the other's folder.
async fn usage(
    ctx: &AppContext,
    system: &Actor,
    tenants: &[TenantId],
    processes: &[DemoProcess],
    from: NaiveDate,
    today: NaiveDate,
) -> AppResult<usize> {
    let mut rng = StdRng::seed_from_u64(20261123);
    let now = ctx.clock.now();
    let mut batch = Vec::new();
    let mut day = from;
    let mut sequence = 0usize;
    let services = ["orchestrator", "robots", "test-manager", "apps"];
    while day <= today {
        for (index, process) in processes.iter().enumerate() {
            // A process that is started by another only runs as a child.
            if processes.iter().any(|p| p.starts == Some(index)) {
                continue;
            }
            let runs = rng.random_range(0..=if process.tenant == tenants[0] { 6 } else { 3 });
            for _ in 0..runs {
                let at = day
                    .and_hms_opt(rng.random_range(6..20), rng.random_range(0..60), 0)
                    .unwrap_or_default()
                    .and_utc();
                if at > now {
                    continue;
                }
                let mut parent: Option<String> = None;
                let mut current = Some(index);
                while let Some(i) = current {
                    let p = &processes[i];
                    sequence += 1;
                    let job = format!("run-{sequence}");
                    let unit = if rng.random_bool(0.5) {
                        "platform-units"
                    } else {
                        "test-executions"
                    };
                    batch.push(ingestion::NewUsageEvent {
                        idempotency_key: format!("demo-{sequence}"),
                        tenant_id: p.tenant,
                        unit_type: unit.into(),
                        service: services[rng.random_range(0..services.len())].into(),
                        quantity: if unit == "platform-units" {
                            rng.random_range(5..60).to_string()
                        } else {
                            "1".into()
                        },
                        occurred_at: (at + TimeDelta::minutes(i64::try_from(i).unwrap_or(0))).fixed_offset(),
                        kind: if rng.random_bool(0.15) {
                            UsageKind::Upload
                        } else {
                            UsageKind::Execution
                        },
                        job_id: Some(job.clone()),
                        parent_job_id: parent.clone(),
                        process_id: Some(p.id),
                        folder_id: Some(p.folder),
                        duration_ms: Some(rng.random_range(2_000..600_000)),
                    });
                    parent = Some(job);
                    current = p.starts;
                }
            }
        }
        // Some usage outside any folder or process.
        for tenant in &tenants[..3] {
            sequence += 1;
            let at = day.and_hms_opt(12, 0, 0).unwrap_or_default().and_utc();
            if at <= now.min(Utc::now()) {
                batch.push(ingestion::NewUsageEvent {
                    idempotency_key: format!("demo-{sequence}"),
                    tenant_id: *tenant,
                    unit_type: "platform-units".into(),
                    service: "apps".into(),
                    quantity: format!("{}.5", rng.random_range(1..20)),
                    occurred_at: at.fixed_offset(),
                    kind: UsageKind::Execution,
                    job_id: None,
                    parent_job_id: None,
                    process_id: None,
                    folder_id: None,
                    duration_ms: None,
                });
            }
        }
        day = day.succ_opt().unwrap_or(today);
        if day == today && batch.len() > 1 && day <= from {
            break;
        }
    }
    let total = batch.len();
    for chunk in batch.chunks(5_000) {
        ingestion::record(ctx, system, chunk.to_vec()).await?;
    }
    Ok(total)
}
