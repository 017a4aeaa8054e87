//! The emulator's settings as flags and `RSFS_EMULATOR_*` variables; each
//! default is one constant that both clap and `Default` use.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::operation::Operation;

/// Default `--listen` of the `emulator` command.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8439";
/// Default `--default-database` (Redshift's default database).
pub const DEFAULT_DATABASE: &str = "dev";
/// Default `--page-bytes`: 4 MiB.
pub const DEFAULT_PAGE_BYTES: usize = 4 * 1024 * 1024;
/// Default `--max-result-bytes`: 500 MiB.
pub const DEFAULT_MAX_RESULT_BYTES: usize = 500 * 1024 * 1024;
/// Default `--retention-seconds`: 24 h, as the service keeps results.
pub const DEFAULT_RETENTION_SECONDS: u64 = 86_400;
/// Default `--max-active-statements`.
pub const DEFAULT_MAX_ACTIVE_STATEMENTS: usize = 200;
/// Default `--max-sessions`.
pub const DEFAULT_MAX_SESSIONS: usize = 100;
/// Default `--throttle-probability` and `--error-probability`: no injected faults.
pub const DEFAULT_FAULT_PROBABILITY: f64 = 0.0;
/// Default `--latency-ms`: no added latency.
pub const DEFAULT_LATENCY_MS: u64 = 0;
/// Default `--slices`: the slices an UNLOAD with PARALLEL ON spreads its rows
/// over, one file series each (a small Redshift cluster has a few per node).
pub const DEFAULT_SLICES: usize = 4;

/// How CSV result pages (GetStatementResultV2) write NULL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum CsvNull {
    /// An unquoted empty field; the empty string is `""` (PostgreSQL's CSV convention).
    #[default]
    Unquoted,
    /// `""`, the same as an empty string: a deliberately different dialect,
    /// so that a client's check of the CSV format has something to catch.
    Quoted,
}

