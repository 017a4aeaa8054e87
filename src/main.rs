//! The `redshift-flight-sql` command: `serve` runs the Flight SQL gateway,
//! `local` the whole local stack, `emulator` a local Redshift Data API on
//! PostgreSQL, `hash-password` a line for the users file.

use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use redshift_flight_sql::config::ServeArgs;
use redshift_flight_sql::dataapi::AwsDataApi;
use redshift_flight_sql::emulator::{self, EmulatorConfig, ThrowawayCluster};
use redshift_flight_sql::local::{self, LocalArgs};
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
    /// Serve Flight SQL for a Redshift cluster or Serverless workgroup.
    Serve(ServeArgs),
    /// Run PostgreSQL (with a TICKIT sample), the Data API emulator and the gateway in one process.
    Local(LocalArgs),
    /// Serve a local Redshift Data API backed by PostgreSQL.
    Emulator(EmulatorArgs),
    /// Print a users-file line `USER:argon2-hash` for the password read from stdin.
    HashPassword {
        /// The user name.
        user: String,
    },
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

/// Prints a ready line on stdout (tooling waits for these lines).
fn announce(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
}

async fn run_emulator(args: EmulatorArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
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
    ));
    emulator::serve(args.config, &url, listener, shutdown).await?;
    drop(cluster);
    Ok(())
}

async fn run_serve(args: ServeArgs, shutdown: CancellationToken) -> anyhow::Result<()> {
    // clap has checked that a target is named (--cluster-identifier or --workgroup-name).
    let api = AwsDataApi::connect(
        &args.gateway.aws,
        &args.gateway.service.retry,
        args.gateway.target.clone(),
    )
    .await;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    announce(&format!(
        "flight sql listening on grpc://{}",
        listener.local_addr()?
    ));
    redshift_flight_sql::run(args.gateway, Arc::new(api), listener, shutdown).await
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    telemetry::init(cli.log_format);
    let shutdown = CancellationToken::new();
    cancel_on_signal(shutdown.clone())?;
    match cli.command {
        Command::Serve(args) => run_serve(args, shutdown).await,
        Command::Local(args) => local::run(args, shutdown, announce).await,
        Command::Emulator(args) => run_emulator(args, shutdown).await,
        Command::HashPassword { user } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let hash =
                redshift_flight_sql::auth::hash_password(password.trim_end_matches(['\r', '\n']))?;
            announce(&format!("{user}:{hash}"));
            Ok(())
        }
    }
}
