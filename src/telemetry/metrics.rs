//! Prometheus metrics: every name in one place, the recorder, the `/metrics`
//! endpoint on its own port, and a tower layer that times whole gRPC calls
//! (a DoGet counts until its last message, not until its first).
//!
//! Names follow the conventional gRPC server metrics
//! (`grpc_server_started_total`, `grpc_server_handled_total{grpc_method,
//! grpc_code}`, `grpc_server_handling_seconds`) and the gateway's own, all
//! prefixed `rsfs_`. Label sets are bounded: methods, codes, Data API
//! operations and outcomes are fixed sets.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tonic::codegen::http;

/// gRPC calls started, by `grpc_service`, `grpc_method`.
pub const GRPC_STARTED: &str = "grpc_server_started_total";
/// gRPC calls ended, by `grpc_service`, `grpc_method`, `grpc_code`.
pub const GRPC_HANDLED: &str = "grpc_server_handled_total";
/// Seconds from a call's start to its last message, by `grpc_service`, `grpc_method`.
pub const GRPC_SECONDS: &str = "grpc_server_handling_seconds";
/// Data API calls, by `operation` and `outcome` (`ok` or the error kind).
pub const DATA_API_CALLS: &str = "rsfs_data_api_calls_total";
/// Data API calls that waited for their operation's `--data-api-rate`, by `operation`.
pub const DATA_API_RATE_WAITS: &str = "rsfs_data_api_rate_waits_total";
/// Data API calls retried by the gateway, by `operation`.
pub const DATA_API_RETRIES: &str = "rsfs_data_api_retries_total";
/// Seconds a statement took from submission to its end, by `status`.
pub const STATEMENT_SECONDS: &str = "rsfs_statement_seconds";
/// Statements running now.
pub const STATEMENTS_RUNNING: &str = "rsfs_statements_running";
/// Result streams open now.
pub const STREAMS_OPEN: &str = "rsfs_result_streams_open";
/// Result rows streamed to clients.
pub const ROWS_STREAMED: &str = "rsfs_result_rows_total";
/// Result bytes (Arrow IPC) streamed to clients.
pub const BYTES_STREAMED: &str = "rsfs_result_bytes_total";
/// Results cache lookups, by `outcome` (`hit`, `miss`).
pub const CACHE_LOOKUPS: &str = "rsfs_cache_lookups_total";
/// Results cache entries evicted, by `cause`.
pub const CACHE_EVICTIONS: &str = "rsfs_cache_evictions_total";
/// Bytes the results cache holds.
pub const CACHE_BYTES: &str = "rsfs_cache_bytes";
/// Refused authentications, by `reason`.
pub const AUTH_FAILURES: &str = "rsfs_auth_failures_total";
/// Statements running now, by `principal` (at most [`MAX_PRINCIPAL_LABELS`]
/// names; the rest count as `other`, the gateway's own as `gateway`).
pub const STATEMENTS_IN_FLIGHT: &str = "rsfs_statements_in_flight";
/// 1 for the Data API result format new statements use, by `format`.
pub const RESULT_FORMAT: &str = "rsfs_result_format";
/// Keep-alive messages sent on result streams waiting for their next page.
pub const STREAM_KEEPALIVES: &str = "rsfs_stream_keepalives_total";
/// Queries whose result was read through UNLOAD, by `reason` (`asked`:
/// the unload option; `too_large`: the Data API refused the result).
pub const UNLOAD_QUERIES: &str = "rsfs_unload_queries_total";
/// UNLOAD result folders deleted when they expired.
pub const UNLOAD_RESULTS_DELETED: &str = "rsfs_unload_results_deleted_total";

/// Most distinct principals that get a label of their own.
pub const MAX_PRINCIPAL_LABELS: usize = 100;

