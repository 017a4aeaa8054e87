//! Submit → wait → finished check → cancel. [`Statements::run_to_end`] and
//! [`Statements::run_batch_to_end`] always hold a [`CancelOnDrop`] guard
//! while they wait, so a caller that goes away (a client that disconnects
//! during GetFlightInfo, a DoPut update, a transaction's BEGIN or COMMIT)
//! never leaves its statement running on Redshift.

use std::sync::Arc;

use super::drain::InFlight;
use super::{Statements, parent_id, set_search_path};
use crate::dataapi::{
    BatchExecuteRequest, DataApi, DataApiError, DataApiErrorKind, ExecuteRequest,
    StatementDescription, StatementStatus, wait_for_statement,
};
use crate::error::{GatewayError, Result};
use crate::telemetry::audit::Submitted;

/// A statement that ran to its successful end.
#[derive(Debug, Clone)]
pub(crate) struct Ran {
    /// The Id to read the result of (a batch's last sub-statement `:n`).
    pub(crate) id: String,
    /// Its final description.
    pub(crate) description: StatementDescription,
}

/// Cancels a statement if dropped before [`CancelOnDrop::disarm`] (and
/// then no longer counts it as running: nobody will describe it again).
struct CancelOnDrop {
    api: Option<Arc<dyn DataApi>>,
    in_flight: Arc<InFlight>,
    statement_id: String,
}

impl CancelOnDrop {
    fn new(api: &Arc<dyn DataApi>, in_flight: &Arc<InFlight>, statement_id: &str) -> Self {
        Self {
            api: Some(Arc::clone(api)),
            in_flight: Arc::clone(in_flight),
            statement_id: statement_id.to_owned(),
        }
    }

    fn disarm(mut self) {
        self.api = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(api) = self.api.take() {
            let id = std::mem::take(&mut self.statement_id);
            let in_flight = Arc::clone(&self.in_flight);
            tracing::info!(statement_id = %id, "caller went away; cancelling the statement");
            tokio::spawn(async move {
                if let Err(e) = cancel(&*api, &in_flight, &id).await {
                    tracing::debug!(statement_id = %id, error = %e, "cancel after disconnect");
                }
            });
        }
    }
}

/// CancelStatement of a statement (through its batch for a sub-statement),
/// which then no longer counts as running. False when it had already ended.
async fn cancel(api: &dyn DataApi, in_flight: &InFlight, id: &str) -> Result<bool> {
    match api.cancel_statement(parent_id(id)).await {
        Ok(cancelled) => {
            in_flight.cancelled(id);
            Ok(cancelled)
        }
        // Cancelling an ended statement is refused by the Data API.
        Err(e) if e.kind == DataApiErrorKind::Validation => {
            in_flight.cancelled(id);
            Ok(false)
        }
        Err(e) => Err(e.into()),
    }
}

/// Largest SQL text the Data API runs (its documented 100 KB statement limit).
pub(crate) const MAX_STATEMENT_BYTES: usize = 100 * 1024;

/// Refuses a SQL text the Data API would refuse for its size, before any call.
pub(crate) fn check_size(sql: &str) -> Result<()> {
    if sql.len() > MAX_STATEMENT_BYTES {
        return Err(GatewayError::InvalidArgument(format!(
            "the SQL text is {} bytes; the Data API runs statements of at most {MAX_STATEMENT_BYTES}",
            sql.len()
        )));
    }
    Ok(())
}

impl Statements {
    /// ExecuteStatement, or with a search path a BatchExecuteStatement of
    /// `set search_path` and the statement: the Id to wait for and read (the
    /// batch's `:2` sub-statement). Returns at once.
    pub(crate) async fn submit(
        &self,
        request: ExecuteRequest,
        search_path: Option<&str>,
    ) -> Result<String> {
        check_size(&request.sql)?;
        let submitted = Submitted::new(&InFlight::principal(), &request.sql, self.audit_sql);
        let Some(schema) = search_path.filter(|s| !s.is_empty()) else {
            return self
                .launch(submitted, self.api.execute_statement(request))
                .await;
        };
        let transaction = request.session_id.is_none();
        let batch = BatchExecuteRequest {
            sqls: vec![set_search_path(schema), request.sql],
            database: request.database,
            parameters: request.parameters,
            session_id: request.session_id,
            transaction,
            statement_name: request.statement_name,
            result_format: request.result_format,
            client_token: request.client_token,
        };
        let id = self
            .launch(submitted, self.api.batch_execute_statement(batch))
            .await?;
        Ok(format!("{id}:2"))
    }

