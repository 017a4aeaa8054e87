//! Prepared statements: stateless signed handles (CreatePreparedStatement /
//! ClosePreparedStatement) that carry the SQL, where it runs and its bound
//! rows; the real dataset schema of a query at prepare time (empty for
//! DDL/DML, which is how JDBC tells updates apart); queries run once per
//! bound row, updates through [`Gateway::run_updates`].

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandPreparedStatementQuery,
};
use arrow_flight::{FlightDescriptor, FlightInfo};
use redshift_sqltext::is_query;

use super::gateway::Gateway;
use super::parameters::{Parameters, rows_of};
use super::query::schema_ipc;
use super::session::SessionTarget;
use crate::auth::Principal;
use crate::dataapi::{ExecuteRequest, SqlParameter};
use crate::error::{GatewayError, Result};
use crate::statement::{Execution, check_size};
use crate::ticket::PayloadKind;
use crate::ticket::proto::{ParameterRow, PreparedStatement};
use crate::unload::UnloadReason;

/// Whether a prepare-time schema is the one the query's result will have:
/// not when a numeric column had no precision to report without values
/// (PostgreSQL's unconstrained numeric, which the emulator sizes from the
/// values it returns; Redshift always reports one), so that only the
/// result itself can say its scale.
fn settled(schema: &Schema) -> bool {
    schema.fields().iter().all(|field| {
        let numeric = field
            .metadata()
            .get("ARROW:FLIGHT:SQL:TYPE_NAME")
            .is_some_and(|name| matches!(name.as_str(), "numeric" | "decimal"));
        !(numeric && matches!(field.data_type(), DataType::Utf8))
    })
}

impl Gateway {
    /// The parameter rows of `batches`, at most `--max-bound-rows` of them.
    fn bound_rows_of(&self, batches: &[RecordBatch]) -> Result<Vec<ParameterRow>> {
        let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
        if rows > self.max_bound_rows {
            return Err(GatewayError::InvalidArgument(format!(
                "{rows} parameter rows were bound; one request may bind at most {}",
                self.max_bound_rows
            )));
        }
        rows_of(batches)
    }

    fn open_prepared(&self, handle: &[u8], principal: &Principal) -> Result<PreparedStatement> {
        let prepared: PreparedStatement = self.signer.open(PayloadKind::Prepared, handle)?;
        if prepared.owner != principal.owner() {
            return Err(GatewayError::ForeignTicket);
        }
        Ok(prepared)
    }

    /// The handle's statement with its bound rows: from the handle itself, or
    /// (for clients that ignore DoPutPreparedStatementResult) from this
    /// replica's memory of what was bound to that handle.
    async fn open_bound(&self, handle: &[u8], principal: &Principal) -> Result<PreparedStatement> {
        let mut prepared = self.open_prepared(handle, principal)?;
        if prepared.rows.is_empty()
            && let Some(rows) = self.bound_rows.get(handle).await
        {
            prepared.rows = rows.as_ref().clone();
        }
        Ok(prepared)
    }

    /// CreatePreparedStatement: the handle, the real dataset schema of a query
    /// (empty for DDL/DML, which is how JDBC tells updates apart) and the
    /// parameter schema.
    pub(crate) async fn create_prepared_statement(
        &self,
        request: ActionCreatePreparedStatementRequest,
        target: Execution,
        principal: &Principal,
    ) -> Result<ActionCreatePreparedStatementResult> {
        check_size(&request.query)?;
        self.admit_sql(&request.query)?;
        let parameters = Parameters::parse(&request.query)?;
        let is_query = is_query(&request.query);
        let dataset_schema = if is_query {
            self.query_schema(&request.query, &parameters, &target, principal)
                .await?
        } else {
            Arc::new(Schema::empty())
        };
        let parameter_types = self
            .parameter_types(&request.query, &parameters, &target, principal)
            .await;
        let handle = PreparedStatement {
            sql: request.query,
            owner: principal.owner(),
            session_id: target.session_id.unwrap_or_default(),
            database: target.database.unwrap_or_default(),
            is_query,
            rows: Vec::new(),
            search_path: target.search_path.unwrap_or_default(),
        };
        Ok(ActionCreatePreparedStatementResult {
            prepared_statement_handle: self.signer.seal(PayloadKind::Prepared, &handle),
            dataset_schema: schema_ipc(&dataset_schema)?,
            parameter_schema: schema_ipc(&parameters.schema(&parameter_types))?,
        })
    }

