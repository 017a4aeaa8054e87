//! The Flight SQL service: our own `FlightService` dispatch of every Flight
//! SQL command (arrow-flight's blanket server lacks PollFlightInfo, GetSchema
//! and CancelFlightInfo). Each RPC authenticates, opens a span and delegates
//! to the module of its command family.

mod ingest;
mod metadata;
mod prepared;
mod session;
mod sql_info;
mod statement;
mod transaction;

use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::{
    ActionBeginTransactionRequest, ActionCancelQueryRequest, ActionCancelQueryResult,
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionEndTransactionRequest, Any, Command, DoPutPreparedStatementResult, DoPutUpdateResult,
    ProstMessageExt as _,
};
use arrow_flight::{
    Action, ActionType, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, Criteria,
    Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse, PollInfo,
    PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::BoxStream;
use futures::{StreamExt as _, TryStreamExt as _, stream};
use prost::Message as _;
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument as _;

use crate::auth::{Authenticator, Principal};
use crate::cache::ResultsCache;
use crate::dataapi::{DataApi, ResultFormat, WaitPolicy};
use crate::error::GatewayError;
use crate::ticket::TicketSigner;

/// How queries are run.
#[derive(Debug, Clone)]
pub struct QuerySettings {
    /// The default database (the Flight SQL catalog).
    pub database: String,
    /// How result pages are fetched.
    pub result_format: ResultFormat,
    /// How statements are waited for.
    pub wait: WaitPolicy,
    /// How long a finished statement is reused for an identical query (zero: never).
    pub reuse: Duration,
}

/// Everything an RPC needs, cheap to clone.
#[derive(Debug, Clone)]
pub struct Gateway {
    api: Arc<dyn DataApi>,
    signer: TicketSigner,
    auth: Authenticator,
    cache: ResultsCache,
    settings: QuerySettings,
    /// Metadata answers by (principal, command), kept briefly.
    metadata_cache: moka::future::Cache<(String, Vec<u8>), arrow::array::RecordBatch>,
    /// Dataset schemas of prepared queries by (SQL, database, principal).
    schema_cache: moka::future::Cache<(String, String, String), arrow::datatypes::SchemaRef>,
    /// Rows bound to a prepared statement handle, for clients older than
    /// DoPutPreparedStatementResult that keep using the handle they had
    /// (this replica only; current clients use the new, self-contained handle).
    bound_rows: moka::future::Cache<Vec<u8>, Arc<Vec<crate::ticket::proto::ParameterRow>>>,
    /// Result pages all DoGets may hold at once beyond what they stream.
    page_permits: Arc<tokio::sync::Semaphore>,
    /// Finished statements by what ran them, when reuse is on; concurrent
    /// identical queries wait for one execution.
    reuse: Option<moka::future::Cache<statement::ReuseKey, statement::Finished>>,
}

impl Gateway {
    /// A gateway over `api`.
    pub fn new(
        api: Arc<dyn DataApi>,
        signer: TicketSigner,
        auth: Authenticator,
        cache: ResultsCache,
        settings: QuerySettings,
    ) -> Self {
        let reuse = (!settings.reuse.is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(settings.reuse)
                .build()
        });
        Self {
            api,
            signer,
            auth,
            cache,
            settings,
            metadata_cache: moka::future::Cache::builder()
                .max_capacity(1000)
                .time_to_live(METADATA_TTL)
                .build(),
            schema_cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(300))
                .build(),
            bound_rows: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(Duration::from_secs(600))
                .build(),
            page_permits: Arc::new(tokio::sync::Semaphore::new(PAGES_IN_FLIGHT)),
            reuse,
        }
    }
}

/// The tonic service.
#[derive(Debug, Clone)]
pub struct FlightSqlService {
    gateway: Gateway,
}

impl FlightSqlService {
    /// Serves `gateway`.
    pub fn new(gateway: Gateway) -> Self {
        Self { gateway }
    }

