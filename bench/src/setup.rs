//! A fresh database, the organization made through the service layer (the same use
//! cases as the API), the history loaded through the ingestion use case in full
//! batches, and the real server started on it.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use chrono::{DateTime, Days, FixedOffset};
use futures_util::{StreamExt, stream};
use quotagraph::config::{Cli, LimitSettings, Settings};
use quotagraph::domain::{
    Quantity,
    access::{Actor, Role},
    ids::{FolderId, OrganizationId, ProcessId, TenantId},
    ingestion::{MAX_BATCH, UsageKind},
    period::Period,
};
use quotagraph::service::{self, AppContext, ingestion::NewUsageEvent};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::generator::{self, DASHBOARD_UNIT, Event, INGEST_UNIT, Plan, SERVICES, Sums};

/// The SYSTEM key the database is bootstrapped with.
const SYSTEM_KEY: &str = "qg_bench_system_key";
/// The pepper of API key hashes, the same for setup and the server.
const KEY_PEPPER: &str = "qg bench pepper";
/// Tenants kept for W5, each with 100 units of the ingestion unit type and no history.
pub const W5_TENANTS: usize = 6;
pub const W5_ALLOCATION: i64 = 100;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database made for one run, removed by [`Database::remove`], or kept for later runs.
pub struct Database {
    pub url: String,
    drop: Option<(String, String)>,
    file: Option<std::path::PathBuf>,
    /// Where a kept database's [`World`] is written.
    world_file: std::path::PathBuf,
}

impl Database {
    /// A new, empty database. A kept one (`keep`) has a name without the process id, so a
    /// later run finds it ([`Database::kept`]); making it again replaces it.
    pub async fn fresh(backend: Backend, admin_url: &str, tag: &str, keep: bool) -> anyhow::Result<Database> {
        let name = Self::name(tag, keep);
        let _ = std::fs::remove_file(Self::world_file(&name));
        match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("{name}.db"));
                for suffix in ["", "-journal", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
                }
                Ok(Database {
                    url: format!("sqlite://{}", file.display()),
                    drop: None,
                    file: Some(file),
                    world_file: Self::world_file(&name),
                })
            }
            Backend::Postgres => {
                let admin = sea_orm::Database::connect(admin_url)
                    .await
                    .with_context(|| format!("PostgreSQL at {admin_url}"))?;
                admin
                    .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                    .await?;
                admin.execute_unprepared(&format!("CREATE DATABASE \"{name}\"")).await?;
                admin.close().await?;
                let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
                Ok(Database {
                    url: format!("{base}/{name}"),
                    world_file: Self::world_file(&name),
                    drop: Some((admin_url.to_owned(), name)),
                    file: None,
                })
            }
        }
    }

    fn name(tag: &str, keep: bool) -> String {
        if keep {
            format!("qg_bench_{tag}_kept")
        } else {
            format!("qg_bench_{tag}_{}", std::process::id())
        }
    }

    fn world_file(name: &str) -> std::path::PathBuf {
        std::env::temp_dir().join(format!("{name}.world.json"))
    }

    /// The database an earlier run with `--keep` loaded, and the ids it made; `None` when
    /// there is none (its world file is written last, once loading finished).
    pub fn kept(backend: Backend, admin_url: &str, tag: &str) -> anyhow::Result<Option<(Database, World)>> {
        let name = Self::name(tag, true);
        let Ok(text) = std::fs::read_to_string(Self::world_file(&name)) else {
            return Ok(None);
        };
        let world: World = serde_json::from_str(&text)?;
        let database = match backend {
            Backend::Sqlite => {
                let file = std::env::temp_dir().join(format!("{name}.db"));
                Database {
                    url: format!("sqlite://{}", file.display()),
                    drop: None,
                    file: Some(file),
                    world_file: Self::world_file(&name),
                }
            }
            Backend::Postgres => {
                let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
                Database {
                    url: format!("{base}/{name}"),
                    world_file: Self::world_file(&name),
                    drop: Some((admin_url.to_owned(), name)),
                    file: None,
                }
            }
        };
        Ok(Some((database, world)))
    }

    /// Keeps the database for later runs: writes the ids its load made.
    pub fn keep(&self, world: &World) -> anyhow::Result<()> {
        std::fs::write(&self.world_file, serde_json::to_string(world)?)?;
        Ok(())
    }

    /// Size on disk, for the report.
    pub async fn bytes(&self, db: &DatabaseConnection) -> anyhow::Result<u64> {
        if let Some(file) = &self.file {
            return Ok(std::fs::metadata(file)?.len());
        }
        let row = db
            .query_one_raw(sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS size",
            ))
            .await?
            .context("no size")?;
        Ok(u64::try_from(row.try_get::<i64>("", "size")?).unwrap_or(0))
    }

    pub async fn remove(self) {
        if let Some(file) = &self.file {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
        }
        if let Some((admin, name)) = self.drop
            && let Ok(db) = sea_orm::Database::connect(&admin).await
        {
            let _ = db
                .execute_unprepared(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                .await;
            let _ = db.close().await;
        }
    }
}