    /// The schema a query returns, without running it for its rows: the query
    /// wrapped as `select * from (…) limit 0`, parameters NULL. Cached.
    async fn query_schema(
        &self,
        sql: &str,
        parameters: &Parameters,
        target: &Execution,
        principal: &Principal,
    ) -> Result<SchemaRef> {
        let key = (
            sql.to_owned(),
            format!(
                "{}/{}",
                target.database.clone().unwrap_or_default(),
                target.search_path.clone().unwrap_or_default()
            ),
            principal.owner(),
        );
        if let Some(schema) = self.schema_cache.get(&key).await {
            return Ok(schema);
        }
        let body = parameters.nulled(sql);
        let body = body.trim().trim_end_matches(';');
        let wrapped = format!("select * from (\n{body}\n) as rsfs_schema limit 0");
        let run = |sql: String| {
            self.statements.run_to_batches(
                ExecuteRequest {
                    sql,
                    database: target.database.clone(),
                    session_id: target.session_id.clone(),
                    result_format: self.statements.result_format(),
                    ..ExecuteRequest::default()
                },
                target.search_path.as_deref(),
            )
        };
        let schema = match run(wrapped).await {
            Ok((schema, _)) => schema,
            // SHOW, EXPLAIN and the like cannot be wrapped: run them as they are.
            Err(GatewayError::StatementFailed { .. }) if parameters.names.is_empty() => {
                run(body.to_owned()).await?.0
            }
            Err(e) => return Err(e),
        };
        self.schema_cache.insert(key, Arc::clone(&schema)).await;
        Ok(schema)
    }

