//! The HTTP face of the emulator: `POST /` with `X-Amz-Target: RedshiftData.<Op>`
//! (AWS JSON 1.1), fault injection, and `GET /stats` (calls per operation).

use std::sync::Arc;
use std::time::Duration;

use crate::request::parse;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State as Extract;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use rand::Rng as _;
use serde::Serialize;
use tracing::Instrument as _;

use crate::error::ApiError;
use crate::operation::Operation;
use crate::state::State;

/// The emulator's routes: the Data API on `POST /`, counters on `GET /stats`.
pub(crate) fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/", post(dispatch))
        .route("/stats", get(stats))
        .with_state(state)
}

async fn stats(Extract(state): Extract<Arc<State>>) -> Response {
    axum::Json(state.calls()).into_response()
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
        .unwrap_or_default();
    let response = match Operation::from_target(target) {
        None => Err(ApiError::UnknownOperation(format!(
            "Unknown operation '{target}': expected X-Amz-Target RedshiftData.<Operation>"
        ))),
        Some(op) => {
            state.count_call(op);
            handle(&state, op, &body)
                .instrument(tracing::debug_span!("data_api", operation = op.name()))
                .await
        }
    };
    with_request_id(match response {
        Ok(body) => json_response(body),
        Err(e) => {
            let operation = target.strip_prefix("RedshiftData.").unwrap_or_default();
            tracing::debug!(operation, error = %e, "request refused");
            e.into_response()
        }
    })
}

async fn inject_faults(state: &State, operation: Operation) -> Result<(), ApiError> {
    let config = &state.config;
    if config.deny_operations.contains(&operation) {
        return Err(ApiError::AccessDenied(format!(
            "User: arn:aws:sts::000000000000:assumed-role/emulator/gateway is not authorized to perform: redshift-data:{} (denied by --deny-operations)",
            operation.name()
        )));
    }
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

/// The response body of a typed response.
fn to_bytes(response: Result<impl Serialize, ApiError>) -> Result<Vec<u8>, ApiError> {
    response.map(|r| serde_json::to_vec(&r).unwrap_or_else(|_| b"{}".to_vec()))
}

async fn handle(
    state: &Arc<State>,
    operation: Operation,
    body: &[u8],
) -> Result<Vec<u8>, ApiError> {
    inject_faults(state, operation).await?;
    match operation {
        Operation::ExecuteStatement => to_bytes(state.execute_statement(parse(body)?).await),
        Operation::BatchExecuteStatement => {
            to_bytes(state.batch_execute_statement(parse(body)?).await)
        }
        Operation::DescribeStatement => to_bytes(state.describe_statement(parse(body)?).await),
        Operation::CancelStatement => to_bytes(state.cancel_statement(parse(body)?)),
        // Pages are cut from bytes encoded once, not serialised per call.
        Operation::GetStatementResult => state.statement_result(parse(body)?, false).await,
        Operation::GetStatementResultV2 => state.statement_result(parse(body)?, true).await,
        Operation::ListStatements => to_bytes(state.list_statements(parse(body)?)),
        Operation::ListSessions => to_bytes(state.list_sessions(parse(body)?)),
        Operation::ListDatabases => to_bytes(state.list_databases(parse(body)?).await),
        Operation::ListSchemas => to_bytes(state.list_schemas(parse(body)?).await),
        Operation::ListTables => to_bytes(state.list_tables(parse(body)?).await),
        Operation::DescribeTable => to_bytes(state.describe_table(parse(body)?).await),
    }
}
