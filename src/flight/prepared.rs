//! Prepared statements, parameters and updates: stateless signed handles
//! (CreatePreparedStatement / ClosePreparedStatement), `?`, `$n` and `:name`
//! placeholders bound by DoPut, queries run once per bound row, updates
//! (one row: ExecuteStatement; several: one BatchExecuteStatement transaction)
//! returning the affected rows.
//!
//! Values travel as Data API parameters. The Data API cannot carry NULL or an
//! empty string, so those two become the constant literals `NULL` and `''`;
//! no value a client sends is ever spliced into SQL.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_flight::sql::{
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionCreatePreparedStatementResult, CommandPreparedStatementQuery,
};
use arrow_flight::{FlightDescriptor, FlightInfo, IpcMessage, SchemaAsIpc};

use super::Gateway;
use super::statement::{Execution, ensure_finished};
use crate::auth::Principal;
use crate::dataapi::{BatchExecuteRequest, ExecuteRequest, SqlParameter, wait_for_statement};
use crate::error::{GatewayError, Result};
use redshift_sqltext::{PlaceholderKind, is_query, placeholders};
use crate::ticket::PayloadKind;
use crate::ticket::proto::{ParameterRow, ParameterValue, PreparedStatement, parameter_value};

/// Most statements in one BatchExecuteStatement, less one for a `set search_path`.
const MAX_BATCH: usize = 39;

/// The parameters of a SQL text: how many, and their names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parameters {
    /// Parameter names in binding order (`1`, `2`, … for `?` and `$n`).
    pub(crate) names: Vec<String>,
    /// Each placeholder: its byte range and the parameter it takes.
    slots: Vec<(std::ops::Range<usize>, usize)>,
}

impl Parameters {
    /// Reads the placeholders of `sql`; one style per statement.
    pub(crate) fn parse(sql: &str) -> Result<Self> {
        let found = placeholders(sql);
        let mut names: Vec<String> = Vec::new();
        let mut slots = Vec::with_capacity(found.len());
        let mut questions = 0usize;
        let mut style: Option<&'static str> = None;
        for p in found {
            let (this, index) = match p.kind {
                PlaceholderKind::Question => {
                    questions += 1;
                    ("?", questions - 1)
                }
                PlaceholderKind::Positional(0) => {
                    return Err(GatewayError::InvalidArgument(
                        "$0 is not a parameter: they start at $1".to_owned(),
                    ));
                }
                PlaceholderKind::Positional(n) => ("$n", n - 1),
                PlaceholderKind::Named(name) => {
                    let index = match names.iter().position(|n| *n == name) {
                        Some(i) => i,
                        None => {
                            names.push(name);
                            names.len() - 1
                        }
                    };
                    (":name", index)
                }
            };
            if style.is_some_and(|s| s != this) {
                return Err(GatewayError::InvalidArgument(
                    "use one placeholder style per statement: ?, $1 or :name".to_owned(),
                ));
            }
            style = Some(this);
            slots.push((p.range, index));
        }
        if style != Some(":name") {
            let count = slots.iter().map(|(_, i)| i + 1).max().unwrap_or(0);
            names = (1..=count).map(|i| i.to_string()).collect();
        }
        Ok(Self { names, slots })
    }

    /// The parameter schema clients bind against (values travel as text).
    pub(crate) fn schema(&self) -> Schema {
        Schema::new(
            self.names
                .iter()
                .map(|n| Field::new(n, DataType::Utf8, true))
                .collect::<Vec<_>>(),
        )
    }

