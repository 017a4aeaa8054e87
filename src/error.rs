//! The gateway's errors and the one place they become gRPC statuses: the
//! right code for each, Redshift's own message, a retry hint where a retry
//! helps, and the log level that fits whose fault it is.

use std::sync::Arc;

use tonic::{Code, Status};

use crate::auth::AuthError;
use crate::convert::ConvertError;
use crate::dataapi::{DataApiError, DataApiErrorKind};
use crate::ticket::TicketError;

/// Longest message sent back to a client.
const MAX_MESSAGE: usize = 2000;

/// A source error that can be shared by the clones of one failure (results
/// of identical concurrent queries share their error).
pub type SharedSource = Arc<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong serving a Flight SQL call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// The Data API refused or failed a call.
    #[error("{source}")]
    DataApi {
        /// What the Data API said, and about which call.
        #[from]
        source: DataApiError,
    },
    /// Redshift ran the statement and it failed (bad SQL, missing table, …).
    #[error("{message}")]
    StatementFailed {
        /// Statement Id.
        statement_id: String,
        /// Redshift's error message.
        message: String,
    },
    /// The statement was cancelled.
    #[error("statement {statement_id} was cancelled")]
    StatementAborted {
        /// Statement Id.
        statement_id: String,
    },
    /// A DoGet whose client stopped reading for longer than the idle limit.
    #[error(
        "the result stream of statement {statement_id} was not read for {idle:?}, so it was ended; DoGet the same ticket again to read it"
    )]
    StreamIdle {
        /// Statement Id.
        statement_id: String,
        /// How long it waited.
        idle: std::time::Duration,
    },
    /// The gateway is shutting down and starts no new statement.
    #[error(
        "the gateway is shutting down and starts no new statement; retry (another replica answers)"
    )]
    Draining,
    /// A principal is at one of its limits (statements running at once).
    #[error("{0}")]
    LimitReached(String),
    /// The gateway serves reads only (`--read-only`).
    #[error("{0}")]
    ReadOnly(String),
    /// A ticket or handle that is not valid.
    #[error("{0}")]
    Ticket(#[from] TicketError),
    /// A ticket presented by a principal other than its owner.
    #[error("this ticket belongs to another principal")]
    ForeignTicket,
    /// Authentication failed.
    #[error("{0}")]
    Auth(#[from] AuthError),
    /// A request the client got wrong (missing fields, bad values).
    #[error("{0}")]
    InvalidArgument(String),
    /// Bytes from the client that do not decode as the message they must be.
    #[error("{what} does not decode: {source}")]
    Decode {
        /// What was being decoded (`the command`, `CancelFlightInfoRequest`, …).
        what: &'static str,
        /// The decoder's error.
        source: prost::DecodeError,
    },
    /// A Flight SQL command or action this server does not implement.
    #[error("{0} is not implemented")]
    Unimplemented(String),
    /// A result value that does not fit its column (a server-side defect,
    /// or a CSV page the converters cannot read).
    #[error("statement {statement_id}: {source}{}", if *switched { "; the gateway reads results as JSON from now on: run the query again" } else { "" })]
    Convert {
        /// Statement Id.
        statement_id: String,
        /// The bad value.
        source: ConvertError,
        /// Whether this failure switched `--result-format auto` to JSON (a
        /// new run of the query will succeed).
        switched: bool,
    },
    /// Building or encoding an answer failed (a server-side defect).
    #[error("{what}: {source}")]
    Encode {
        /// What was being built (`a FlightInfo schema`, `GetTables`, …).
        what: &'static str,
        /// The encoder's error.
        source: SharedSource,
    },
    /// An UNLOAD result whose files were deleted (it expired).
    #[error("{0}")]
    ResultGone(String),
    /// The object store that holds UNLOAD results failed or refused the gateway.
    #[error("{0}")]
    Storage(String),
    /// Anything else that is the server's fault.
    #[error("{0}")]
    Internal(String),
}

impl GatewayError {
    /// An [`GatewayError::Encode`] of `what` from any error.
    pub fn encode(
        what: &'static str,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self::Encode {
            what,
            source: Arc::new(source),
        }
    }

    /// A [`GatewayError::Decode`] of `what`.
    pub fn decode(what: &'static str, source: prost::DecodeError) -> Self {
        Self::Decode { what, source }
    }
}

fn truncate(mut message: String) -> String {
    if message.len() > MAX_MESSAGE {
        let mut cut = MAX_MESSAGE;
        while !message.is_char_boundary(cut) {
            cut -= 1;
        }
        message.truncate(cut);
        message.push('…');
    }
    message
}

fn with_retry_hint(mut status: Status, millis: u64) -> Status {
    if let Ok(v) = millis.to_string().parse() {
        status.metadata_mut().insert("retry-after-ms", v);
    }
    status
}

/// The status of a Data API failure. A user's mistake keeps the service's
/// message as it is; a failure on the server side also names the call.
fn data_api_status(source: &DataApiError, message: String) -> Status {
    let context = source.context();
    match source.kind {
        DataApiErrorKind::Validation => Status::invalid_argument(message),
        DataApiErrorKind::NotFound => Status::not_found(message),
        DataApiErrorKind::Throttled => {
            tracing::info!(error = %message, call = %context, "Data API throttled");
            with_retry_hint(
                Status::unavailable(format!("Data API throttled: {message}")),
                1000,
            )
        }
        DataApiErrorKind::QuotaExceeded => {
            tracing::info!(error = %message, call = %context, "Data API quota exceeded");
            with_retry_hint(Status::resource_exhausted(message), 1000)
        }
        DataApiErrorKind::Unauthenticated => {
            tracing::warn!(error = %message, call = %context, "Data API refused the gateway's credentials");
            Status::unauthenticated(message)
        }
        DataApiErrorKind::PermissionDenied => Status::permission_denied(message),
        DataApiErrorKind::Unavailable => {
            tracing::warn!(error = %message, call = %context, "Data API unavailable");
            with_retry_hint(Status::unavailable(format!("{context}: {message}")), 500)
        }
        DataApiErrorKind::Protocol => {
            tracing::error!(error = %message, call = %context, "unexpected Data API response");
            Status::internal(format!("{context}: {message}"))
        }
    }
}

