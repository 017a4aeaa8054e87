//! A local Redshift Data API: the AWS JSON 1.1 wire protocol of all 12
//! operations, served over HTTP and run on a real PostgreSQL, so that the
//! unchanged AWS SDKs work against it through an endpoint URL.
//!
//! `serve(config, postgres_url, listener, shutdown)` serves on a listener the
//! caller bound (tests bind port 0); [`ThrowawayCluster`] starts a PostgreSQL
//! to serve from; [`run`] is the whole `redshift-data-emulator` command.

mod catalog;
mod error;
mod http;
mod model;
mod params;
mod postgres;
mod results;
mod sessions;
mod statements;
mod values;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use error::ApiError;
use postgres::Connector;
pub use postgres::ThrowawayCluster;
use statements::Statement;

/// The flags of the `emulator` command: where to listen, which PostgreSQL to
/// serve from, and the emulator's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to serve the Data API on (port 0 picks a free port).
    #[arg(long, env = "RSFS_EMULATOR_LISTEN", default_value = "127.0.0.1:8439")]
    pub listen: SocketAddr,
    /// PostgreSQL to run statements on; without it a throwaway cluster is started.
    #[arg(long, env = "RSFS_EMULATOR_POSTGRES_URL")]
    pub postgres_url: Option<String>,
    /// The emulator's settings.
    #[command(flatten)]
    pub config: EmulatorConfig,
}

/// Settings of the emulator (flags and `RSFS_EMULATOR_*` variables).
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorConfig {
    /// Database used when a request names none (Redshift's default is `dev`).
    #[arg(
        long = "default-database",
        env = "RSFS_EMULATOR_DEFAULT_DATABASE",
        default_value = "dev"
    )]
    pub default_database: String,
    /// Byte budget of one GetStatementResult page (the page size is the server's choice).
    #[arg(long = "page-bytes", env = "RSFS_EMULATOR_PAGE_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub page_bytes: usize,
    /// Largest result a statement may produce before it fails.
    #[arg(long = "max-result-bytes", env = "RSFS_EMULATOR_MAX_RESULT_BYTES", default_value_t = 500 * 1024 * 1024)]
    pub max_result_bytes: usize,
    /// How long statements and their results are kept (the service keeps them 24 h).
    #[arg(
        long = "retention-seconds",
        env = "RSFS_EMULATOR_RETENTION_SECONDS",
        default_value_t = 86_400
    )]
    pub retention_seconds: u64,
    /// Most statements that may run at once (ActiveStatementsExceededException beyond).
    #[arg(
        long = "max-active-statements",
        env = "RSFS_EMULATOR_MAX_ACTIVE_STATEMENTS",
        default_value_t = 200
    )]
    pub max_active_statements: usize,
    /// Most sessions that may be open at once (ActiveSessionsExceededException beyond).
    #[arg(
        long = "max-sessions",
        env = "RSFS_EMULATOR_MAX_SESSIONS",
        default_value_t = 100
    )]
    pub max_sessions: usize,
    /// Fault injection: probability (0–1) that a request fails with ThrottlingException.
    #[arg(
        long = "throttle-probability",
        env = "RSFS_EMULATOR_THROTTLE_PROBABILITY",
        default_value_t = 0.0
    )]
    pub throttle_probability: f64,
    /// Fault injection: probability (0–1) that a request fails with InternalServerException.
    #[arg(
        long = "error-probability",
        env = "RSFS_EMULATOR_ERROR_PROBABILITY",
        default_value_t = 0.0
    )]
    pub error_probability: f64,
    /// Fault injection: milliseconds added to every request.
    #[arg(
        long = "latency-ms",
        env = "RSFS_EMULATOR_LATENCY_MS",
        default_value_t = 0
    )]
    pub latency_ms: u64,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            default_database: "dev".to_owned(),
            page_bytes: 4 * 1024 * 1024,
            max_result_bytes: 500 * 1024 * 1024,
            retention_seconds: 86_400,
            max_active_statements: 200,
            max_sessions: 100,
            throttle_probability: 0.0,
            error_probability: 0.0,
            latency_ms: 0,
        }
    }
}

/// Shared state of one emulator.
#[derive(Debug)]
pub(crate) struct State {
    config: EmulatorConfig,
    connector: Connector,
    statements: Mutex<HashMap<String, Arc<Statement>>>,
    client_tokens: Mutex<HashMap<String, String>>,
    sessions: Mutex<HashMap<String, Arc<sessions::Session>>>,
    calls: Mutex<BTreeMap<String, u64>>,
    query_ids: AtomicI64,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl State {
    fn statement(&self, id: &str) -> Result<Arc<Statement>, ApiError> {
        lock(&self.statements)
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Query does not exist: {id}"), id))
    }

    fn statement_for_token(&self, token: &str) -> Option<Arc<Statement>> {
        let id = lock(&self.client_tokens).get(token).cloned()?;
        lock(&self.statements).get(&id).cloned()
    }

    fn insert_statement(&self, statement: &Arc<Statement>, token: Option<String>) {
        lock(&self.statements).insert(statement.id.clone(), Arc::clone(statement));
        if let Some(token) = token {
            lock(&self.client_tokens).insert(token, statement.id.clone());
        }
    }

    fn all_statements(&self) -> Vec<Arc<Statement>> {
        lock(&self.statements).values().cloned().collect()
    }

    fn active_statements(&self) -> usize {
        lock(&self.statements)
            .values()
            .filter(|s| s.is_active())
            .count()
    }

    fn next_query_id(&self) -> i64 {
        self.query_ids.fetch_add(1, Ordering::Relaxed)
    }

    fn count_call(&self, operation: &str) {
        *lock(&self.calls).entry(operation.to_owned()).or_default() += 1;
    }

    /// Calls per operation since start.
    fn calls(&self) -> BTreeMap<String, u64> {
        lock(&self.calls).clone()
    }

    /// Forgets statements (and their results) older than the retention time.
    fn expire_statements(&self) {
        let retention = Duration::from_secs(self.config.retention_seconds);
        let now = Instant::now();
        let mut statements = lock(&self.statements);
        statements.retain(|_, s| s.is_active() || now.duration_since(s.created) < retention);
        let live: std::collections::HashSet<String> = statements.keys().cloned().collect();
        drop(statements);
        lock(&self.client_tokens).retain(|_, id| live.contains(id));
    }
}

/// Serves the Data API on `listener` from the PostgreSQL at `postgres_url` until
/// `shutdown` is cancelled.
pub async fn serve(
    config: EmulatorConfig,
    postgres_url: &str,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let state = Arc::new(State {
        connector: Connector::new(postgres_url)?,
        config,
        statements: Mutex::default(),
        client_tokens: Mutex::default(),
        sessions: Mutex::default(),
        calls: Mutex::default(),
        query_ids: AtomicI64::new(1000),
    });
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

/// Creates `database` on the PostgreSQL at `postgres_url` when it is missing.
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
