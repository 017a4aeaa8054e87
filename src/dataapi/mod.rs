//! The Redshift Data API as the gateway sees it: a trait with the operations it
//! needs and plain types, so no aws-sdk type crosses into the Flight layer.

mod aws;
mod error;
pub mod identity;
mod rate;
mod retry;
mod wait;

use std::fmt::Debug;

pub use aws::{AwsDataApi, ClientFacts, https_client};
pub use error::{DataApiError, DataApiErrorKind, Operation};
pub use rate::RateLimits;
pub use retry::{RetryPolicy, RetryingDataApi};
pub use wait::{WaitPolicy, wait_for_statement};

/// How result pages are encoded by the Data API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ResultFormat {
    /// GetStatementResult: one typed `Field` per value.
    Json,
    /// GetStatementResultV2: CSV text (the default: 2× faster end to end and
    /// less than half the bytes of JSON, measured by `scripts/bench.sh`).
    #[default]
    Csv,
}

/// A named statement parameter (`:name`), always sent as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SqlParameter {
    /// Parameter name, without the colon.
    pub name: String,
    /// Its value as text (the Data API cannot send NULL).
    pub value: String,
}

/// An ExecuteStatement request.
#[derive(Debug, Clone, Default)]
pub struct ExecuteRequest {
    /// The SQL text.
    pub sql: String,
    /// Database, when not the target's default.
    pub database: Option<String>,
    /// Named parameters.
    pub parameters: Vec<SqlParameter>,
    /// Result encoding.
    pub result_format: ResultFormat,
    /// Run in this Data API session.
    pub session_id: Option<String>,
    /// Open a session kept alive this many seconds.
    pub session_keep_alive_seconds: Option<i32>,
    /// StatementName, for ListStatements.
    pub statement_name: Option<String>,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// A BatchExecuteStatement request: several SQL texts run in order.
#[derive(Debug, Clone, Default)]
pub struct BatchExecuteRequest {
    /// The SQL texts (at most 40).
    pub sqls: Vec<String>,
    /// Database, when not the target's default.
    pub database: Option<String>,
    /// Named parameters shared by all the SQL texts.
    pub parameters: Vec<SqlParameter>,
    /// Run in this Data API session.
    pub session_id: Option<String>,
    /// All in one transaction (TRANSACTION) or each on its own (AUTO_COMMIT).
    pub transaction: bool,
    /// StatementName, for ListStatements.
    pub statement_name: Option<String>,
    /// Result encoding.
    pub result_format: ResultFormat,
    /// Idempotency token.
    pub client_token: Option<String>,
}

/// One table of ListTables (`TableMember`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableMember {
    /// Schema.
    pub schema: String,
    /// Table name.
    pub name: String,
    /// TABLE, VIEW, SYSTEM TABLE, …
    pub table_type: String,
}

/// One statement of ListStatements.
#[derive(Debug, Clone)]
pub struct StatementSummary {
    /// Statement Id.
    pub id: String,
    /// Its SQL text (the first, for a batch).
    pub query_string: String,
    /// Status.
    pub status: StatementStatus,
    /// Result encoding.
    pub result_format: ResultFormat,
    /// Creation time, Unix seconds.
    pub created_at: i64,
}

/// The status of a statement (`StatusString`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatementStatus {
    /// Accepted, not yet picked.
    Submitted,
    /// Picked for execution.
    Picked,
    /// Running.
    Started,
    /// Ended successfully.
    Finished,
    /// Cancelled.
    Aborted,
    /// Ended with an error.
    Failed,
}

impl StatementStatus {
    /// Whether the statement has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Aborted | Self::Failed)
    }
}

/// What DescribeStatement says of a statement.
#[derive(Debug, Clone)]
pub struct StatementDescription {
    /// Statement Id.
    pub id: String,
    /// Status.
    pub status: StatementStatus,
    /// Redshift's error message, when FAILED.
    pub error: Option<String>,
    /// Whether a result set exists.
    pub has_result_set: bool,
    /// Rows returned or affected (−1 while unknown).
    pub result_rows: i64,
    /// Bytes of the result (−1 while unknown).
    pub result_size: i64,
    /// Statement session, when it ran in one.
    pub session_id: Option<String>,
    /// Rows of each sub-statement of a batch.
    pub sub_statement_rows: Vec<i64>,
}