    /// Where the caller's session options say statements run.
    fn catalog<T>(
        &self,
        request: &Request<T>,
        principal: &Principal,
    ) -> transaction::SessionTarget {
        let options = self.gateway.session_options(request.metadata(), principal);
        transaction::SessionTarget {
            catalog: Some(options.catalog).filter(|c| !c.is_empty()),
            schema: Some(options.schema).filter(|s| !s.is_empty()),
        }
    }

    /// The start of every RPC but Handshake: its span, the authenticated
    /// principal (recorded in the span) and the caller's session target.
    fn begin<T>(
        &self,
        rpc: &'static str,
        request: &Request<T>,
    ) -> Result<(tracing::Span, Principal, transaction::SessionTarget), Status> {
        let span = rpc_span(rpc);
        let principal = self.authorize(request)?;
        span.record("principal", principal.0.as_str());
        let target = self.catalog(request, &principal);
        Ok((span, principal, target))
    }

    fn authorize<T>(&self, request: &Request<T>) -> Result<Principal, Status> {
        self.gateway
            .auth
            .authorize(request.metadata())
            .map_err(|e| Status::from(GatewayError::from(e)))
    }
}

fn rpc_span(rpc: &'static str) -> tracing::Span {
    tracing::info_span!(
        "flight",
        rpc,
        command = tracing::field::Empty,
        statement_id = tracing::field::Empty,
        principal = tracing::field::Empty
    )
}

fn decode_command(bytes: &[u8]) -> Result<Command, GatewayError> {
    let any = Any::decode(bytes).map_err(|e| {
        GatewayError::InvalidArgument(format!("command is not a protobuf Any: {e}"))
    })?;
    Command::try_from(any).map_err(|e| GatewayError::InvalidArgument(e.to_string()))
}

fn command_name(command: &Command) -> &str {
    command.type_url().rsplit('.').next().unwrap_or_default()
}

/// Encodes batches as a FlightData stream (the schema is sent even with no batch).
pub(crate) fn batches_stream(
    schema: arrow::datatypes::SchemaRef,
    batches: Vec<arrow::array::RecordBatch>,
) -> BoxStream<'static, Result<FlightData, Status>> {
    arrow_flight::encode::FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(stream::iter(batches.into_iter().map(Ok)))
        .map(|r| r.map_err(Status::from))
        .boxed()
}

/// Decodes an action body packed as `Any`.
fn unpack<M: arrow_flight::sql::ProstMessageExt>(body: &[u8]) -> Result<M, GatewayError> {
    Any::decode(body)
        .map_err(|e| GatewayError::InvalidArgument(format!("action body is not an Any: {e}")))?
        .unpack()
        .map_err(|e| GatewayError::InvalidArgument(e.to_string()))?
        .ok_or_else(|| GatewayError::InvalidArgument("action body has the wrong type".to_owned()))
}

const CREATE_PREPARED_STATEMENT: &str = "CreatePreparedStatement";
const CLOSE_PREPARED_STATEMENT: &str = "ClosePreparedStatement";
const BEGIN_TRANSACTION: &str = "BeginTransaction";
const END_TRANSACTION: &str = "EndTransaction";
const BEGIN_SAVEPOINT: &str = "BeginSavepoint";
const END_SAVEPOINT: &str = "EndSavepoint";
const SET_SESSION_OPTIONS: &str = "SetSessionOptions";
const GET_SESSION_OPTIONS: &str = "GetSessionOptions";
const CLOSE_SESSION: &str = "CloseSession";
const CANCEL_FLIGHT_INFO: &str = "CancelFlightInfo";
const CANCEL_QUERY: &str = "CancelQuery";

type Stream<T> = BoxStream<'static, Result<T, Status>>;

