//! TLS of the Flight port: the server's certificate and key, mTLS with a
//! client CA, the principal from a client certificate, and how often the
//! files are re-read (Kubernetes rotates mounted secrets in place).

use std::path::PathBuf;

use super::units::HumanDuration;

/// Default interval at which the certificate, key and CA files are checked.
pub(super) const DEFAULT_TLS_RELOAD_INTERVAL: HumanDuration = HumanDuration::secs(10);

/// Whether clients must present a certificate when `--tls-client-ca` is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ClientAuth {
    /// A connection without a certificate signed by the CA is refused.
    #[default]
    Required,
    /// A certificate, when sent, must be signed by the CA; without one the
    /// client authenticates as `--auth` says.
    Optional,
}

/// TLS settings (flags and `RSFS_*` variables); TLS is on when
/// `--tls-cert` and `--tls-key` are given.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "TLS")]
pub struct TlsConfig {
    /// PEM certificate chain the server presents (with --tls-key: TLS on).
    #[arg(long, env = "RSFS_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, env = "RSFS_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates: clients present a certificate one of them signed (mTLS).
    #[arg(long, env = "RSFS_TLS_CLIENT_CA", requires = "tls_cert")]
    pub tls_client_ca: Option<PathBuf>,
    /// With --tls-client-ca: `required` (no certificate, no connection) or `optional`.
    #[arg(long, env = "RSFS_TLS_CLIENT_AUTH", value_enum, default_value_t = ClientAuth::Required)]
    pub tls_client_auth: ClientAuth,
    /// The principal of a client that presents a certificate is its subject's
    /// common name (no other credential needed; it wins over any sent).
    #[arg(long, env = "RSFS_TLS_PRINCIPAL_FROM_CERT", requires = "tls_client_ca")]
    pub tls_principal_from_cert: bool,
    /// How often the certificate, key and CA files are checked for changes;
    /// a change is served to new connections, open ones keep theirs.
    #[arg(long, env = "RSFS_TLS_RELOAD_INTERVAL", default_value_t = DEFAULT_TLS_RELOAD_INTERVAL)]
    pub tls_reload_interval: HumanDuration,
}

impl Default for TlsConfig {
    fn default() -> Self {
        Self {
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            tls_client_auth: ClientAuth::Required,
            tls_principal_from_cert: false,
            tls_reload_interval: DEFAULT_TLS_RELOAD_INTERVAL,
        }
    }
}

impl TlsConfig {
    /// Whether TLS is on.
    pub fn enabled(&self) -> bool {
        self.tls_cert.is_some() && self.tls_key.is_some()
    }
}
