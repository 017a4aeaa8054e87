//! The emulator test fixture: one throwaway PostgreSQL per test binary, and an
//! emulator per test on 127.0.0.1:0 with a real aws-sdk-redshiftdata client
//! pointed at it. The gateway's integration tests include this file too
//! (`#[path]` in its `tests/it/common.rs`), so both run the emulator one way.

use std::sync::OnceLock;

use aws_sdk_redshiftdata::config::retry::RetryConfig;
use aws_sdk_redshiftdata::config::{BehaviorVersion, Credentials, Region};
use redshift_data_emulator::{EmulatorConfig, ThrowawayCluster};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio_util::sync::CancellationToken;

static CLUSTER: OnceLock<ThrowawayCluster> = OnceLock::new();

/// The shared PostgreSQL (started on first use, with the `dev` database).
pub(crate) fn postgres_url() -> String {
    CLUSTER
        .get_or_init(|| {
            // A runtime of its own: the caller may already be inside one.
            std::thread::spawn(|| {
                let cluster = ThrowawayCluster::start().expect("starting PostgreSQL");
                let url = cluster.url("postgres");
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(redshift_data_emulator::ensure_database(&url, "dev"))
                    .expect("creating dev");
                cluster
            })
            .join()
            .expect("PostgreSQL start thread")
        })
        .url("postgres")
}

/// An emulator serving on a free port until dropped.
pub(crate) struct Emulator {
    pub(crate) url: String,
    pub(crate) client: aws_sdk_redshiftdata::Client,
    shutdown: CancellationToken,
}

impl Drop for Emulator {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// A Data API client for `url`; `retries` false turns the SDK's retries off.
pub(crate) fn sdk_client(url: &str, retries: bool) -> aws_sdk_redshiftdata::Client {
    // rustls with ring, as the gateway's client: no C toolchain needed.
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let mut config = aws_sdk_redshiftdata::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("test", "test", None, None, "tests"))
        .endpoint_url(url)
        .http_client(http);
    if !retries {
        config = config.retry_config(RetryConfig::disabled());
    }
    aws_sdk_redshiftdata::Client::from_conf(config.build())
}

/// Starts an emulator with `config` on 127.0.0.1:0.
pub(crate) async fn emulator_with(config: EmulatorConfig) -> Emulator {
    let pg = postgres_url();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    tokio::spawn(async move {
        redshift_data_emulator::serve(config, &pg, listener, token)
            .await
            .expect("emulator");
    });
    Emulator {
        client: sdk_client(&url, true),
        url,
        shutdown,
    }
}

/// Starts an emulator with the default configuration.
pub(crate) async fn emulator() -> Emulator {
    emulator_with(EmulatorConfig::default()).await
}

/// A name no other test uses.
pub(crate) fn unique(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

/// One raw HTTP/1.1 exchange with the emulator at `url` (`Connection: close`):
/// `request` is the method and path (`"POST /"`), `headers` extra header
/// lines each ending in CRLF. Returns the whole response.
pub(crate) async fn raw_http(url: &str, request: &str, headers: &str, body: &str) -> String {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let message = format!(
        "{request} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(message.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

/// The body of an HTTP response.
pub(crate) fn body_of(response: &str) -> &str {
    response.split("\r\n\r\n").nth(1).unwrap_or_default()
}

/// `GET /stats`: Data API calls per operation since the emulator started.
pub(crate) async fn get_stats(url: &str) -> serde_json::Value {
    let response = raw_http(url, "GET /stats", "", "").await;
    serde_json::from_str(body_of(&response)).expect("stats json")
}