#[tonic::async_trait]
impl FlightService for FlightSqlService {
    type HandshakeStream = Stream<HandshakeResponse>;
    type ListFlightsStream = Stream<FlightInfo>;
    type DoGetStream = Stream<FlightData>;
    type DoPutStream = Stream<PutResult>;
    type DoExchangeStream = Stream<FlightData>;
    type DoActionStream = Stream<arrow_flight::Result>;
    type ListActionsStream = Stream<ActionType>;

    async fn handshake(
        &self,
        request: Request<Streaming<HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        let span = rpc_span("Handshake");
        let _entered = span.enter();
        // The body is never read: ADBC and JDBC send none, credentials are headers.
        let (principal, token) = self
            .gateway
            .auth
            .handshake(request.metadata())
            .map_err(|e| Status::from(GatewayError::from(e)))?;
        span.record("principal", principal.0.as_str());
        tracing::info!("handshake");
        let reply = HandshakeResponse {
            protocol_version: 0,
            payload: token.clone().into(),
        };
        let mut response = Response::new(stream::iter([Ok(reply)]).boxed());
        let header = format!("Bearer {token}")
            .parse()
            .map_err(|_| Status::internal("token is not a valid header"))?;
        response.metadata_mut().insert("authorization", header);
        Ok(response)
    }

