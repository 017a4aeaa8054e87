//! Data API errors as the service sends them: status 400 (client) or 500 (fault),
//! header `x-amzn-errortype`, body `{"__type": …, "Message": …}` plus the
//! modelled members (`ResourceId`, `StatementId`).

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One error of the Data API, by its modelled shape name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request is invalid (missing or malformed members, bad state).
    #[error("ValidationException: {0}")]
    Validation(String),
    /// The statement, session or other resource does not exist.
    #[error("ResourceNotFoundException: {message}")]
    ResourceNotFound {
        /// What could not be found.
        message: String,
        /// Its identifier.
        resource_id: String,
    },
    /// Too many statements are running.
    #[error("ActiveStatementsExceededException: {0}")]
    ActiveStatementsExceeded(String),
    /// Too many sessions are open.
    #[error("ActiveSessionsExceededException: {0}")]
    ActiveSessionsExceeded(String),
    /// ExecuteStatement could not run the statement.
    #[error("ExecuteStatementException: {message}")]
    ExecuteStatement {
        /// Why.
        message: String,
        /// The statement's Id.
        statement_id: String,
    },
    /// The request body is not a valid JSON document of the expected shape.
    #[error("SerializationException: {0}")]
    Serialization(String),
    /// The `X-Amz-Target` names no operation of the service.
    #[error("UnknownOperationException: {0}")]
    UnknownOperation(String),
    /// The caller is sending too fast (fault injection).
    #[error("ThrottlingException: {0}")]
    Throttling(String),
    /// The caller's credentials may not call this operation (fault injection).
    #[error("AccessDeniedException: {0}")]
    AccessDenied(String),
    /// The service failed (fault injection, or the database is unreachable).
    #[error("InternalServerException: {0}")]
    InternalServer(String),
}

impl ApiError {
    /// Shorthand for a ValidationException.
    pub(crate) fn validation(message: impl Into<String>) -> Self {
        Self::Validation(message.into())
    }

    /// Shorthand for a ResourceNotFoundException.
    pub(crate) fn not_found(message: impl Into<String>, resource_id: impl Into<String>) -> Self {
        Self::ResourceNotFound {
            message: message.into(),
            resource_id: resource_id.into(),
        }
    }

    /// The modelled shape name, sent as `__type` and `x-amzn-errortype`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Self::Validation(_) => "ValidationException",
            Self::ResourceNotFound { .. } => "ResourceNotFoundException",
            Self::ActiveStatementsExceeded(_) => "ActiveStatementsExceededException",
            Self::ActiveSessionsExceeded(_) => "ActiveSessionsExceededException",
            Self::ExecuteStatement { .. } => "ExecuteStatementException",
            Self::Serialization(_) => "SerializationException",
            Self::UnknownOperation(_) => "UnknownOperationException",
            Self::Throttling(_) => "ThrottlingException",
            Self::AccessDenied(_) => "AccessDeniedException",
            Self::InternalServer(_) => "InternalServerException",
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::InternalServer(_) => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Validation(_)
            | Self::ResourceNotFound { .. }
            | Self::ActiveStatementsExceeded(_)
            | Self::ActiveSessionsExceeded(_)
            | Self::ExecuteStatement { .. }
            | Self::Serialization(_)
            | Self::UnknownOperation(_)
            | Self::Throttling(_)
            | Self::AccessDenied(_) => StatusCode::BAD_REQUEST,
        }
    }

    fn body(&self) -> ErrorBody<'_> {
        let (message, resource_id, statement_id) = match self {
            Self::Validation(m)
            | Self::ActiveStatementsExceeded(m)
            | Self::ActiveSessionsExceeded(m)
            | Self::Serialization(m)
            | Self::UnknownOperation(m)
            | Self::Throttling(m)
            | Self::AccessDenied(m)
            | Self::InternalServer(m) => (m, None, None),
            Self::ResourceNotFound {
                message,
                resource_id,
            } => (message, Some(resource_id.as_str()), None),
            Self::ExecuteStatement {
                message,
                statement_id,
            } => (message, None, Some(statement_id.as_str())),
        };
        ErrorBody {
            type_name: self.type_name(),
            message,
            resource_id,
            statement_id,
        }
    }
}

/// The body of an error response: the shape name and the modelled members.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
struct ErrorBody<'a> {
    #[serde(rename = "__type")]
    type_name: &'static str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    resource_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement_id: Option<&'a str>,
}

/// PostgreSQL's message in Redshift's form: `ERROR: relation "x" does not exist`.
pub(crate) fn redshift_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("ERROR: {}", db.message()),
        None => format!("ERROR: {e}"),
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), axum::Json(self.body())).into_response();
        let headers = response.headers_mut();
        headers.insert(
            "x-amzn-errortype",
            HeaderValue::from_static(self.type_name()),
        );
        headers.insert(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-amz-json-1.1"),
        );
        response
    }
}
