//! Authentication, in modes that combine: `basic` (a file of argon2
//! password hashes), `tokens` (static API tokens, [`tokens`]) and `oidc`
//! (JWTs of an identity provider, [`oidc`]). A token is accepted however
//! real clients send it: `authorization: Bearer` on any call (JDBC `token=`,
//! ADBC's authorization header), at Handshake, or as the password of Basic
//! credentials with an empty user or the user `token` (Tableau). Handshake
//! answers with the gateway's own short-lived HMAC-signed bearer token.
//! With `--auth none` every caller is the `anonymous` principal.

pub mod identity_map;
pub mod oidc;
pub mod tokens;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use argon2::password_hash::{PasswordHash, PasswordVerifier as _};
use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use tonic::metadata::MetadataMap;

use crate::dataapi::identity::DbIdentity;
use crate::ticket::TicketSigner;
use identity_map::Mapped;
use oidc::Oidc;
use tokens::StaticTokens;

/// Who is calling: the authenticated user name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Principal(pub String);

impl Principal {
    /// What this principal's tickets, handles, transactions and cached
    /// results are bound to, as the Data API identity of the RPC being
    /// served ([`crate::dataapi::identity::owner`]).
    pub fn owner(&self) -> String {
        crate::dataapi::identity::owner(&self.0)
    }
}

impl std::fmt::Display for Principal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An authenticated caller: its principal and what the identity map may
/// match besides the name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Caller {
    /// The principal.
    pub principal: Principal,
    /// Its groups (the tokens file; the OIDC groups claim).
    pub groups: Vec<String>,
    /// The claims of its OIDC token.
    pub claims: serde_json::Map<String, serde_json::Value>,
    /// The identity resolved at Handshake, which the gateway's own bearer
    /// tokens carry (`None`: resolve it from the rest).
    pub resolved: Option<Mapped>,
}

impl Caller {
    /// A caller known only by its name (a password, a client certificate).
    pub fn named(principal: Principal) -> Self {
        Self {
            principal,
            ..Self::default()
        }
    }
}

/// How callers authenticate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuthMode {
    /// No authentication: everyone is `anonymous`.
    #[default]
    None,
    /// Basic user/password at Handshake (argon2 hashes in --users-file), then bearer tokens.
    Basic,
    /// Static API tokens (SHA-256 hashes in --tokens-file) as bearer tokens.
    Tokens,
    /// JWTs of an OIDC issuer (--oidc-issuer or --oidc-jwks-url) as bearer tokens.
    Oidc,
}

/// Why a call was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No usable credentials were sent.
    #[error(
        "authentication required: send `authorization: Basic …` to Handshake, then `authorization: Bearer <token>`"
    )]
    Missing,
    /// Wrong user name or password.
    #[error("invalid user name or password")]
    BadCredentials,
    /// The bearer token is not one this server issued, or it has expired.
    #[error("invalid or expired bearer token")]
    BadToken,
    /// An OIDC token that does not validate, and why.
    #[error("invalid token: {0}")]
    BadJwt(String),
    /// The `authorization` header cannot be read.
    #[error("malformed authorization header: {0}")]
    Malformed(&'static str),
}

/// Checks credentials and issues and verifies bearer tokens.
#[derive(Debug, Clone)]
pub struct Authenticator {
    /// No authentication (`--auth none`).
    anonymous: bool,
    /// User names and passwords are accepted (`basic`).
    basic: bool,
    users: HashMap<String, String>,
    tokens: Option<Arc<StaticTokens>>,
    oidc: Option<Arc<Oidc>>,
    signer: TicketSigner,
    token_ttl: Duration,
}

/// Base64 that accepts input with or without `=` padding (ADBC omits it).
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

const URL_SAFE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Reads a users file: one `name:$argon2id$…` line per user; `#` comments.
pub fn read_users(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("reading users file {}: {e}", path.display()))?;
    let mut users = HashMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (name, hash) = line.split_once(':').ok_or_else(|| {
            anyhow::anyhow!("{}:{}: expected `name:argon2-hash`", path.display(), n + 1)
        })?;
        PasswordHash::new(hash).map_err(|e| {
            anyhow::anyhow!("{}:{}: not an argon2 hash: {e}", path.display(), n + 1)
        })?;
        users.insert(name.to_owned(), hash.to_owned());
    }
    Ok(users)
}

/// An argon2id hash of `password` for a users file.
pub fn hash_password(password: &str) -> anyhow::Result<String> {
    use argon2::password_hash::{PasswordHasher as _, SaltString, rand_core::OsRng};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| anyhow::anyhow!("hashing: {e}"))
}