    /// The declared type of each parameter (see `parameter_types`): casts as
    /// written, columns typed by one probe query (cached like dataset
    /// schemas); a probe that fails leaves its parameters text.
    async fn parameter_types(
        &self,
        sql: &str,
        parameters: &Parameters,
        target: &Execution,
        principal: &Principal,
    ) -> Vec<Option<DataType>> {
        let probe = super::parameter_types::probe(sql, parameters);
        let mut types = probe.casts.clone();
        let Some(probe_sql) = probe.sql else {
            return types;
        };
        let key = (
            format!("parameters\0{probe_sql}"),
            format!(
                "{}/{}",
                target.database.clone().unwrap_or_default(),
                target.search_path.clone().unwrap_or_default()
            ),
            principal.owner(),
        );
        let schema = match self.schema_cache.get(&key).await {
            Some(schema) => schema,
            None => {
                let ran = self
                    .statements
                    .run_to_batches(
                        ExecuteRequest {
                            sql: probe_sql.clone(),
                            database: target.database.clone(),
                            session_id: target.session_id.clone(),
                            result_format: self.statements.result_format(),
                            ..ExecuteRequest::default()
                        },
                        target.search_path.as_deref(),
                    )
                    .await;
                match ran {
                    Ok((schema, _)) => {
                        self.schema_cache.insert(key, Arc::clone(&schema)).await;
                        schema
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, probe = %probe_sql, "parameters stay text");
                        return types;
                    }
                }
            }
        };
        for (declared, column) in types.iter_mut().zip(&probe.columns) {
            if declared.is_none()
                && let Some(field) = column.and_then(|c| schema.fields().get(c))
            {
                *declared = Some(super::parameter_types::parameter_type(field.data_type()));
            }
        }
        types
    }

    /// ClosePreparedStatement: nothing is held, the handle is only checked.
    pub(crate) fn close_prepared_statement(
        &self,
        request: &ActionClosePreparedStatementRequest,
        principal: &Principal,
    ) -> Result<()> {
        self.open_prepared(&request.prepared_statement_handle, principal)
            .map(|_| ())
    }

    /// DoPut(CommandPreparedStatementQuery): binds parameter rows; returns the new handle.
    pub(crate) async fn bind_prepared_statement(
        &self,
        handle: &[u8],
        batches: &[RecordBatch],
        principal: &Principal,
    ) -> Result<bytes::Bytes> {
        let mut prepared = self.open_prepared(handle, principal)?;
        let parameters = Parameters::parse(&prepared.sql)?;
        for b in batches {
            if b.num_columns() < parameters.names.len() {
                return Err(GatewayError::InvalidArgument(format!(
                    "the statement has {} parameters but the bound batch has {} columns",
                    parameters.names.len(),
                    b.num_columns()
                )));
            }
        }
        prepared.rows = self.bound_rows_of(batches)?;
        self.bound_rows
            .insert(handle.to_vec(), Arc::new(prepared.rows.clone()))
            .await;
        Ok(self.signer.seal(PayloadKind::Prepared, &prepared))
    }

    /// The executions of a prepared statement, one per bound row, in the
    /// transaction it was prepared in, or, once that has ended, in the one
    /// its client's connection has open now (none: autocommit).
    async fn executions(
        &self,
        prepared: &PreparedStatement,
        parameters: &Parameters,
        rows: &[ParameterRow],
        prefix_rows: bool,
    ) -> Result<Vec<Execution>> {
        let session_id = match prepared.session_id.as_str() {
            "" => None,
            session => self.successors.now(&prepared.owner, session).await,
        };
        let target = |sql: String, parameters: Vec<SqlParameter>| Execution {
            sql,
            parameters,
            database: Some(prepared.database.clone()).filter(|d| !d.is_empty()),
            session_id: session_id.clone(),
            search_path: Some(prepared.search_path.clone()).filter(|s| !s.is_empty()),
            unload: None,
        };
        if rows.is_empty() {
            if !parameters.names.is_empty() {
                return Err(GatewayError::InvalidArgument(format!(
                    "the statement has {} parameters and none were bound",
                    parameters.names.len()
                )));
            }
            return Ok(vec![target(prepared.sql.clone(), Vec::new())]);
        }
        rows.iter()
            .enumerate()
            .map(|(i, row)| {
                let prefix = if prefix_rows {
                    format!("r{i}_")
                } else {
                    String::new()
                };
                let (sql, values) = parameters.bind(&prepared.sql, &row.values, &prefix)?;
                Ok(target(sql, values))
            })
            .collect()
    }

    /// GetFlightInfo(CommandPreparedStatementQuery): the query once per
    /// bound row. One execution of a query outside a transaction, with
    /// `--reuse` off, answers at once with the schema known from prepare
    /// time and runs while its DoGet waits (see
    /// [`Gateway::pending_flight_info`]); otherwise the executions run to
    /// their end first.
    pub(crate) async fn prepared_flight_info(
        &self,
        command: CommandPreparedStatementQuery,
        descriptor: FlightDescriptor,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<FlightInfo> {
        let prepared = self
            .open_bound(&command.prepared_statement_handle, principal)
            .await?;
        let parameters = Parameters::parse(&prepared.sql)?;
        let mut executions = self
            .executions(&prepared, &parameters, &prepared.rows, false)
            .await?;
        for execution in &mut executions {
            execution.unload = target.unload;
        }
        if prepared.is_query && executions.len() == 1 && self.unload_first(&executions[0]) {
            let execution = executions.remove(0);
            return self
                .unload_flight_info(execution, descriptor, principal, UnloadReason::Asked)
                .await;
        }
        // Not inside a transaction: its session runs one statement at a time,
        // and a client that started the next before reading this one would
        // find it busy.
        if prepared.is_query
            && self.reuse.is_none()
            && executions.len() == 1
            && executions[0].session_id.is_none()
        {
            let schema = self
                .query_schema(&prepared.sql, &parameters, &executions[0], principal)
                .await?;
            if settled(&schema) {
                let execution = executions.remove(0);
                return self
                    .pending_flight_info(execution, &schema, descriptor, principal)
                    .await;
            }
        }
        self.executions_flight_info(executions, descriptor, principal)
            .await
    }

    /// DoPut(CommandPreparedStatementUpdate): the affected rows.
    pub(crate) async fn prepared_update(
        &self,
        handle: &[u8],
        batches: &[RecordBatch],
        principal: &Principal,
    ) -> Result<i64> {
        let prepared = self.open_bound(handle, principal).await?;
        let rows = if batches.iter().any(|b| b.num_rows() > 0) {
            self.bound_rows_of(batches)?
        } else {
            prepared.rows.clone()
        };
        let parameters = Parameters::parse(&prepared.sql)?;
        let executions = self
            .executions(&prepared, &parameters, &rows, rows.len() > 1)
            .await?;
        self.run_updates(executions).await
    }
}
