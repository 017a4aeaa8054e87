//! How clients authenticate, and the key that signs tickets and tokens.

use std::path::PathBuf;

use super::units::HumanDuration;
use crate::auth::AuthMode;
use crate::telemetry::audit::AuditSql;

/// Default lifetime of bearer tokens.
pub(super) const DEFAULT_TOKEN_TTL: HumanDuration = HumanDuration::secs(12 * 3600);

/// Authentication settings (flags and `RSFS_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Auth")]
pub struct AuthConfig {
    /// How clients authenticate.
    #[arg(long = "auth", env = "RSFS_AUTH", value_enum, default_value_t = AuthMode::None)]
    pub mode: AuthMode,
    /// File of `user:argon2-hash` lines (make one with `redshift-flight-sql hash-password`).
    #[arg(long, env = "RSFS_USERS_FILE", required_if_eq("mode", "basic"))]
    pub users_file: Option<PathBuf>,
    /// Key that signs tickets and bearer tokens. Replicas behind one load
    /// balancer need the same key; without one, each process draws a random key.
    #[arg(long, env = "RSFS_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Lifetime of bearer tokens.
    #[arg(long, alias = "token-ttl-seconds", env = "RSFS_TOKEN_TTL", default_value_t = DEFAULT_TOKEN_TTL)]
    pub token_ttl: HumanDuration,
    /// How the audit log (target `rsfs::audit`, one event per statement)
    /// shows SQL: `text` (truncated, with its SHA-256) or `hash` (only the SHA-256).
    #[arg(long, env = "RSFS_AUDIT_SQL", value_enum, default_value_t = AuditSql::Text)]
    pub audit_sql: AuditSql,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            mode: AuthMode::None,
            users_file: None,
            signing_key: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            audit_sql: AuditSql::Text,
        }
    }
}
