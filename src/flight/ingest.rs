//! Bulk ingest (DoPut CommandStatementIngest): create, append, replace or fail
//! as TableDefinitionOptions say, temporary tables, target schema and catalog;
//! Arrow types become Redshift column types; rows go in as multi-row INSERTs
//! within the Data API's 100 KB statement limit, all in one transaction.
//!
//! Values are written as SQL literals with exact quoting: identifiers in
//! double quotes with `"` doubled, strings in single quotes with `'` doubled
//! and backslashes written as `chr(92)` (Redshift reads `\` in a literal as
//! an escape, PostgreSQL does not: this form means the same on both). A later
//! COPY-from-S3 path can take the same [`IngestPlan`].

use arrow::array::{Array as _, RecordBatch};
use arrow::datatypes::{DataType, Schema};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use arrow_flight::sql::CommandStatementIngest;

use super::gateway::Gateway;
use super::session::SessionTarget;
use crate::auth::Principal;
use crate::error::{GatewayError, Result};
use crate::statement::Execution;
use redshift_sqltext::{quote_identifier, quote_literal};

/// Largest SQL text one INSERT may have (the Data API's limit is 100 KB).
const MAX_STATEMENT_BYTES: usize = 96 * 1024;

/// `TableNotExistOption` / `TableExistsOption` values.
const NOT_EXIST_CREATE: i32 = 1;
const NOT_EXIST_FAIL: i32 = 2;
const EXISTS_FAIL: i32 = 1;
const EXISTS_APPEND: i32 = 2;
const EXISTS_REPLACE: i32 = 3;

fn column_type(data_type: &DataType) -> Result<String> {
    Ok(match data_type {
        DataType::Int8 | DataType::Int16 | DataType::UInt8 => "smallint".to_owned(),
        DataType::Int32 | DataType::UInt16 => "integer".to_owned(),
        DataType::Int64 | DataType::UInt32 => "bigint".to_owned(),
        DataType::UInt64 => "numeric(20,0)".to_owned(),
        DataType::Float16 | DataType::Float32 => "real".to_owned(),
        DataType::Float64 => "double precision".to_owned(),
        DataType::Decimal128(p, s) if *p <= 38 => format!("numeric({p},{s})"),
        DataType::Boolean => "boolean".to_owned(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => "varchar(65535)".to_owned(),
        DataType::Date32 | DataType::Date64 => "date".to_owned(),
        DataType::Timestamp(_, None) => "timestamp".to_owned(),
        DataType::Timestamp(_, Some(_)) => "timestamptz".to_owned(),
        DataType::Time32(_) | DataType::Time64(_) => "time".to_owned(),
        other => {
            return Err(GatewayError::InvalidArgument(format!(
                "cannot ingest a column of Arrow type {other}: no Redshift column type for it"
            )));
        }
    })
}

/// One value as a SQL literal.
fn literal(data_type: &DataType, text: &str) -> String {
    match data_type {
        // Quoted and cast: a bare -0 would be the integer 0, and NaN/inf are words.
        DataType::Float16 | DataType::Float32 | DataType::Float64 => {
            let v = match text {
                "inf" => "Infinity",
                "-inf" => "-Infinity",
                other => other,
            };
            format!("'{v}'::float8")
        }
        DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Decimal128(..) => text.to_owned(),
        DataType::Boolean => if text == "true" { "TRUE" } else { "FALSE" }.to_owned(),
        DataType::Date32 | DataType::Date64 => format!("{}::date", quote_literal(text)),
        DataType::Timestamp(_, None) => format!("{}::timestamp", quote_literal(text)),
        DataType::Timestamp(_, Some(_)) => format!("{}::timestamptz", quote_literal(text)),
        DataType::Time32(_) | DataType::Time64(_) => format!("{}::time", quote_literal(text)),
        _ => quote_literal(text),
    }
}

/// The statements of one ingest, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IngestPlan {
    /// DDL run first (CREATE, DROP).
    pub(crate) ddl: Vec<String>,
    /// Multi-row INSERTs.
    pub(crate) inserts: Vec<String>,
    /// Rows the inserts write.
    pub(crate) rows: i64,
}

