//! A local Redshift Data API: the AWS JSON 1.1 wire protocol of all 12
//! operations, served over HTTP and run on a real PostgreSQL, so that the
//! unchanged AWS SDKs work against it through an endpoint URL.
//! `UNLOAD … FORMAT PARQUET` writes Parquet files to S3, an S3-compatible
//! server or a local directory (`--unload-*` flags).
//!
//! `serve(config, postgres_url, listener, shutdown)` serves on a listener the
//! caller bound (tests bind port 0); [`ThrowawayCluster`] starts a PostgreSQL
//! to serve from; [`run`] is the whole `redshift-data-emulator` command.

mod catalog;
mod config;
mod encode;
mod error;
mod http;
mod model;
mod operation;
mod paging;
mod params;
mod postgres;
mod records;
mod request;
mod responses;
mod results;
mod sessions;
mod state;
mod statements;
mod unload;
mod values;

use std::sync::Arc;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use config::CsvNull;
pub use config::{
    DEFAULT_DATABASE, DEFAULT_FAULT_PROBABILITY, DEFAULT_LATENCY_MS, DEFAULT_LISTEN,
    DEFAULT_MAX_ACTIVE_STATEMENTS, DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_SESSIONS,
    DEFAULT_PAGE_BYTES, DEFAULT_RETENTION_SECONDS, DEFAULT_SLICES, EmulatorArgs, EmulatorConfig,
};
pub use error::ApiError;
pub use operation::Operation;
use postgres::Connector;
pub use postgres::ThrowawayCluster;
pub use request::{OPERATION_TARGETS, check_request};
use state::State;

/// Serves the Data API on `listener` from the PostgreSQL at `postgres_url` until
/// `shutdown` is cancelled.
pub async fn serve(
    config: EmulatorConfig,
    postgres_url: &str,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = Arc::new(State::new(config, Connector::new(postgres_url)?));
    let sweeper_state = Arc::clone(&state);
    let sweeper_shutdown = shutdown.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(sessions::SWEEP_INTERVAL);
        loop {
            tokio::select! {
                () = sweeper_shutdown.cancelled() => break,
                _ = tick.tick() => {
                    sweeper_state.expire_sessions();
                    sweeper_state.expire_statements();
                }
            }
        }
    });
    let router = http::router(Arc::clone(&state));
    // Small request/response pairs: Nagle's algorithm would hold each one ~40 ms.
    let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY");
        }
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Redshift functions that PostgreSQL lacks, created in each database the
/// emulator serves: `JSON_PARSE(text)` (Redshift returns SUPER; here `json`).
const REDSHIFT_FUNCTIONS: &str = "create or replace function public.json_parse(text) returns json \
     language sql immutable strict as 'select $1::json'";

/// Creates `database` on the PostgreSQL at `postgres_url` when it is missing,
/// with the Redshift functions the emulator provides.
pub async fn ensure_database(postgres_url: &str, database: &str) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(postgres_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let exists = client
        .query_opt("select 1 from pg_database where datname = $1", &[&database])
        .await?
        .is_some();
    if !exists {
        let quoted = redshift_sqltext::quote_identifier(database);
        client
            .batch_execute(&format!("create database {quoted}"))
            .await?;
    }
    // Redshift's usual admin user, which the local stack and tests run as.
    client
        .batch_execute(
            "do $$ begin create role awsuser superuser; \
             exception when duplicate_object then null; end $$",
        )
        .await
        .context("creating the awsuser role")?;
    let mut config: tokio_postgres::Config = postgres_url.parse()?;
    config.dbname(database);
    let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    client
        .batch_execute(REDSHIFT_FUNCTIONS)
        .await
        .with_context(|| format!("creating the Redshift functions in {database}"))?;
    Ok(())
}

/// Runs `sql` (several statements) on the PostgreSQL at `postgres_url` unless
/// an ordinary table named `table` exists there already: loads a sample once.
pub async fn load_sql_unless_table_exists(
    postgres_url: &str,
    table: &str,
    sql: &str,
) -> anyhow::Result<()> {
    let (client, connection) = tokio_postgres::connect(postgres_url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let exists = client
        .query_opt(
            "select 1 from pg_class where relname = $1 and relkind = 'r'",
            &[&table],
        )
        .await?
        .is_some();
    if !exists {
        client
            .batch_execute(sql)
            .await
            .with_context(|| format!("loading the SQL that creates {table}"))?;
    }
    Ok(())
}

/// The line printed on stdout once the emulator serves at `url`
/// (tooling waits for it).
pub fn ready_line(url: &str) -> String {
    format!("emulator listening on {url}")
}

/// The `emulator` command: starts a throwaway PostgreSQL unless
/// `args.postgres_url` names one, creates the default database, binds
/// `args.listen`, calls `announce` with the ready line, and serves until
/// `shutdown` is cancelled.
pub async fn run(
    args: EmulatorArgs,
    shutdown: CancellationToken,
    announce: impl Fn(&str),
) -> anyhow::Result<()> {
    let (cluster, url) = match args.postgres_url {
        Some(url) => (None, url),
        None => {
            let cluster = tokio::task::spawn_blocking(ThrowawayCluster::start).await??;
            let url = cluster.url("postgres");
            (Some(cluster), url)
        }
    };
    ensure_database(&url, &args.config.default_database)
        .await
        .context("creating the default database")?;
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    announce(&ready_line(&format!("http://{}", listener.local_addr()?)));
    serve(args.config, &url, listener, shutdown).await?;
    drop(cluster);
    Ok(())
}
