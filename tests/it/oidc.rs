//! OIDC: a JWKS and discovery document served by the test itself, with key
//! pairs made here. A valid token works however a client sends it; a wrong
//! issuer, audience or signature, an expired token and an unknown key id are
//! each refused with UNAUTHENTICATED; a key rotation is picked up. The
//! identity map reads the token's claims and groups.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use arrow_flight::sql::client::FlightSqlServiceClient;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use redshift_flight_sql::auth::AuthMode;
use redshift_flight_sql::config::AuthConfig;
use tonic::Code;

use super::common::{Stack, StackOptions, stack_with, status_of, unique};

/// An ES256 signing key and its public JWK.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: serde_json::Value,
}

impl SigningKey {
    fn new(kid: &str) -> Self {
        let pair = rcgen::KeyPair::generate().expect("a P-256 key");
        let raw = pair.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        let jwk = serde_json::json!({
            "kty": "EC", "crv": "P-256", "alg": "ES256", "use": "sig", "kid": kid,
            "x": b64(&raw[1..33]), "y": b64(&raw[33..65]),
        });
        Self {
            kid: kid.to_owned(),
            encoding: EncodingKey::from_ec_der(&pair.serialize_der()),
            jwk,
        }
    }

    /// A token of `sub` for `iss` and `aud`, expiring `expires_in` seconds from now.
    fn token(&self, iss: &str, aud: &str, sub: &str, expires_in: i64) -> String {
        self.token_with(iss, aud, sub, expires_in, serde_json::json!({}))
    }

    /// [`Self::token`] with `extra` claims too.
    fn token_with(
        &self,
        iss: &str,
        aud: &str,
        sub: &str,
        expires_in: i64,
        extra: serde_json::Value,
    ) -> String {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_secs();
        let now = i64::try_from(now).expect("seconds");
        let mut claims = serde_json::json!({
            "iss": iss, "aud": aud, "sub": sub, "iat": now, "exp": now + expires_in,
        });
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, &claims, &self.encoding).expect("signed")
    }
}

/// An identity provider: discovery and a JWKS whose keys the test swaps.
struct Issuer {
    url: String,
    keys: Arc<Mutex<Vec<serde_json::Value>>>,
}

