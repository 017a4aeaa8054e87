//! The statement lifecycle behind the query commands: execute → wait (long
//! poll or adaptive poll) → first page fetched, converted and cached for
//! GetFlightInfo → DoGet streams from the cache, then the following pages
//! (the next page is fetched while the current one is sent). PollFlightInfo
//! and CancelFlightInfo work on the same signed handles.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use arrow_flight::sql::{Any, ProstMessageExt as _, TicketStatementQuery};
use arrow_flight::{FlightData, FlightDescriptor, FlightEndpoint, FlightInfo, PollInfo, Ticket};
use futures::stream::BoxStream;
use futures::{StreamExt as _, TryStreamExt as _};
use prost::Message as _;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::Instrument as _;

use super::Gateway;
use crate::auth::Principal;
use crate::cache::{CacheKey, CachedResult};
use crate::convert::PageConverter;
use crate::dataapi::{
    BatchExecuteRequest, DataApi, ExecuteRequest, ResultFormat, SqlParameter, StatementDescription,
    StatementStatus, wait_for_statement,
};
use crate::error::{GatewayError, Result};
use crate::ticket::{PayloadKind, StatementHandle, proto};

/// Type URL of the retry descriptor PollFlightInfo hands out.
pub(crate) const POLL_TYPE_URL: &str = "type.googleapis.com/redshift_flight_sql.v1.SignedEnvelope";

/// A retried PollFlightInfo waits this long for the statement to end: clients
/// that poll in a loop are paced, and learn of the end at once.
const RETRY_WAIT_SECONDS: Option<i32> = Some(1);

/// How long the Data API keeps a statement's result.
const RESULT_RETENTION: Duration = Duration::from_secs(24 * 3600);

fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

fn timestamp(unix_seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: unix_seconds,
        nanos: 0,
    }
}

/// Cancels a statement if dropped before [`CancelOnDrop::disarm`]: a client
/// that goes away during a blocking GetFlightInfo leaves nothing running.
struct CancelOnDrop {
    api: Option<Arc<dyn DataApi>>,
    statement_id: String,
}

impl CancelOnDrop {
    fn disarm(mut self) {
        self.api = None;
    }
}

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(api) = self.api.take() {
            let id = std::mem::take(&mut self.statement_id);
            tracing::info!(statement_id = %id, "client went away; cancelling the statement");
            tokio::spawn(async move {
                if let Err(e) = api.cancel_statement(parent_id(&id)).await {
                    tracing::debug!(statement_id = %id, error = %e, "cancel after disconnect");
                }
            });
        }
    }
}

/// One statement to run: its SQL and named parameters, and where it runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Execution {
    /// SQL with Data API `:name` placeholders.
    pub(crate) sql: String,
    /// Values of the placeholders.
    pub(crate) parameters: Vec<SqlParameter>,
    /// The database, when not the default.
    pub(crate) database: Option<String>,
    /// The Data API session of a transaction.
    pub(crate) session_id: Option<String>,
    /// The schema session option: runs after `set search_path`.
    pub(crate) search_path: Option<String>,
}

/// The statement Id of a batch's sub-statement `:n` is cancelled through its batch.
pub(crate) fn parent_id(id: &str) -> &str {
    id.split_once(':').map_or(id, |(parent, _)| parent)
}

/// What makes two executions the same statement (for reuse).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReuseKey {
    principal: String,
    database: String,
    search_path: String,
    sql: String,
    parameters: Vec<SqlParameter>,
}

/// A statement that ran to its successful end.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    handle: StatementHandle,
    description: StatementDescription,
}

/// The StatementName that marks a principal's statements, for ListFlights.
pub(crate) fn statement_name(principal: &Principal) -> String {
    format!("rsfs:{}:", principal.0)
}

