//! quotagraph's benchmark (issue 7; docs/benchmarks.md): generates an organization at a
//! scale, loads it through the service layer, starts the real server in-process and runs
//! the workloads over HTTP and WebSocket against it and, in the same run, against the
//! limit (plain SQL over the rollups, in-process and behind bare axum) and a naive peer
//! (a second GraphQL schema summing raw events field by field). Every answer is checked;
//! a wrong one, or a W4 statement count above the query's depth + 2, exits non-zero.

mod check;
mod expected;
mod generator;
mod limit;
mod load;
mod naive;
mod setup;
mod subscribers;
mod workloads;

use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

use generator::{Plan, Scale, Sums};
use setup::{Backend, Database, Server};
use workloads::Bench;

#[derive(Parser, Debug)]
#[command(name = "quotagraph-bench", about = "quotagraph's benchmark (docs/benchmarks.md)")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// S (CI), M (the targets) or L (manual only).
    #[arg(long, value_enum, ignore_case = true, default_value = "s")]
    scale: Scale,
    /// One or both, comma-separated.
    #[arg(
        long,
        value_enum,
        ignore_case = true,
        value_delimiter = ',',
        default_value = "sqlite"
    )]
    database: Vec<Backend>,
    /// PostgreSQL to create the run's database in (dropped afterwards).
    #[arg(
        long,
        env = "BENCH_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/test"
    )]
    postgres_url: String,
    /// Write the results here as JSON.
    #[arg(long)]
    out: Option<std::path::PathBuf>,
    /// Only these workloads, comma-separated (default: all).
    #[arg(long, value_delimiter = ',')]
    workloads: Vec<String>,
    /// Seconds each measurement runs (default: 1 at S, 10 at M and L).
    #[arg(long)]
    seconds: Option<f64>,
    /// Keep the loaded databases (named `qg_bench_<scale>_<database>_kept`) for `--reuse`.
    #[arg(long)]
    keep: bool,
    /// Measure on the databases an earlier `--keep` run loaded, if there are any, instead of
    /// loading again (the server migrates them first). Only the reads (W3, W4): the other
    /// workloads' writes would change what a later run measures.
    #[arg(long)]
    reuse: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// W5's subscribers (started by the benchmark itself).
    #[command(hide = true)]
    Subscribers(subscribers::Args),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if let Some(Command::Subscribers(args)) = cli.command {
        return runtime.block_on(subscribers::run(args));
    }
    let (results, failures) = runtime.block_on(run(&cli))?;
    if let Some(out) = &cli.out {
        std::fs::write(out, serde_json::to_string_pretty(&results)?)?;
        eprintln!("results written to {}", out.display());
    }
    if !failures.is_empty() {
        eprintln!("\nFAILED:");
        for failure in &failures {
            eprintln!("  {failure}");
        }
        std::process::exit(1);
    }
    Ok(())
}

async fn run(cli: &Cli) -> anyhow::Result<(Value, Vec<String>)> {
    let size = cli.scale.size();
    let seconds = cli.seconds.unwrap_or(if cli.scale == Scale::S { 1.0 } else { 10.0 });
    let wanted = |w: &str| cli.workloads.is_empty() || cli.workloads.iter().any(|x| x.eq_ignore_ascii_case(w));
    let plan = Arc::new(Plan::new(size));
    let started = Instant::now();
    let sums = Sums::of(&plan);
    eprintln!(
        "generated {} events' sums in {:.1} s",
        sums.events,
        started.elapsed().as_secs_f64()
    );
    if cli.reuse && ["W1", "W2", "W5", "W6"].iter().any(|w| wanted(w)) {
        anyhow::bail!("--reuse measures the reads only: add --workloads W3,W4");
    }
    let mut databases = serde_json::Map::new();
    let mut failures = Vec::new();
    for backend in &cli.database {
        eprintln!("\n== {} at scale {:?}", backend.name(), cli.scale);
        let tag = format!("{:?}_{}", cli.scale, backend.name()).to_lowercase();
        let kept = if cli.reuse {
            Database::kept(*backend, &cli.postgres_url, &tag)?
        } else {
            None
        };
        let reused = kept.is_some();
        let (database, world) = match kept {
            Some((database, world)) => {
                eprintln!("  reusing {} (loaded by an earlier --keep run)", database.url);
                (database, Some(world))
            }
            None => (
                Database::fresh(*backend, &cli.postgres_url, &tag, cli.keep || cli.reuse).await?,
                None,
            ),
        };
        let outcome = run_on(&database, &plan, &sums, seconds, &wanted, world).await;
        if cli.keep || cli.reuse {
            if let Ok((_, _, world)) = &outcome
                && !reused
            {
                database.keep(world)?;
            }
        } else {
            database.remove().await;
        }
        let (mut result, mut failed, _) = outcome?;
        result["reused_database"] = reused.into();
        print_table(backend.name(), &result);
        failures.append(&mut failed);
        databases.insert(backend.name().into(), result);
    }
    let results = json!({
        "scale": cli.scale,
        "size": size,
        "seconds_per_measurement": seconds,
        "machine": { "cores": std::thread::available_parallelism().map_or(0, |n| n.get()) },
        "command": std::env::args().collect::<Vec<_>>().join(" "),
        "databases": databases,
        "failures": failures,
    });
    Ok((results, failures))
}

