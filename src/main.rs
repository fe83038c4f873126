use clap::Parser;
use quotagraph::config::{Cli, Command};
use quotagraph::{graphql, startup, store, telemetry};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.settings.log_format);
    match cli.command.unwrap_or(Command::Serve) {
        Command::PrintSchema => print!("{}", graphql::sdl()),
        Command::Migrate => startup::prepare_database(&store::connect(&cli.settings.database_url).await?).await?,
        Command::Serve => {
            let app = startup::App::build(&cli.settings).await?;
            app.run_until_stopped(startup::shutdown_signal()).await?;
        }
    }
    Ok(())
}
