//! Configuration of `serve` and `local`: flags, each with an `RSFS_*`
//! environment variable and a default, in blocks (server, target, AWS, auth,
//! cache, query).

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::auth::AuthMode;
use crate::cache::CacheConfig;
use crate::dataapi::{AwsSettings, DataApiTarget, ResultFormat};

/// Authentication settings.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AuthConfig {
    /// How clients authenticate.
    #[arg(long = "auth", env = "RSFS_AUTH", value_enum, default_value = "none")]
    pub mode: AuthMode,
    /// File of `user:argon2-hash` lines (make one with `redshift-flight-sql hash-password`).
    #[arg(long, env = "RSFS_USERS_FILE")]
    pub users_file: Option<PathBuf>,
    /// Key that signs tickets and bearer tokens. Replicas behind one load
    /// balancer need the same key; without one, each process draws a random key.
    #[arg(long, env = "RSFS_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Lifetime of bearer tokens, in seconds.
    #[arg(long, env = "RSFS_TOKEN_TTL_SECONDS", default_value_t = 12 * 3600)]
    pub token_ttl_seconds: u64,
}

/// How queries run.
#[derive(Debug, Clone, clap::Args)]
pub struct QueryConfig {
    /// Data API result format: csv (GetStatementResultV2, faster) or json (GetStatementResult).
    #[arg(long, env = "RSFS_RESULT_FORMAT", value_enum, default_value = "csv")]
    pub result_format: ResultFormat,
    /// WaitTimeSeconds of each DescribeStatement long poll (0 polls with backoff instead).
    #[arg(long, env = "RSFS_LONG_POLL_SECONDS", default_value_t = 20)]
    pub long_poll_seconds: u8,
    /// Reuse a finished statement for the same SQL, parameters, database and
    /// principal for this many seconds, and run identical concurrent queries
    /// once (0 = off: every query runs).
    #[arg(long, env = "RSFS_REUSE_SECONDS", default_value_t = 0)]
    pub reuse_seconds: u64,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            result_format: ResultFormat::Csv,
            long_poll_seconds: 20,
            reuse_seconds: 0,
        }
    }
}

/// Everything `serve` needs besides the listener.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GatewayConfig {
    /// Where statements run.
    #[command(flatten)]
    pub target: DataApiTarget,
    /// The AWS client.
    #[command(flatten)]
    pub aws: AwsSettings,
    /// Authentication.
    #[command(flatten)]
    pub auth: AuthConfig,
    /// Results cache.
    #[command(flatten)]
    pub cache: CacheConfig,
    /// Query execution.
    #[command(flatten)]
    pub query: QueryConfig,
}

/// `serve` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address the Flight SQL server listens on.
    #[arg(long, env = "RSFS_LISTEN", default_value = "0.0.0.0:32010")]
    pub listen: SocketAddr,
    /// The gateway.
    #[command(flatten)]
    pub gateway: GatewayConfig,
}