impl Gateway {
    /// ExecuteStatement for a query and the handle that names it from now on.
    async fn submit(&self, execution: Execution, principal: &Principal) -> Result<StatementHandle> {
        let submitted = unix_now();
        let format = self.settings.result_format;
        let database = execution
            .database
            .clone()
            .unwrap_or_else(|| self.settings.database.clone());
        let id = self
            .start(
                ExecuteRequest {
                    sql: execution.sql,
                    parameters: execution.parameters,
                    database: execution.database,
                    session_id: execution.session_id,
                    result_format: format,
                    statement_name: Some(statement_name(principal)),
                    ..ExecuteRequest::default()
                },
                execution.search_path.as_deref(),
            )
            .await?;
        tracing::Span::current().record("statement_id", id.as_str());
        Ok(StatementHandle {
            statement_id: id,
            principal: principal.0.clone(),
            result_format: match format {
                ResultFormat::Json => proto::ResultFormat::Json as i32,
                ResultFormat::Csv => proto::ResultFormat::Csv as i32,
            },
            expires_at: i64::try_from((submitted + RESULT_RETENTION).as_secs()).unwrap_or(i64::MAX),
            submitted_at_millis: i64::try_from(submitted.as_millis()).unwrap_or(0),
            has_result_set: true,
            database,
        })
    }