/// The ids `setup` made for the plan's indexes, and what loading took.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct World {
    pub organization: Uuid,
    pub dashboard_unit: Uuid,
    pub ingest_unit: Uuid,
    pub tenants: Vec<Uuid>,
    pub tenant_names: Vec<String>,
    /// W5's tenants, after the plan's tenants (in creation order).
    pub w5_tenants: Vec<Uuid>,
    pub folders: Vec<Uuid>,
    pub folder_names: Vec<String>,
    pub processes: Vec<Uuid>,
    pub process_names: Vec<String>,
    pub services: Vec<Uuid>,
    pub viewer_key: String,
    pub ingest_key: String,
    pub setup_seconds: f64,
    pub load_seconds: f64,
    /// Batches that failed and were sent again while loading (see [`load`]).
    pub load_retries: u64,
}

fn fail(e: quotagraph::error::AppError) -> anyhow::Error {
    anyhow::anyhow!("{}", e.message())
}

/// Makes the organization through the use cases and loads the history.
pub async fn build(url: &str, plan: &Plan, sums: &Sums, loaders: usize) -> anyhow::Result<World> {
    let started = Instant::now();
    let db = quotagraph::store::connect(url).await?;
    quotagraph::startup::prepare_database(&db).await?;
    let ctx = AppContext {
        events: quotagraph::events::Bus::start(&db).await?,
        writer: quotagraph::store::writer(&db, url).await?,
        db,
        clock: quotagraph::clock::Clock::pinned(generator::now()),
        pepper: service::api_key::Pepper::new(KEY_PEPPER),
        watcher: Default::default(),
        memo: Default::default(),
        groups: Default::default(),
        webhooks: Default::default(),
        event_retention_days: None,
    };
    service::api_key::bootstrap(&ctx, Some(SYSTEM_KEY))
        .await
        .map_err(fail)?;
    let system = service::api_key::authenticate(&ctx, SYSTEM_KEY).await.map_err(fail)?;
    for code in [DASHBOARD_UNIT, INGEST_UNIT] {
        service::unit_type::create(&ctx, &system, code.into(), code.into())
            .await
            .map_err(fail)?;
    }
    let org = service::organization::create(
        &ctx,
        &system,
        service::organization::NewOrganization {
            name: "Bench Corp".into(),
            slug: "bench".into(),
            time_zone: "UTC".into(),
        },
    )
    .await
    .map_err(fail)?;
    let org_id = OrganizationId(org.id);
    for (unit, capacity) in [(DASHBOARD_UNIT, sums.capacity()), (INGEST_UNIT, 1_000_000_000 * 10_000)] {
        service::license::create(
            &ctx,
            &system,
            service::license::NewLicense {
                organization_id: org_id,
                unit_type: unit.into(),
                plan_name: format!("{unit} plan"),
                capacity: Quantity::from_scaled(capacity).to_string(),
                period: Period::Year,
                starts_on: generator::first_day(),
                ends_on: None,
                burst_percent: 100,
                burst_periods: 0,
                enforced: false,
            },
        )
        .await
        .map_err(fail)?;
    }
    let allocate = |tenant: Uuid, unit: &str, amount: i64| {
        service::allocation::set(
            &ctx,
            &system,
            service::allocation::AllocationChange {
                tenant_id: TenantId(tenant),
                unit_type: unit.into(),
                amount: Some(Quantity::from_scaled(amount).to_string()),
                effective_on: None,
            },
        )
    };
    let tenant_names: Vec<String> = (0..plan.size.tenants).map(|t| format!("tenant-{t:04}")).collect();
    let mut tenants = Vec::new();
    for name in &tenant_names {
        tenants.push(
            service::tenant::create(&ctx, &system, org_id, name.clone())
                .await
                .map_err(fail)?
                .id,
        );
    }
    let mut w5_tenants = Vec::new();
    for i in 0..W5_TENANTS {
        let id = service::tenant::create(&ctx, &system, org_id, format!("w5-{i}"))
            .await
            .map_err(fail)?
            .id;
        allocate(id, INGEST_UNIT, W5_ALLOCATION * 10_000).await.map_err(fail)?;
        w5_tenants.push(id);
    }
    for (tenant, amount) in tenants.iter().zip(sums.allocations()) {
        if let Some(amount) = amount {
            allocate(*tenant, DASHBOARD_UNIT, amount).await.map_err(fail)?;
        }
    }
    let folder_names: Vec<String> = (0..plan.size.folders).map(|f| format!("folder-{f:05}")).collect();
    let mut folders: Vec<Uuid> = Vec::with_capacity(plan.size.folders);
    for (f, name) in folder_names.iter().enumerate() {
        // Parents have lower indexes, so they exist already.
        let parent = plan.folder_parent[f].map(|p| FolderId(folders[p]));
        let tenant = TenantId(tenants[plan.folder_tenant[f]]);
        let made = service::folder::create_folder(&ctx, &system, tenant, parent, name.clone(), None)
            .await
            .map_err(fail)?;
        folders.push(made.id);
    }
    let process_names: Vec<String> = (0..plan.size.processes).map(|p| format!("process-{p:06}")).collect();
    // Processes are independent of each other: made a few at a time.
    let made: Vec<anyhow::Result<Uuid>> = stream::iter(process_names.iter().enumerate())
        .map(|(p, name)| {
            let (ctx, system, folder) = (&ctx, &system, FolderId(folders[plan.process_folder[p]]));
            async move {
                Ok(service::folder::create_process(ctx, system, folder, name.clone(), None)
                    .await
                    .map_err(fail)?
                    .id)
            }
        })
        .buffered(loaders.max(1) * 2)
        .collect()
        .await;
    let processes = made.into_iter().collect::<anyhow::Result<Vec<Uuid>>>()?;
    let key = |role: Role, name: &str| {
        service::api_key::create(
            &ctx,
            &system,
            service::api_key::NewKey {
                organization_id: Some(org_id),
                tenant_id: None,
                role,
                name: name.into(),
            },
        )
    };
    let viewer_key = key(Role::Viewer, "bench reads").await.map_err(fail)?.secret;
    let ingest_key = key(Role::Ingest, "bench writes").await.map_err(fail)?.secret;
    let setup_seconds = started.elapsed().as_secs_f64();

    let mut world = World {
        organization: org.id,
        dashboard_unit: Uuid::nil(),
        ingest_unit: Uuid::nil(),
        tenants,
        tenant_names,
        w5_tenants,
        folders,
        folder_names,
        processes,
        process_names,
        services: Vec::new(),
        viewer_key,
        ingest_key,
        setup_seconds,
        load_seconds: 0.0,
        load_retries: 0,
    };
    let started = Instant::now();
    world.load_retries = load(&ctx, &system, plan, &world, loaders).await?;
    if ctx.db.get_database_backend() == sea_orm::DbBackend::Postgres {
        // What autovacuum does on its own after a bulk load; done now so every run
        // measures the same plans.
        ctx.db.execute_unprepared("ANALYZE").await?;
    }
    world.load_seconds = started.elapsed().as_secs_f64();
    let ids = |sql: &str| {
        let db = &ctx.db;
        let sql = sql.to_owned();
        async move {
            let rows = db
                .query_all_raw(sea_orm::Statement::from_string(db.get_database_backend(), sql))
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<String>("", "code")?, r.try_get::<Uuid>("", "id")?)))
                .collect::<anyhow::Result<HashMap<String, Uuid>>>()
        }
    };
    let units = ids("SELECT code, id FROM unit_types").await?;
    world.dashboard_unit = units[DASHBOARD_UNIT];
    world.ingest_unit = units[INGEST_UNIT];
    let services = ids("SELECT code, id FROM services").await?;
    world.services = SERVICES
        .iter()
        .map(|code| services.get(*code).copied().context("a service was never used"))
        .collect::<anyhow::Result<_>>()?;
    // Dropped, not closed: on PostgreSQL the event bus's listener holds one of the pool's
    // connections until the bus goes, and closing waits for every connection.
    drop(ctx);
    Ok(world)
}

