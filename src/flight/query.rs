//! The query commands: GetFlightInfo(CommandStatementQuery) runs a query to
//! its end and answers its real schema and a signed ticket (the first page
//! is converted and cached on the way); GetSchema; DoGet(TicketStatementQuery)
//! streams the result the ticket names.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arrow::datatypes::{Schema, SchemaRef};
use arrow_flight::sql::{ProstMessageExt as _, TicketStatementQuery};
use arrow_flight::{FlightDescriptor, FlightEndpoint, FlightInfo, IpcMessage, SchemaAsIpc, Ticket};
use futures::StreamExt as _;
use prost::Message as _;

use super::gateway::Gateway;
use crate::auth::Principal;
use crate::dataapi::StatementDescription;
use crate::error::{GatewayError, Result};
use crate::statement::{
    Execution, Finished, FlightDataStream, ReuseKey, cache_key, ensure_finished, handle_format,
};
use crate::ticket::{PayloadKind, StatementHandle};
use crate::unload::UnloadReason;

/// How long the Data API keeps a statement's result.
pub(crate) const RESULT_RETENTION: Duration = Duration::from_secs(24 * 3600);

/// A schema as the IPC message that FlightInfo, prepared statements and
/// tickets carry.
pub(crate) fn schema_ipc(schema: &Schema) -> Result<bytes::Bytes> {
    let options = arrow::ipc::writer::IpcWriteOptions::default();
    IpcMessage::try_from(SchemaAsIpc::new(schema, &options))
        .map(|m| m.0)
        .map_err(|e| GatewayError::encode("a schema", e))
}

/// Time since the Unix epoch.
pub(crate) fn unix_now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// A protobuf timestamp of whole Unix seconds.
pub(crate) fn timestamp(unix_seconds: i64) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: unix_seconds,
        nanos: 0,
    }
}

/// The StatementName that marks a principal's statements, for ListFlights.
pub(crate) fn statement_name(principal: &Principal) -> String {
    format!("rsfs:{}:", principal.owner())
}

/// The endpoint of a handle's result: its signed ticket, no location (the
/// client reuses its connection, and its TLS), expiring with the result.
pub(crate) fn endpoint(gateway: &Gateway, handle: &StatementHandle) -> FlightEndpoint {
    let ticket = TicketStatementQuery {
        statement_handle: gateway.signer.seal(PayloadKind::Ticket, handle),
    }
    .as_any()
    .encode_to_vec();
    FlightEndpoint::new()
        .with_ticket(Ticket::new(ticket))
        .with_expiration_time(timestamp(handle.expires_at))
}

impl Gateway {
    /// ExecuteStatement for a query and the handle that names it from now on.
    pub(crate) async fn submit_query(
        &self,
        execution: Execution,
        principal: &Principal,
    ) -> Result<StatementHandle> {
        let submitted = unix_now();
        let format = self.statements.result_format();
        let database = execution
            .database
            .clone()
            .unwrap_or_else(|| self.default_database().to_owned());
        let mut request = execution.request(format);
        request.statement_name = Some(statement_name(principal));
        let id = self
            .statements
            .submit(request, execution.search_path.as_deref())
            .await?;
        tracing::Span::current().record("statement_id", id.as_str());
        Ok(StatementHandle {
            statement_id: id,
            owner: principal.owner(),
            result_format: handle_format(format),
            expires_at: i64::try_from((submitted + RESULT_RETENTION).as_secs()).unwrap_or(i64::MAX),
            submitted_at_millis: i64::try_from(submitted.as_millis()).unwrap_or(0),
            has_result_set: true,
            database,
            announced_schema: Vec::new(),
            ..StatementHandle::default()
        })
    }