/// The `principal` label of `principal`: its name for the first
/// [`MAX_PRINCIPAL_LABELS`] principals seen, `other` after that, so that a
/// gateway with many users keeps a bounded set of series.
pub fn principal_label(principal: &str) -> String {
    static SEEN: OnceLock<std::sync::Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if seen.contains(principal) {
        return principal.to_owned();
    }
    if seen.len() < MAX_PRINCIPAL_LABELS {
        seen.insert(principal.to_owned());
        return principal.to_owned();
    }
    "other".to_owned()
}

/// Records the result format new statements use.
pub fn result_format(format: crate::dataapi::ResultFormat) {
    let csv = format == crate::dataapi::ResultFormat::Csv;
    metrics::gauge!(RESULT_FORMAT, "format" => "csv").set(if csv { 1.0 } else { 0.0 });
    metrics::gauge!(RESULT_FORMAT, "format" => "json").set(if csv { 0.0 } else { 1.0 });
}

/// Latency buckets (seconds) of the histograms.
const BUCKETS: [f64; 14] = [
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0,
];

/// The process-wide recorder, installed on first use.
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".to_owned()), &BUCKETS)
            .unwrap_or_else(|_| PrometheusBuilder::new());
        match builder.install_recorder() {
            Ok(handle) => handle,
            // Another recorder is installed: render this one's (empty) view.
            Err(e) => {
                tracing::warn!(error = %e, "a metrics recorder was already installed");
                PrometheusBuilder::new().build_recorder().handle()
            }
        }
    })
}

/// Whether the gateway takes new work: true once it serves, false from the
/// start of the drain (what `/readyz` answers).
#[derive(Debug, Clone, Default)]
pub struct Readiness(Arc<AtomicBool>);

impl Readiness {
    /// Sets whether the gateway takes new work.
    pub fn set(&self, ready: bool) {
        self.0.store(ready, Ordering::SeqCst);
    }

    /// Whether the gateway takes new work.
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Serves `GET /metrics`, and the plain-HTTP probes `/healthz` (200 while
/// the process runs) and `/readyz` (200 while `ready`, 503 before and
/// during the drain), on `listener` until `shutdown` is cancelled. The
/// probes are for kubelets that cannot speak gRPC over TLS.
pub async fn serve(
    listener: TcpListener,
    ready: Readiness,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let handle = recorder();
    let router = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(move || async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    handle.render(),
                )
            }),
        )
        .route("/healthz", axum::routing::get(|| async { "ok\n" }))
        .route(
            "/readyz",
            axum::routing::get(move || {
                let ready = ready.get();
                async move {
                    if ready {
                        (http::StatusCode::OK, "ready\n")
                    } else {
                        (http::StatusCode::SERVICE_UNAVAILABLE, "not ready\n")
                    }
                }
            }),
        );
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown.cancelled_owned())
        .await?;
    Ok(())
}

/// Binds `addr` and serves `/metrics` and the probes there in the
/// background; the bound address.
pub async fn spawn(
    addr: SocketAddr,
    ready: Readiness,
    shutdown: CancellationToken,
) -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = serve(listener, ready, shutdown).await {
            tracing::error!(error = %e, "metrics endpoint");
        }
    });
    Ok(bound)
}

/// The gRPC status code names used as `grpc_code`.
fn code_name(code: &str) -> &'static str {
    match code.trim() {
        "0" => "OK",
        "1" => "Canceled",
        "2" => "Unknown",
        "3" => "InvalidArgument",
        "4" => "DeadlineExceeded",
        "5" => "NotFound",
        "6" => "AlreadyExists",
        "7" => "PermissionDenied",
        "8" => "ResourceExhausted",
        "9" => "FailedPrecondition",
        "10" => "Aborted",
        "11" => "OutOfRange",
        "12" => "Unimplemented",
        "13" => "Internal",
        "14" => "Unavailable",
        "15" => "DataLoss",
        "16" => "Unauthenticated",
        _ => "Unknown",
    }
}

/// Counts and times every gRPC call from its start to its last message.
#[derive(Debug, Clone, Copy, Default)]
pub struct GrpcMetricsLayer;

