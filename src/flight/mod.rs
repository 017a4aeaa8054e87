//! The Flight SQL service: our own `FlightService` dispatch of every Flight
//! SQL command (arrow-flight's blanket server lacks PollFlightInfo, GetSchema
//! and CancelFlightInfo). Each RPC authenticates, opens a span and delegates
//! to the module of its command family.

mod statement;

use std::sync::Arc;
use std::time::Duration;

use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::{
    ActionCancelQueryRequest, ActionCancelQueryResult, Any, Command, ProstMessageExt as _,
};
use arrow_flight::{
    Action, ActionType, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, Criteria,
    Empty, FlightData, FlightDescriptor, FlightInfo, HandshakeRequest, HandshakeResponse, PollInfo,
    PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::stream::BoxStream;
use futures::{StreamExt as _, stream};
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
}

/// Everything an RPC needs, cheap to clone.
#[derive(Debug, Clone)]
pub struct Gateway {
    api: Arc<dyn DataApi>,
    signer: TicketSigner,
    auth: Authenticator,
    cache: ResultsCache,
    settings: QuerySettings,
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
        Self {
            api,
            signer,
            auth,
            cache,
            settings,
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
        self.authorize(&request)?;
        Err(GatewayError::Unimplemented("ListFlights".to_owned()).into())
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let span = rpc_span("GetFlightInfo");
        let principal = self.authorize(&request)?;
        span.record("principal", principal.0.as_str());
        let descriptor = request.into_inner();
        let gateway = self.gateway.clone();
        async move {
            let command = decode_command(&descriptor.cmd)?;
            tracing::Span::current().record("command", command_name(&command));
            match command {
                Command::CommandStatementQuery(query) => {
                    if query.transaction_id.is_some() {
                        return Err(GatewayError::Unimplemented("transactions".to_owned()));
                    }
                    gateway
                        .statement_flight_info(query.query, descriptor, &principal)
                        .await
                }
                other => Err(GatewayError::Unimplemented(format!(
                    "GetFlightInfo({})",
                    command_name(&other)
                ))),
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
        let span = rpc_span("PollFlightInfo");
        let principal = self.authorize(&request)?;
        span.record("principal", principal.0.as_str());
        let descriptor = request.into_inner();
        let gateway = self.gateway.clone();
        async move {
            match decode_command(&descriptor.cmd)? {
                Command::CommandStatementQuery(query) => {
                    tracing::Span::current().record("command", "CommandStatementQuery");
                    if query.transaction_id.is_some() {
                        return Err(GatewayError::Unimplemented("transactions".to_owned()));
                    }
                    gateway
                        .poll_new_statement(query.query, descriptor, &principal)
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
        let span = rpc_span("GetSchema");
        let principal = self.authorize(&request)?;
        span.record("principal", principal.0.as_str());
        let descriptor = request.into_inner();
        let gateway = self.gateway.clone();
        async move {
            match decode_command(&descriptor.cmd)? {
                Command::CommandStatementQuery(query) => {
                    let schema = gateway.statement_schema(query.query, &principal).await?;
                    let options = arrow::ipc::writer::IpcWriteOptions::default();
                    SchemaResult::try_from(SchemaAsIpc::new(&schema, &options))
                        .map_err(|e| GatewayError::Internal(e.to_string()))
                }
                other => Err(GatewayError::Unimplemented(format!(
                    "GetSchema({})",
                    command_name(&other)
                ))),
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
        let span = rpc_span("DoGet");
        let principal = self.authorize(&request)?;
        span.record("principal", principal.0.as_str());
        let ticket = request.into_inner();
        let gateway = self.gateway.clone();
        let stream = async move {
            match decode_command(&ticket.ticket)? {
                Command::TicketStatementQuery(t) => {
                    tracing::Span::current().record("command", "TicketStatementQuery");
                    gateway.do_get_statement(t, &principal).await
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
        self.authorize(&request)?;
        Err(GatewayError::Unimplemented("DoPut".to_owned()).into())
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
        let span = rpc_span("DoAction");
        let principal = self.authorize(&request)?;
        span.record("principal", principal.0.as_str());
        let action = request.into_inner();
        span.record("command", action.r#type.as_str());
        let gateway = self.gateway.clone();
        let body = async move {
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
                    Ok(CancelFlightInfoResult::new(status).encode_to_vec())
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
                    Ok(result.as_any().encode_to_vec())
                }
                other => Err(GatewayError::Unimplemented(format!("action {other}"))),
            }
        }
        .instrument(span)
        .await
        .map_err(Status::from)?;
        let result = arrow_flight::Result { body: body.into() };
        Ok(Response::new(stream::iter([Ok(result)]).boxed()))
    }

    async fn list_actions(
        &self,
        request: Request<Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        self.authorize(&request)?;
        let actions = [
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

/// How often HTTP/2 keepalive pings are sent, so proxies keep long calls open.
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
