//! The gateway's errors and the one place they become gRPC statuses: the
//! right code for each, Redshift's own message, a retry hint where a retry helps.

use tonic::{Code, Status};

use crate::auth::AuthError;
use crate::convert::ConvertError;
use crate::dataapi::DataApiError;
use crate::ticket::TicketError;

/// Longest message sent back to a client.
const MAX_MESSAGE: usize = 2000;

/// Everything that can go wrong serving a Flight SQL call.
#[derive(Debug, Clone, thiserror::Error)]
pub enum GatewayError {
    /// The Data API refused or failed a call.
    #[error("{source}")]
    DataApi {
        /// What the Data API said.
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
    /// A ticket or handle that is not valid.
    #[error("{0}")]
    Ticket(#[from] TicketError),
    /// A ticket presented by a principal other than its owner.
    #[error("this ticket belongs to another principal")]
    ForeignTicket,
    /// Authentication failed.
    #[error("{0}")]
    Auth(#[from] AuthError),
    /// A request the client got wrong (missing fields, undecodable command).
    #[error("{0}")]
    InvalidArgument(String),
    /// A Flight SQL command or action this server does not implement.
    #[error("{0} is not implemented")]
    Unimplemented(String),
    /// A result value that does not fit its column (a server-side defect).
    #[error("statement {statement_id}: {source}")]
    Convert {
        /// Statement Id.
        statement_id: String,
        /// The bad value.
        source: ConvertError,
    },
    /// Anything else that is the server's fault.
    #[error("{0}")]
    Internal(String),
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

impl From<GatewayError> for Status {
    fn from(e: GatewayError) -> Self {
        let message = truncate(e.to_string());
        match e {
            GatewayError::DataApi { source } => match source {
                DataApiError::Validation { .. } => Status::invalid_argument(message),
                DataApiError::NotFound { .. } => Status::not_found(message),
                DataApiError::Throttled { .. } => with_retry_hint(
                    Status::unavailable(format!("Data API throttled: {message}")),
                    1000,
                ),
                DataApiError::QuotaExceeded { .. } => {
                    with_retry_hint(Status::resource_exhausted(message), 1000)
                }
                DataApiError::Unauthenticated { .. } => Status::unauthenticated(message),
                DataApiError::PermissionDenied { .. } => Status::permission_denied(message),
                DataApiError::Unavailable { .. } => {
                    tracing::warn!(error = %message, "Data API unavailable");
                    with_retry_hint(Status::unavailable(message), 500)
                }
                DataApiError::Protocol { .. } => {
                    tracing::error!(error = %message, "unexpected Data API response");
                    Status::internal(message)
                }
            },
            GatewayError::StatementFailed { .. } => Status::invalid_argument(message),
            GatewayError::StatementAborted { .. } => Status::cancelled(message),
            GatewayError::Ticket(TicketError::BadSignature) | GatewayError::ForeignTicket => {
                tracing::warn!(error = %message, "refused a ticket");
                Status::permission_denied(message)
            }
            GatewayError::Ticket(_) | GatewayError::InvalidArgument(_) => {
                Status::invalid_argument(message)
            }
            GatewayError::Auth(AuthError::Malformed(_)) => Status::invalid_argument(message),
            GatewayError::Auth(
                AuthError::Missing | AuthError::BadCredentials | AuthError::BadToken,
            ) => Status::unauthenticated(message),
            GatewayError::Unimplemented(_) => Status::new(Code::Unimplemented, message),
            GatewayError::Convert { .. } | GatewayError::Internal(_) => {
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

    #[test]
    fn codes() {
        let failed = GatewayError::StatementFailed {
            statement_id: "x".into(),
            message: "ERROR: relation \"t\" does not exist".into(),
        };
        let s = Status::from(failed);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "ERROR: relation \"t\" does not exist");
        let s = Status::from(GatewayError::from(DataApiError::Throttled {
            message: "Rate exceeded".into(),
        }));
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
}