/// The flags of the `emulator` command: where to listen, which PostgreSQL to
/// serve from, and the emulator's settings.
#[derive(Debug, Clone, clap::Args)]
pub struct EmulatorArgs {
    /// Address to serve the Data API on (port 0 picks a free port).
    #[arg(long, env = "RSFS_EMULATOR_LISTEN", default_value = DEFAULT_LISTEN)]
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
#[command(next_help_heading = "Emulator")]
pub struct EmulatorConfig {
    /// Database used when a request names none (Redshift's default is `dev`).
    #[arg(
        long = "default-database",
        env = "RSFS_EMULATOR_DEFAULT_DATABASE",
        default_value = DEFAULT_DATABASE
    )]
    pub default_database: String,
    /// Byte budget of one GetStatementResult page (the page size is the server's choice).
    #[arg(long = "page-bytes", env = "RSFS_EMULATOR_PAGE_BYTES", default_value_t = DEFAULT_PAGE_BYTES)]
    pub page_bytes: usize,
    /// Largest result a statement may produce before it fails.
    #[arg(long = "max-result-bytes", env = "RSFS_EMULATOR_MAX_RESULT_BYTES", default_value_t = DEFAULT_MAX_RESULT_BYTES)]
    pub max_result_bytes: usize,
    /// How long statements and their results are kept (the service keeps them 24 h).
    #[arg(
        long = "retention-seconds",
        env = "RSFS_EMULATOR_RETENTION_SECONDS",
        default_value_t = DEFAULT_RETENTION_SECONDS
    )]
    pub retention_seconds: u64,
    /// Most statements that may run at once (ActiveStatementsExceededException beyond).
    #[arg(
        long = "max-active-statements",
        env = "RSFS_EMULATOR_MAX_ACTIVE_STATEMENTS",
        default_value_t = DEFAULT_MAX_ACTIVE_STATEMENTS
    )]
    pub max_active_statements: usize,
    /// Most sessions that may be open at once (ActiveSessionsExceededException beyond).
    #[arg(
        long = "max-sessions",
        env = "RSFS_EMULATOR_MAX_SESSIONS",
        default_value_t = DEFAULT_MAX_SESSIONS
    )]
    pub max_sessions: usize,
    /// Fault injection: probability (0–1) that a request fails with ThrottlingException.
    #[arg(
        long = "throttle-probability",
        env = "RSFS_EMULATOR_THROTTLE_PROBABILITY",
        default_value_t = DEFAULT_FAULT_PROBABILITY
    )]
    pub throttle_probability: f64,
    /// Fault injection: probability (0–1) that a request fails with InternalServerException.
    #[arg(
        long = "error-probability",
        env = "RSFS_EMULATOR_ERROR_PROBABILITY",
        default_value_t = DEFAULT_FAULT_PROBABILITY
    )]
    pub error_probability: f64,
    /// Fault injection: milliseconds added to every request.
    #[arg(
        long = "latency-ms",
        env = "RSFS_EMULATOR_LATENCY_MS",
        default_value_t = DEFAULT_LATENCY_MS
    )]
    pub latency_ms: u64,
    /// How CSV result pages write NULL: `unquoted` (an empty field) or
    /// `quoted` (`""`, which no reader can tell from an empty string; for tests).
    #[arg(long = "csv-null", env = "RSFS_EMULATOR_CSV_NULL", value_enum, default_value_t = CsvNull::Unquoted)]
    pub csv_null: CsvNull,
    /// Fault injection: operations refused with AccessDeniedException, as for
    /// credentials whose IAM policy lacks them (comma-separated names, e.g.
    /// `ListTables,CancelStatement`).
    #[arg(long = "deny-operations", env = "RSFS_EMULATOR_DENY_OPERATIONS", value_delimiter = ',', value_parser = parse_operation)]
    pub deny_operations: Vec<Operation>,
    /// Slices of the emulated cluster: UNLOAD with PARALLEL ON deals rows out
    /// to them in turn, and each slice that gets rows writes its own files.
    #[arg(long = "slices", env = "RSFS_EMULATOR_SLICES", default_value_t = DEFAULT_SLICES, value_parser = parse_slices)]
    pub slices: usize,
    /// Where UNLOAD writes instead of S3: `s3://bucket/key` is the file
    /// `DIR/bucket/key` (the directories are created as needed).
    #[arg(
        id = "s3_local_dir",
        long = "s3-local-dir",
        value_name = "DIR",
        env = "RSFS_EMULATOR_S3_LOCAL_DIR"
    )]
    pub unload_local_dir: Option<PathBuf>,
    /// An S3-compatible server UNLOAD writes to (path-style requests, `http://`
    /// allowed), with credentials and region from the usual `AWS_*` variables;
    /// without it and without `--s3-local-dir`, UNLOAD writes to S3.
    #[arg(
        id = "s3_endpoint",
        long = "s3-endpoint",
        value_name = "URL",
        env = "RSFS_EMULATOR_S3_ENDPOINT"
    )]
    pub unload_s3_endpoint: Option<String>,
}

/// Parses `--slices`: a whole number of at least 1.
fn parse_slices(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n >= 1 => Ok(n),
        _ => Err("the number of slices is a whole number of at least 1".to_owned()),
    }
}