/// One column of a result as the Data API describes it (`ColumnMetadata`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMetadata {
    /// Column name.
    pub name: String,
    /// Column label.
    pub label: String,
    /// Redshift type name (`int4`, `varchar`, `numeric`, …).
    pub type_name: String,
    /// Precision (digits, or characters for strings).
    pub precision: i32,
    /// Scale.
    pub scale: i32,
    /// Length.
    pub length: i32,
    /// 0 = NOT NULL, 1 = nullable, 2 = unknown.
    pub nullable: i32,
    /// Signed number.
    pub is_signed: bool,
    /// Case-sensitive comparisons.
    pub is_case_sensitive: bool,
    /// Money.
    pub is_currency: bool,
    /// Schema of the source table, if any.
    pub schema_name: String,
    /// Source table, if any.
    pub table_name: String,
}

/// One value of a JSON result page (the `Field` union).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `isNull`.
    Null,
    /// `booleanValue`.
    Bool(bool),
    /// `longValue`.
    Long(i64),
    /// `doubleValue`.
    Double(f64),
    /// `stringValue`.
    String(String),
    /// `blobValue`.
    Blob(Vec<u8>),
}

/// The records of one result page.
#[derive(Debug, Clone)]
pub enum Records {
    /// GetStatementResult rows.
    Json(Vec<Vec<Value>>),
    /// GetStatementResultV2 CSV text (concatenated `CSVRecords`).
    Csv(String),
}

/// One page of a statement's result.
#[derive(Debug, Clone)]
pub struct ResultPage {
    /// Columns (sent on every page).
    pub columns: Vec<ColumnMetadata>,
    /// Rows.
    pub records: Records,
    /// Token of the next page.
    pub next_token: Option<String>,
    /// Rows in the whole result.
    pub total_rows: Option<i64>,
}

/// The Data API operations the gateway uses.
#[async_trait::async_trait]
pub trait DataApi: Send + Sync + Debug + 'static {
    /// ExecuteStatement: returns the statement Id at once.
    async fn execute_statement(&self, request: ExecuteRequest) -> Result<String, DataApiError>;

    /// DescribeStatement, long-polling up to `wait_seconds` when given.
    async fn describe_statement(
        &self,
        id: &str,
        wait_seconds: Option<i32>,
    ) -> Result<StatementDescription, DataApiError>;

    /// GetStatementResult (JSON) or GetStatementResultV2 (CSV): one page.
    async fn get_statement_result(
        &self,
        id: &str,
        format: ResultFormat,
        next_token: Option<String>,
    ) -> Result<ResultPage, DataApiError>;

    /// CancelStatement.
    async fn cancel_statement(&self, id: &str) -> Result<bool, DataApiError>;

    /// BatchExecuteStatement: returns the batch's statement Id at once.
    async fn batch_execute_statement(
        &self,
        request: BatchExecuteRequest,
    ) -> Result<String, DataApiError>;

    /// ListDatabases (all pages).
    async fn list_databases(&self) -> Result<Vec<String>, DataApiError>;

    /// ListSchemas of `database` matching a LIKE pattern (all pages).
    async fn list_schemas(
        &self,
        database: &str,
        pattern: Option<&str>,
    ) -> Result<Vec<String>, DataApiError>;

    /// ListTables of `database` (all pages).
    async fn list_tables(
        &self,
        database: &str,
        schema_pattern: Option<&str>,
        table_pattern: Option<&str>,
    ) -> Result<Vec<TableMember>, DataApiError>;

    /// DescribeTable: the columns of one table, or of every table of a schema
    /// or database (all pages). Each column names its schema and table.
    async fn describe_table(
        &self,
        database: &str,
        schema: Option<&str>,
        table: Option<&str>,
    ) -> Result<Vec<ColumnMetadata>, DataApiError>;

    /// ListStatements whose StatementName starts with `name_prefix`, newest first.
    async fn list_statements(
        &self,
        name_prefix: &str,
        max: i32,
    ) -> Result<Vec<StatementSummary>, DataApiError>;
}
