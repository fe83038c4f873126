use clap::Parser;
use quotagraph::config::{Cli, Command};
use quotagraph::{graphql, startup, store, telemetry};

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // Outside the runtime: the OTLP exporter has its own thread and blocking client.
    let _telemetry = telemetry::init(cli.settings.log_format, cli.settings.otlp_endpoint.as_deref())?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve) {
        Command::PrintSchema => print!("{}", graphql::sdl()),
        Command::Migrate => {
            startup::prepare_database(&store::connect_with(&cli.settings.database_url, &cli.settings.pool).await?)
                .await?
        }
        Command::Serve => {
            let app = startup::App::build(&cli.settings).await?;
            app.run_until_stopped(startup::shutdown_signal()).await?;
        }
    }
    Ok(())
}