/// Parses an operation's name in the service model.
fn parse_operation(name: &str) -> Result<Operation, String> {
    Operation::ALL
        .into_iter()
        .find(|op| op.name() == name)
        .ok_or_else(|| {
            let names: Vec<&str> = Operation::ALL.iter().map(|op| op.name()).collect();
            format!(
                "not an operation of the Data API (one of {})",
                names.join(", ")
            )
        })
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            default_database: DEFAULT_DATABASE.to_owned(),
            page_bytes: DEFAULT_PAGE_BYTES,
            max_result_bytes: DEFAULT_MAX_RESULT_BYTES,
            retention_seconds: DEFAULT_RETENTION_SECONDS,
            max_active_statements: DEFAULT_MAX_ACTIVE_STATEMENTS,
            max_sessions: DEFAULT_MAX_SESSIONS,
            throttle_probability: DEFAULT_FAULT_PROBABILITY,
            error_probability: DEFAULT_FAULT_PROBABILITY,
            latency_ms: DEFAULT_LATENCY_MS,
            csv_null: CsvNull::Unquoted,
            deny_operations: Vec::new(),
            slices: DEFAULT_SLICES,
            unload_local_dir: None,
            unload_s3_endpoint: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;

    #[derive(Debug, clap::Parser)]
    struct Command {
        #[command(flatten)]
        args: EmulatorArgs,
    }

    #[test]
    fn the_defaults_clap_shows_are_the_defaults_used() {
        let parsed = Command::try_parse_from(["emulator"]).expect("no flags");
        let defaults = EmulatorConfig::default();
        assert_eq!(parsed.args.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(parsed.args.postgres_url, None);
        let c = parsed.args.config;
        assert_eq!(c.default_database, defaults.default_database);
        assert_eq!(c.page_bytes, defaults.page_bytes);
        assert_eq!(c.max_result_bytes, defaults.max_result_bytes);
        assert_eq!(c.retention_seconds, defaults.retention_seconds);
        assert_eq!(c.max_active_statements, defaults.max_active_statements);
        assert_eq!(c.max_sessions, defaults.max_sessions);
        assert_eq!(c.throttle_probability, defaults.throttle_probability);
        assert_eq!(c.error_probability, defaults.error_probability);
        assert_eq!(c.latency_ms, defaults.latency_ms);
        assert_eq!(c.csv_null, defaults.csv_null);
        assert_eq!(c.deny_operations, defaults.deny_operations);
        assert_eq!(c.slices, defaults.slices);
        assert_eq!(c.unload_local_dir, defaults.unload_local_dir);
        assert_eq!(c.unload_s3_endpoint, defaults.unload_s3_endpoint);
    }

    #[test]
    fn flags_set_each_member() {
        let parsed = Command::try_parse_from([
            "emulator",
            "--listen",
            "127.0.0.1:0",
            "--postgres-url",
            "postgres://u@h/db",
            "--default-database",
            "other",
            "--page-bytes",
            "1024",
            "--max-sessions",
            "3",
            "--throttle-probability",
            "0.5",
            "--latency-ms",
            "7",
            "--csv-null",
            "quoted",
            "--deny-operations",
            "ListTables,CancelStatement",
            "--slices",
            "2",
            "--s3-local-dir",
            "/tmp/unload",
            "--s3-endpoint",
            "http://127.0.0.1:9000",
        ])
        .expect("flags");
        assert_eq!(parsed.args.listen.port(), 0);
        assert_eq!(
            parsed.args.postgres_url.as_deref(),
            Some("postgres://u@h/db")
        );
        let c = parsed.args.config;
        assert_eq!(c.default_database, "other");
        assert_eq!((c.page_bytes, c.max_sessions, c.latency_ms), (1024, 3, 7));
        assert!((c.throttle_probability - 0.5).abs() < f64::EPSILON);
        assert_eq!(c.csv_null, CsvNull::Quoted);
        assert_eq!(
            c.deny_operations,
            [Operation::ListTables, Operation::CancelStatement]
        );
        assert_eq!(c.slices, 2);
        assert_eq!(c.unload_local_dir, Some(PathBuf::from("/tmp/unload")));
        assert_eq!(
            c.unload_s3_endpoint.as_deref(),
            Some("http://127.0.0.1:9000")
        );
        assert!(Command::try_parse_from(["emulator", "--deny-operations", "DropCluster"]).is_err());
        assert!(Command::try_parse_from(["emulator", "--slices", "0"]).is_err());
    }
}
