//! Flight session options (SetSessionOptions, GetSessionOptions,
//! CloseSession): `catalog` (the database statements run in), `schema` and
//! `unload` (auto, on, off: whether results are read through UNLOAD),
//! kept stateless in a signed cookie the client sends back (the JDBC driver
//! calls these when its `catalog` property is set).

use std::collections::HashMap;

use base64::Engine as _;
use tonic::metadata::MetadataMap;

use super::gateway::Gateway;
use crate::auth::Principal;
use crate::config::UnloadMode;
use crate::error::Result;
use crate::ticket::PayloadKind;
use crate::ticket::proto::{
    CloseSessionResult, GetSessionOptionsResult, SessionOptionValue, SessionOptions,
    SetSessionOptionsRequest, SetSessionOptionsResult, close_session_result, session_option_value,
    set_session_options_result,
};

/// The caller's session options that decide where statements run.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionTarget {
    /// Database (the `catalog` option).
    pub(crate) catalog: Option<String>,
    /// Search path (the `schema` option).
    pub(crate) schema: Option<String>,
    /// The client connection the call came on (its transactions follow it:
    /// see `successor`).
    pub(crate) connection: Option<std::net::SocketAddr>,
    /// Whether results are read through UNLOAD: the `rsfs-unload` header,
    /// else the `unload` option (`None`: the server's default).
    pub(crate) unload: Option<UnloadMode>,
}

/// The header that sets the unload mode of one call (a JDBC URL property
/// of the same name becomes this header).
pub(crate) const UNLOAD_HEADER: &str = "rsfs-unload";

/// The cookie that carries the session options.
pub(crate) const COOKIE: &str = "rsfs_session";

const URL_SAFE: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

fn string_value(value: &SessionOptionValue) -> Option<String> {
    match &value.option_value {
        Some(session_option_value::OptionValue::StringValue(s)) => Some(s.clone()),
        _ => None,
    }
}

impl Gateway {
    /// Where the caller's session options say its statements run.
    pub(crate) fn session_target(
        &self,
        metadata: &MetadataMap,
        principal: &Principal,
    ) -> SessionTarget {
        let options = self.session_options(metadata, principal);
        let header = metadata
            .get(UNLOAD_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<UnloadMode>().ok());
        SessionTarget {
            catalog: Some(options.catalog).filter(|c| !c.is_empty()),
            schema: Some(options.schema).filter(|s| !s.is_empty()),
            connection: None,
            unload: header.or_else(|| options.unload.parse().ok()),
        }
    }

    /// The caller's session options (from its cookie), if any.
    pub(crate) fn session_options(
        &self,
        metadata: &MetadataMap,
        principal: &Principal,
    ) -> SessionOptions {
        let cookie = metadata
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .find_map(|c| {
                c.trim()
                    .strip_prefix(COOKIE)
                    .and_then(|r| r.strip_prefix('='))
            })
            .map(str::to_owned);
        cookie
            .and_then(|c| URL_SAFE.decode(c).ok())
            .and_then(|bytes| {
                self.signer
                    .open::<SessionOptions>(PayloadKind::Session, &bytes)
                    .ok()
            })
            .filter(|o| o.owner == principal.owner())
            .unwrap_or_else(|| SessionOptions {
                owner: principal.owner(),
                ..SessionOptions::default()
            })
    }

    /// The `set-cookie` header value that stores `options`.
    pub(crate) fn session_cookie(&self, options: &SessionOptions) -> String {
        let sealed = self.signer.seal(PayloadKind::Session, options);
        format!("{COOKIE}={}; Path=/; HttpOnly", URL_SAFE.encode(sealed))
    }

    /// SetSessionOptions: returns the result and the new options.
    pub(crate) async fn set_session_options(
        &self,
        body: &[u8],
        mut options: SessionOptions,
    ) -> Result<(SetSessionOptionsResult, SessionOptions)> {
        let request: SetSessionOptionsRequest =
            super::decode::message("SetSessionOptionsRequest", body)?;
        let mut errors = HashMap::new();
        let invalid = |value| set_session_options_result::Error {
            value: value as i32,
        };
        for (name, value) in request.session_options {
            match (name.as_str(), string_value(&value)) {
                ("catalog", Some(catalog)) => {
                    let known = self.statements.api().list_databases().await?;
                    if known.contains(&catalog) {
                        options.catalog = catalog;
                    } else {
                        errors.insert(
                            name,
                            invalid(set_session_options_result::ErrorValue::InvalidValue),
                        );
                    }
                }
                ("schema", Some(schema)) => options.schema = schema,
                ("unload", Some(mode)) if mode.parse::<UnloadMode>().is_ok() => {
                    options.unload = mode.trim().to_ascii_lowercase();
                }
                ("catalog" | "schema" | "unload", _) => {
                    errors.insert(
                        name,
                        invalid(set_session_options_result::ErrorValue::InvalidValue),
                    );
                }
                _ => {
                    errors.insert(
                        name,
                        invalid(set_session_options_result::ErrorValue::InvalidName),
                    );
                }
            }
        }
        Ok((SetSessionOptionsResult { errors }, options))
    }

    /// GetSessionOptions.
    pub(crate) fn get_session_options(&self, options: &SessionOptions) -> GetSessionOptionsResult {
        let catalog = if options.catalog.is_empty() {
            self.default_database().to_owned()
        } else {
            options.catalog.clone()
        };
        let mut session_options = HashMap::from([(
            "catalog".to_owned(),
            SessionOptionValue {
                option_value: Some(session_option_value::OptionValue::StringValue(catalog)),
            },
        )]);
        if !options.schema.is_empty() {
            session_options.insert(
                "schema".to_owned(),
                SessionOptionValue {
                    option_value: Some(session_option_value::OptionValue::StringValue(
                        options.schema.clone(),
                    )),
                },
            );
        }
        if !options.unload.is_empty() {
            session_options.insert(
                "unload".to_owned(),
                SessionOptionValue {
                    option_value: Some(session_option_value::OptionValue::StringValue(
                        options.unload.clone(),
                    )),
                },
            );
        }
        GetSessionOptionsResult { session_options }
    }

    /// CloseSession: nothing is held server-side; the cookie is cleared.
    pub(crate) fn close_session(&self) -> CloseSessionResult {
        CloseSessionResult {
            status: close_session_result::Status::Closed as i32,
        }
    }
}
