//! The Flight SQL service: our own `FlightService` dispatch of every Flight
//! SQL command (arrow-flight's blanket server lacks PollFlightInfo, GetSchema
//! and CancelFlightInfo). Each RPC authenticates, opens a span, decodes its
//! command and delegates to the module of the command family:
//!
//! | module | commands |
//! |---|---|
//! | `query` | CommandStatementQuery (GetFlightInfo, GetSchema), TicketStatementQuery (DoGet) |
//! | `poll` | PollFlightInfo, CancelFlightInfo, CancelQuery |
//! | `prepared`, `parameters` | prepared statements and their bound parameters |
//! | `update`, `put` | DoPut: updates, bound rows, ingest (`ingest`) |
//! | `transaction`, `session` | transactions, session options |
//! | `metadata`, `sql_info` | GetCatalogs … GetXdbcTypeInfo, GetSqlInfo |
//! | `actions` | DoAction, ListActions |
//! | `flights` | ListFlights |

mod actions;
mod decode;
mod flights;
mod gateway;
mod ingest;
mod metadata;
mod parameter_types;
mod parameters;
mod poll;
mod prepared;
mod put;
mod query;
mod session;
mod sql_info;
mod successor;
mod transaction;
mod unload;
mod update;

use std::future::Future;

use arrow::datatypes::SchemaRef;
use arrow_flight::flight_service_server::FlightService;
use arrow_flight::sql::Command;
use arrow_flight::{
    Action, ActionType, Criteria, Empty, FlightData, FlightDescriptor, FlightInfo,
    HandshakeRequest, HandshakeResponse, PollInfo, PutResult, SchemaAsIpc, SchemaResult, Ticket,
};
use futures::StreamExt as _;
use futures::stream::{self, BoxStream};
use tonic::{Request, Response, Status, Streaming};
use tracing::Instrument as _;

pub(crate) use gateway::Gateway;

use crate::auth::identity_map::Mapped;
use crate::auth::{Caller, Principal};
use crate::error::{GatewayError, Result};
use crate::statement::batches_stream;
use session::SessionTarget;

/// The tonic service.
#[derive(Debug, Clone)]
pub struct FlightSqlService {
    gateway: Gateway,
    /// Whether a client certificate's common name is the principal.
    cert_principal: bool,
}

impl FlightSqlService {
    /// Serves `gateway`; with `cert_principal`, an mTLS client is the
    /// common name of its certificate.
    pub(crate) fn new(gateway: Gateway, cert_principal: bool) -> Self {
        Self {
            gateway,
            cert_principal,
        }
    }

    /// Runs an RPC's body in its span on behalf of `principal`, as the Data
    /// API identity the identity map gave it; a failure becomes its status
    /// (and is logged in the span).
    async fn serve<T>(
        &self,
        call: Call,
        principal: &str,
        body: impl Future<Output = Result<T>>,
    ) -> Result<T, Status> {
        let Call { span, identity } = call;
        let body = crate::statement::on_behalf_of(principal, body.instrument(span.clone()));
        crate::dataapi::identity::as_identity(identity, body)
            .await
            .map_err(|e| {
                span.in_scope(|| tracing::info!(error = %e, "failed"));
                Status::from(e)
            })
    }

    /// The Data API identity `caller`'s statements run as, or
    /// PERMISSION_DENIED when the identity map denies it.
    fn identity_of(&self, caller: &Caller) -> Result<Mapped, Status> {
        let mapped = self.gateway.identities.resolve(caller);
        if mapped == Mapped::Deny {
            return Err(Status::permission_denied(format!(
                "{} may not run statements here (denied by the identity map)",
                caller.principal
            )));
        }
        Ok(mapped)
    }

    /// The principal a verified client certificate names, when they name it.
    fn cert_principal<T>(&self, request: &Request<T>) -> Option<Principal> {
        if !self.cert_principal {
            return None;
        }
        let info = request.extensions().get::<crate::tls::ConnInfo>()?;
        let leaf = info.peer_certs.as_ref()?.first()?;
        crate::tls::common_name(leaf).map(Principal)
    }

    /// The statement lifecycle (for the drain at shutdown).
    pub(crate) fn statements(&self) -> &crate::statement::Statements {
        &self.gateway.statements
    }

