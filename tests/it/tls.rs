//! TLS on the Flight port with the Rust Flight SQL client: queries over TLS,
//! a plain-text client refused, mTLS refusing a client without a
//! certificate and naming the principal from one, and a certificate rotated
//! on disk served to the next connection while open ones keep theirs.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use arrow_flight::sql::client::FlightSqlServiceClient;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use redshift_flight_sql::config::{HumanDuration, TlsConfig};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use super::common::{StackOptions, fetch, stack_with, unique};

/// A CA that signs certificates for the tests.
struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().expect("key");
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let cert = params.self_signed(&key).expect("CA");
        Self { cert, key }
    }

    /// A certificate for `names` with common name `cn`: (certificate PEM, key PEM).
    fn issue(&self, cn: &str, names: &[&str]) -> (String, String) {
        let key = KeyPair::generate().expect("key");
        let mut params =
            CertificateParams::new(names.iter().map(|n| (*n).to_owned()).collect::<Vec<_>>())
                .expect("params");
        params.distinguished_name.push(DnType::CommonName, cn);
        let cert = params
            .signed_by(&key, &self.cert, &self.key)
            .expect("signed");
        (cert.pem(), key.serialize_pem())
    }
}

/// A fresh directory for the test's PEM files.
fn dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("rsfs-tls"));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// Writes the server's certificate and key files signed by `ca`.
fn write_server_files(dir: &Path, ca: &Ca) -> (PathBuf, PathBuf) {
    let (cert, key) = ca.issue("localhost", &["localhost", "127.0.0.1"]);
    let (cert_path, key_path) = (dir.join("server.pem"), dir.join("server.key"));
    std::fs::write(&cert_path, cert).expect("cert");
    std::fs::write(&key_path, key).expect("key");
    (cert_path, key_path)
}

/// A channel over TLS to `url` trusting `ca`, with an optional client identity.
async fn tls_channel(
    url: &str,
    ca: &Ca,
    identity: Option<(String, String)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca.cert.pem()))
        .domain_name("localhost");
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(cert, key));
    }
    Endpoint::from_shared(url.replace("http://", "https://"))
        .expect("endpoint")
        .tls_config(tls)?
        .connect()
        .await
}

/// Runs `select 42` over `channel`.
async fn answer(channel: Channel) -> Result<i32, arrow_flight::error::FlightError> {
    let mut client = FlightSqlServiceClient::new(channel);
    let info = client.execute("select 42 as n".to_owned(), None).await?;
    let batches = fetch(&mut client, &info).await;
    let n = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::Int32Array>()
        .expect("int4")
        .value(0);
    Ok(n)
}

fn tls_config(cert: PathBuf, key: PathBuf) -> TlsConfig {
    TlsConfig {
        tls_cert: Some(cert),
        tls_key: Some(key),
        ..TlsConfig::default()
    }
}

#[tokio::test]
async fn queries_run_over_tls_and_plain_text_is_refused() {
    let ca = Ca::new("test CA");
    let (cert, key) = write_server_files(&dir(), &ca);
    let stack = stack_with(StackOptions {
        tls: tls_config(cert, key),
        ..StackOptions::default()
    })
    .await;
    let channel = tls_channel(&stack.flight_url, &ca, None)
        .await
        .expect("TLS connects");
    assert_eq!(answer(channel).await.expect("query over TLS"), 42);

    // A plain-text HTTP/2 client gets no answer from a TLS port.
    let plain = Endpoint::from_shared(stack.flight_url.clone())
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(5))
        .connect_lazy();
    assert!(answer(plain).await.is_err(), "plain text refused");
    // A client that does not trust the server's CA refuses it.
    let stranger = Ca::new("another CA");
    assert!(
        tls_channel(&stack.flight_url, &stranger, None)
            .await
            .is_err()
    );
}

#[tokio::test]
async fn mtls_refuses_a_client_without_a_certificate_and_names_the_principal() {
    let server_ca = Ca::new("server CA");
    let client_ca = Ca::new("client CA");
    let dir = dir();
    let (cert, key) = write_server_files(&dir, &server_ca);
    let ca_path = dir.join("clients.pem");
    std::fs::write(&ca_path, client_ca.cert.pem()).expect("client CA");
    let stack = stack_with(StackOptions {
        tls: TlsConfig {
            tls_client_ca: Some(ca_path),
            tls_principal_from_cert: true,
            ..tls_config(cert, key)
        },
        ..StackOptions::default()
    })
    .await;

    let without = tls_channel(&stack.flight_url, &server_ca, None).await;
    let refused = match without {
        Err(_) => true,
        Ok(channel) => answer(channel).await.is_err(),
    };
    assert!(refused, "no client certificate, no connection");
    let forged = Ca::new("client CA");
    let forged_cert = forged.issue("mallory", &[]);
    let refused = match tls_channel(&stack.flight_url, &server_ca, Some(forged_cert)).await {
        Err(_) => true,
        Ok(channel) => answer(channel).await.is_err(),
    };
    assert!(refused, "a certificate from another CA is refused");

    let alice = client_ca.issue("alice", &[]);
    let channel = tls_channel(&stack.flight_url, &server_ca, Some(alice))
        .await
        .expect("mTLS connects");
    assert_eq!(answer(channel).await.expect("query as alice"), 42);
    // Alice's statement ran under her name (the gateway names statements by principal).
    assert!(!stack.statements_of("alice").await.is_empty());
}

#[tokio::test]
async fn a_rotated_certificate_reaches_new_connections_and_open_ones_keep_theirs() {
    let old_ca = Ca::new("old CA");
    let dir = dir();
    let (cert, key) = write_server_files(&dir, &old_ca);
    let stack = stack_with(StackOptions {
        tls: TlsConfig {
            tls_reload_interval: HumanDuration(Duration::from_millis(50)),
            ..tls_config(cert, key)
        },
        ..StackOptions::default()
    })
    .await;
    let open = tls_channel(&stack.flight_url, &old_ca, None)
        .await
        .expect("connects");
    assert_eq!(answer(open.clone()).await.expect("query"), 42);

    // Kubernetes rotates the mounted secret: new files, signed by a new CA.
    let new_ca = Ca::new("new CA");
    write_server_files(&dir, &new_ca);
    let deadline = Instant::now() + Duration::from_secs(20);
    let rotated = loop {
        if let Ok(channel) = tls_channel(&stack.flight_url, &new_ca, None).await
            && let Ok(n) = answer(channel).await
        {
            break n;
        }
        assert!(
            Instant::now() < deadline,
            "the new certificate was never served"
        );
        tokio::task::yield_now().await;
    };
    assert_eq!(rotated, 42);
    assert!(
        tls_channel(&stack.flight_url, &old_ca, None).await.is_err()
            || answer(
                tls_channel(&stack.flight_url, &old_ca, None)
                    .await
                    .expect("c")
            )
            .await
            .is_err(),
        "new connections no longer get the old certificate"
    );
    assert_eq!(
        answer(open)
            .await
            .expect("the open connection keeps working"),
        42
    );
}
