//! The `redshift-flight-sql` command: `emulator` serves a local Redshift Data API
//! on PostgreSQL.

use std::io::Write as _;
use std::net::SocketAddr;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use redshift_flight_sql::emulator::{self, EmulatorConfig, ThrowawayCluster};
use redshift_flight_sql::telemetry::{self, LogFormat};
use tokio_util::sync::CancellationToken;

/// Apache Arrow Flight SQL for Amazon Redshift, over the Redshift Data API.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Log line format.
    #[arg(
        long,
        env = "RSFS_LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve a local Redshift Data API backed by PostgreSQL.
    Emulator(EmulatorArgs),
}

#[derive(Debug, clap::Args)]
struct EmulatorArgs {
    /// Address to serve the Data API on (port 0 picks a free port).
    #[arg(long, env = "RSFS_EMULATOR_LISTEN", default_value = "127.0.0.1:8439")]
    listen: SocketAddr,
    /// PostgreSQL to run statements on; without it a throwaway cluster is started.
    #[arg(long, env = "RSFS_EMULATOR_POSTGRES_URL")]
    postgres_url: Option<String>,
    #[command(flatten)]
    config: EmulatorConfig,
}

/// Cancels `token` on SIGTERM or SIGINT.
fn cancel_on_signal(token: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down");
        token.cancel();
    });
    Ok(())
}

fn announce(line: &str) -> anyhow::Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{line}")?;
    stdout.flush()?;
    Ok(())
}

async fn run_emulator(args: EmulatorArgs) -> anyhow::Result<()> {
    let shutdown = CancellationToken::new();
    cancel_on_signal(shutdown.clone())?;
    let (cluster, url) = match args.postgres_url {
        Some(url) => (None, url),
        None => {
            let cluster = tokio::task::spawn_blocking(ThrowawayCluster::start).await??;
            let url = cluster.url("postgres");
            (Some(cluster), url)
        }
    };
    emulator::ensure_database(&url, &args.config.default_database)
        .await
        .context("creating the default database")?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    announce(&format!(
        "emulator listening on http://{}",
        listener.local_addr()?
    ))?;
    emulator::serve(args.config, &url, listener, shutdown).await?;
    drop(cluster);
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    match cli.command {
        Command::Emulator(args) => run_emulator(args).await,
    }
}