enum Credentials {
    Basic(String, String),
    Bearer(String),
}

fn credentials(metadata: &MetadataMap) -> Result<Option<Credentials>, AuthError> {
    let Some(value) = metadata.get("authorization") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| AuthError::Malformed("not ASCII"))?
        .trim();
    let (scheme, rest) = value
        .split_once(' ')
        .ok_or(AuthError::Malformed("no scheme"))?;
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = LENIENT
            .decode(rest.trim())
            .map_err(|_| AuthError::Malformed("Basic credentials are not base64"))?;
        let text = String::from_utf8(decoded)
            .map_err(|_| AuthError::Malformed("Basic credentials are not UTF-8"))?;
        let (user, password) = text
            .split_once(':')
            .ok_or(AuthError::Malformed("Basic credentials without ':'"))?;
        Ok(Some(Credentials::Basic(
            user.to_owned(),
            password.to_owned(),
        )))
    } else if scheme.eq_ignore_ascii_case("bearer") {
        Ok(Some(Credentials::Bearer(rest.trim().to_owned())))
    } else {
        Err(AuthError::Malformed("unknown scheme"))
    }
}

impl Authenticator {
    /// An authenticator in `modes` with these users, signing tokens with
    /// `signer` (`tokens` and `oidc` need [`Self::with_tokens`] and
    /// [`Self::with_oidc`]).
    pub fn new(
        modes: &[AuthMode],
        users: HashMap<String, String>,
        signer: TicketSigner,
        token_ttl: Duration,
    ) -> Self {
        Self {
            anonymous: modes.is_empty() || modes.contains(&AuthMode::None),
            basic: modes.contains(&AuthMode::Basic),
            users,
            tokens: None,
            oidc: None,
            signer,
            token_ttl,
        }
    }

    /// Accepts the static tokens of a tokens file.
    #[must_use]
    pub fn with_tokens(mut self, tokens: StaticTokens) -> Self {
        self.tokens = Some(Arc::new(tokens));
        self
    }

    /// Accepts the JWTs `oidc` validates.
    #[must_use]
    pub fn with_oidc(mut self, oidc: Oidc) -> Self {
        self.oidc = Some(Arc::new(oidc));
        self
    }

    /// Issues a bearer token for `principal`, carrying the identity its
    /// statements run as.
    pub fn issue_token(&self, principal: &Principal, mapped: &Mapped) -> String {
        let identity = match mapped {
            Mapped::Gateway => "g".to_owned(),
            Mapped::Deny => "d".to_owned(),
            Mapped::As(DbIdentity::DbUser(user)) => format!("u{}", URL_SAFE.encode(user)),
            Mapped::As(DbIdentity::SecretArn(arn)) => format!("s{}", URL_SAFE.encode(arn)),
        };
        let payload = format!(
            "v2:{}:{identity}:{}",
            now() + self.token_ttl.as_secs(),
            principal.0
        );
        let signature = self.signer.sign(payload.as_bytes());
        format!(
            "{}.{}",
            URL_SAFE.encode(payload),
            URL_SAFE.encode(signature)
        )
    }

