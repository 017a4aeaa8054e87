//! OIDC bearer tokens (`--auth oidc`): JWTs validated against the issuer's
//! JWKS — signature with an allowed algorithm, issuer, audience, expiry
//! (with clock skew). Keys come from `--oidc-jwks-url` or the issuer's
//! `/.well-known/openid-configuration`, are cached, and are fetched again
//! when a token names a key id the cache lacks (at most once a second), so
//! an issuer's key rotation is picked up without a restart.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use bytes::Bytes;
use http_body_util::BodyExt as _;
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use tonic::codegen::http;

use super::{AuthError, Caller, Principal};

/// How long a JWKS or discovery request may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// Least time between two key fetches for unknown key ids.
const MIN_REFRESH: Duration = Duration::from_secs(1);
/// Largest JWKS or discovery document read.
const MAX_DOCUMENT: usize = 1 << 20;

/// What OIDC validation checks.
#[derive(Debug, Clone)]
pub struct OidcSettings {
    /// The issuer (`iss`), and where discovery starts.
    pub issuer: Option<String>,
    /// The JWKS URL, when not discovered from the issuer.
    pub jwks_url: Option<String>,
    /// Accepted audiences (`aud`); empty: not checked.
    pub audiences: Vec<String>,
    /// Accepted signature algorithms.
    pub algorithms: Vec<Algorithm>,
    /// Clock skew allowed on `exp` and `nbf`.
    pub clock_skew: Duration,
    /// The claim that names the principal.
    pub principal_claim: String,
    /// The claim that lists the caller's groups.
    pub groups_claim: String,
}

type HttpClient = hyper_util::client::legacy::Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    http_body_util::Empty<Bytes>,
>;

/// The cached keys and where they come from.
#[derive(Debug, Default)]
struct Keys {
    set: Option<JwkSet>,
    jwks_url: Option<String>,
    fetched: Option<Instant>,
}

/// Validates OIDC tokens.
pub struct Oidc {
    settings: OidcSettings,
    client: HttpClient,
    /// Read by every validation; written only after a fetch.
    keys: tokio::sync::RwLock<Keys>,
    /// Held by the one fetch in progress (the keys stay readable meanwhile,
    /// so a slow issuer delays only tokens whose key is unknown).
    fetching: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

/// An HTTPS (or, for a local issuer, HTTP) client with the system's roots.
fn http_client() -> anyhow::Result<HttpClient> {
    use hyper_rustls::ConfigBuilderExt as _;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?;
    let tls = match builder.clone().with_native_roots() {
        Ok(b) => b.with_no_client_auth(),
        Err(e) => {
            tracing::warn!(error = %e, "no system root certificates: only http:// issuers will answer");
            builder
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        }
    };
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
            .build(https),
    )
}

/// GETs a JSON document.
async fn get_json<T: serde::de::DeserializeOwned>(
    client: &HttpClient,
    url: &str,
) -> anyhow::Result<T> {
    let uri: http::Uri = url.parse().with_context(|| format!("{url} is not a URL"))?;
    let response = tokio::time::timeout(FETCH_TIMEOUT, client.get(uri))
        .await
        .with_context(|| format!("{url} did not answer within {FETCH_TIMEOUT:?}"))?
        .with_context(|| format!("fetching {url}"))?;
    anyhow::ensure!(
        response.status().is_success(),
        "{url} answered {}",
        response.status()
    );
    let body = http_body_util::Limited::new(response.into_body(), MAX_DOCUMENT)
        .collect()
        .await
        .map_err(|e| anyhow::anyhow!("reading {url}: {e}"))?
        .to_bytes();
    serde_json::from_slice(&body).with_context(|| format!("{url} is not the JSON expected"))
}

/// The discovery document's one member used here.
#[derive(serde::Deserialize)]
struct Discovery {
    jwks_uri: String,
}

/// Why jsonwebtoken refused a token, for the client.
fn reason(e: &jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind as K;
    match e.kind() {
        K::ExpiredSignature => "the token has expired".to_owned(),
        K::ImmatureSignature => "the token is not valid yet (nbf)".to_owned(),
        K::InvalidIssuer => "the token's issuer is not the configured one".to_owned(),
        K::InvalidAudience => "the token's audience is not accepted".to_owned(),
        K::InvalidSignature => "the token's signature does not verify".to_owned(),
        K::InvalidAlgorithm => "the token's algorithm does not match its key".to_owned(),
        K::MissingRequiredClaim(c) => format!("the token has no `{c}` claim"),
        other => format!("the token cannot be read ({other:?})"),
    }
}

impl Oidc {
    /// A validator with these settings (keys are fetched on first use).
    pub fn new(settings: OidcSettings) -> anyhow::Result<Self> {
        anyhow::ensure!(
            settings.issuer.is_some() || settings.jwks_url.is_some(),
            "--auth oidc needs --oidc-issuer or --oidc-jwks-url"
        );
        anyhow::ensure!(
            !settings.algorithms.is_empty(),
            "--oidc-algorithms names no algorithm"
        );
        Ok(Self {
            settings,
            client: http_client()?,
            keys: tokio::sync::RwLock::default(),
            fetching: tokio::sync::Mutex::default(),
        })
    }

