//! TLS on the Flight port with rustls (ring): the certificate chain and key,
//! optional mTLS against a client CA, ALPN `h2` (gRPC clients require it),
//! and the files re-read when they change, so that a rotated Kubernetes
//! secret reaches new connections while open ones keep theirs. Handshakes
//! run on their own tasks with a deadline, so a slow or silent client never
//! holds up the others' connections.

use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{Context, Poll};
use std::time::Duration;

use anyhow::Context as _;
use rustls::RootCertStore;
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::Digest as _;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

use crate::config::{ClientAuth, TlsConfig};

/// How long a client may take to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The files TLS is made of.
#[derive(Debug, Clone)]
struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    client_ca: Option<PathBuf>,
    client_auth: ClientAuth,
}

impl TlsFiles {
    fn paths(&self) -> impl Iterator<Item = &Path> {
        [
            Some(self.cert.as_path()),
            Some(self.key.as_path()),
            self.client_ca.as_deref(),
        ]
        .into_iter()
        .flatten()
    }

    /// A digest of the files' contents (a rotated secret changes it, whatever
    /// the file times say).
    fn digest(&self) -> io::Result<Vec<u8>> {
        let mut hash = sha2::Sha256::new();
        for path in self.paths() {
            hash.update(std::fs::read(path)?);
        }
        Ok(hash.finalize().to_vec())
    }

    /// The rustls configuration of these files.
    fn load(&self) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&self.cert)
            .with_context(|| format!("reading {}", self.cert.display()))?
            .collect::<Result<_, _>>()
            .with_context(|| format!("{} holds no PEM certificate chain", self.cert.display()))?;
        anyhow::ensure!(
            !certs.is_empty(),
            "{} holds no certificate",
            self.cert.display()
        );
        let key = PrivateKeyDer::from_pem_file(&self.key)
            .with_context(|| format!("{} holds no PEM private key", self.key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca {
            None => builder.with_no_client_auth(),
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                for cert in CertificateDer::pem_file_iter(ca)
                    .with_context(|| format!("reading {}", ca.display()))?
                {
                    let cert = cert.with_context(|| format!("{} is not PEM", ca.display()))?;
                    roots
                        .add(cert)
                        .with_context(|| format!("a CA certificate of {}", ca.display()))?;
                }
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
                let verifier = match self.client_auth {
                    ClientAuth::Required => verifier,
                    ClientAuth::Optional => verifier.allow_unauthenticated(),
                };
                builder.with_client_cert_verifier(verifier.build()?)
            }
        };
        let mut config = builder
            .with_single_cert(certs, key)
            .context("the certificate and key do not match")?;
        config.alpn_protocols = vec![b"h2".to_vec()];
        Ok(Arc::new(config))
    }
}

/// The TLS configuration new connections get, re-read when its files change.
#[derive(Debug)]
pub(crate) struct Tls {
    files: TlsFiles,
    current: RwLock<(Arc<rustls::ServerConfig>, Vec<u8>)>,
}

impl Tls {
    /// Loads `config`'s files; `None` when TLS is off.
    pub(crate) fn load(config: &TlsConfig) -> anyhow::Result<Option<Arc<Self>>> {
        let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
            return Ok(None);
        };
        let files = TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
            client_ca: config.tls_client_ca.clone(),
            client_auth: config.tls_client_auth,
        };
        let digest = files.digest().context("reading the TLS files")?;
        let loaded = files.load()?;
        Ok(Some(Arc::new(Self {
            files,
            current: RwLock::new((loaded, digest)),
        })))
    }

    fn config(&self) -> Arc<rustls::ServerConfig> {
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(&current.0)
    }

    /// Re-reads the files if they changed; whether the configuration changed.
    /// A file that does not load keeps the configuration served so far.
    pub(crate) fn reload(&self) -> bool {
        let digest = match self.files.digest() {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "TLS files unreadable: keeping the certificate served");
                return false;
            }
        };
        let unchanged = {
            let current = self
                .current
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            current.1 == digest
        };
        if unchanged {
            return false;
        }
        match self.files.load() {
            Ok(config) => {
                *self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = (config, digest);
                tracing::info!("TLS certificate reloaded: new connections get it");
                true
            }
            Err(e) => {
                tracing::warn!(
                    error = format!("{e:#}"),
                    "TLS files changed but do not load: keeping the certificate served"
                );
                false
            }
        }
    }

    /// Checks the files every `interval` until `stop`.
    pub(crate) fn watch(self: &Arc<Self>, interval: Duration, stop: CancellationToken) {
        let tls = Arc::clone(self);
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    () = stop.cancelled() => return,
                    () = tokio::time::sleep(interval) => {}
                }
                let reloading = Arc::clone(&tls);
                let _ = tokio::task::spawn_blocking(move || reloading.reload()).await;
            }
        });
    }
}