    async fn list_flights(
        &self,
        request: Request<Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        let (span, principal, _) = self.begin("ListFlights", &request)?;
        let infos = self
            .gateway
            .list_flights(&principal)
            .instrument(span)
            .await
            .map_err(Status::from)?;
        Ok(Response::new(
            stream::iter(infos.into_iter().map(Ok)).boxed(),
        ))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let (span, principal, catalog) = self.begin("GetFlightInfo", &request)?;
        let descriptor = request.into_inner();
        let gateway = self.gateway.clone();
        async move {
            let command = decode_command(&descriptor.cmd)?;
            tracing::Span::current().record("command", command_name(&command));
            match command {
                Command::CommandStatementQuery(query) => {
                    let execution = gateway.execution(
                        query.query,
                        query.transaction_id.as_deref(),
                        &principal,
                        &catalog,
                    )?;
                    gateway
                        .statement_flight_info(execution, descriptor, &principal)
                        .await
                }
                Command::CommandPreparedStatementQuery(command) => {
                    gateway
                        .prepared_flight_info(command, descriptor, &principal)
                        .await
                }
                other => match metadata::metadata_schema(&other) {
                    Some(_) => {
                        gateway
                            .metadata_flight_info(other, descriptor, &principal)
                            .await
                    }
                    None => Err(GatewayError::Unimplemented(format!(
                        "GetFlightInfo({})",
                        command_name(&other)
                    ))),
                },
            }
        }
        .instrument(span.clone())
        .await
        .map(Response::new)
        .map_err(|e| {
            span.in_scope(|| tracing::info!(error = %e, "GetFlightInfo failed"));
            e.into()
        })
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        let (span, principal, catalog) = self.begin("PollFlightInfo", &request)?;
        let descriptor = request.into_inner();
        let gateway = self.gateway.clone();
        async move {
            match decode_command(&descriptor.cmd)? {
                Command::CommandStatementQuery(query) => {
                    tracing::Span::current().record("command", "CommandStatementQuery");
                    let execution = gateway.execution(
                        query.query,
                        query.transaction_id.as_deref(),
                        &principal,
                        &catalog,
                    )?;
                    gateway
                        .poll_new_statement(execution, descriptor, &principal)
                        .await
                }
                Command::Unknown(any) if any.type_url == statement::POLL_TYPE_URL => {
                    tracing::Span::current().record("command", "retry");
                    gateway.poll_retry(&any.value, &principal).await
                }
                other => Err(GatewayError::Unimplemented(format!(
                    "PollFlightInfo({})",
                    command_name(&other)
                ))),
            }
        }
        .instrument(span)
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let (span, principal, catalog) = self.begin("GetSchema", &request)?;
        let descriptor = request.into_inner();
        let gateway = self.gateway.clone();
        async move {
            match decode_command(&descriptor.cmd)? {
                Command::CommandStatementQuery(query) => {
                    let execution = gateway.execution(
                        query.query,
                        query.transaction_id.as_deref(),
                        &principal,
                        &catalog,
                    )?;
                    let schema = gateway.statement_schema(execution, &principal).await?;
                    let options = arrow::ipc::writer::IpcWriteOptions::default();
                    SchemaResult::try_from(SchemaAsIpc::new(&schema, &options))
                        .map_err(|e| GatewayError::Internal(e.to_string()))
                }
                other => match metadata::metadata_schema(&other) {
                    Some(schema) => {
                        let options = arrow::ipc::writer::IpcWriteOptions::default();
                        SchemaResult::try_from(SchemaAsIpc::new(&schema, &options))
                            .map_err(|e| GatewayError::Internal(e.to_string()))
                    }
                    None => Err(GatewayError::Unimplemented(format!(
                        "GetSchema({})",
                        command_name(&other)
                    ))),
                },
            }
        }
        .instrument(span)
        .await
        .map(Response::new)
        .map_err(Status::from)
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let (span, principal, _) = self.begin("DoGet", &request)?;
        let ticket = request.into_inner();
        let gateway = self.gateway.clone();
        let stream = async move {
            match decode_command(&ticket.ticket)? {
                Command::TicketStatementQuery(t) => {
                    tracing::Span::current().record("command", "TicketStatementQuery");
                    gateway.do_get_statement(t, &principal).await
                }
                other if metadata::metadata_schema(&other).is_some() => {
                    tracing::Span::current().record("command", command_name(&other));
                    let batch = gateway.metadata(&other, &principal).await?;
                    Ok(batches_stream(batch.schema(), vec![batch]))
                }
                other => Err(GatewayError::Unimplemented(format!(
                    "DoGet({})",
                    command_name(&other)
                ))),
            }
        }
        .instrument(span.clone())
        .await
        .map_err(Status::from)?;
        Ok(Response::new(stream))
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let (span, principal, catalog) = self.begin("DoPut", &request)?;
        let gateway = self.gateway.clone();
        let mut input = request.into_inner();
        let metadata = async move {
            let first = input
                .message()
                .await
                .map_err(|s| {
                    GatewayError::InvalidArgument(format!("reading DoPut: {}", s.message()))
                })?
                .ok_or_else(|| GatewayError::InvalidArgument("DoPut sent no message".to_owned()))?;
            let descriptor = first.flight_descriptor.clone().ok_or_else(|| {
                GatewayError::InvalidArgument(
                    "the first DoPut message has no descriptor".to_owned(),
                )
            })?;
            let command = decode_command(&descriptor.cmd)?;
            tracing::Span::current().record("command", command_name(&command));
            let rest = input.map_err(|s| arrow_flight::error::FlightError::Tonic(Box::new(s)));
            // A message with only the descriptor (no IPC header) carries no data.
            let all = stream::once(async { Ok(first) })
                .chain(rest)
                .try_filter(|m| std::future::ready(!m.data_header.is_empty()));
            let mut decoder =
                arrow_flight::decode::FlightRecordBatchStream::new_from_flight_data(all);
            let mut batches = Vec::new();
            while let Some(batch) = decoder
                .try_next()
                .await
                .map_err(|e| GatewayError::InvalidArgument(format!("reading DoPut batches: {e}")))?
            {
                batches.push(batch);
            }
            let schema = decoder
                .schema()
                .cloned()
                .unwrap_or_else(|| Arc::new(arrow::datatypes::Schema::empty()));
            let update = |record_count: i64| DoPutUpdateResult { record_count }.encode_to_vec();
            match command {
                Command::CommandStatementUpdate(c) => {
                    let execution = gateway.execution(
                        c.query,
                        c.transaction_id.as_deref(),
                        &principal,
                        &catalog,
                    )?;
                    gateway.run_updates(vec![execution]).await.map(update)
                }
                Command::CommandPreparedStatementQuery(c) => {
                    let handle = gateway
                        .bind_prepared_statement(&c.prepared_statement_handle, &batches, &principal)
                        .await?;
                    Ok(DoPutPreparedStatementResult {
                        prepared_statement_handle: Some(handle),
                    }
                    .encode_to_vec())
                }
                Command::CommandPreparedStatementUpdate(c) => gateway
                    .prepared_update(&c.prepared_statement_handle, &batches, &principal)
                    .await
                    .map(update),
                Command::CommandStatementIngest(c) => gateway
                    .ingest(c, &schema, &batches, &principal, &catalog)
                    .await
                    .map(update),
                other => Err(GatewayError::Unimplemented(format!(
                    "DoPut({})",
                    command_name(&other)
                ))),
            }
        }
        .instrument(span)
        .await
        .map_err(Status::from)?;
        let result = PutResult {
            app_metadata: metadata.into(),
        };
        Ok(Response::new(stream::iter([Ok(result)]).boxed()))
    }

