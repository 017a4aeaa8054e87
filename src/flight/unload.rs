//! Queries answered through UNLOAD: GetFlightInfo runs the query as
//! `UNLOAD … FORMAT PARQUET` (and, beside it, with `LIMIT 0` for the exact
//! schema the page path would give), then answers one endpoint per Parquet
//! file, each with its own signed ticket; DoGet streams one file.

use std::sync::Arc;

use arrow_flight::{FlightDescriptor, FlightInfo};
use futures::{StreamExt as _, TryStreamExt as _};

use super::gateway::Gateway;
use super::query::{endpoint, schema_ipc, unix_now};
use crate::auth::Principal;
use crate::config::UnloadMode;
use crate::error::{GatewayError, Result};
use crate::statement::{Execution, FlightDataStream};
use crate::ticket::StatementHandle;
use crate::unload::{Unload, UnloadReason, is_result_too_large};

/// Whether UNLOAD can run `execution` at all.
fn eligible(execution: &Execution) -> std::result::Result<(), crate::unload::Ineligible> {
    Unload::eligible(&execution.sql, !execution.parameters.is_empty())
}

/// Logs and counts a query going through UNLOAD.
fn counted(statement: &crate::unload::UnloadStatement, reason: UnloadReason) {
    let label = reason.label();
    tracing::info!(folder = %statement.folder, reason = label, "running the query through UNLOAD");
    metrics::counter!(crate::telemetry::metrics::UNLOAD_QUERIES, "reason" => label).increment(1);
}

impl Gateway {
    /// The mode that applies to `execution`: its own, else the server's;
    /// `None` when UNLOAD is not configured.
    pub(crate) fn unload_mode(&self, execution: &Execution) -> Option<UnloadMode> {
        let unload = self.unload.as_ref()?;
        Some(execution.unload.unwrap_or_else(|| unload.mode()))
    }

    /// Whether `execution` goes through UNLOAD from the start.
    pub(crate) fn unload_first(&self, execution: &Execution) -> bool {
        self.unload_mode(execution) == Some(UnloadMode::On)
            && match eligible(execution) {
                Ok(()) => true,
                Err(why) => {
                    tracing::info!(reason = %why, "the query takes the page path, not UNLOAD");
                    false
                }
            }
    }

    /// Whether `execution`, should the Data API refuse its result as too
    /// large, is run again through UNLOAD.
    fn unload_if_refused(&self, execution: &Execution) -> bool {
        matches!(
            self.unload_mode(execution),
            Some(UnloadMode::Auto | UnloadMode::On)
        ) && eligible(execution).is_ok()
    }

    /// Whether a page-path failure of `execution` is retried through UNLOAD.
    pub(crate) fn unload_after(&self, execution: &Execution, error: &GatewayError) -> bool {
        is_result_too_large(error) && self.unload_if_refused(execution)
    }

    /// GetFlightInfo of a query through UNLOAD.
    pub(crate) async fn unload_flight_info(
        &self,
        execution: Execution,
        descriptor: FlightDescriptor,
        principal: &Principal,
        reason: UnloadReason,
    ) -> Result<FlightInfo> {
        let unload = self
            .unload
            .as_ref()
            .ok_or_else(|| GatewayError::Internal("UNLOAD is not configured".to_owned()))?;
        let statement = unload.statement(&execution.sql);
        counted(&statement, reason);
        let mut execution = execution;
        if matches!(reason, UnloadReason::TooLarge) {
            // The refused statement may have ended the transaction's good
            // standing; the re-run reads what is committed.
            execution.session_id = None;
        }
        let probe = Execution {
            sql: Unload::schema_query(&execution.sql),
            ..execution.clone()
        };
        let in_session = execution.session_id.is_some();
        let unloading = Execution {
            sql: statement.sql.clone(),
            ..execution
        };
        let schema_of = async {
            let handle = self.submit_query(probe, principal).await?;
            self.statements.wait_finished(&handle.statement_id).await?;
            let first = self.statements.first_page(&handle).await?;
            Ok::<_, GatewayError>(first.schema())
        };
        let unload_it = self.run_unload(unload, &statement.folder, unloading, principal);
        // Both at once: the schema query is quick, the UNLOAD is the work. In
        // a transaction its session runs one statement at a time: in turn.
        let (schema, (unloaded, files)) = if in_session {
            let schema = schema_of.await?;
            (schema, unload_it.await?)
        } else {
            tokio::try_join!(schema_of, unload_it)?
        };
        let announced = schema_ipc(&schema)?.to_vec();
        let expires_at = i64::try_from((unix_now() + unload.retention()).as_secs()).unwrap_or(0);
        let total_records = files
            .iter()
            .map(|f| f.rows)
            .sum::<Option<i64>>()
            .unwrap_or(-1);
        let mut info = FlightInfo::new()
            .with_descriptor(descriptor)
            .with_ordered(statement.ordered)
            .try_with_schema(&schema)
            .map_err(|e| GatewayError::encode("a FlightInfo schema", e))?
            .with_total_records(total_records)
            .with_total_bytes(-1);
        for file in files {
            let handle = StatementHandle {
                expires_at,
                announced_schema: announced.clone(),
                unload_object: file.key,
                unload_object_bytes: file.bytes,
                ..unloaded.clone()
            };
            info = info.with_endpoint(endpoint(self, &handle));
        }
        Ok(info)
    }