impl From<GatewayError> for Status {
    fn from(e: GatewayError) -> Self {
        let message = truncate(e.to_string());
        match e {
            GatewayError::DataApi { source } => data_api_status(&source, message),
            // Redshift refused the statement for its grants: `ERROR: permission
            // denied for relation t` is not the user's SQL being wrong.
            GatewayError::StatementFailed {
                message: failed, ..
            } if failed.to_ascii_lowercase().contains("permission denied") => {
                Status::permission_denied(message)
            }
            GatewayError::StatementFailed { .. } => Status::invalid_argument(message),
            GatewayError::StatementAborted { .. } => Status::cancelled(message),
            GatewayError::StreamIdle { .. } => Status::aborted(message),
            GatewayError::Draining => with_retry_hint(Status::unavailable(message), 100),
            GatewayError::LimitReached(_) => {
                tracing::info!(error = %message, "limit reached");
                with_retry_hint(Status::resource_exhausted(message), 1000)
            }
            GatewayError::ReadOnly(_) => Status::permission_denied(message),
            GatewayError::ResultGone(_) => Status::not_found(message),
            GatewayError::Storage(_) => {
                tracing::warn!(error = %message, "UNLOAD result store");
                Status::unavailable(message)
            }
            GatewayError::Ticket(TicketError::BadSignature) | GatewayError::ForeignTicket => {
                tracing::warn!(error = %message, "refused a ticket");
                Status::permission_denied(message)
            }
            GatewayError::Ticket(
                TicketError::Malformed(_)
                | TicketError::UnsupportedVersion(_)
                | TicketError::WrongKind(_),
            )
            | GatewayError::InvalidArgument(_)
            | GatewayError::Decode { .. } => Status::invalid_argument(message),
            GatewayError::Auth(AuthError::Malformed(_)) => Status::invalid_argument(message),
            GatewayError::Auth(
                AuthError::Missing
                | AuthError::BadCredentials
                | AuthError::BadToken
                | AuthError::BadJwt(_),
            ) => Status::unauthenticated(message),
            GatewayError::Unimplemented(_) => Status::new(Code::Unimplemented, message),
            GatewayError::Convert { switched: true, .. } => {
                tracing::warn!(error = %message, "a CSV page could not be read");
                with_retry_hint(Status::unavailable(message), 0)
            }
            GatewayError::Convert { .. }
            | GatewayError::Encode { .. }
            | GatewayError::Internal(_) => {
                tracing::error!(error = %message, "internal error");
                Status::internal(message)
            }
        }
    }
}

/// Shorthand for results of gateway operations.
pub type Result<T, E = GatewayError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataapi::Operation;

    #[test]
    fn codes() {
        let failed = GatewayError::StatementFailed {
            statement_id: "x".into(),
            message: "ERROR: relation \"t\" does not exist".into(),
        };
        let s = Status::from(failed);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "ERROR: relation \"t\" does not exist");
        let denied = Status::from(GatewayError::StatementFailed {
            statement_id: "x".into(),
            message: "ERROR: permission denied for relation sales".into(),
        });
        assert_eq!(denied.code(), Code::PermissionDenied);
        assert_eq!(
            denied.message(),
            "ERROR: permission denied for relation sales"
        );
        let s = Status::from(GatewayError::from(DataApiError::new(
            DataApiErrorKind::Throttled,
            Operation::ExecuteStatement,
            "Rate exceeded",
        )));
        assert_eq!(s.code(), Code::Unavailable);
        assert!(s.metadata().get("retry-after-ms").is_some());
        assert_eq!(
            Status::from(GatewayError::ForeignTicket).code(),
            Code::PermissionDenied
        );
        assert_eq!(
            Status::from(GatewayError::Ticket(TicketError::Malformed("x".into()))).code(),
            Code::InvalidArgument
        );
        assert_eq!(
            Status::from(GatewayError::StatementAborted {
                statement_id: "x".into()
            })
            .code(),
            Code::Cancelled
        );
        let long = Status::from(GatewayError::InvalidArgument("é".repeat(3000)));
        assert!(long.message().len() <= MAX_MESSAGE + 3);
    }

    #[test]
    fn server_side_data_api_failures_name_the_call() {
        let e = DataApiError::new(
            DataApiErrorKind::Unavailable,
            Operation::GetStatementResultV2,
            "connection reset",
        )
        .for_statement("s-1");
        let s = Status::from(GatewayError::from(e));
        assert_eq!(s.code(), Code::Unavailable);
        assert_eq!(
            s.message(),
            "GetStatementResultV2 of statement s-1: connection reset"
        );
        let e = DataApiError::new(
            DataApiErrorKind::Validation,
            Operation::ExecuteStatement,
            "SQL is too long",
        );
        assert_eq!(
            Status::from(GatewayError::from(e)).message(),
            "SQL is too long"
        );
    }

    #[test]
    fn undecodable_bytes_are_the_clients_mistake() {
        use prost::Message as _;
        let err = prost_types::Any::decode(&b"\xff\xff"[..]).expect_err("garbage");
        let s = Status::from(GatewayError::decode("the command", err));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(s.message().starts_with("the command does not decode"));
    }
}