    /// Runs a query to its successful end (cancelled if the caller goes away).
    async fn run_query(&self, execution: Execution, principal: &Principal) -> Result<Finished> {
        let handle = self.submit_query(execution, principal).await?;
        let description = self.statements.wait_finished(&handle.statement_id).await?;
        Ok(Finished {
            handle,
            description,
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
        if self.unload_first(&execution) {
            return self
                .unload_flight_info(execution, descriptor, principal, UnloadReason::Asked)
                .await;
        }
        let unload_after = self.unload.is_some().then(|| execution.clone());
        let paged = async {
            let finished = self.page_query(execution, principal).await?;
            self.finished_flight_info(finished.handle, &finished.description, descriptor.clone())
                .await
        };
        match (paged.await, unload_after) {
            (Err(e), Some(execution)) if self.unload_after(&execution, &e) => {
                tracing::info!(error = %e, "the Data API refused the result as too large");
                self.unload_flight_info(execution, descriptor, principal, UnloadReason::TooLarge)
                    .await
            }
            (answer, _) => answer,
        }
    }

    /// Runs a query for the page path: once, or shared with an identical
    /// one when reuse is on.
    async fn page_query(&self, execution: Execution, principal: &Principal) -> Result<Finished> {
        Ok(match (&self.reuse, &execution.session_id) {
            // Statements of a transaction see its uncommitted state: never shared.
            (Some(reuse), None) => {
                let key = ReuseKey {
                    owner: principal.owner(),
                    database: execution.database.clone().unwrap_or_default(),
                    search_path: execution.search_path.clone().unwrap_or_default(),
                    sql: execution.sql.clone(),
                    parameters: execution.parameters.clone(),
                };
                reuse
                    .try_get_with(key, self.run_query(execution, principal))
                    .await
                    .map_err(|e| (*e).clone())?
            }
            _ => self.run_query(execution, principal).await?,
        })
    }

    /// GetFlightInfo of a query whose schema is known before it runs (a
    /// prepared query's, from prepare time): the query is submitted and
    /// answered at once with `schema` and a ticket. Its DoGet waits for the
    /// statement, cancelling it if the client goes away, and streams exactly
    /// `schema`. A client (JDBC) can so cancel or time out a long query,
    /// which it cannot do while GetFlightInfo blocks.
    pub(crate) async fn pending_flight_info(
        &self,
        execution: Execution,
        schema: &Schema,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<FlightInfo> {
        let mut handle = self.submit_query(execution.clone(), principal).await?;
        handle.announced_schema = schema_ipc(schema)?.to_vec();
        self.keep_for_unload(&execution, &mut handle);
        FlightInfo::new()
            .with_descriptor(descriptor)
            .with_endpoint(endpoint(self, &handle))
            .with_ordered(true)
            .try_with_schema(schema)
            .map(|info| info.with_total_records(-1).with_total_bytes(-1))
            .map_err(|e| GatewayError::encode("a FlightInfo schema", e))
    }

    /// GetFlightInfo for several executions of one statement (a prepared query
    /// with several bound rows): one endpoint each, in order.
    pub(crate) async fn executions_flight_info(
        &self,
        executions: Vec<Execution>,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<FlightInfo> {
        // Each bound row is its own statement: run several at once, in order.
        let mut infos = futures::stream::iter(executions)
            .map(|execution| self.statement_flight_info(execution, descriptor.clone(), principal))
            .buffered(self.statements_per_request);
        let mut merged: Option<FlightInfo> = None;
        while let Some(info) = infos.next().await {
            let info = info?;
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
            .map_err(|e| GatewayError::encode("decoding our own FlightInfo schema", e))
    }

    /// The FlightInfo of an ended statement (an error if it failed or was cancelled).
    pub(crate) async fn finished_flight_info(
        &self,
        mut handle: StatementHandle,
        description: &StatementDescription,
        descriptor: FlightDescriptor,
    ) -> Result<FlightInfo> {
        ensure_finished(&handle.statement_id, description)?;
        handle.has_result_set = description.has_result_set;
        let info = FlightInfo::new()
            .with_descriptor(descriptor)
            .with_endpoint(endpoint(self, &handle))
            .with_ordered(true);
        if !description.has_result_set {
            return info
                .try_with_schema(&Schema::empty())
                .map(|i| {
                    i.with_total_records(description.result_rows.max(0))
                        .with_total_bytes(0)
                })
                .map_err(|e| GatewayError::encode("an empty FlightInfo schema", e));
        }
        let cached = self.statements.first_page(&handle).await?;
        let total_bytes = if cached.next_token.is_none() {
            i64::try_from(cached.bytes()).unwrap_or(-1)
        } else {
            -1
        };
        let info = info
            .try_with_schema(&cached.schema())
            .map_err(|e| GatewayError::encode("a FlightInfo schema", e))?
            .with_total_records(cached.total_rows.unwrap_or(-1))
            .with_total_bytes(total_bytes);
        self.statements
            .cache()
            .insert(cache_key(&handle), cached)
            .await;
        Ok(info)
    }

    /// DoGet(TicketStatementQuery): streams a finished statement's result.
    pub(crate) async fn do_get_statement(
        &self,
        ticket: TicketStatementQuery,
        principal: &Principal,
    ) -> Result<FlightDataStream> {
        let mut handle = self
            .signer
            .open::<StatementHandle>(PayloadKind::Ticket, &ticket.statement_handle)?;
        if handle.owner != principal.owner() {
            return Err(GatewayError::ForeignTicket);
        }
        tracing::Span::current().record("statement_id", handle.statement_id.as_str());
        if !handle.unload_object.is_empty() {
            return self.do_get_unloaded(handle).await;
        }
        if handle.announced_schema.is_empty() {
            return self.statements.stream_result(handle, None).await;
        }
        // Answered before it ended: wait here (cancelled if the client goes away).
        let announced = arrow::ipc::convert::try_schema_from_ipc_buffer(&handle.announced_schema)
            .map_err(|e| GatewayError::encode("decoding our own ticket's schema", e))?;
        let announced = Arc::new(announced);
        let description = match self.statements.wait_finished(&handle.statement_id).await {
            Ok(description) => description,
            Err(refused) => {
                return self
                    .do_get_after_refusal(handle, announced, principal, refused)
                    .await;
            }
        };
        handle.has_result_set = description.has_result_set;
        self.statements.stream_result(handle, Some(announced)).await
    }
}