    /// The start of every RPC but Handshake: its span, the authenticated
    /// principal (recorded in the span), the identity its statements run as
    /// and where they run.
    async fn begin<T>(
        &self,
        rpc: &'static str,
        request: &Request<T>,
    ) -> Result<(Call, Principal, SessionTarget), Status> {
        let span = rpc_span(rpc);
        let caller = self.authorize(request).await?;
        span.record("principal", caller.principal.0.as_str());
        let identity = match self.identity_of(&caller)? {
            Mapped::As(identity) => Some(identity),
            Mapped::Gateway | Mapped::Deny => None,
        };
        let principal = caller.principal;
        let mut target = crate::dataapi::identity::with_identity(identity.clone(), || {
            self.gateway.session_target(request.metadata(), &principal)
        });
        target.connection = request
            .extensions()
            .get::<crate::tls::ConnInfo>()
            .and_then(|c| c.peer);
        Ok((Call { span, identity }, principal, target))
    }

    async fn authorize<T>(&self, request: &Request<T>) -> Result<Caller, Status> {
        if let Some(principal) = self.cert_principal(request) {
            return Ok(Caller::named(principal));
        }
        self.gateway
            .auth
            .authenticate(request.metadata())
            .await
            .map_err(refused)
    }
}

/// An RPC being served: its span and the Data API identity its statements
/// run as (`None`: the gateway's own).
struct Call {
    span: tracing::Span,
    identity: Option<crate::dataapi::identity::DbIdentity>,
}