async fn issuer() -> Issuer {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let keys: Arc<Mutex<Vec<serde_json::Value>>> = Arc::default();
    let discovery = serde_json::json!({"issuer": url, "jwks_uri": format!("{url}/jwks")});
    let served = Arc::clone(&keys);
    let router = axum::Router::new()
        .route(
            "/.well-known/openid-configuration",
            axum::routing::get(move || {
                let body = discovery.to_string();
                async move { ([("content-type", "application/json")], body) }
            }),
        )
        .route(
            "/jwks",
            axum::routing::get(move || {
                let keys = served.lock().expect("keys").clone();
                async move {
                    (
                        [("content-type", "application/json")],
                        serde_json::json!({ "keys": keys }).to_string(),
                    )
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, router).await });
    Issuer { url, keys }
}

async fn oidc_stack(issuer: &Issuer, identity_map: Option<std::path::PathBuf>) -> Stack {
    stack_with(StackOptions {
        auth: Some(AuthConfig {
            modes: vec![AuthMode::Oidc],
            oidc_issuer: Some(issuer.url.clone()),
            oidc_audience: vec!["rsfs".to_owned()],
            identity_map,
            ..AuthConfig::default()
        }),
        ..StackOptions::default()
    })
    .await
}

/// `select 1` with `token` as the bearer token of every call.
async fn query_with_bearer(stack: &Stack, token: &str) -> Result<(), tonic::Status> {
    let mut client = FlightSqlServiceClient::new(stack.channel().await);
    client.set_token(token.to_owned());
    client
        .execute("select 1 as n".to_owned(), None)
        .await
        .map(|_| ())
        .map_err(status_of)
}

#[tokio::test]
async fn oidc_tokens_are_validated_however_they_are_sent() {
    let issuer = issuer().await;
    let key = SigningKey::new("key-1");
    issuer.keys.lock().expect("keys").push(key.jwk.clone());
    let stack = oidc_stack(&issuer, None).await;
    let good = key.token(&issuer.url, "rsfs", "alice@example.com", 300);

    // 1. Bearer on every call (JDBC `token=`, ADBC's authorization header).
    query_with_bearer(&stack, &good).await.expect("bearer");
    assert!(
        !stack.statements_of("alice@example.com").await.is_empty(),
        "the principal is the sub claim"
    );
    // 2. The token as the password of an empty user, or of the user `token` (Tableau).
    for user in ["", "token"] {
        let mut client = FlightSqlServiceClient::new(stack.channel().await);
        client.handshake(user, &good).await.expect("handshake");
        client
            .execute("select 1 as n".to_owned(), None)
            .await
            .expect("then the gateway's own token");
    }
    // 3. Handshake with a Bearer header.
    let mut raw = arrow_flight::FlightClient::new(stack.channel().await);
    raw.add_header("authorization", &format!("Bearer {good}"))
        .expect("header");
    raw.handshake(bytes::Bytes::new())
        .await
        .expect("bearer handshake");

    // Refusals, each UNAUTHENTICATED with its reason.
    let stranger = SigningKey::new("key-1");
    let unpublished = SigningKey::new("key-9");
    for (token, why) in [
        (
            key.token("https://elsewhere", "rsfs", "alice", 300),
            "issuer",
        ),
        (
            key.token(&issuer.url, "another-app", "alice", 300),
            "audience",
        ),
        (
            stranger.token(&issuer.url, "rsfs", "alice", 300),
            "signature",
        ),
        (key.token(&issuer.url, "rsfs", "alice", -3600), "expired"),
        (
            unpublished.token(&issuer.url, "rsfs", "alice", 300),
            "key id key-9",
        ),
        ("not.a.jwt".to_owned(), "not a JWT"),
    ] {
        let status = query_with_bearer(&stack, &token)
            .await
            .expect_err("refused");
        assert_eq!(status.code(), Code::Unauthenticated, "{why}: {status:?}");
        assert!(status.message().contains(why), "{why}: {status:?}");
    }

    // The issuer rotates its key: the gateway fetches the keys again for the
    // new key id (at most once a second), without a restart.
    let rotated = SigningKey::new("key-2");
    *issuer.keys.lock().expect("keys") = vec![rotated.jwk.clone()];
    let token = rotated.token(&issuer.url, "rsfs", "alice@example.com", 300);
    let deadline = Instant::now() + Duration::from_secs(20);
    while let Err(status) = query_with_bearer(&stack, &token).await {
        assert!(
            Instant::now() < deadline,
            "the rotated key was never used: {status:?}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn the_identity_map_reads_a_tokens_claims_and_groups() {
    let issuer = issuer().await;
    let key = SigningKey::new("key-1");
    issuer.keys.lock().expect("keys").push(key.jwk.clone());
    let map = std::env::temp_dir().join(format!("{}.toml", unique("identity-map")));
    std::fs::write(
        &map,
        "default = \"deny\"\n\
         [[rule]]\ngroup = \"contractors\"\ndeny = true\n\
         [[rule]]\nclaim = \"department\"\nequals = \"finance\"\ndb_user = \"{principal}\"\n",
    )
    .expect("identity map");
    let stack = oidc_stack(&issuer, Some(map)).await;
    let carol = unique("carol");
    stack.as_superuser(&[format!("create role {carol}")]).await;

    // The department claim maps her to the database user of her own name.
    let finance = serde_json::json!({"department": "finance", "groups": ["staff"]});
    let token = key.token_with(&issuer.url, "rsfs", &carol, 300, finance);
    query_with_bearer(&stack, &token).await.expect("as herself");
    assert_eq!(
        stack.db_user_of_last(&carol).await.as_deref(),
        Some(carol.as_str())
    );
    // In the contractors group (a space-separated claim) the first rule denies her.
    let contractor = serde_json::json!({"department": "finance", "groups": "staff contractors"});
    let token = key.token_with(&issuer.url, "rsfs", &carol, 300, contractor);
    let status = query_with_bearer(&stack, &token).await.expect_err("denied");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    // With neither, the default denies.
    let token = key.token(&issuer.url, "rsfs", &carol, 300);
    let status = query_with_bearer(&stack, &token)
        .await
        .expect_err("default");
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
}
