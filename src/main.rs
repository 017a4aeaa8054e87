//! The `redshift-flight-sql` command: `serve` runs the Flight SQL gateway,
//! `check` preflights its target, `local` the whole local stack, `emulator`
//! a local Redshift Data API on PostgreSQL, `hash-password` and `hash-token`
//! a line for the users and tokens files.

use std::io::Write as _;
use std::sync::Arc;

use anyhow::Context as _;
use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
#[cfg(feature = "emulator")]
use redshift_data_emulator::EmulatorArgs;
use redshift_flight_sql::config::ServeArgs;
use redshift_flight_sql::config::file::{ConfigFileArgs, print_config, with_config_file};
use redshift_flight_sql::dataapi::AwsDataApi;
#[cfg(feature = "emulator")]
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
    /// `--config` and `--print-config`.
    #[command(flatten)]
    file: ConfigFileArgs,
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start, so the size of the largest variant does not matter
// (without the `emulator` feature only `serve` and `hash-password` remain).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Serve Flight SQL for a Redshift cluster or Serverless workgroup.
    Serve(ServeArgs),
    /// Preflight the configured target (the flags of `serve`): credentials,
    /// region, reachability, each Data API permission, latency and the
    /// result-format probe; exits 1 if the gateway could not work.
    Check(ServeArgs),
    /// Run PostgreSQL (with a TICKIT sample), the Data API emulator and the gateway in one process.
    #[cfg(feature = "emulator")]
    Local(LocalArgs),
    /// Serve a local Redshift Data API backed by PostgreSQL.
    #[cfg(feature = "emulator")]
    Emulator(EmulatorArgs),
    /// Print a users-file line `USER:argon2-hash` for the password read from stdin.
    HashPassword {
        /// The user name.
        user: String,
    },
    /// Print a tokens-file line `PRINCIPAL:sha256-hex[:GROUPS]` for the API
    /// token read from stdin (make tokens long and random, e.g. `openssl rand -hex 32`).
    HashToken {
        /// The principal the token authenticates as.
        principal: String,
        /// Its groups, comma-separated.
        #[arg(long, default_value = "")]
        groups: String,
    },
}

/// Cancels `token` on SIGTERM or SIGINT (the graceful drain); a second
/// signal exits at once.
fn cancel_on_signal(token: CancellationToken) -> anyhow::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::info!("shutting down (a second signal exits at once)");
        token.cancel();
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        tracing::warn!("second signal: exiting now");
        std::process::exit(130);
    });
    Ok(())
}

/// Prints a ready line on stdout (tooling waits for these lines).
fn announce(line: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
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
    let scheme = if args.gateway.service.tls.enabled() {
        "grpc+tls"
    } else {
        "grpc"
    };
    announce(&format!(
        "flight sql listening on {scheme}://{}",
        listener.local_addr()?
    ));
    redshift_flight_sql::run(args.gateway, Arc::new(api), listener, shutdown).await
}

/// `check`: prints the report; whether everything needed passed.
async fn run_check(args: ServeArgs) -> bool {
    use redshift_flight_sql::preflight::{Report, Verdict, check_target};
    let gateway = &args.gateway;
    let api =
        AwsDataApi::connect(&gateway.aws, &gateway.service.retry, gateway.target.clone()).await;
    let facts = api.client_facts().await;
    let mut report = Report::default();
    let credentials_found = facts.credentials.is_ok();
    match facts.credentials {
        Ok(found) => report.add(Verdict::Pass, "credentials", found),
        Err(why) => report.add(Verdict::Fail, "credentials", why),
    }
    match (&facts.region, &gateway.aws.endpoint_url) {
        (Some(region), None) => report.add(Verdict::Pass, "region", region.clone()),
        (Some(region), Some(url)) => {
            report.add(Verdict::Pass, "region", format!("{region}, endpoint {url}"));
        }
        (None, _) => report.add(
            Verdict::Fail,
            "region",
            "none found: set --region, AWS_REGION or a profile's region",
        ),
    }
    if credentials_found && facts.region.is_some() {
        let wait = redshift_flight_sql::dataapi::WaitPolicy {
            long_poll_seconds: gateway.service.query.long_poll_seconds(),
            ..Default::default()
        };
        check_target(
            &mut report,
            &api,
            &gateway.target,
            wait,
            gateway.service.query.result_format,
        )
        .await;
    }
    announce(&report.to_string());
    report.passed()
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let command = Cli::command();
    let args = with_config_file(&command, std::env::args_os().collect())?;
    let matches = command.clone().get_matches_from(args);
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if cli.file.print_config {
        announce(&print_config(&command, &matches));
        return Ok(());
    }
    telemetry::init(cli.log_format);
    let shutdown = CancellationToken::new();
    cancel_on_signal(shutdown.clone())?;
    match cli.command {
        Command::Serve(args) => run_serve(args, shutdown).await,
        Command::Check(args) => {
            if !run_check(args).await {
                std::process::exit(1);
            }
            Ok(())
        }
        #[cfg(feature = "emulator")]
        Command::Local(args) => local::run(args, shutdown, announce).await,
        #[cfg(feature = "emulator")]
        Command::Emulator(args) => redshift_data_emulator::run(args, shutdown, announce).await,
        Command::HashPassword { user } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password)?;
            let hash =
                redshift_flight_sql::auth::hash_password(password.trim_end_matches(['\r', '\n']))?;
            announce(&format!("{user}:{hash}"));
            Ok(())
        }
        Command::HashToken { principal, groups } => {
            let mut token = String::new();
            std::io::stdin().read_line(&mut token)?;
            let token = token.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(
                token.len() >= 16,
                "a token of at least 16 characters, please (openssl rand -hex 32)"
            );
            let hash = redshift_flight_sql::auth::tokens::token_hash(token);
            if groups.is_empty() {
                announce(&format!("{principal}:{hash}"));
            } else {
                announce(&format!("{principal}:{hash}:{groups}"));
            }
            Ok(())
        }
    }
}