    fn verify_token(&self, token: &str) -> Result<Caller, AuthError> {
        let (payload, signature) = token.split_once('.').ok_or(AuthError::BadToken)?;
        let payload = URL_SAFE.decode(payload).map_err(|_| AuthError::BadToken)?;
        let signature = URL_SAFE
            .decode(signature)
            .map_err(|_| AuthError::BadToken)?;
        if !self.signer.verify(&payload, &signature) {
            return Err(AuthError::BadToken);
        }
        let text = String::from_utf8(payload).map_err(|_| AuthError::BadToken)?;
        let mut parts = text.splitn(4, ':');
        let (Some("v2"), Some(expires), Some(identity), Some(user)) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(AuthError::BadToken);
        };
        let expires: u64 = expires.parse().map_err(|_| AuthError::BadToken)?;
        if expires < now() {
            return Err(AuthError::BadToken);
        }
        let decoded = |b64: &str| {
            URL_SAFE
                .decode(b64)
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(AuthError::BadToken)
        };
        let mapped = match identity.split_at_checked(1) {
            Some(("g", "")) => Mapped::Gateway,
            Some(("d", "")) => Mapped::Deny,
            Some(("u", user)) => Mapped::As(DbIdentity::DbUser(decoded(user)?)),
            Some(("s", arn)) => Mapped::As(DbIdentity::SecretArn(decoded(arn)?)),
            _ => return Err(AuthError::BadToken),
        };
        Ok(Caller {
            resolved: Some(mapped),
            ..Caller::named(Principal(user.to_owned()))
        })
    }

    fn verify_password(&self, user: &str, password: &str) -> Result<Principal, AuthError> {
        let hash = self.users.get(user).ok_or(AuthError::BadCredentials)?;
        let parsed = PasswordHash::new(hash).map_err(|_| AuthError::BadCredentials)?;
        argon2::Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .map_err(|_| AuthError::BadCredentials)?;
        Ok(Principal(user.to_owned()))
    }

    /// The caller of a bearer token: the gateway's own, a static API token,
    /// or an OIDC JWT.
    async fn bearer(&self, token: &str) -> Result<Caller, AuthError> {
        if let Ok(caller) = self.verify_token(token) {
            return Ok(caller);
        }
        if let Some(owner) = self.tokens.as_ref().and_then(|t| t.owner(token)) {
            return Ok(Caller {
                groups: owner.groups.clone(),
                ..Caller::named(owner.principal.clone())
            });
        }
        match &self.oidc {
            Some(oidc) if Oidc::looks_like_jwt(token) => oidc.validate(token).await,
            _ => Err(AuthError::BadToken),
        }
    }

    /// The caller of whatever credentials a call carries.
    async fn caller(&self, metadata: &MetadataMap) -> Result<Caller, AuthError> {
        if self.anonymous {
            return Ok(Caller::named(Principal("anonymous".to_owned())));
        }
        match credentials(metadata)? {
            None => Err(AuthError::Missing),
            Some(Credentials::Bearer(token)) => self.bearer(&token).await,
            // Tools that can only send user/password (Tableau) send a token as
            // the password with an empty user, or the user `token`.
            Some(Credentials::Basic(user, password))
                if user.is_empty() || (user == "token" && !self.users.contains_key("token")) =>
            {
                self.bearer(&password).await
            }
            Some(Credentials::Basic(user, password)) if self.basic => {
                self.verify_password(&user, &password).map(Caller::named)
            }
            Some(Credentials::Basic(..)) => Err(AuthError::BadCredentials),
        }
    }

    /// The caller of whatever credentials a call carries: at Handshake (the
    /// gateway then issues its own token with [`Self::issue_token`]) and on
    /// every other call (Basic too, for clients that skip Handshake).
    pub async fn authenticate(&self, metadata: &MetadataMap) -> Result<Caller, AuthError> {
        self.caller(metadata).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth() -> Authenticator {
        let users = HashMap::from([("alice".to_owned(), hash_password("s3cret").expect("hash"))]);
        Authenticator::new(
            &[AuthMode::Basic],
            users,
            TicketSigner::new(Some(b"k")),
            Duration::from_secs(60),
        )
    }

    fn md(value: &str) -> MetadataMap {
        let mut m = MetadataMap::new();
        m.insert("authorization", value.parse().expect("header"));
        m
    }

    #[tokio::test]
    async fn basic_with_and_without_padding_then_bearer() {
        let a = auth();
        let padded = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
        );
        let unpadded = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD_NO_PAD.encode("alice:s3cret")
        );
        let caller = a.authenticate(&md(&padded)).await.expect("padded");
        assert_eq!(caller.principal.0, "alice");
        let token = a.issue_token(&caller.principal, &Mapped::Gateway);
        assert!(a.authenticate(&md(&unpadded)).await.is_ok());
        assert_eq!(
            a.authenticate(&md(&format!("Bearer {token}")))
                .await
                .expect("bearer")
                .principal
                .0,
            "alice"
        );
        let tableau = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!(":{token}"))
        );
        assert_eq!(
            a.authenticate(&md(&tableau))
                .await
                .expect("token as password")
                .principal
                .0,
            "alice"
        );
        let wrong = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode("alice:nope")
        );
        assert_eq!(
            a.authenticate(&md(&wrong)).await,
            Err(AuthError::BadCredentials)
        );
        assert_eq!(
            a.authenticate(&MetadataMap::new()).await,
            Err(AuthError::Missing)
        );
        assert_eq!(
            a.authenticate(&md("Bearer x.y")).await,
            Err(AuthError::BadToken)
        );
        // The token carries the identity resolved at Handshake.
        let as_db = a.issue_token(
            &Principal("alice".into()),
            &Mapped::As(DbIdentity::DbUser("alice_db".into())),
        );
        assert_eq!(
            a.authenticate(&md(&format!("Bearer {as_db}")))
                .await
                .expect("bearer")
                .resolved,
            Some(Mapped::As(DbIdentity::DbUser("alice_db".into())))
        );
        let mut forged = token.clone();
        forged.insert(2, 'A');
        assert!(
            a.authenticate(&md(&format!("Bearer {forged}")))
                .await
                .is_err()
        );
    }
}