/// One accepted connection, plain or TLS.
#[derive(Debug)]
pub(crate) enum Conn {
    /// Plain TCP (no `--tls-cert`).
    Plain(TcpStream),
    /// TLS over TCP.
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
}

/// What a request knows of its connection (a request extension).
#[derive(Debug, Clone)]
pub(crate) struct ConnInfo {
    /// The client's verified certificate chain (mTLS), leaf first.
    pub(crate) peer_certs: Option<Arc<Vec<CertificateDer<'static>>>>,
    /// The client's address: one client connection while it lasts.
    pub(crate) peer: Option<std::net::SocketAddr>,
}

impl tonic::transport::server::Connected for Conn {
    type ConnectInfo = ConnInfo;

    fn connect_info(&self) -> ConnInfo {
        match self {
            Self::Plain(tcp) => ConnInfo {
                peer_certs: None,
                peer: tcp.peer_addr().ok(),
            },
            Self::Tls(tls) => {
                let (tcp, session) = tls.get_ref();
                ConnInfo {
                    peer_certs: session
                        .peer_certificates()
                        .map(|certs| Arc::new(certs.to_vec())),
                    peer: tcp.peer_addr().ok(),
                }
            }
        }
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Sets TCP_NODELAY: gRPC sends small frames (FlightInfo, the schema
/// message) that Nagle's algorithm would hold back ~40 ms.
fn no_delay(tcp: &TcpStream) {
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "TCP_NODELAY");
    }
}

/// The connections `listener` accepts, through TLS when `tls` is given
/// (each handshake on its own task, within [`HANDSHAKE_TIMEOUT`]; a failed
/// one is logged and counted, and closes only its own connection).
pub(crate) fn incoming(
    listener: TcpListener,
    tls: Option<Arc<Tls>>,
) -> impl futures::Stream<Item = io::Result<Conn>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<Conn>>(64);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                () = tx.closed() => return,
                accepted = listener.accept() => accepted,
            };
            let tcp = match accepted {
                Ok((tcp, _)) => tcp,
                Err(e) => {
                    // Out of descriptors and the like: this connection only.
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            no_delay(&tcp);
            let Some(tls) = &tls else {
                if tx.send(Ok(Conn::Plain(tcp))).await.is_err() {
                    return;
                }
                continue;
            };
            let acceptor = tokio_rustls::TlsAcceptor::from(tls.config());
            let tx = tx.clone();
            tokio::spawn(async move {
                let peer = tcp.peer_addr().ok();
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send(Ok(Conn::Tls(Box::new(stream)))).await;
                    }
                    Ok(Err(e)) => {
                        tracing::info!(?peer, error = %e, "TLS handshake refused");
                        metrics::counter!(crate::telemetry::metrics::AUTH_FAILURES, "reason" => "tls_handshake")
                            .increment(1);
                    }
                    Err(_) => {
                        tracing::info!(?peer, "TLS handshake timed out");
                        metrics::counter!(crate::telemetry::metrics::AUTH_FAILURES, "reason" => "tls_handshake")
                            .increment(1);
                    }
                }
            });
        }
    });
    tokio_stream::wrappers::ReceiverStream::new(rx)
}

/// The common name of a certificate's subject (the principal of an mTLS client).
pub(crate) fn common_name(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).ok()?;
    let name = parsed.subject().iter_common_name().next()?.as_str().ok()?;
    Some(name.to_owned())
}

/// A throwaway CA and a server certificate it signed for `localhost` and
/// 127.0.0.1, written as PEM files into `dir` (`local --tls`): the paths of
/// the CA certificate, the server certificate and its key.
pub fn throwaway_ca(dir: &Path) -> anyhow::Result<(PathBuf, PathBuf, PathBuf)> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};
    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(DnType::CommonName, "redshift-flight-sql local CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca.self_signed(&ca_key)?;
    let server_key = KeyPair::generate()?;
    let mut server = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])?;
    server
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    let server_cert = server.signed_by(&server_key, &ca_cert, &ca_key)?;
    std::fs::create_dir_all(dir)?;
    let ca_path = dir.join("ca.pem");
    let cert_path = dir.join("server.pem");
    let key_path = dir.join("server.key");
    std::fs::write(&ca_path, ca_cert.pem())?;
    std::fs::write(&cert_path, server_cert.pem())?;
    std::fs::write(&key_path, server_key.serialize_pem())?;
    Ok((ca_path, cert_path, key_path))
}