/// The instant of a history event.
fn instant(event: &Event) -> DateTime<FixedOffset> {
    let day = generator::first_day() + Days::new(u64::from(event.day));
    let start = day.and_hms_opt(0, 0, 0).expect("midnight").and_utc();
    (start + chrono::TimeDelta::seconds(i64::from(event.second))).fixed_offset()
}

fn usage_event(world: &World, event: &Event) -> NewUsageEvent {
    NewUsageEvent {
        idempotency_key: format!("h{}", event.key),
        tenant_id: TenantId(world.tenants[event.tenant]),
        unit_type: if event.dashboard { DASHBOARD_UNIT } else { INGEST_UNIT }.into(),
        service: SERVICES[event.service].into(),
        quantity: Quantity::from_scaled(event.quantity).to_string(),
        occurred_at: instant(event),
        kind: if event.upload {
            UsageKind::Upload
        } else {
            UsageKind::Execution
        },
        job_id: event.job.map(|j| format!("j{j}")),
        parent_job_id: event.parent.map(|j| format!("j{j}")),
        process_id: event.process.map(|p| ProcessId(world.processes[p])),
        folder_id: event.folder.map(|f| FolderId(world.folders[f])),
        process_key: None,
        folder_key: None,
        duration_ms: Some(event.duration_ms),
    }
}