    /// Runs `unloading` (the UNLOAD statement into `folder`) to its end and
    /// reads the manifest of what it wrote.
    async fn run_unload(
        &self,
        unload: &Unload,
        folder: &str,
        unloading: Execution,
        principal: &Principal,
    ) -> Result<(StatementHandle, Vec<crate::unload::UnloadedFile>)> {
        let handle = self.submit_query(unloading, principal).await?;
        self.statements.wait_finished(&handle.statement_id).await?;
        match unload.files(folder).await {
            Ok(files) => Ok((handle, files)),
            Err(e) => {
                unload.discard(folder).await;
                Err(e)
            }
        }
    }

    /// What a query answered before it ran (a prepared query's early
    /// FlightInfo) keeps so that its DoGet can run it again through UNLOAD:
    /// its SQL and search path, when UNLOAD may serve it.
    pub(crate) fn keep_for_unload(&self, execution: &Execution, handle: &mut StatementHandle) {
        if self.unload_if_refused(execution) {
            handle.unload_query.clone_from(&execution.sql);
            handle.search_path = execution.search_path.clone().unwrap_or_default();
        }
    }

    /// DoGet of a query answered before it ran, whose result the Data API
    /// then refused as too large: the query runs again through UNLOAD and
    /// its files are streamed one after another in the announced `schema`
    /// (this one stream is the whole result the FlightInfo promised).
    pub(crate) async fn do_get_after_refusal(
        &self,
        handle: StatementHandle,
        schema: arrow::datatypes::SchemaRef,
        principal: &Principal,
        refusal: GatewayError,
    ) -> Result<FlightDataStream> {
        let (Some(unload), false) = (self.unload.clone(), handle.unload_query.is_empty()) else {
            return Err(refusal);
        };
        if !is_result_too_large(&refusal) {
            return Err(refusal);
        }
        tracing::info!(error = %refusal, "the Data API refused the result as too large");
        let statement = unload.statement(&handle.unload_query);
        counted(&statement, UnloadReason::TooLarge);
        let unloading = Execution {
            sql: statement.sql.clone(),
            database: Some(handle.database.clone()).filter(|d| !d.is_empty()),
            search_path: Some(handle.search_path.clone()).filter(|s| !s.is_empty()),
            ..Execution::default()
        };
        let (_, files) = self
            .run_unload(&unload, &statement.folder, unloading, principal)
            .await?;
        let each = Arc::clone(&schema);
        let batches = futures::stream::iter(files)
            .then(move |file| {
                let unload = Arc::clone(&unload);
                let schema = Arc::clone(&each);
                async move { unload.batches(&file.key, file.bytes, schema).await }
            })
            .try_flatten()
            .boxed();
        self.statements.stream_batches(schema, batches)
    }

    /// DoGet of one UNLOAD file.
    pub(crate) async fn do_get_unloaded(
        &self,
        handle: StatementHandle,
    ) -> Result<FlightDataStream> {
        let unload = self.unload.as_ref().ok_or_else(|| {
            GatewayError::ResultGone(
                "this ticket names an UNLOAD result, and this gateway has no --unload-s3-uri"
                    .to_owned(),
            )
        })?;
        if handle.expires_at < i64::try_from(unix_now().as_secs()).unwrap_or(i64::MAX) {
            return Err(GatewayError::ResultGone(format!(
                "UNLOAD file {} expired; run the query again",
                handle.unload_object
            )));
        }
        let schema = Arc::new(
            arrow::ipc::convert::try_schema_from_ipc_buffer(&handle.announced_schema)
                .map_err(|e| GatewayError::encode("decoding our own ticket's schema", e))?,
        );
        let batches = unload
            .batches(
                &handle.unload_object,
                handle.unload_object_bytes,
                Arc::clone(&schema),
            )
            .await?;
        self.statements.stream_batches(schema, batches)
    }
}