    /// Fetches the keys (discovering the JWKS URL first if needed), unless
    /// they were fetched less than [`MIN_REFRESH`] ago; the caller holds
    /// `fetching`.
    async fn refresh(&self) -> anyhow::Result<()> {
        let known_url = {
            let mut keys = self.keys.write().await;
            if keys.fetched.is_some_and(|t| t.elapsed() < MIN_REFRESH) {
                return Ok(());
            }
            keys.fetched = Some(Instant::now());
            keys.jwks_url.clone()
        };
        let url = match (known_url, &self.settings.jwks_url, &self.settings.issuer) {
            (Some(url), _, _) => url,
            (None, Some(url), _) => url.clone(),
            (None, None, Some(issuer)) => {
                let discovery = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                get_json::<Discovery>(&self.client, &discovery)
                    .await?
                    .jwks_uri
            }
            (None, None, None) => anyhow::bail!("no issuer and no JWKS URL"),
        };
        let set: JwkSet = get_json(&self.client, &url).await?;
        tracing::info!(keys = set.keys.len(), %url, "OIDC keys fetched");
        let mut keys = self.keys.write().await;
        keys.jwks_url = Some(url);
        keys.set = Some(set);
        Ok(())
    }

    /// The key a token names (its `kid`, or the only key when it names none).
    fn find(keys: &Keys, kid: Option<&str>) -> Option<Jwk> {
        let set = keys.set.as_ref()?;
        match kid {
            Some(kid) => set.find(kid).cloned(),
            None if set.keys.len() == 1 => set.keys.first().cloned(),
            None => None,
        }
    }

    /// The key for `kid`, fetching the keys again when it is unknown.
    async fn key(&self, kid: Option<&str>) -> Result<Jwk, AuthError> {
        if let Some(jwk) = Self::find(&*self.keys.read().await, kid) {
            return Ok(jwk);
        }
        let _fetching = self.fetching.lock().await;
        // Another validation may have fetched them while this one waited.
        if let Some(jwk) = Self::find(&*self.keys.read().await, kid) {
            return Ok(jwk);
        }
        if let Err(e) = self.refresh().await {
            tracing::warn!(error = format!("{e:#}"), "OIDC keys could not be fetched");
            return Err(AuthError::BadJwt(
                "the issuer's keys could not be fetched".to_owned(),
            ));
        }
        Self::find(&*self.keys.read().await, kid).ok_or_else(|| {
            AuthError::BadJwt(format!(
                "the token's key id {} is not among the issuer's keys",
                kid.unwrap_or("(none)")
            ))
        })
    }

    /// Whether `token` has the shape of a JWT (three base64url parts).
    pub fn looks_like_jwt(token: &str) -> bool {
        token.split('.').count() == 3
    }

    /// The caller of a valid token: its principal, groups and claims.
    pub async fn validate(&self, token: &str) -> Result<Caller, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::BadJwt("not a JWT".to_owned()))?;
        if !self.settings.algorithms.contains(&header.alg) {
            return Err(AuthError::BadJwt(format!(
                "the token's algorithm {:?} is not allowed",
                header.alg
            )));
        }
        let jwk = self.key(header.kid.as_deref()).await?;
        let key = DecodingKey::from_jwk(&jwk)
            .map_err(|e| AuthError::BadJwt(format!("the issuer's key is unusable: {e}")))?;
        let mut validation = Validation::new(header.alg);
        validation.leeway = self.settings.clock_skew.as_secs();
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = &self.settings.issuer {
            validation.set_issuer(&[issuer]);
        }
        if self.settings.audiences.is_empty() {
            validation.validate_aud = false;
        } else {
            validation.set_audience(&self.settings.audiences);
        }
        let data = decode::<serde_json::Map<String, serde_json::Value>>(token, &key, &validation)
            .map_err(|e| AuthError::BadJwt(reason(&e)))?;
        let claim = &self.settings.principal_claim;
        let principal = data
            .claims
            .get(claim)
            .and_then(serde_json::Value::as_str)
            .filter(|p| !p.is_empty())
            .map(|p| Principal(p.to_owned()))
            .ok_or_else(|| AuthError::BadJwt(format!("the token has no `{claim}` claim")))?;
        let groups = data
            .claims
            .get(&self.settings.groups_claim)
            .map(claim_values)
            .unwrap_or_default();
        Ok(Caller {
            principal,
            groups,
            claims: data.claims,
            resolved: None,
        })
    }
}

/// The values of a claim as names: an array's strings, or a string split at
/// spaces and commas (both shapes are common for groups and scopes).
pub(crate) fn claim_values(value: &serde_json::Value) -> Vec<String> {
    match value {
        serde_json::Value::Array(items) => items
            .iter()
            .filter_map(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        serde_json::Value::String(s) => s
            .split([' ', ','])
            .filter(|g| !g.is_empty())
            .map(str::to_owned)
            .collect(),
        serde_json::Value::Number(n) => vec![n.to_string()],
        serde_json::Value::Bool(b) => vec![b.to_string()],
        _ => Vec::new(),
    }
}
