//! The HTTP face of the emulator: `POST /` with `X-Amz-Target: RedshiftData.<Op>`
//! (AWS JSON 1.1), fault injection, and `GET /stats` (calls per operation).

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::Rng as _;
use serde::de::DeserializeOwned;
use tracing::Instrument as _;

use super::State;
use super::error::ApiError;

/// The 12 operations of the service model.
pub(crate) const OPERATIONS: [&str; 12] = [
    "BatchExecuteStatement",
    "CancelStatement",
    "DescribeStatement",
    "DescribeTable",
    "ExecuteStatement",
    "GetStatementResult",
    "GetStatementResultV2",
    "ListDatabases",
    "ListSchemas",
    "ListSessions",
    "ListStatements",
    "ListTables",
];

pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/", post(dispatch))
        .route("/stats", get(stats))
        .with_state(state)
}

async fn stats(Extract(state): Extract<Arc<State>>) -> Response {
    axum::Json(state.calls()).into_response()
}

fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Serialization(format!("Malformed request body: {e}")))
}

fn json_response(body: Vec<u8>) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-amz-json-1.1"),
    );
    response
}

fn with_request_id(mut response: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
        response.headers_mut().insert("x-amzn-requestid", v);
    }
    response
}

async fn dispatch(
    Extract(state): Extract<Arc<State>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let operation = target.strip_prefix("RedshiftData.").unwrap_or_default();
    let response = match OPERATIONS.iter().find(|op| **op == operation) {
        None => Err(ApiError::UnknownOperation(format!(
            "Unknown operation '{target}': expected X-Amz-Target RedshiftData.<Operation>"
        ))),
        Some(op) => {
            state.count_call(op);
            handle(&state, op, &body)
                .instrument(tracing::debug_span!("data_api", operation = op))
                .await
        }
    };
    with_request_id(match response {
        Ok(body) => json_response(body),
        Err(e) => {
            tracing::debug!(operation, error = %e, "request refused");
            e.into_response()
        }
    })
}

async fn inject_faults(state: &State) -> Result<(), ApiError> {
    let config = &state.config;
    if config.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(config.latency_ms)).await;
    }
    let (throttle, error) = {
        let mut rng = rand::thread_rng();
        (rng.r#gen::<f64>(), rng.r#gen::<f64>())
    };
    if throttle < config.throttle_probability {
        return Err(ApiError::Throttling("Rate exceeded".to_owned()));
    }
    if error < config.error_probability {
        return Err(ApiError::InternalServer(
            "The service encountered an internal error (injected fault)".to_owned(),
        ));
    }
    Ok(())
}

fn to_bytes(value: &serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

async fn handle(state: &Arc<State>, operation: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    inject_faults(state).await?;
    match operation {
        "ExecuteStatement" => state
            .execute_statement(parse(body)?)
            .await
            .map(|v| to_bytes(&v)),
        "BatchExecuteStatement" => state
            .batch_execute_statement(parse(body)?)
            .await
            .map(|v| to_bytes(&v)),
        "DescribeStatement" => state
            .describe_statement(parse(body)?)
            .await
            .map(|v| to_bytes(&v)),
        "CancelStatement" => state.cancel_statement(parse(body)?).map(|v| to_bytes(&v)),
        "GetStatementResult" => state.statement_result(parse(body)?, false).await,
        "GetStatementResultV2" => state.statement_result(parse(body)?, true).await,
        "ListStatements" => state.list_statements(parse(body)?).map(|v| to_bytes(&v)),
        "ListSessions" => state.list_sessions(parse(body)?).map(|v| to_bytes(&v)),
        "ListDatabases" => state
            .list_databases(parse(body)?)
            .await
            .map(|v| to_bytes(&v)),
        "ListSchemas" => state.list_schemas(parse(body)?).await.map(|v| to_bytes(&v)),
        "ListTables" => state.list_tables(parse(body)?).await.map(|v| to_bytes(&v)),
        "DescribeTable" => state
            .describe_table(parse(body)?)
            .await
            .map(|v| to_bytes(&v)),
        other => Err(ApiError::UnknownOperation(format!(
            "Unknown operation '{other}'"
        ))),
    }
}
