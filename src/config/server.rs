//! The gRPC server: HTTP/2 keep-alive, message size and the drain at shutdown.

use super::units::{ByteSize, HumanDuration};

/// Default interval of HTTP/2 keep-alive pings.
pub(super) const DEFAULT_KEEPALIVE_INTERVAL: HumanDuration = HumanDuration::secs(30);
/// Default wait for a keep-alive ping's answer.
pub(super) const DEFAULT_KEEPALIVE_TIMEOUT: HumanDuration = HumanDuration::secs(20);
/// Default time running work may take to finish at shutdown.
pub(super) const DEFAULT_DRAIN_TIMEOUT: HumanDuration = HumanDuration::secs(30);
/// Default largest gRPC message (DoPut batches, large FlightData).
pub(super) const DEFAULT_MAX_MESSAGE_SIZE: ByteSize = ByteSize::mib(64);

/// gRPC server settings (flags and `RSFS_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Server")]
pub struct ServerConfig {
    /// Interval of HTTP/2 keep-alive pings, so proxies and load balancers keep
    /// long GetFlightInfo calls and slow DoGet streams open.
    #[arg(long, env = "RSFS_KEEPALIVE_INTERVAL", default_value_t = DEFAULT_KEEPALIVE_INTERVAL)]
    pub keepalive_interval: HumanDuration,
    /// How long a keep-alive ping may go unanswered before the connection is closed.
    #[arg(long, env = "RSFS_KEEPALIVE_TIMEOUT", default_value_t = DEFAULT_KEEPALIVE_TIMEOUT)]
    pub keepalive_timeout: HumanDuration,
    /// At SIGTERM, how long open streams and running statements may take to
    /// finish (new statements are refused); what still runs then is cancelled.
    #[arg(long, env = "RSFS_DRAIN_TIMEOUT", default_value_t = DEFAULT_DRAIN_TIMEOUT)]
    pub drain_timeout: HumanDuration,
    /// Address of the Prometheus `/metrics` endpoint (off unless given; port 0 picks one).
    #[arg(long, env = "RSFS_METRICS_LISTEN")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// Largest gRPC message accepted or sent.
    #[arg(long, env = "RSFS_MAX_MESSAGE_SIZE", default_value_t = DEFAULT_MAX_MESSAGE_SIZE)]
    pub max_message_size: ByteSize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        Self {
            keepalive_interval: DEFAULT_KEEPALIVE_INTERVAL,
            keepalive_timeout: DEFAULT_KEEPALIVE_TIMEOUT,
            drain_timeout: DEFAULT_DRAIN_TIMEOUT,
            metrics_listen: None,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
        }
    }
}