    async fn do_exchange(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        self.authorize(&request)?;
        Err(GatewayError::Unimplemented("DoExchange".to_owned()).into())
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let (span, principal, catalog) = self.begin("DoAction", &request)?;
        let session = self.gateway.session_options(request.metadata(), &principal);
        let action = request.into_inner();
        span.record("command", action.r#type.as_str());
        let gateway = self.gateway.clone();
        let new_cookie: Arc<std::sync::Mutex<Option<String>>> = Arc::default();
        let cookie = Arc::clone(&new_cookie);
        let body = async move {
            let new_cookie = cookie;
            match action.r#type.as_str() {
                CANCEL_FLIGHT_INFO => {
                    let request =
                        CancelFlightInfoRequest::decode(action.body.as_ref()).map_err(|e| {
                            GatewayError::InvalidArgument(format!("CancelFlightInfoRequest: {e}"))
                        })?;
                    let info = request.info.ok_or_else(|| {
                        GatewayError::InvalidArgument(
                            "CancelFlightInfoRequest without info".to_owned(),
                        )
                    })?;
                    let status = if gateway.cancel(&info, &principal).await? {
                        CancelStatus::Cancelled
                    } else {
                        CancelStatus::NotCancellable
                    };
                    Ok(Some(CancelFlightInfoResult::new(status).encode_to_vec()))
                }
                CANCEL_QUERY => {
                    let any = Any::decode(action.body.as_ref()).map_err(|e| {
                        GatewayError::InvalidArgument(format!("CancelQuery body: {e}"))
                    })?;
                    let request: ActionCancelQueryRequest = any
                        .unpack()
                        .map_err(|e| GatewayError::InvalidArgument(e.to_string()))?
                        .ok_or_else(|| {
                            GatewayError::InvalidArgument(
                                "expected ActionCancelQueryRequest".to_owned(),
                            )
                        })?;
                    let info = FlightInfo::decode(request.info.as_ref())
                        .map_err(|e| GatewayError::InvalidArgument(format!("FlightInfo: {e}")))?;
                    let cancelled = gateway.cancel(&info, &principal).await?;
                    // CANCEL_RESULT_CANCELLED = 1, CANCEL_RESULT_NOT_CANCELLABLE = 3.
                    let result = ActionCancelQueryResult {
                        result: if cancelled { 1 } else { 3 },
                    };
                    Ok(Some(result.as_any().encode_to_vec()))
                }
                CREATE_PREPARED_STATEMENT => {
                    let request: ActionCreatePreparedStatementRequest = unpack(&action.body)?;
                    let target = gateway.execution(
                        String::new(),
                        request.transaction_id.as_deref(),
                        &principal,
                        &catalog,
                    )?;
                    let result = gateway
                        .create_prepared_statement(request, target, &principal)
                        .await?;
                    Ok(Some(result.as_any().encode_to_vec()))
                }
                CLOSE_PREPARED_STATEMENT => {
                    let request: ActionClosePreparedStatementRequest = unpack(&action.body)?;
                    gateway.close_prepared_statement(&request, &principal)?;
                    Ok(None)
                }
                BEGIN_TRANSACTION => {
                    let request: ActionBeginTransactionRequest = unpack(&action.body)?;
                    let result = gateway
                        .begin_transaction(request, &principal, catalog.catalog.as_deref())
                        .await?;
                    Ok(Some(result.as_any().encode_to_vec()))
                }
                END_TRANSACTION => {
                    let request: ActionEndTransactionRequest = unpack(&action.body)?;
                    gateway.end_transaction(request, &principal).await?;
                    Ok(None)
                }
                BEGIN_SAVEPOINT | END_SAVEPOINT => Err(transaction::savepoints_unsupported()),
                SET_SESSION_OPTIONS => {
                    let (result, options) = gateway
                        .set_session_options(&action.body, session.clone())
                        .await?;
                    *new_cookie
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(gateway.session_cookie(&options));
                    Ok(Some(result.encode_to_vec()))
                }
                GET_SESSION_OPTIONS => {
                    Ok(Some(gateway.get_session_options(&session).encode_to_vec()))
                }
                CLOSE_SESSION => {
                    let cleared = crate::ticket::proto::SessionOptions {
                        principal: principal.0.clone(),
                        ..Default::default()
                    };
                    *new_cookie
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) =
                        Some(gateway.session_cookie(&cleared));
                    Ok(Some(gateway.close_session().encode_to_vec()))
                }
                other => Err(GatewayError::Unimplemented(format!("action {other}"))),
            }
        }
        .instrument(span)
        .await
        .map_err(Status::from)?;
        let results: Vec<Result<arrow_flight::Result, Status>> = body
            .into_iter()
            .map(|b| Ok(arrow_flight::Result { body: b.into() }))
            .collect();
        let mut response = Response::new(stream::iter(results).boxed());
        let cookie = new_cookie
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(cookie) = cookie {
            let value = cookie
                .parse()
                .map_err(|_| Status::internal("session cookie is not a valid header"))?;
            response.metadata_mut().insert("set-cookie", value);
        }
        Ok(response)
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        self.authorize(&request)?;
        let actions = [
            (
                CREATE_PREPARED_STATEMENT,
                "Prepare a statement (returns its schemas)",
            ),
            (CLOSE_PREPARED_STATEMENT, "Close a prepared statement"),
            (
                BEGIN_TRANSACTION,
                "Begin a transaction (a Data API session)",
            ),
            (END_TRANSACTION, "Commit or roll back a transaction"),
            (SET_SESSION_OPTIONS, "Set session options: catalog, schema"),
            (GET_SESSION_OPTIONS, "Get session options"),
            (CLOSE_SESSION, "Close the session"),
            (
                CANCEL_FLIGHT_INFO,
                "Cancel the statement behind a FlightInfo",
            ),
            (
                CANCEL_QUERY,
                "Cancel the statement behind a FlightInfo (Flight SQL, deprecated)",
            ),
        ]
        .map(|(t, d)| {
            Ok(ActionType {
                r#type: t.to_owned(),
                description: d.to_owned(),
            })
        });
        Ok(Response::new(stream::iter(actions).boxed()))
    }
}

/// Result pages fetched or being converted at once, across all DoGets (a
/// page is a few MiB): enough to keep both cores busy, few enough that memory
/// does not grow with the number of clients.
const PAGES_IN_FLIGHT: usize = 8;

/// How long a metadata answer is reused.
const METADATA_TTL: Duration = Duration::from_secs(30);

/// How often HTTP/2 keepalive pings are sent, so proxies keep long calls open.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
