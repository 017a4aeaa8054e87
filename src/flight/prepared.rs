//! Prepared statements: stateless signed handles (CreatePreparedStatement /
//! ClosePreparedStatement) that carry the SQL, where it runs and its bound
//! rows; the real dataset schema of a query at prepare time (empty for
//! DDL/DML, which is how JDBC tells updates apart); queries run once per
//! bound row, updates through [`Gateway::run_updates`].

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandPreparedStatementQuery,
};
use arrow_flight::{FlightDescriptor, FlightInfo, IpcMessage, SchemaAsIpc};
use redshift_sqltext::is_query;

use super::gateway::Gateway;
use super::parameters::{Parameters, rows_of};
use crate::auth::Principal;
use crate::dataapi::{ExecuteRequest, SqlParameter};
use crate::error::{GatewayError, Result};
use crate::statement::{Execution, check_size};
use crate::ticket::PayloadKind;
use crate::ticket::proto::{ParameterRow, PreparedStatement};

fn ipc(schema: &Schema) -> Result<bytes::Bytes> {
    let options = arrow::ipc::writer::IpcWriteOptions::default();
    IpcMessage::try_from(SchemaAsIpc::new(schema, &options))
        .map(|m| m.0)
        .map_err(|e| GatewayError::encode("a prepared statement schema", e))
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
            dataset_schema: ipc(&dataset_schema)?,
            parameter_schema: ipc(&parameters.schema())?,
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

    fn executions(
        &self,
        prepared: &PreparedStatement,
        rows: &[ParameterRow],
        prefix_rows: bool,
    ) -> Result<Vec<Execution>> {
        let parameters = Parameters::parse(&prepared.sql)?;
        let target = |sql: String, parameters: Vec<SqlParameter>| Execution {
            sql,
            parameters,
            database: Some(prepared.database.clone()).filter(|d| !d.is_empty()),
            session_id: Some(prepared.session_id.clone()).filter(|s| !s.is_empty()),
            search_path: Some(prepared.search_path.clone()).filter(|s| !s.is_empty()),
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

    /// GetFlightInfo(CommandPreparedStatementQuery): runs the query once per
    /// bound row.
    pub(crate) async fn prepared_flight_info(
        &self,
        command: CommandPreparedStatementQuery,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<FlightInfo> {
        let prepared = self
            .open_bound(&command.prepared_statement_handle, principal)
            .await?;
        let executions = self.executions(&prepared, &prepared.rows, false)?;
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
        let executions = self.executions(&prepared, &rows, rows.len() > 1)?;
        self.run_updates(executions).await
    }
}