    /// Starts a statement by `call` (ExecuteStatement or
    /// BatchExecuteStatement, not yet polled): refused during the drain and
    /// beyond its principal's limit; then running for the drain and the
    /// limit, or, refused by the Data API, in the audit log.
    async fn launch(
        &self,
        submitted: Submitted,
        call: impl Future<Output = std::result::Result<String, DataApiError>>,
    ) -> Result<String> {
        self.refuse_while_draining()?;
        let _admission = self
            .in_flight
            .admit(&*self.api, self.max_statements_per_principal)
            .await?;
        let id = call
            .await
            .inspect_err(|e| self.in_flight.refused(&submitted, &e.to_string()))?;
        self.in_flight.started(&id, submitted);
        Ok(id)
    }

    /// UNAVAILABLE once the drain has begun: the client retries elsewhere.
    fn refuse_while_draining(&self) -> Result<()> {
        if self.in_flight.is_draining() {
            return Err(GatewayError::Draining);
        }
        Ok(())
    }

    /// Waits for a submitted statement to end, cancelling it if the caller
    /// goes away meanwhile; an error unless it FINISHED.
    pub(crate) async fn wait_finished(&self, id: &str) -> Result<StatementDescription> {
        let guard = CancelOnDrop::new(&self.api, &self.in_flight, id);
        let waited = std::time::Instant::now();
        let description = wait_for_statement(&*self.api, id, self.wait).await;
        guard.disarm();
        let description = description?;
        self.in_flight.ended(id, &description);
        let status = format!("{:?}", description.status).to_ascii_uppercase();
        metrics::histogram!(crate::telemetry::metrics::STATEMENT_SECONDS, "status" => status)
            .record(waited.elapsed().as_secs_f64());
        ensure_finished(id, &description)?;
        Ok(description)
    }

    /// Submits a statement and waits for its successful end.
    pub(crate) async fn run_to_end(
        &self,
        request: ExecuteRequest,
        search_path: Option<&str>,
    ) -> Result<Ran> {
        let id = self.submit(request, search_path).await?;
        let description = self.wait_finished(&id).await?;
        Ok(Ran { id, description })
    }

    /// Submits a batch and waits for its successful end.
    pub(crate) async fn run_batch_to_end(&self, request: BatchExecuteRequest) -> Result<Ran> {
        for sql in &request.sqls {
            check_size(sql)?;
        }
        let submitted = Submitted::new(
            &InFlight::principal(),
            &request.sqls.join(";\n"),
            self.audit_sql,
        );
        let id = self
            .launch(submitted, self.api.batch_execute_statement(request))
            .await?;
        let description = self.wait_finished(&id).await?;
        Ok(Ran { id, description })
    }

    /// CancelStatement of a statement (through its batch for a sub-statement).
    /// False when it had already ended.
    pub(crate) async fn cancel(&self, id: &str) -> Result<bool> {
        cancel(&*self.api, &self.in_flight, id).await
    }

    /// DescribeStatement once, waiting up to `wait_seconds` for it to end.
    pub(crate) async fn describe(
        &self,
        id: &str,
        wait_seconds: Option<i32>,
    ) -> Result<StatementDescription> {
        let description = self.api.describe_statement(id, wait_seconds).await?;
        if description.status.is_terminal() {
            self.in_flight.ended(id, &description);
        }
        Ok(description)
    }
}

/// Ok for a FINISHED statement; its error for a FAILED or ABORTED one.
pub(crate) fn ensure_finished(id: &str, description: &StatementDescription) -> Result<()> {
    match description.status {
        StatementStatus::Finished => Ok(()),
        StatementStatus::Failed => Err(GatewayError::StatementFailed {
            statement_id: id.to_owned(),
            message: description
                .error
                .clone()
                .unwrap_or_else(|| "the statement failed".to_owned()),
        }),
        StatementStatus::Aborted => Err(GatewayError::StatementAborted {
            statement_id: id.to_owned(),
        }),
        other => Err(GatewayError::Internal(format!(
            "statement {id} is {other:?}, not ended"
        ))),
    }
}