    /// The SQL with each placeholder replaced: `:{prefix}p{n}` for a value,
    /// `NULL` or `''` for what the Data API cannot carry.
    pub(crate) fn bind(
        &self,
        sql: &str,
        row: &[ParameterValue],
        prefix: &str,
    ) -> Result<(String, Vec<SqlParameter>)> {
        if row.len() < self.names.len() {
            return Err(GatewayError::InvalidArgument(format!(
                "the statement has {} parameters but {} values were bound",
                self.names.len(),
                row.len()
            )));
        }
        let mut out = String::with_capacity(sql.len() + 16);
        let mut parameters: Vec<SqlParameter> = Vec::new();
        let mut copied = 0;
        for (range, index) in &self.slots {
            out.push_str(&sql[copied..range.start]);
            match &row[*index].value {
                None | Some(parameter_value::Value::Null(_)) => out.push_str("NULL"),
                Some(parameter_value::Value::Text(t)) if t.is_empty() => out.push_str("''"),
                Some(parameter_value::Value::Text(t)) => {
                    let name = format!("{prefix}p{}", index + 1);
                    out.push(':');
                    out.push_str(&name);
                    if !parameters.iter().any(|p| p.name == name) {
                        parameters.push(SqlParameter {
                            name,
                            value: t.clone(),
                        });
                    }
                }
            }
            copied = range.end;
        }
        out.push_str(&sql[copied..]);
        Ok((out, parameters))
    }

    /// The SQL with every placeholder replaced by NULL (for schema discovery).
    fn nulled(&self, sql: &str) -> String {
        let row = vec![ParameterValue::default(); self.names.len()];
        self.bind(sql, &row, "")
            .map(|(s, _)| s)
            .unwrap_or_else(|_| sql.to_owned())
    }
}

/// One bound value as text, `None` for NULL. Unions (what flightsql-dbapi
/// binds) give the value of their selected child.
fn parameter_text(column: &dyn arrow::array::Array, row: usize) -> Result<Option<String>> {
    // A NullArray (what ADBC binds for None) has no validity buffer.
    if column.is_null(row) || column.data_type() == &DataType::Null {
        return Ok(None);
    }
    if let Some(union) = column.as_any().downcast_ref::<arrow::array::UnionArray>() {
        let value = union.value(row);
        return parameter_text(value.as_ref(), 0);
    }
    let formatter = ArrayFormatter::try_new(column, &FormatOptions::default())
        .map_err(|e| GatewayError::InvalidArgument(format!("cannot read a parameter: {e}")))?;
    let text = formatter.value(row).to_string();
    Ok(Some(match column.data_type() {
        // bytea/varbyte input form.
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => {
            format!("\\x{text}")
        }
        _ => text,
    }))
}

/// Bound rows from the RecordBatches a client sent: every value as text.
pub(crate) fn rows_of(batches: &[RecordBatch]) -> Result<Vec<ParameterRow>> {
    let mut rows = Vec::new();
    for batch in batches {
        for r in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .map(|column| {
                    let value = match parameter_text(column.as_ref(), r)? {
                        None => parameter_value::Value::Null(true),
                        Some(text) => parameter_value::Value::Text(text),
                    };
                    Ok(ParameterValue { value: Some(value) })
                })
                .collect::<Result<Vec<_>>>()?;
            rows.push(ParameterRow { values });
        }
    }
    Ok(rows)
}

fn ipc(schema: &Schema) -> Result<bytes::Bytes> {
    let options = arrow::ipc::writer::IpcWriteOptions::default();
    IpcMessage::try_from(SchemaAsIpc::new(schema, &options))
        .map(|m| m.0)
        .map_err(|e| GatewayError::Internal(e.to_string()))
}

impl Gateway {
    fn open_prepared(&self, handle: &[u8], principal: &Principal) -> Result<PreparedStatement> {
        let prepared: PreparedStatement = self.signer.open(PayloadKind::Prepared, handle)?;
        if prepared.principal != principal.0 {
            return Err(GatewayError::ForeignTicket);
        }
        Ok(prepared)
    }