async fn run_on(
    database: &Database,
    plan: &Arc<Plan>,
    sums: &Sums,
    seconds: f64,
    wanted: &impl Fn(&str) -> bool,
    kept: Option<setup::World>,
) -> anyhow::Result<(Value, Vec<String>, Arc<setup::World>)> {
    let postgres = database.url.starts_with("postgres");
    let world = Arc::new(match kept {
        Some(world) => world,
        None => setup::build(&database.url, plan, sums, if postgres { 2 } else { 1 }).await?,
    });
    eprintln!(
        "  setup {:.1} s; loaded {} events in {:.1} s ({:.0} events/s, {} batches sent again)",
        world.setup_seconds,
        sums.events,
        world.load_seconds,
        sums.events as f64 / world.load_seconds,
        world.load_retries
    );
    let started = Instant::now();
    let server = Server::start(&database.url).await?;
    let server_start_seconds = started.elapsed().as_secs_f64();
    let limit = limit::Limit::connect(&database.url).await?;
    let bytes = database.bytes(&limit.db).await?;
    let (limit_url, limit_task) = limit::serve(limit.clone()).await?;
    let mut naive_db = quotagraph::store::connect(&database.url).await?;
    let naive_statements = quotagraph::store::StatementCounter::install(&mut naive_db);
    let (naive_url, naive_task) = naive::serve(naive::schema(naive_db)).await?;

    let dashboard = expected::dashboard_sums(plan, sums, &world);
    let view_tenant = world.tenants[0];
    let heaviest_folder = expected::heaviest_folder(plan, sums, 0);
    let view_folder = world.folders[heaviest_folder];
    let mut bench = Bench {
        plan: plan.clone(),
        tenant_view: expected::tenant_view(plan, sums, &world, &dashboard, 0),
        folder_view: expected::folder_view(plan, sums, &world, heaviest_folder),
        tree: expected::tree_answer(plan, &world),
        dashboard: dashboard.dashboard(),
        world,
        span: load::Span {
            duration: Duration::from_secs_f64(seconds),
            min_per_client: 1,
            timeout: None,
        },
        server: server.address.clone(),
        statements: server.statements.clone(),
        limit,
        limit_url,
        naive_url,
        naive_statements,
        view_tenant,
        view_folder,
        rows: Vec::new(),
        failures: Vec::new(),
    };
    // W5 first, while the heap has the least memory freed by earlier workloads (RSS shows
    // what the allocator holds, not what is in use). Its writes, like every later one, go
    // to another unit type than the dashboard's, so the reads' answers stay the history's.
    if wanted("W5") {
        bench.w5().await;
    }
    if wanted("W3") {
        bench.w3().await;
    }
    if wanted("W4") {
        bench.w4().await;
    }
    if wanted("W1") || wanted("W2") {
        bench.w1_w2().await;
    }
    if wanted("W6") {
        bench.w6().await;
    }
    server.stop().await?;
    limit_task.abort();
    naive_task.abort();
    let result = json!({
        "setup_seconds": bench.world.setup_seconds,
        "load_seconds": bench.world.load_seconds,
        "load_events_per_second": sums.events as f64 / bench.world.load_seconds,
        "load_retries": bench.world.load_retries,
        "server_start_seconds": server_start_seconds,
        "database_bytes": bytes,
        "rows": bench.rows,
        "ratios": workloads::ratios(&bench.rows),
    });
    Ok((result, bench.failures, bench.world))
}

fn print_table(backend: &str, result: &Value) {
    println!(
        "\n{backend}: load {:.1} s",
        result["load_seconds"].as_f64().unwrap_or(0.0)
    );
    println!(
        "{:<4} {:<24} {:<17} {:>7} {:>12} {:>9} {:>9} {:>6}  extra",
        "", "case", "system", "clients", "per second", "p50 ms", "p99 ms", "wrong"
    );
    for row in result["rows"].as_array().into_iter().flatten() {
        let extra = &row["extra"];
        println!(
            "{:<4} {:<24} {:<17} {:>7} {:>12.1} {:>9.2} {:>9.2} {:>6}  {}",
            row["workload"].as_str().unwrap_or(""),
            row["case"].as_str().unwrap_or(""),
            row["system"].as_str().unwrap_or(""),
            row["clients"],
            row["throughput"].as_f64().unwrap_or(0.0),
            row["p50_ms"].as_f64().unwrap_or(0.0),
            row["p99_ms"].as_f64().unwrap_or(0.0),
            row["wrong"],
            if extra.is_null() {
                String::new()
            } else {
                extra.to_string()
            }
        );
    }
    println!("ratios (quotagraph ÷ baseline):");
    for ratio in result["ratios"].as_array().into_iter().flatten() {
        println!("  {ratio}");
    }
}