    /// GetFlightInfo(CommandStatementQuery): runs the query to its end and
    /// returns its real schema and a ticket.
    pub(crate) async fn statement_flight_info(
        &self,
        execution: Execution,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<FlightInfo> {
        let (handle, description) = match (&self.reuse, &execution.session_id) {
            // Statements of a transaction see its uncommitted state: never shared.
            (Some(reuse), None) => {
                let key = ReuseKey {
                    principal: principal.0.clone(),
                    database: execution.database.clone().unwrap_or_default(),
                    search_path: execution.search_path.clone().unwrap_or_default(),
                    sql: execution.sql.clone(),
                    parameters: execution.parameters.clone(),
                };
                let finished = reuse
                    .try_get_with(key, self.run_statement(execution, principal))
                    .await
                    .map_err(|e| (*e).clone())?;
                (finished.handle, finished.description)
            }
            _ => {
                let finished = self.run_statement(execution, principal).await?;
                (finished.handle, finished.description)
            }
        };
        self.finished_flight_info(handle, &description, descriptor)
            .await
    }

    /// Runs a statement to its successful end.
    async fn run_statement(&self, execution: Execution, principal: &Principal) -> Result<Finished> {
        let handle = self.submit(execution, principal).await?;
        let guard = CancelOnDrop {
            api: Some(Arc::clone(&self.api)),
            statement_id: handle.statement_id.clone(),
        };
        let description =
            wait_for_statement(&*self.api, &handle.statement_id, self.settings.wait).await?;
        guard.disarm();
        ensure_finished(&handle.statement_id, &description)?;
        Ok(Finished {
            handle,
            description,
        })
    }

    /// ExecuteStatement, or with a search path a BatchExecuteStatement of
    /// `set search_path` and the statement: the Id to wait for and read (the
    /// batch's `:2` sub-statement).
    pub(crate) async fn start(
        &self,
        request: ExecuteRequest,
        search_path: Option<&str>,
    ) -> Result<String> {
        let Some(schema) = search_path.filter(|s| !s.is_empty()) else {
            return Ok(self.api.execute_statement(request).await?);
        };
        let transaction = request.session_id.is_none();
        let id = self
            .api
            .batch_execute_statement(BatchExecuteRequest {
                sqls: vec![
                    format!(
                        "set search_path to {}",
                        redshift_sqltext::quote_identifier(schema)
                    ),
                    request.sql,
                ],
                database: request.database,
                parameters: request.parameters,
                session_id: request.session_id,
                transaction,
                statement_name: request.statement_name,
                result_format: request.result_format,
            })
            .await?;
        Ok(format!("{id}:2"))
    }

    /// Runs a statement to its end and reads its whole result (metadata
    /// queries, schema discovery): the schema and every batch.
    pub(crate) async fn run_to_batches(
        &self,
        request: ExecuteRequest,
        search_path: Option<&str>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let format = request.result_format;
        let database = request
            .database
            .clone()
            .unwrap_or_else(|| self.settings.database.clone());
        let id = self.start(request, search_path).await?;
        let guard = CancelOnDrop {
            api: Some(Arc::clone(&self.api)),
            statement_id: id.clone(),
        };
        let description = wait_for_statement(&*self.api, &id, self.settings.wait).await?;
        guard.disarm();
        ensure_finished(&id, &description)?;
        if !description.has_result_set {
            return Ok((Arc::new(Schema::empty()), Vec::new()));
        }
        let mut page = self.api.get_statement_result(&id, format, None).await?;
        let converter = PageConverter::new(std::mem::take(&mut page.columns), Some(&database));
        let mut batches = Vec::new();
        let mut first = true;
        loop {
            let batch = converter
                .convert(&page.records, std::mem::take(&mut first))
                .map_err(|source| GatewayError::Convert {
                    statement_id: id.clone(),
                    source,
                })?;
            if batch.num_rows() > 0 {
                batches.push(batch);
            }
            match page.next_token.take() {
                Some(token) => {
                    page = self
                        .api
                        .get_statement_result(&id, format, Some(token))
                        .await?
                }
                None => return Ok((converter.schema(), batches)),
            }
        }
    }

    /// GetFlightInfo for several executions of one statement (a prepared query
    /// with several bound rows): one endpoint each, in order.
    pub(crate) async fn executions_flight_info(
        &self,
        executions: Vec<Execution>,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<FlightInfo> {
        let mut merged: Option<FlightInfo> = None;
        for execution in executions {
            let info = self
                .statement_flight_info(execution, descriptor.clone(), principal)
                .await?;
            merged = Some(match merged {
                None => info,
                Some(mut all) => {
                    if all.schema != info.schema {
                        return Err(GatewayError::InvalidArgument(
                            "the bound parameter rows give results of different schemas".to_owned(),
                        ));
                    }
                    all.total_records += info.total_records;
                    all.total_bytes = -1;
                    all.endpoint.extend(info.endpoint);
                    all
                }
            });
        }
        merged
            .ok_or_else(|| GatewayError::InvalidArgument("no parameter rows were bound".to_owned()))
    }

    /// GetSchema(CommandStatementQuery): the schema a query returns. A query
    /// runs (its exact result schema; the first page is cached like any
    /// other), DDL/DML answer an empty schema and do not run at all.
    pub(crate) async fn statement_schema(
        &self,
        execution: Execution,
        principal: &Principal,
    ) -> Result<SchemaRef> {
        if !redshift_sqltext::is_query(&execution.sql) {
            return Ok(Arc::new(Schema::empty()));
        }
        let info = self
            .statement_flight_info(execution, FlightDescriptor::default(), principal)
            .await?;
        info.try_decode_schema()
            .map(Arc::new)
            .map_err(|e| GatewayError::Internal(format!("decoding our own schema: {e}")))
    }

    /// The FlightInfo of an ended statement (an error if it failed or was cancelled).
    async fn finished_flight_info(
        &self,
        mut handle: StatementHandle,
        description: &StatementDescription,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo> {
        ensure_finished(&handle.statement_id, description)?;
        handle.has_result_set = description.has_result_set;
        let ticket = TicketStatementQuery {
            statement_handle: self.signer.seal(PayloadKind::Ticket, &handle),
        }
        .as_any()
        .encode_to_vec();
        // No location: the client reuses its connection (and its TLS).
        let endpoint = FlightEndpoint::new()
            .with_ticket(Ticket::new(ticket))
            .with_expiration_time(timestamp(handle.expires_at));
        let info = FlightInfo::new()
            .with_descriptor(descriptor)
            .with_endpoint(endpoint)
            .with_ordered(true);
        if !description.has_result_set {
            return info
                .try_with_schema(&Schema::empty())
                .map(|i| {
                    i.with_total_records(description.result_rows.max(0))
                        .with_total_bytes(0)
                })
                .map_err(|e| GatewayError::Internal(e.to_string()));
        }
        let cached = self.first_page(&handle).await?;
        let total_bytes = if cached.next_token.is_none() {
            i64::try_from(cached.bytes()).unwrap_or(-1)
        } else {
            -1
        };
        let info = info
            .try_with_schema(&cached.schema())
            .map_err(|e| GatewayError::Internal(e.to_string()))?
            .with_total_records(cached.total_rows.unwrap_or(-1))
            .with_total_bytes(total_bytes);
        self.cache.insert(cache_key(&handle), cached).await;
        Ok(info)
    }

    /// Fetches and converts the first result page.
    async fn first_page(&self, handle: &StatementHandle) -> Result<CachedResult> {
        // Counted with the pages of running DoGets: many clients starting at
        // once must not each hold a page and its conversion.
        let _permit = Arc::clone(&self.page_permits)
            .acquire_owned()
            .await
            .map_err(|e| GatewayError::Internal(e.to_string()))?;
        let format = result_format(handle);
        let page = self
            .api
            .get_statement_result(&handle.statement_id, format, None)
            .await?;
        let converter = PageConverter::new(page.columns, Some(&handle.database));
        let batch =
            converter
                .convert(&page.records, true)
                .map_err(|source| GatewayError::Convert {
                    statement_id: handle.statement_id.clone(),
                    source,
                })?;
        Ok(CachedResult {
            converter,
            batches: if batch.num_rows() > 0 {
                vec![batch]
            } else {
                Vec::new()
            },
            next_token: page.next_token,
            total_rows: page.total_rows,
            encoded: None,
        })
    }

    /// DoGet(TicketStatementQuery): streams a finished statement's result.
    pub(crate) async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        principal: &Principal,
    ) -> Result<BoxStream<'static, Result<FlightData, Status>>> {
        let handle = self
            .signer
            .open::<StatementHandle>(PayloadKind::Ticket, &ticket.statement_handle)?;
        if handle.principal != principal.0 {
            return Err(GatewayError::ForeignTicket);
        }
        tracing::Span::current().record("statement_id", handle.statement_id.as_str());
        if !handle.has_result_set {
            let empty = FlightDataEncoderBuilder::new()
                .with_schema(Arc::new(Schema::empty()))
                .build(futures::stream::empty())
                .map_err(Status::from);
            return Ok(empty.boxed());
        }
        let key = cache_key(&handle);
        let start = match self.cache.get(&key).await {
            Some(hit) => {
                tracing::debug!(statement_id = %handle.statement_id, "results cache hit");
                if let Some(encoded) = &hit.encoded {
                    let messages = encoded.clone();
                    return Ok(futures::stream::iter(messages.into_iter().map(Ok)).boxed());
                }
                hit
            }
            None => Arc::new(self.first_page(&handle).await?),
        };
        let schema = start.schema();
        let converter = start.converter.clone();
        let total_rows = start.total_rows;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch, FlightError>>(1);
        let producer = PageProducer {
            gateway: self.clone(),
            handle,
            start,
        };
        tokio::spawn(producer.run(tx).instrument(tracing::Span::current()));
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(ReceiverStream::new(rx))
            .map_err(Status::from);
        // Record the encoded messages; when the client has read them all, the
        // cache keeps them so a re-read streams them without re-encoding.
        let limit = self.cache.max_entry_bytes();
        let recorded: Recording = Arc::new(std::sync::Mutex::new(Some(Recorder {
            cache: self.cache.clone(),
            messages: Vec::new(),
            bytes: 0,
        })));
        let tap = Arc::clone(&recorded);
        let stream = stream.inspect(move |item| {
            let mut guard = tap
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let keep = match (guard.as_mut(), item) {
                (Some(recorder), Ok(message)) => recorder.record(message, limit),
                _ => false,
            };
            if !keep {
                *guard = None;
            }
        });
        let cache = self.cache.clone();
        let keep = futures::stream::once(async move {
            let recorder = recorded
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(mut recorder) = recorder {
                let messages = std::mem::take(&mut recorder.messages);
                cache
                    .insert(
                        key,
                        CachedResult {
                            converter,
                            batches: Vec::new(),
                            next_token: None,
                            total_rows,
                            encoded: Some(messages),
                        },
                    )
                    .await;
            }
        })
        .filter_map(|()| std::future::ready(None));
        let stream = stream.chain(keep);
        Ok(stream.boxed())
    }

    /// PollFlightInfo(CommandStatementQuery): submits and returns at once.
    pub(crate) async fn poll_new_statement(
        &self,
        execution: Execution,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<PollInfo> {
        let handle = self.submit(execution, principal).await?;
        self.poll_statement(handle, descriptor, None).await
    }

    /// PollFlightInfo with the retry descriptor of an earlier poll.
    pub(crate) async fn poll_retry(
        &self,
        envelope: &[u8],
        principal: &Principal,
    ) -> Result<PollInfo> {
        let handle = self
            .signer
            .open::<StatementHandle>(PayloadKind::Poll, envelope)?;
        if handle.principal != principal.0 {
            return Err(GatewayError::ForeignTicket);
        }
        tracing::Span::current().record("statement_id", handle.statement_id.as_str());
        self.poll_statement(handle, FlightDescriptor::default(), RETRY_WAIT_SECONDS)
            .await
    }

    fn poll_descriptor(&self, handle: &StatementHandle) -> FlightDescriptor {
        let any = Any {
            type_url: POLL_TYPE_URL.to_owned(),
            value: self.signer.seal(PayloadKind::Poll, handle),
        };
        FlightDescriptor::new_cmd(any.encode_to_vec())
    }

    async fn poll_statement(
        &self,
        handle: StatementHandle,
        descriptor: FlightDescriptor,
        wait_seconds: Option<i32>,
    ) -> Result<PollInfo> {
        let description = self
            .api
            .describe_statement(&handle.statement_id, wait_seconds)
            .await?;
        let expiration = timestamp(handle.expires_at);
        if description.status.is_terminal() {
            let descriptor = if descriptor.cmd.is_empty() {
                self.poll_descriptor(&handle)
            } else {
                descriptor
            };
            let info = self
                .finished_flight_info(handle, &description, descriptor)
                .await?;
            return PollInfo::new()
                .with_info(info)
                .try_with_progress(1.0)
                .map(|p| p.with_expiration_time(expiration))
                .map_err(|e| GatewayError::Internal(e.to_string()));
        }
        let retry = self.poll_descriptor(&handle);
        let elapsed_ms =
            i64::try_from(unix_now().as_millis()).unwrap_or(0) - handle.submitted_at_millis;
        let progress = progress(
            description.status,
            Duration::from_millis(elapsed_ms.max(0).unsigned_abs()),
        );
        let info = FlightInfo::new()
            .try_with_schema(&Schema::empty())
            .map_err(|e| GatewayError::Internal(e.to_string()))?
            .with_descriptor(retry.clone());
        PollInfo::new()
            .with_info(info)
            .with_descriptor(retry)
            .try_with_progress(progress)
            .map(|p| p.with_expiration_time(expiration))
            .map_err(|e| GatewayError::Internal(e.to_string()))
    }

    /// CancelFlightInfo / CancelQuery: cancels the statement named by the
    /// FlightInfo's ticket or retry descriptor. Returns false when it had ended.
    pub(crate) async fn cancel(&self, info: &FlightInfo, principal: &Principal) -> Result<bool> {
        let handle = self.handle_of(info)?;
        if handle.principal != principal.0 {
            return Err(GatewayError::ForeignTicket);
        }
        tracing::Span::current().record("statement_id", handle.statement_id.as_str());
        match self
            .api
            .cancel_statement(parent_id(&handle.statement_id))
            .await
        {
            Ok(cancelled) => Ok(cancelled),
            // Cancelling an ended statement is refused by the Data API.
            Err(crate::dataapi::DataApiError::Validation { .. }) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    fn handle_of(&self, info: &FlightInfo) -> Result<StatementHandle> {
        for endpoint in &info.endpoint {
            if let Some(ticket) = &endpoint.ticket {
                let any = Any::decode(ticket.ticket.as_ref()).map_err(|e| {
                    GatewayError::InvalidArgument(format!("ticket is not an Any: {e}"))
                })?;
                if let Ok(Some(t)) = any.unpack::<TicketStatementQuery>() {
                    return Ok(self
                        .signer
                        .open::<StatementHandle>(PayloadKind::Ticket, &t.statement_handle)?);
                }
            }
        }
        if let Some(descriptor) = &info.flight_descriptor {
            if let Ok(any) = Any::decode(descriptor.cmd.as_ref()) {
                if any.type_url == POLL_TYPE_URL {
                    return Ok(self
                        .signer
                        .open::<StatementHandle>(PayloadKind::Poll, &any.value)?);
                }
            }
        }
        Err(GatewayError::InvalidArgument(
            "the FlightInfo names no statement of this server".to_owned(),
        ))
    }
}

impl Gateway {
    /// ListFlights: the caller's recent statements (Data API ListStatements
    /// by the StatementName that marks them), newest first. Finished ones
    /// carry a ticket; `app_metadata` is the Data API status.
    pub(crate) async fn list_flights(&self, principal: &Principal) -> Result<Vec<FlightInfo>> {
        let statements = self
            .api
            .list_statements(&statement_name(principal), 100)
            .await?;
        let mut infos = Vec::with_capacity(statements.len());
        for s in statements {
            let descriptor = FlightDescriptor::new_cmd(
                arrow_flight::sql::CommandStatementQuery {
                    query: s.query_string.clone(),
                    transaction_id: None,
                }
                .as_any()
                .encode_to_vec(),
            );
            let mut info = FlightInfo::new()
                .try_with_schema(&Schema::empty())
                .map_err(|e| GatewayError::Internal(e.to_string()))?
                .with_descriptor(descriptor)
                .with_app_metadata(format!("{:?}", s.status).to_uppercase());
            if s.status == StatementStatus::Finished {
                let handle = StatementHandle {
                    statement_id: s.id,
                    principal: principal.0.clone(),
                    result_format: match s.result_format {
                        ResultFormat::Json => proto::ResultFormat::Json as i32,
                        ResultFormat::Csv => proto::ResultFormat::Csv as i32,
                    },
                    expires_at: s.created_at
                        + i64::try_from(RESULT_RETENTION.as_secs()).unwrap_or(0),
                    submitted_at_millis: s.created_at * 1000,
                    has_result_set: true,
                    database: self.settings.database.clone(),
                };
                let ticket = TicketStatementQuery {
                    statement_handle: self.signer.seal(PayloadKind::Ticket, &handle),
                }
                .as_any()
                .encode_to_vec();
                info = info.with_endpoint(
                    FlightEndpoint::new()
                        .with_ticket(Ticket::new(ticket))
                        .with_expiration_time(timestamp(handle.expires_at)),
                );
            }
            infos.push(info);
        }
        Ok(infos)
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

/// An estimate for PollInfo.progress: the Data API reports no progress, so
/// it grows with the status and the time spent, and never reaches 1 early.
fn progress(status: StatementStatus, elapsed: Duration) -> f64 {
    match status {
        StatementStatus::Submitted => 0.05,
        StatementStatus::Picked => 0.1,
        StatementStatus::Started => 0.15 + 0.8 * (1.0 - (-elapsed.as_secs_f64() / 10.0).exp()),
        StatementStatus::Finished | StatementStatus::Aborted | StatementStatus::Failed => 1.0,
    }
}

fn result_format(handle: &StatementHandle) -> ResultFormat {
    if handle.result_format == proto::ResultFormat::Csv as i32 {
        ResultFormat::Csv
    } else {
        ResultFormat::Json
    }
}

fn cache_key(handle: &StatementHandle) -> CacheKey {
    CacheKey {
        statement_id: handle.statement_id.clone(),
        principal: handle.principal.clone(),
    }
}

/// The encoded messages of a DoGet, until it ends (or they outgrow one cache
/// entry or the recording budget, or an error ends the stream: then `None`).
type Recording = Arc<std::sync::Mutex<Option<Recorder>>>;

/// Messages recorded for the cache; gives its budget back when dropped
/// (also when the client goes away mid-stream).
struct Recorder {
    cache: crate::cache::ResultsCache,
    messages: Vec<FlightData>,
    bytes: usize,
}

impl Recorder {
    /// Keeps a copy of `message`; false when it no longer fits.
    fn record(&mut self, message: &FlightData, limit: usize) -> bool {
        let size = message.data_header.len() + message.data_body.len();
        if self.bytes + size > limit || !self.cache.reserve_recording(size) {
            return false;
        }
        self.bytes += size;
        self.messages.push(message.clone());
        true
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.cache.release_recording(self.bytes);
    }
}

/// Feeds one DoGet: the batches it starts from, then the following pages.
struct PageProducer {
    gateway: Gateway,
    handle: StatementHandle,
    start: Arc<CachedResult>,
}

impl PageProducer {
    async fn run(self, tx: tokio::sync::mpsc::Sender<Result<RecordBatch, FlightError>>) {
        let Self {
            gateway,
            handle,
            start,
        } = self;
        for batch in &start.batches {
            if tx.send(Ok(batch.clone())).await.is_err() {
                return;
            }
        }
        // Pages are fetched one ahead by their own task while the current one is
        // converted on a blocking thread and sent: fetching, SDK parsing and
        // conversion use both cores.
        let (pages_tx, mut pages) = tokio::sync::mpsc::channel(1);
        let fetcher = {
            let api = Arc::clone(&gateway.api);
            let permits = Arc::clone(&gateway.page_permits);
            let id = handle.statement_id.clone();
            let format = result_format(&handle);
            let mut token = start.next_token.clone();
            async move {
                while let Some(next) = token.take() {
                    // Bounds the pages held by all DoGets at once (fetched,
                    // converting or queued), whatever the number of clients.
                    let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                        return;
                    };
                    let page = api.get_statement_result(&id, format, Some(next)).await;
                    if let Ok(p) = &page {
                        token.clone_from(&p.next_token);
                    }
                    if pages_tx.send((page, permit)).await.is_err() {
                        return;
                    }
                }
            }
        };
        tokio::spawn(fetcher.instrument(tracing::Span::current()));
        while let Some((page, permit)) = pages.recv().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => {
                    let status = Status::from(GatewayError::from(e));
                    let _ = tx.send(Err(FlightError::Tonic(Box::new(status)))).await;
                    return;
                }
            };
            let converting = Arc::clone(&start);
            let converted = tokio::task::spawn_blocking(move || {
                converting.converter.convert(&page.records, false)
            })
            .await;
            let batch = match converted {
                Ok(Ok(batch)) => batch,
                Ok(Err(source)) => {
                    let status = Status::from(GatewayError::Convert {
                        statement_id: handle.statement_id.clone(),
                        source,
                    });
                    let _ = tx.send(Err(FlightError::Tonic(Box::new(status)))).await;
                    return;
                }
                Err(join) => {
                    let status =
                        Status::from(GatewayError::Internal(format!("conversion task: {join}")));
                    let _ = tx.send(Err(FlightError::Tonic(Box::new(status)))).await;
                    return;
                }
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let sent = tx.send(Ok(batch)).await;
            drop(permit);
            if sent.is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_stays_below_one_until_the_end() {
        let long = progress(StatementStatus::Started, Duration::from_secs(3600));
        assert!(long < 1.0 && long > 0.9);
        assert!(
            progress(StatementStatus::Started, Duration::ZERO)
                < progress(StatementStatus::Started, Duration::from_secs(5))
        );
        assert!((progress(StatementStatus::Finished, Duration::ZERO) - 1.0).abs() < f64::EPSILON);
    }
}
