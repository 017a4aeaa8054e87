//! redshift-flight-sql: an Apache Arrow Flight SQL server for Amazon Redshift
//! over the Redshift Data API.
//!
//! `run(config, api, listener, shutdown)` serves Flight SQL on a listener the
//! caller bound (tests bind port 0). With the `emulator` feature (default),
//! [`local`] runs the whole stack on the `redshift-data-emulator` crate.

pub mod auth;
pub mod cache;
pub mod config;
pub mod convert;
pub mod dataapi;
pub mod error;
pub mod flight;
#[cfg(feature = "emulator")]
pub mod local;
pub mod telemetry;
pub mod ticket;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthMode, Authenticator};
use crate::cache::ResultsCache;
use crate::config::GatewayConfig;
use crate::dataapi::{DataApi, WaitPolicy};
use crate::flight::{FlightSqlService, Gateway, QuerySettings};
use crate::ticket::TicketSigner;

/// Largest gRPC message accepted or sent (DoPut batches, large FlightData).
const MAX_MESSAGE_BYTES: usize = 64 * 1024 * 1024;

/// Builds the Flight SQL service for `config` over `api`.
pub fn service(config: &GatewayConfig, api: Arc<dyn DataApi>) -> anyhow::Result<FlightSqlService> {
    let signer = TicketSigner::new(config.auth.signing_key.as_deref().map(str::as_bytes));
    if config.auth.signing_key.is_none() {
        tracing::warn!(
            "no --signing-key: tickets are signed with a random per-process key, so replicas cannot serve each other's tickets"
        );
    }
    let users = match (config.auth.mode, &config.auth.users_file) {
        (AuthMode::Basic, Some(path)) => auth::read_users(path)?,
        (AuthMode::Basic, None) => anyhow::bail!("--auth basic needs --users-file"),
        (AuthMode::None, _) => Default::default(),
    };
    let authenticator = Authenticator::new(
        config.auth.mode,
        users,
        signer.clone(),
        Duration::from_secs(config.auth.token_ttl_seconds),
    );
    let wait = WaitPolicy {
        long_poll_seconds: (config.query.long_poll_seconds > 0)
            .then_some(i32::from(config.query.long_poll_seconds)),
        ..WaitPolicy::default()
    };
    let gateway = Gateway::new(
        api,
        signer,
        authenticator,
        ResultsCache::new(&config.cache),
        QuerySettings {
            database: config.target.database.clone(),
            result_format: config.query.result_format,
            wait,
            reuse: Duration::from_secs(config.query.reuse_seconds),
        },
    );
    Ok(FlightSqlService::new(gateway))
}

/// Accepted connections with TCP_NODELAY: gRPC sends small frames (FlightInfo,
/// the schema message) that Nagle's algorithm would hold back ~40 ms.
fn incoming(
    listener: TcpListener,
) -> impl futures::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    use futures::StreamExt as _;
    TcpListenerStream::new(listener).map(|conn| {
        conn.inspect(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY");
            }
        })
    })
}

/// Serves Flight SQL on `listener` until `shutdown` is cancelled.
pub async fn run(
    config: GatewayConfig,
    api: Arc<dyn DataApi>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let service = FlightServiceServer::new(service(&config, api)?)
        .max_decoding_message_size(MAX_MESSAGE_BYTES)
        .max_encoding_message_size(MAX_MESSAGE_BYTES);
    tonic::transport::Server::builder()
        .http2_keepalive_interval(Some(flight::KEEPALIVE_INTERVAL))
        .http2_keepalive_timeout(Some(Duration::from_secs(20)))
        .add_service(service)
        .serve_with_incoming_shutdown(incoming(listener), shutdown.cancelled_owned())
        .await
        .context("serving Flight SQL")
}