/// Loads the history through `recordUsage`'s use case in full batches (one transaction
/// each). A batch never splits a chain, so batches are independent and `loaders` of them
/// run at once (on SQLite they queue for the write lock anyway). Concurrent batches can
/// fail on PostgreSQL (a deadlock between their rollup upserts, reported as INTERNAL);
/// a failed batch wrote nothing, so it is sent again, up to 3 times, and counted.
async fn load(ctx: &AppContext, system: &Actor, plan: &Plan, world: &World, loaders: usize) -> anyhow::Result<u64> {
    let total = plan.size.events;
    let mut history = plan.history().peekable();
    let batches = std::iter::from_fn(move || {
        let mut batch: Vec<NewUsageEvent> = Vec::with_capacity(MAX_BATCH);
        while let Some(run) = history.peek() {
            if batch.len() + run.len() > MAX_BATCH {
                break;
            }
            batch.extend(run.iter().map(|e| usage_event(world, e)));
            history.next();
        }
        (!batch.is_empty()).then_some(batch)
    });
    let started = Instant::now();
    let mut done = 0u64;
    let retries = std::sync::atomic::AtomicU64::new(0);
    let retries = &retries;
    let mut next_report = total / 10;
    let mut results = stream::iter(batches)
        .map(|batch| async move {
            let n = batch.len();
            let mut attempt = 0;
            let recorded = loop {
                match service::ingestion::record(ctx, system, batch.clone()).await {
                    Err(quotagraph::error::AppError::Internal(_)) if attempt < 3 => {
                        attempt += 1;
                        retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    other => break other.map_err(fail)?,
                }
            };
            anyhow::ensure!(recorded.accepted == n, "loading: {} of {n} accepted", recorded.accepted);
            Ok(n)
        })
        .buffer_unordered(loaders.max(1));
    while let Some(result) = results.next().await {
        done += result? as u64;
        if done >= next_report {
            eprintln!(
                "  loaded {done} of {total} events ({:.0} events/s)",
                done as f64 / started.elapsed().as_secs_f64()
            );
            next_report += total / 10;
        }
    }
    drop(results);
    Ok(retries.load(std::sync::atomic::Ordering::Relaxed))
}

/// The real server on a free port, and how to stop it.
pub struct Server {
    pub address: String,
    pub statements: quotagraph::store::StatementCounter,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl Server {
    pub async fn start(url: &str) -> anyhow::Result<Server> {
        // Every other setting at its default, whatever settings the server grows.
        let mut settings: Settings = <Cli as clap::Parser>::try_parse_from(["quotagraph"])?.settings;
        settings.bind = "127.0.0.1:0".into();
        settings.database_url = url.into();
        settings.demo = false;
        settings.bootstrap_key = None;
        settings.key_pepper = Some(KEY_PEPPER.into());
        settings.clock = Some(generator::now());
        // The pinned clock never reaches a new day: keep the watcher's ticker quiet so
        // W4's statement counts are the request's alone.
        settings.watch_interval_ms = 3_600_000;
        settings.limits = LimitSettings {
            // One key stands for many clients here; the per-key rate and connection
            // limits are a production safeguard, not what is measured.
            rate_per_second: 100_000_000,
            rate_burst: 100_000_000,
            max_connections_per_key: 100_000,
            ..LimitSettings::default()
        };
        let app = quotagraph::startup::App::build(&settings).await?;
        let address = format!("127.0.0.1:{}", app.port());
        let statements = app.statements();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.run_until_stopped(async move {
            let _ = stopped.await;
        }));
        Ok(Server {
            address,
            statements,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await??;
        }
        Ok(())
    }
}