/// Plans the statements that ingest `batches` into the table of `command`.
pub(crate) fn plan(
    command: &CommandStatementIngest,
    schema: &Schema,
    batches: &[RecordBatch],
) -> Result<IngestPlan> {
    if command.table.is_empty() {
        return Err(GatewayError::InvalidArgument(
            "ingest needs a table name".to_owned(),
        ));
    }
    let table = match command
        .schema
        .as_deref()
        .filter(|s| !s.is_empty() && !command.temporary)
    {
        Some(schema) => format!(
            "{}.{}",
            quote_identifier(schema),
            quote_identifier(&command.table)
        ),
        None => quote_identifier(&command.table),
    };
    let options = command.table_definition_options.unwrap_or_default();
    let columns: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| {
            Ok(format!(
                "{} {}{}",
                quote_identifier(f.name()),
                column_type(f.data_type())?,
                if f.is_nullable() { "" } else { " not null" }
            ))
        })
        .collect::<Result<_>>()?;
    if columns.is_empty() {
        return Err(GatewayError::InvalidArgument(
            "ingest needs at least one column".to_owned(),
        ));
    }
    let temporary = if command.temporary { "temporary " } else { "" };
    let create = |if_not_exists: bool| {
        format!(
            "create {temporary}table {}{table} ({})",
            if if_not_exists { "if not exists " } else { "" },
            columns.join(", ")
        )
    };
    let ddl = match (options.if_not_exist, options.if_exists) {
        (NOT_EXIST_CREATE | 0, EXISTS_FAIL | 0) => vec![create(false)],
        (NOT_EXIST_CREATE | 0, EXISTS_APPEND) => vec![create(true)],
        (NOT_EXIST_CREATE | 0, EXISTS_REPLACE) => {
            vec![format!("drop table if exists {table}"), create(false)]
        }
        (NOT_EXIST_FAIL, EXISTS_APPEND) => Vec::new(),
        (NOT_EXIST_FAIL, EXISTS_REPLACE) => vec![format!("drop table {table}"), create(false)],
        (a, b) => {
            return Err(GatewayError::InvalidArgument(format!(
                "unsupported TableDefinitionOptions (if_not_exist {a}, if_exists {b})"
            )));
        }
    };
    let names: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| quote_identifier(f.name()))
        .collect();
    let head = format!("insert into {table} ({}) values ", names.join(", "));
    let format = FormatOptions::default();
    let mut inserts = Vec::new();
    let mut current = String::new();
    let mut rows = 0i64;
    for batch in batches {
        if batch.num_columns() != schema.fields().len() {
            return Err(GatewayError::InvalidArgument(
                "a batch does not match the ingest schema".to_owned(),
            ));
        }
        let formatters: Vec<ArrayFormatter<'_>> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &format))
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| GatewayError::InvalidArgument(e.to_string()))?;
        for r in 0..batch.num_rows() {
            let mut tuple = String::from("(");
            for (c, column) in batch.columns().iter().enumerate() {
                if c > 0 {
                    tuple.push_str(", ");
                }
                if column.is_null(r) {
                    tuple.push_str("NULL");
                } else {
                    tuple.push_str(&literal(
                        column.data_type(),
                        &formatters[c].value(r).to_string(),
                    ));
                }
            }
            tuple.push(')');
            if head.len() + tuple.len() > MAX_STATEMENT_BYTES {
                return Err(GatewayError::InvalidArgument(format!(
                    "row {rows} is larger than the Data API's 100 KB statement limit"
                )));
            }
            if !current.is_empty() && current.len() + tuple.len() + 2 > MAX_STATEMENT_BYTES {
                inserts.push(std::mem::take(&mut current));
            }
            if current.is_empty() {
                current.push_str(&head);
            } else {
                current.push_str(", ");
            }
            current.push_str(&tuple);
            rows += 1;
        }
    }
    if !current.is_empty() {
        inserts.push(current);
    }
    Ok(IngestPlan { ddl, inserts, rows })
}

impl Gateway {
    /// DoPut(CommandStatementIngest): the rows written.
    pub(crate) async fn ingest(
        &self,
        command: CommandStatementIngest,
        schema: &Schema,
        batches: &[RecordBatch],
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<i64> {
        let plan = plan(&command, schema, batches)?;
        let target = SessionTarget {
            catalog: command
                .catalog
                .clone()
                .filter(|c| !c.is_empty())
                .or_else(|| target.catalog.clone()),
            schema: target.schema.clone(),
            connection: target.connection,
            unload: None,
        };
        let base = self.execution(
            String::new(),
            command.transaction_id.as_deref(),
            principal,
            &target,
        )?;
        let executions: Vec<Execution> = plan
            .ddl
            .into_iter()
            .chain(plan.inserts)
            .map(|sql| Execution {
                sql,
                ..base.clone()
            })
            .collect();
        if executions.is_empty() {
            return Ok(0);
        }
        self.run_updates(executions).await?;
        Ok(plan.rows)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::Field;
    use arrow_flight::sql::TableDefinitionOptions;

    use super::*;

    #[test]
    fn plans_create_and_chunks_inserts() {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int32, false),
            Field::new("name", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema.clone()),
            vec![
                Arc::new(Int32Array::from_iter_values(0..5000)),
                Arc::new(StringArray::from_iter(
                    (0..5000).map(|i| (i % 3 != 0).then(|| "x".repeat(40))),
                )),
            ],
        )
        .expect("batch");
        let command = CommandStatementIngest {
            table_definition_options: Some(TableDefinitionOptions {
                if_not_exist: NOT_EXIST_CREATE,
                if_exists: EXISTS_REPLACE,
            }),
            table: "t".into(),
            schema: Some("s".into()),
            ..CommandStatementIngest::default()
        };
        let plan = plan(&command, &schema, &[batch]).expect("plan");
        assert_eq!(plan.ddl[0], "drop table if exists \"s\".\"t\"");
        assert_eq!(
            plan.ddl[1],
            "create table \"s\".\"t\" (\"id\" integer not null, \"name\" varchar(65535))"
        );
        assert_eq!(plan.rows, 5000);
        assert!(plan.inserts.len() > 1);
        assert!(plan.inserts.iter().all(|s| s.len() <= MAX_STATEMENT_BYTES));
        assert!(
            plan.inserts[0].starts_with(
                "insert into \"s\".\"t\" (\"id\", \"name\") values (0, NULL), (1, 'xxxx"
            )
        );
    }
}