/// The status of a refused authentication, counted by its reason.
fn refused(e: crate::auth::AuthError) -> Status {
    let reason = match e {
        crate::auth::AuthError::Missing => "missing",
        crate::auth::AuthError::BadCredentials => "bad_credentials",
        crate::auth::AuthError::BadToken => "bad_token",
        crate::auth::AuthError::BadJwt(_) => "bad_jwt",
        crate::auth::AuthError::Malformed(_) => "malformed",
    };
    metrics::counter!(crate::telemetry::metrics::AUTH_FAILURES, "reason" => reason).increment(1);
    Status::from(GatewayError::from(e))
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

/// Records the command in the current span and returns it.
fn traced(command: Command) -> Command {
    tracing::Span::current().record("command", decode::command_name(&command));
    command
}

fn schema_result(schema: &SchemaRef) -> Result<SchemaResult> {
    let options = arrow::ipc::writer::IpcWriteOptions::default();
    SchemaResult::try_from(SchemaAsIpc::new(schema, &options))
        .map_err(|e| GatewayError::encode("a GetSchema answer", e))
}

fn unimplemented(rpc: &str, command: &Command) -> GatewayError {
    GatewayError::Unimplemented(format!("{rpc}({})", decode::command_name(command)))
}

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
        let caller = match self.cert_principal(&request) {
            Some(principal) => Caller::named(principal),
            None => self
                .gateway
                .auth
                .authenticate(request.metadata())
                .await
                .map_err(refused)?,
        };
        // The gateway's token carries the identity resolved now, so later
        // calls run as it without the credentials' groups and claims.
        let mapped = self.identity_of(&caller)?;
        let principal = caller.principal;
        let token = self.gateway.auth.issue_token(&principal, &mapped);
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
        let (call, principal, _) = self.begin("ListFlights", &request).await?;
        let infos = self
            .serve(call, &principal.0, self.gateway.list_flights(&principal))
            .await?;
        Ok(Response::new(
            stream::iter(infos.into_iter().map(Ok)).boxed(),
        ))
    }

    async fn get_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        let (call, principal, target) = self.begin("GetFlightInfo", &request).await?;
        let descriptor = request.into_inner();
        let gateway = &self.gateway;
        let info = self
            .serve(call, &principal.0, async {
                match traced(decode::command(&descriptor.cmd)?) {
                    Command::CommandStatementQuery(q) => {
                        let execution = gateway.query_execution(q, &principal, &target)?;
                        gateway
                            .statement_flight_info(execution, descriptor, &principal)
                            .await
                    }
                    Command::CommandPreparedStatementQuery(c) => {
                        gateway
                            .prepared_flight_info(c, descriptor, &principal, &target)
                            .await
                    }
                    other if metadata::metadata_schema(&other).is_some() => {
                        gateway
                            .metadata_flight_info(other, descriptor, &principal)
                            .await
                    }
                    other => Err(unimplemented("GetFlightInfo", &other)),
                }
            })
            .await?;
        Ok(Response::new(info))
    }

    async fn poll_flight_info(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<PollInfo>, Status> {
        let (call, principal, target) = self.begin("PollFlightInfo", &request).await?;
        let descriptor = request.into_inner();
        let gateway = &self.gateway;
        let info = self
            .serve(call, &principal.0, async {
                match decode::command(&descriptor.cmd)? {
                    Command::Unknown(any) if any.type_url == poll::POLL_TYPE_URL => {
                        tracing::Span::current().record("command", "retry");
                        gateway.poll_retry(&any.value, &principal).await
                    }
                    command => match traced(command) {
                        Command::CommandStatementQuery(q) => {
                            let execution = gateway.query_execution(q, &principal, &target)?;
                            gateway
                                .poll_new_statement(execution, descriptor, &principal)
                                .await
                        }
                        other => Err(unimplemented("PollFlightInfo", &other)),
                    },
                }
            })
            .await?;
        Ok(Response::new(info))
    }

    async fn get_schema(
        &self,
        request: Request<FlightDescriptor>,
    ) -> Result<Response<SchemaResult>, Status> {
        let (call, principal, target) = self.begin("GetSchema", &request).await?;
        let descriptor = request.into_inner();
        let gateway = &self.gateway;
        let schema = self
            .serve(call, &principal.0, async {
                match traced(decode::command(&descriptor.cmd)?) {
                    Command::CommandStatementQuery(q) => {
                        let execution = gateway.query_execution(q, &principal, &target)?;
                        schema_result(&gateway.statement_schema(execution, &principal).await?)
                    }
                    other => match metadata::metadata_schema(&other) {
                        Some(schema) => schema_result(&schema),
                        None => Err(unimplemented("GetSchema", &other)),
                    },
                }
            })
            .await?;
        Ok(Response::new(schema))
    }

    async fn do_get(
        &self,
        request: Request<Ticket>,
    ) -> Result<Response<Self::DoGetStream>, Status> {
        let (call, principal, _) = self.begin("DoGet", &request).await?;
        let ticket = request.into_inner();
        let gateway = &self.gateway;
        let stream = self
            .serve(call, &principal.0, async {
                match traced(decode::command(&ticket.ticket)?) {
                    Command::TicketStatementQuery(t) => {
                        gateway.do_get_statement(t, &principal).await
                    }
                    other if metadata::metadata_schema(&other).is_some() => {
                        let batch = gateway.metadata(&other, &principal).await?;
                        Ok(batches_stream(batch.schema(), vec![batch]))
                    }
                    other => Err(unimplemented("DoGet", &other)),
                }
            })
            .await?;
        Ok(Response::new(stream))
    }

    async fn do_put(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        let (call, principal, target) = self.begin("DoPut", &request).await?;
        let input = request.into_inner();
        let app_metadata = self
            .serve(
                call,
                &principal.0,
                self.gateway.do_put(input, &principal, &target),
            )
            .await?;
        let result = PutResult {
            app_metadata: app_metadata.into(),
        };
        Ok(Response::new(stream::iter([Ok(result)]).boxed()))
    }

    async fn do_exchange(
        &self,
        request: Request<Streaming<FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        self.authorize(&request).await?;
        Err(GatewayError::Unimplemented("DoExchange".to_owned()).into())
    }

    async fn do_action(
        &self,
        request: Request<Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        let (call, principal, target) = self.begin("DoAction", &request).await?;
        let session = crate::dataapi::identity::with_identity(call.identity.clone(), || {
            self.gateway.session_options(request.metadata(), &principal)
        });
        let action = request.into_inner();
        call.span.record("command", action.r#type.as_str());
        let name = principal.0.clone();
        let caller = actions::ActionCaller {
            principal,
            target,
            session,
        };
        let outcome = self
            .serve(call, &name, self.gateway.do_action(action, caller))
            .await?;
        let results: Vec<Result<arrow_flight::Result, Status>> = outcome
            .bodies
            .into_iter()
            .map(|b| Ok(arrow_flight::Result { body: b.into() }))
            .collect();
        let mut response = Response::new(stream::iter(results).boxed());
        if let Some(cookie) = outcome.cookie {
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
        self.authorize(&request).await?;
        let actions = actions::action_types().into_iter().map(Ok);
        Ok(Response::new(stream::iter(actions).boxed()))
    }
}