impl<S> tower::Layer<S> for GrpcMetricsLayer {
    type Service = GrpcMetrics<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GrpcMetrics { inner }
    }
}

/// The service [`GrpcMetricsLayer`] wraps.
#[derive(Debug, Clone)]
pub struct GrpcMetrics<S> {
    inner: S,
}

/// What a call is: its service and method, from the request path.
#[derive(Debug, Clone)]
struct Call {
    service: String,
    method: String,
    started: Instant,
}

impl Call {
    fn of(path: &str) -> Self {
        let mut parts = path.trim_start_matches('/').splitn(2, '/');
        let service = parts.next().unwrap_or_default().to_owned();
        let method = parts.next().unwrap_or_default().to_owned();
        metrics::counter!(GRPC_STARTED, "grpc_service" => service.clone(), "grpc_method" => method.clone())
            .increment(1);
        Self {
            service,
            method,
            started: Instant::now(),
        }
    }

    fn end(self, code: &'static str) {
        metrics::counter!(
            GRPC_HANDLED,
            "grpc_service" => self.service.clone(),
            "grpc_method" => self.method.clone(),
            "grpc_code" => code
        )
        .increment(1);
        metrics::histogram!(GRPC_SECONDS, "grpc_service" => self.service, "grpc_method" => self.method)
            .record(self.started.elapsed().as_secs_f64());
    }
}

impl<S, Req, B> tower::Service<http::Request<Req>> for GrpcMetrics<S>
where
    S: tower::Service<http::Request<Req>, Response = http::Response<B>>,
    S::Future: Send + 'static,
    B: http_body::Body + Send + 'static,
{
    type Response = http::Response<TimedBody<B>>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Req>) -> Self::Future {
        let call = Call::of(request.uri().path());
        let future = self.inner.call(request);
        Box::pin(async move {
            let response = future.await?;
            // A trailers-only answer (an error before any message) ends here.
            let early = response
                .headers()
                .get("grpc-status")
                .and_then(|s| s.to_str().ok())
                .map(code_name);
            let (parts, body) = response.into_parts();
            let call = match early {
                Some(code) => {
                    call.end(code);
                    None
                }
                None => Some(call),
            };
            Ok(http::Response::from_parts(
                parts,
                TimedBody { inner: body, call },
            ))
        })
    }
}

pin_project_lite::pin_project! {
    /// A response body that ends its call's timing with its trailers (or as
    /// Canceled when the client goes away first).
    pub struct TimedBody<B> {
        #[pin]
        inner: B,
        call: Option<Call>,
    }

    impl<B> PinnedDrop for TimedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            if let Some(call) = this.project().call.take() {
                call.end("Canceled");
            }
        }
    }
}

impl<B> std::fmt::Debug for TimedBody<B> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TimedBody")
    }
}

impl<B: http_body::Body> http_body::Body for TimedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref() {
                    let code = trailers
                        .get("grpc-status")
                        .and_then(|s| s.to_str().ok())
                        .map_or("OK", code_name);
                    if let Some(call) = this.call.take() {
                        call.end(code);
                    }
                }
            }
            Poll::Ready(None) => {
                if let Some(call) = this.call.take() {
                    call.end("OK");
                }
            }
            Poll::Ready(Some(Err(_))) => {
                if let Some(call) = this.call.take() {
                    call.end("Internal");
                }
            }
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_have_their_conventional_names() {
        assert_eq!(code_name("0"), "OK");
        assert_eq!(code_name("14"), "Unavailable");
        assert_eq!(code_name("99"), "Unknown");
    }

    #[test]
    fn calls_are_named_by_service_and_method() {
        let call = Call::of("/arrow.flight.protocol.FlightService/DoGet");
        assert_eq!(call.service, "arrow.flight.protocol.FlightService");
        assert_eq!(call.method, "DoGet");
    }
}
