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
mod server;
pub(crate) mod statement;
pub mod telemetry;
pub mod ticket;

use std::sync::Arc;

use anyhow::Context as _;
use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthMode, Authenticator};
use crate::cache::ResultsCache;
use crate::config::GatewayConfig;
use crate::dataapi::{DataApi, RetryingDataApi, WaitPolicy};
use crate::flight::{FlightSqlService, Gateway};
use crate::statement::Statements;
use crate::ticket::TicketSigner;

/// Builds the Flight SQL service for `config` over `api`.
pub fn service(config: &GatewayConfig, api: Arc<dyn DataApi>) -> anyhow::Result<FlightSqlService> {
    let signer = TicketSigner::new(
        config
            .service
            .auth
            .signing_key
            .as_deref()
            .map(str::as_bytes),
    );
    if config.service.auth.signing_key.is_none() {
        tracing::warn!(
            "no --signing-key: tickets are signed with a random per-process key, so replicas cannot serve each other's tickets"
        );
    }
    let users = match (config.service.auth.mode, &config.service.auth.users_file) {
        (AuthMode::Basic, Some(path)) => auth::read_users(path)?,
        (AuthMode::Basic, None) => anyhow::bail!("--auth basic needs --users-file"),
        (AuthMode::None, _) => Default::default(),
    };
    let authenticator = Authenticator::new(
        config.service.auth.mode,
        users,
        signer.clone(),
        config.service.auth.token_ttl.get(),
    );
    let wait = WaitPolicy {
        long_poll_seconds: config.service.query.long_poll_seconds(),
        ..WaitPolicy::default()
    };
    let api = RetryingDataApi::wrap(api, config.service.retry.policy());
    let statements = Statements::new(
        api,
        wait,
        config.target.database.clone(),
        ResultsCache::new(&config.service.cache),
        &config.service.limits,
    );
    let gateway = Gateway::new(
        statements,
        signer,
        authenticator,
        &config.service.query,
        &config.service.limits,
    );
    Ok(FlightSqlService::new(gateway))
}

/// Serves Flight SQL on `listener` until `shutdown` is cancelled.
pub async fn run(
    config: GatewayConfig,
    api: Arc<dyn DataApi>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let max_message = config.service.server.max_message_size.as_usize();
    let service = FlightServiceServer::new(service(&config, api)?)
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    tonic::transport::Server::builder()
        .layer(server::InvalidRequestLayer)
        .http2_keepalive_interval(Some(config.service.server.keepalive_interval.get()))
        .http2_keepalive_timeout(Some(config.service.server.keepalive_timeout.get()))
        .add_service(service)
        .serve_with_incoming_shutdown(server::incoming(listener), shutdown.cancelled_owned())
        .await
        .context("serving Flight SQL")
}