    /// The handle's statement with its bound rows: from the handle itself, or
    /// (for clients that ignore DoPutPreparedStatementResult) from this
    /// replica's memory of what was bound to that handle.
    async fn open_bound(&self, handle: &[u8], principal: &Principal) -> Result<PreparedStatement> {
        let mut prepared = self.open_prepared(handle, principal)?;
        if prepared.rows.is_empty() {
            if let Some(rows) = self.bound_rows.get(handle).await {
                prepared.rows = rows.as_ref().clone();
            }
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
            principal: principal.0.clone(),
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
            principal.0.clone(),
        );
        if let Some(schema) = self.schema_cache.get(&key).await {
            return Ok(schema);
        }
        let body = parameters.nulled(sql);
        let body = body.trim().trim_end_matches(';');
        let wrapped = format!("select * from (\n{body}\n) as rsfs_schema limit 0");
        let run = |sql: String| {
            self.run_to_batches(
                ExecuteRequest {
                    sql,
                    database: target.database.clone(),
                    session_id: target.session_id.clone(),
                    result_format: self.settings.result_format,
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
        prepared.rows = rows_of(batches)?;
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
            rows_of(batches)?
        } else {
            prepared.rows.clone()
        };
        let executions = self.executions(&prepared, &rows, rows.len() > 1)?;
        self.run_updates(executions).await
    }

    /// Runs updates: one alone, several in one transaction (one batch of at
    /// most 40, or a Data API session for more, or the caller's transaction).
    pub(crate) async fn run_updates(&self, executions: Vec<Execution>) -> Result<i64> {
        let [single] = executions.as_slice() else {
            return self.run_update_batch(executions).await;
        };
        let id = self
            .start(
                ExecuteRequest {
                    sql: single.sql.clone(),
                    parameters: single.parameters.clone(),
                    database: single.database.clone(),
                    session_id: single.session_id.clone(),
                    ..ExecuteRequest::default()
                },
                single.search_path.as_deref(),
            )
            .await?;
        let description = wait_for_statement(&*self.api, &id, self.settings.wait).await?;
        ensure_finished(&id, &description)?;
        Ok(description.result_rows.max(0))
    }

    async fn run_update_batch(&self, executions: Vec<Execution>) -> Result<i64> {
        let Some(first) = executions.first() else {
            return Ok(0);
        };
        let database = first.database.clone();
        let in_transaction = first.session_id.clone();
        if in_transaction.is_none() && executions.len() <= MAX_BATCH {
            return self.batch(&executions, database, None, true).await;
        }
        // More than one batch: hold them in one transaction of a session.
        let (session, own) = match in_transaction {
            Some(s) => (s, false),
            None => (self.open_session(database.clone(), "begin").await?, true),
        };
        let mut total = 0;
        for chunk in executions.chunks(MAX_BATCH) {
            match self.batch(chunk, None, Some(session.clone()), false).await {
                Ok(n) => total += n,
                Err(e) => {
                    if own {
                        let _ = self.end_session(&session, "rollback").await;
                    }
                    return Err(e);
                }
            }
        }
        if own {
            self.end_session(&session, "commit").await?;
        }
        Ok(total)
    }

    async fn batch(
        &self,
        executions: &[Execution],
        database: Option<String>,
        session_id: Option<String>,
        transaction: bool,
    ) -> Result<i64> {
        let mut sqls: Vec<String> = executions.iter().map(|e| e.sql.clone()).collect();
        let search_path = executions.first().and_then(|e| e.search_path.clone());
        if let Some(schema) = &search_path {
            sqls.insert(
                0,
                format!(
                    "set search_path to {}",
                    redshift_sqltext::quote_identifier(schema)
                ),
            );
        }
        let id = self
            .api
            .batch_execute_statement(BatchExecuteRequest {
                sqls,
                parameters: executions
                    .iter()
                    .flat_map(|e| e.parameters.clone())
                    .collect(),
                database: if session_id.is_some() { None } else { database },
                session_id,
                transaction,
                statement_name: None,
                result_format: crate::dataapi::ResultFormat::Json,
            })
            .await?;
        let description = wait_for_statement(&*self.api, &id, self.settings.wait).await?;
        ensure_finished(&id, &description)?;
        let skip = usize::from(search_path.is_some());
        Ok(if description.sub_statement_rows.is_empty() {
            description.result_rows.max(0)
        } else {
            description
                .sub_statement_rows
                .iter()
                .skip(skip)
                .map(|n| n.max(&0))
                .sum()
        })
    }

    /// Opens a Data API session by running `sql` (BEGIN) in it.
    pub(crate) async fn open_session(&self, database: Option<String>, sql: &str) -> Result<String> {
        let id = self
            .api
            .execute_statement(ExecuteRequest {
                sql: sql.to_owned(),
                database,
                session_keep_alive_seconds: Some(SESSION_KEEP_ALIVE_SECONDS),
                ..ExecuteRequest::default()
            })
            .await?;
        let description = wait_for_statement(&*self.api, &id, self.settings.wait).await?;
        ensure_finished(&id, &description)?;
        description
            .session_id
            .ok_or_else(|| GatewayError::Internal("the Data API opened no session".to_owned()))
    }

    /// Runs COMMIT or ROLLBACK in a session and lets the session close.
    pub(crate) async fn end_session(&self, session_id: &str, sql: &str) -> Result<()> {
        let id = self
            .api
            .execute_statement(ExecuteRequest {
                sql: sql.to_owned(),
                session_id: Some(session_id.to_owned()),
                session_keep_alive_seconds: Some(0),
                ..ExecuteRequest::default()
            })
            .await?;
        let description = wait_for_statement(&*self.api, &id, self.settings.wait).await?;
        ensure_finished(&id, &description)
    }
}

/// How long an idle transaction's Data API session is kept (a client that
/// disconnects without ending its transaction holds its locks this long).
pub(crate) const SESSION_KEEP_ALIVE_SECONDS: i32 = 900;

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> ParameterValue {
        ParameterValue {
            value: Some(parameter_value::Value::Text(s.to_owned())),
        }
    }

    fn null() -> ParameterValue {
        ParameterValue {
            value: Some(parameter_value::Value::Null(true)),
        }
    }

    #[test]
    fn binds_values_as_parameters_and_null_and_empty_as_constants() {
        let p = Parameters::parse("select * from t where a = ? and b = ? and c = ? and d = '?'")
            .expect("parse");
        assert_eq!(p.names, ["1", "2", "3"]);
        let (sql, params) = p
            .bind(
                "select * from t where a = ? and b = ? and c = ? and d = '?'",
                &[text("x'; drop table t; --"), null(), text("")],
                "",
            )
            .expect("bind");
        assert_eq!(
            sql,
            "select * from t where a = :p1 and b = NULL and c = '' and d = '?'"
        );
        assert_eq!(
            params,
            [SqlParameter {
                name: "p1".into(),
                value: "x'; drop table t; --".into()
            }]
        );
    }

    #[test]
    fn dollar_and_named_styles() {
        let p = Parameters::parse("select $2, $1, $2").expect("parse");
        assert_eq!(p.names, ["1", "2"]);
        let (sql, params) = p
            .bind("select $2, $1, $2", &[text("a"), text("b")], "r0_")
            .expect("bind");
        assert_eq!(sql, "select :r0_p2, :r0_p1, :r0_p2");
        assert_eq!(params.len(), 2);
        let p = Parameters::parse("select :b, :a, :b").expect("parse");
        assert_eq!(p.names, ["b", "a"]);
        assert!(Parameters::parse("select ?, :a").is_err());
        assert!(p.bind("select :b, :a, :b", &[text("1")], "").is_err());
    }

    #[test]
    fn null_arrays_and_unions_bind_as_values() {
        use arrow::array::{ArrayRef, Int64Array, NullArray, UnionArray};
        use arrow::buffer::ScalarBuffer;
        use arrow::datatypes::UnionFields;
        let fields = UnionFields::try_new(vec![0], vec![Field::new("i", DataType::Int64, true)])
            .expect("fields");
        let union = UnionArray::try_new(
            fields,
            ScalarBuffer::from(vec![0i8]),
            Some(ScalarBuffer::from(vec![0i32])),
            vec![Arc::new(Int64Array::from(vec![5])) as ArrayRef],
        )
        .expect("union");
        let batch = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(NullArray::new(1)) as ArrayRef),
            ("b", Arc::new(union) as ArrayRef),
        ])
        .expect("batch");
        let rows = rows_of(&[batch]).expect("rows");
        assert_eq!(rows[0].values[0], null());
        assert_eq!(rows[0].values[1], text("5"));
    }
}
