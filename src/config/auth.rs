//! How clients authenticate, and the key that signs tickets and tokens.

use std::path::PathBuf;

use super::units::HumanDuration;
use crate::auth::AuthMode;
use crate::telemetry::audit::AuditSql;

/// Default clock skew allowed on JWT times.
pub(super) const DEFAULT_CLOCK_SKEW: HumanDuration = HumanDuration::secs(60);
/// Default lifetime of bearer tokens.
pub(super) const DEFAULT_TOKEN_TTL: HumanDuration = HumanDuration::secs(12 * 3600);

/// Authentication settings (flags and `RSFS_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Auth")]
pub struct AuthConfig {
    /// How clients authenticate: `none`, or any of `basic`, `tokens`, `oidc`
    /// (comma-separated; a token of any enabled kind is accepted on every call).
    #[arg(
        long = "auth",
        env = "RSFS_AUTH",
        value_enum,
        value_delimiter = ',',
        default_value = "none"
    )]
    pub modes: Vec<AuthMode>,
    /// File of `user:argon2-hash` lines (make one with `redshift-flight-sql hash-password`).
    #[arg(long, env = "RSFS_USERS_FILE")]
    pub users_file: Option<PathBuf>,
    /// File of `principal:sha256-hex[:group,group]` lines of static API
    /// tokens (make one with `redshift-flight-sql hash-token`).
    #[arg(long, env = "RSFS_TOKENS_FILE")]
    pub tokens_file: Option<PathBuf>,
    /// OIDC issuer (`iss`); its `/.well-known/openid-configuration` names the JWKS.
    #[arg(long, env = "RSFS_OIDC_ISSUER")]
    pub oidc_issuer: Option<String>,
    /// JWKS URL of the OIDC issuer's keys (instead of discovery).
    #[arg(long, env = "RSFS_OIDC_JWKS_URL")]
    pub oidc_jwks_url: Option<String>,
    /// Accepted OIDC audiences (`aud`, comma-separated; none: not checked).
    #[arg(long, env = "RSFS_OIDC_AUDIENCE", value_delimiter = ',')]
    pub oidc_audience: Vec<String>,
    /// Accepted JWT signature algorithms (comma-separated).
    #[arg(
        long,
        env = "RSFS_OIDC_ALGORITHMS",
        value_delimiter = ',',
        default_value = "RS256,ES256"
    )]
    pub oidc_algorithms: Vec<String>,
    /// Clock skew allowed on a JWT's `exp` and `nbf`.
    #[arg(long, env = "RSFS_OIDC_CLOCK_SKEW", default_value_t = DEFAULT_CLOCK_SKEW)]
    pub oidc_clock_skew: HumanDuration,
    /// The JWT claim that names the principal (`sub`, `email`, `preferred_username`, …).
    #[arg(long, env = "RSFS_OIDC_PRINCIPAL_CLAIM", default_value = "sub")]
    pub oidc_principal_claim: String,
    /// The JWT claim that lists the caller's groups, for the identity map
    /// (an array, or a string of names separated by spaces or commas).
    #[arg(long, env = "RSFS_OIDC_GROUPS_CLAIM", default_value = "groups")]
    pub oidc_groups_claim: String,
    /// Key that signs tickets and bearer tokens. Replicas behind one load
    /// balancer need the same key; without one, each process draws a random key.
    #[arg(long, env = "RSFS_SIGNING_KEY", hide_env_values = true)]
    pub signing_key: Option<String>,
    /// Lifetime of bearer tokens.
    #[arg(long, alias = "token-ttl-seconds", env = "RSFS_TOKEN_TTL", default_value_t = DEFAULT_TOKEN_TTL)]
    pub token_ttl: HumanDuration,
    /// A TOML file mapping principals, groups or JWT claims to the Data API
    /// identity their statements run as (a DbUser, a SecretArn, the
    /// gateway's own, or deny).
    #[arg(long, env = "RSFS_IDENTITY_MAP")]
    pub identity_map: Option<PathBuf>,
    /// How the audit log (target `rsfs::audit`, one event per statement)
    /// shows SQL: `text` (truncated, with its SHA-256) or `hash` (only the SHA-256).
    #[arg(long, env = "RSFS_AUDIT_SQL", value_enum, default_value_t = AuditSql::Text)]
    pub audit_sql: AuditSql,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            modes: vec![AuthMode::None],
            users_file: None,
            tokens_file: None,
            oidc_issuer: None,
            oidc_jwks_url: None,
            oidc_audience: Vec::new(),
            oidc_algorithms: vec!["RS256".to_owned(), "ES256".to_owned()],
            oidc_clock_skew: DEFAULT_CLOCK_SKEW,
            oidc_principal_claim: "sub".to_owned(),
            oidc_groups_claim: "groups".to_owned(),
            signing_key: None,
            token_ttl: DEFAULT_TOKEN_TTL,
            identity_map: None,
            audit_sql: AuditSql::Text,
        }
    }
}
