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
pub mod preflight;
mod server;
pub(crate) mod statement;
pub mod telemetry;
pub mod ticket;
pub mod tls;
pub(crate) mod unload;

use std::sync::Arc;

use anyhow::Context as _;
use arrow_flight::flight_service_server::FlightServiceServer;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::{AuthMode, Authenticator};
use crate::cache::ResultsCache;
use crate::config::GatewayConfig;
use crate::dataapi::{DataApi, ResultFormat, RetryingDataApi, WaitPolicy};
use crate::flight::{FlightSqlService, Gateway};
use crate::statement::{Audit, FormatSelector, Statements};
use crate::ticket::TicketSigner;

/// The authenticator of `--auth` and its files and issuer.
fn authenticator(auth: &config::AuthConfig, signer: TicketSigner) -> anyhow::Result<Authenticator> {
    let modes = &auth.modes;
    anyhow::ensure!(
        !(modes.contains(&AuthMode::None) && modes.len() > 1),
        "--auth none cannot be combined with other modes"
    );
    let users = match (modes.contains(&AuthMode::Basic), &auth.users_file) {
        (true, Some(path)) => auth::read_users(path)?,
        (true, None) => anyhow::bail!("--auth basic needs --users-file"),
        (false, _) => Default::default(),
    };
    let mut authenticator = Authenticator::new(modes, users, signer, auth.token_ttl.get());
    if modes.contains(&AuthMode::Tokens) {
        let path = auth
            .tokens_file
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("--auth tokens needs --tokens-file"))?;
        authenticator = authenticator.with_tokens(auth::tokens::StaticTokens::read(path)?);
    }
    if modes.contains(&AuthMode::Oidc) {
        let algorithms = auth
            .oidc_algorithms
            .iter()
            .map(|a| {
                a.trim()
                    .parse::<jsonwebtoken::Algorithm>()
                    .map_err(|_| anyhow::anyhow!("--oidc-algorithms: {a} is not a JWT algorithm"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        let oidc = auth::oidc::Oidc::new(auth::oidc::OidcSettings {
            issuer: auth.oidc_issuer.clone(),
            jwks_url: auth.oidc_jwks_url.clone(),
            audiences: auth.oidc_audience.clone(),
            algorithms,
            clock_skew: auth.oidc_clock_skew.get(),
            principal_claim: auth.oidc_principal_claim.clone(),
            groups_claim: auth.oidc_groups_claim.clone(),
        })?;
        authenticator = authenticator.with_oidc(oidc);
    }
    Ok(authenticator)
}

/// How the gateway waits for statements under `config`.
fn wait_policy(config: &GatewayConfig) -> WaitPolicy {
    WaitPolicy {
        long_poll_seconds: config.service.query.long_poll_seconds(),
        ..WaitPolicy::default()
    }
}

/// The result format the gateway starts with: the fixed one, or with
/// `--result-format auto` what the probe chooses.
pub async fn starting_format(config: &GatewayConfig, api: &dyn DataApi) -> ResultFormat {
    match config.service.query.result_format.fixed() {
        Some(format) => format,
        None => preflight::choose_format(api, &config.target.database, wait_policy(config)).await,
    }
}

/// Builds the Flight SQL service for `config` over `api`, reading results
/// in `result_format` to begin with (see [`starting_format`]).
pub fn service(
    config: &GatewayConfig,
    api: Arc<dyn DataApi>,
    result_format: ResultFormat,
) -> anyhow::Result<FlightSqlService> {
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
    let authenticator = authenticator(&config.service.auth, signer.clone())?;
    let wait = wait_policy(config);
    let format = match config.service.query.result_format.fixed() {
        Some(fixed) => FormatSelector::fixed(fixed),
        None => FormatSelector::chosen(result_format),
    };
    let api = RetryingDataApi::wrap_with_rates(
        api,
        config.service.retry.policy(),
        config.service.retry.rates(),
    );
    let statements = Statements::new(
        api,
        wait,
        config.target.database.clone(),
        ResultsCache::new(&config.service.cache),
        &config.service.limits,
        format,
        Audit {
            identity: config.target.identity(),
            sql: config.service.auth.audit_sql,
        },
    );
    let identities = match &config.service.auth.identity_map {
        Some(path) => auth::identity_map::IdentityMap::read(path)?,
        None => auth::identity_map::IdentityMap::default(),
    };
    let unload = unload::Unload::new(
        &config.service.unload,
        &config.aws,
        config.service.cache.cache_ttl.get(),
    )?;
    let gateway = Gateway::new(
        statements,
        signer,
        authenticator,
        identities,
        &config.service.query,
        &config.service.limits,
        unload,
    );
    Ok(FlightSqlService::new(
        gateway,
        config.service.tls.tls_principal_from_cert,
    ))
}

/// Serves Flight SQL on `listener` until `shutdown` is cancelled, then
/// drains: the gRPC health service reports NOT_SERVING, new statements are
/// refused with UNAVAILABLE, open streams and running statements get
/// `--drain-timeout` to finish, what still runs is cancelled on Redshift, and
/// the server stops.
pub async fn run(
    config: GatewayConfig,
    api: Arc<dyn DataApi>,
    listener: TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let server_config = config.service.server.clone();
    let max_message = server_config.max_message_size.as_usize();
    let format = starting_format(&config, &*api).await;
    let flight = service(&config, api, format)?;
    let statements = flight.statements().clone();
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<FlightServiceServer<FlightSqlService>>()
        .await;
    let ready = telemetry::metrics::Readiness::default();
    ready.set(true);
    let flight = FlightServiceServer::new(flight)
        .max_decoding_message_size(max_message)
        .max_encoding_message_size(max_message);
    let stop = CancellationToken::new();
    let tls = tls::Tls::load(&config.service.tls)?;
    if let Some(tls) = &tls {
        tls.watch(config.service.tls.tls_reload_interval.get(), stop.clone());
    }
    if let Some(addr) = server_config.metrics_listen {
        let bound = telemetry::metrics::spawn(addr, ready.clone(), stop.clone()).await?;
        tracing::info!(%bound, "metrics on http://{bound}/metrics");
    }
    let server = tonic::transport::Server::builder()
        // Outermost first: the metrics see the code the client gets.
        .layer(
            tower::ServiceBuilder::new()
                .layer(telemetry::metrics::GrpcMetricsLayer)
                .layer(server::InvalidRequestLayer),
        )
        .http2_keepalive_interval(Some(server_config.keepalive_interval.get()))
        .http2_keepalive_timeout(Some(server_config.keepalive_timeout.get()))
        .add_service(health_service)
        .add_service(flight)
        .serve_with_incoming_shutdown(tls::incoming(listener, tls), stop.clone().cancelled_owned());
    let mut server = std::pin::pin!(server);
    tokio::select! {
        served = &mut server => return served.context("serving Flight SQL"),
        () = shutdown.cancelled() => {}
    }
    tracing::info!(timeout = %server_config.drain_timeout, "draining");
    health
        .set_not_serving::<FlightServiceServer<FlightSqlService>>()
        .await;
    ready.set(false);
    health
        .set_service_status("", tonic_health::ServingStatus::NotServing)
        .await;
    let cancelled = statements.drain(server_config.drain_timeout.get()).await;
    tracing::info!(cancelled, "drained; stopping");
    stop.cancel();
    // Streams still open after the drain timeout are cut, not awaited.
    match tokio::time::timeout(STOP_GRACE, &mut server).await {
        Ok(served) => served.context("serving Flight SQL"),
        Err(_) => Ok(()),
    }
}

/// How long the server waits for connections to close after the drain.
const STOP_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::AuthConfig;

    #[test]
    fn each_auth_mode_needs_its_file_or_issuer() {
        let signer = TicketSigner::new(Some(b"k"));
        for (modes, said) in [
            (vec![AuthMode::Basic], "--auth basic needs --users-file"),
            (vec![AuthMode::Tokens], "--auth tokens needs --tokens-file"),
            (
                vec![AuthMode::Oidc],
                "--auth oidc needs --oidc-issuer or --oidc-jwks-url",
            ),
            (vec![AuthMode::None, AuthMode::Basic], "cannot be combined"),
        ] {
            let auth = AuthConfig {
                modes,
                ..AuthConfig::default()
            };
            let e = authenticator(&auth, signer.clone()).expect_err("refused");
            assert!(e.to_string().contains(said), "{e}");
        }
    }
}
