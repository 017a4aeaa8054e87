//! Response shapes of the Data API operations, member by member as in the
//! service model (`service-2.json`). Members the model marks optional are
//! left out when absent, as the service does; timestamps are epoch seconds.
//! GetStatementResult pages are not here: they are cut from bytes encoded
//! once (see `results`).

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::model::{ExecutionMode, ResultFormat, SqlParameter, Status, Target};
use crate::results::ColumnMetadata;

/// A `Timestamp` member: sent as epoch seconds with a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timestamp(pub(crate) DateTime<Utc>);

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[allow(clippy::cast_precision_loss)]
        let seconds = self.0.timestamp_micros() as f64 / 1_000_000.0;
        serializer.serialize_f64(seconds)
    }
}

/// `ExecuteStatementOutput` and `BatchExecuteStatementOutput` (the same members).
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ExecuteStatementOutput {
    pub(crate) id: String,
    pub(crate) created_at: Timestamp,
    #[serde(flatten)]
    pub(crate) target: Target,
    /// Empty for a cluster, absent for a workgroup.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) db_groups: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_id: Option<String>,
    pub(crate) status: Status,
    pub(crate) redshift_pid: i64,
    pub(crate) has_result_set: bool,
}

/// `SubStatementData`; also the statement members of a DescribeStatement
/// response (without QueryString for a batch).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SubStatementData {
    pub(crate) id: String,
    pub(crate) duration: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    pub(crate) status: Status,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query_string: Option<String>,
    /// -1 until the statement has finished.
    pub(crate) result_rows: i64,
    /// -1 until the statement has finished.
    pub(crate) result_size: i64,
    pub(crate) redshift_query_id: i64,
    pub(crate) has_result_set: bool,
}

/// `DescribeStatementResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeStatementResponse {
    #[serde(flatten)]
    pub(crate) statement: SubStatementData,
    #[serde(flatten)]
    pub(crate) target: Target,
    pub(crate) redshift_pid: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query_parameters: Option<Vec<SqlParameter>>,
    /// Only for a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) sub_statements: Option<Vec<SubStatementData>>,
    pub(crate) result_format: ResultFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_id: Option<String>,
    /// Only for a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) execution_mode: Option<ExecutionMode>,
}

/// `CancelStatementResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CancelStatementResponse {
    pub(crate) status: bool,
}

/// `StatementData`: one entry of ListStatements.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StatementData {
    pub(crate) id: String,
    /// For a single statement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query_string: Option<String>,
    /// For a batch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query_strings: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret_arn: Option<String>,
    pub(crate) status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) statement_name: Option<String>,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) query_parameters: Option<Vec<SqlParameter>>,
    pub(crate) is_batch_statement: bool,
    pub(crate) result_format: ResultFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session_id: Option<String>,
}

/// `ListStatementsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListStatementsResponse {
    pub(crate) statements: Vec<StatementData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

/// `SessionStatusString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum SessionStatus {
    Available,
    Busy,
    Closed,
}

/// `SessionData`: one entry of ListSessions.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct SessionData {
    pub(crate) session_id: String,
    pub(crate) status: SessionStatus,
    pub(crate) created_at: Timestamp,
    pub(crate) updated_at: Timestamp,
    pub(crate) database: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) db_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cluster_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) workgroup_name: Option<String>,
    pub(crate) session_alive_seconds: i64,
    pub(crate) session_ttl: Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) current_statement_id: Option<String>,
}

/// `ListSessionsResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSessionsResponse {
    pub(crate) sessions: Vec<SessionData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

/// `ListDatabasesResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListDatabasesResponse {
    pub(crate) databases: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

/// `ListSchemasResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSchemasResponse {
    pub(crate) schemas: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

/// `TableMember`: one entry of ListTables (the model names its members in
/// lower case).
#[derive(Debug, Serialize)]
pub(crate) struct TableMember {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) kind: String,
    pub(crate) schema: String,
}

/// `ListTablesResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListTablesResponse {
    pub(crate) tables: Vec<TableMember>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}

/// `DescribeTableResponse`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct DescribeTableResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) table_name: Option<String>,
    pub(crate) column_list: Vec<ColumnMetadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) next_token: Option<String>,
}
