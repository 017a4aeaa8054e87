//! [`DataApi`] over aws-sdk-redshiftdata: the standard AWS credential chain,
//! a region, an optional endpoint URL, retries with backoff on throttling and
//! 5xx, and a provisioned-cluster or Serverless target.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig as SdkRetryConfig;
use aws_sdk_redshiftdata::Client;
use aws_sdk_redshiftdata::config::SharedHttpClient;
use aws_sdk_redshiftdata::config::http::HttpResponse;
use aws_sdk_redshiftdata::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_redshiftdata::types::{Field, QueryRecords, ResultFormatString, StatusString};

use crate::config::{AwsSettings, DataApiTarget, RetryConfig};

use super::{
    BatchExecuteRequest, ColumnMetadata, DataApi, DataApiError, DataApiErrorKind, ExecuteRequest,
    Operation, Records, ResultFormat, ResultPage, StatementDescription, StatementStatus,
    StatementSummary, TableMember, Value,
};

/// Sets the identity members of the target (cluster or workgroup, DbUser,
/// SecretArn) on any request builder: every operation takes the same four.
macro_rules! with_target {
    ($builder:expr, $target:expr) => {
        $builder
            .set_cluster_identifier($target.cluster_identifier.clone())
            .set_workgroup_name($target.workgroup_name.clone())
            .set_db_user($target.db_user.clone())
            .set_secret_arn($target.secret_arn.clone())
    };
}

/// The Data API through the AWS SDK.
#[derive(Debug, Clone)]
pub struct AwsDataApi {
    client: Client,
    target: DataApiTarget,
    /// The credentials provider the client was built with, for `check`.
    credentials: Option<aws_sdk_redshiftdata::config::SharedCredentialsProvider>,
}

/// An HTTPS client on rustls with ring (no C toolchain needed to build it).
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

impl AwsDataApi {
    /// Builds the client from the standard AWS configuration chain.
    pub async fn connect(
        settings: &AwsSettings,
        retry: &RetryConfig,
        target: DataApiTarget,
    ) -> Self {
        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).http_client(https_client());
        if let Some(region) = &settings.region {
            loader = loader.region(aws_config::Region::new(region.clone()));
        }
        let shared = loader.load().await;
        let credentials = shared.credentials_provider();
        let mut config = aws_sdk_redshiftdata::config::Builder::from(&shared).retry_config(
            SdkRetryConfig::standard()
                .with_max_attempts(retry.max_attempts.max(1))
                .with_initial_backoff(Duration::from_millis(50)),
        );
        if let Some(url) = &settings.endpoint_url {
            config = config.endpoint_url(url);
        }
        Self {
            client: Client::from_conf(config.build()),
            target,
            credentials,
        }
    }

    /// A client with fixed dummy credentials, for the local emulator (which
    /// does not check signatures): no credential chain is consulted.
    pub fn with_static_credentials(
        settings: &AwsSettings,
        retry: &RetryConfig,
        target: DataApiTarget,
    ) -> Self {
        let credentials = aws_sdk_redshiftdata::config::SharedCredentialsProvider::new(
            aws_sdk_redshiftdata::config::Credentials::new("local", "local", None, None, "local"),
        );
        let mut config = aws_sdk_redshiftdata::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(aws_sdk_redshiftdata::config::Region::new(
                settings
                    .region
                    .clone()
                    .unwrap_or_else(|| "us-east-1".to_owned()),
            ))
            .credentials_provider(credentials.clone())
            .http_client(https_client())
            .retry_config(
                SdkRetryConfig::standard()
                    .with_max_attempts(retry.max_attempts.max(1))
                    .with_initial_backoff(Duration::from_millis(50)),
            );
        if let Some(url) = &settings.endpoint_url {
            config = config.endpoint_url(url);
        }
        Self {
            client: Client::from_conf(config.build()),
            target,
            credentials: Some(credentials),
        }
    }

    /// The region and credentials the client resolved, for `check`: the
    /// credentials' provider and a masked access key, or why none were found.
    pub async fn client_facts(&self) -> ClientFacts {
        use aws_sdk_redshiftdata::config::ProvideCredentials as _;
        let config = self.client.config();
        let region = config.region().map(ToString::to_string);
        let credentials = match &self.credentials {
            None => Err("no credentials provider is configured".to_owned()),
            Some(provider) => match provider.provide_credentials().await {
                Ok(c) => Ok(describe_credentials(&c)),
                Err(e) => Err(aws_sdk_redshiftdata::error::DisplayErrorContext(&e).to_string()),
            },
        };
        ClientFacts {
            region,
            credentials,
        }
    }

    /// Wraps an already configured SDK client.
    pub fn from_client(client: Client, target: DataApiTarget) -> Self {
        Self {
            client,
            target,
            credentials: None,
        }
    }
}

/// What the AWS client resolved of its configuration.
#[derive(Debug, Clone)]
pub struct ClientFacts {
    /// The region, if one was found.
    pub region: Option<String>,
    /// Where the credentials came from, or why there are none.
    pub credentials: Result<String, String>,
}

/// Names the provider of `credentials` and masks the access key
/// (`AKIA…MPLE`), for the report.
fn describe_credentials(credentials: &aws_sdk_redshiftdata::config::Credentials) -> String {
    // The provider's name is only shown by Debug (`provider_name: "…"`).
    let debug = format!("{credentials:?}");
    let provider = debug
        .split_once("provider_name: \"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("an unnamed provider", |(name, _)| name)
        .to_owned();
    let key = credentials.access_key_id();
    let tail = key.len().checked_sub(4).and_then(|i| key.get(i..));
    let masked = match (key.get(..4), tail) {
        (Some(head), Some(tail)) if key.len() > 8 => format!("{head}…{tail}"),
        _ => "…".to_owned(),
    };
    let temporary = if credentials.session_token().is_some() {
        ", temporary"
    } else {
        ""
    };
    format!("from {provider} (access key {masked}{temporary})")
}

/// The gateway's error for a failed SDK call of `operation`, by the
/// service's error code (or the kind of transport failure).
fn classify<E: ProvideErrorMetadata + std::error::Error + 'static>(
    operation: Operation,
    err: SdkError<E, HttpResponse>,
) -> DataApiError {
    let (kind, message) = kind_of(&err);
    DataApiError::new(kind, operation, message)
}

fn kind_of<E: ProvideErrorMetadata + std::error::Error + 'static>(
    err: &SdkError<E, HttpResponse>,
) -> (DataApiErrorKind, String) {
    use DataApiErrorKind as Kind;
    let code = err.code().map(str::to_owned);
    let message = err
        .message()
        .map(str::to_owned)
        .unwrap_or_else(|| aws_sdk_redshiftdata::error::DisplayErrorContext(err).to_string());
    match err {
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => {
            return (Kind::Unavailable, message);
        }
        SdkError::ConstructionFailure(_) | SdkError::ResponseError(_) => {
            return (Kind::Protocol, message);
        }
        _ => {}
    }
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or(0);
    match code.as_deref() {
        Some("ValidationException") => (Kind::Validation, message),
        Some("ResourceNotFoundException") => (Kind::NotFound, message),
        Some(
            "ThrottlingException"
            | "Throttling"
            | "TooManyRequestsException"
            | "RequestLimitExceeded"
            | "ProvisionedThroughputExceededException",
        ) => (Kind::Throttled, message),
        Some(
            "ActiveStatementsExceededException"
            | "ActiveSessionsExceededException"
            | "ActiveWaitingRequestsExceededException",
        ) => (Kind::QuotaExceeded, message),
        Some(
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "ExpiredTokenException"
            | "MissingAuthenticationTokenException"
            | "IncompleteSignature"
            | "InvalidClientTokenId",
        ) => (Kind::Unauthenticated, message),
        Some("AccessDeniedException" | "AccessDenied") => (Kind::PermissionDenied, message),
        _ if status >= 500 => (Kind::Unavailable, message),
        Some(
            "InternalServerException"
            | "ServiceUnavailable"
            | "DatabaseConnectionException"
            | "QueryTimeoutException"
            | "ExecuteStatementException"
            | "BatchExecuteStatementException",
        ) => (Kind::Unavailable, message),
        // A refusal the gateway does not model (an HTTP body limit, a new
        // error code) is still the request's fault: say what the service said.
        Some(other) if (400..500).contains(&status) => {
            (Kind::Validation, format!("{other}: {message}"))
        }
        None if (400..500).contains(&status) => {
            (Kind::Validation, format!("HTTP {status}: {message}"))
        }
        Some(other) => (Kind::Protocol, format!("{other}: {message}")),
        None => (Kind::Protocol, message),
    }
}

fn parameters(
    operation: Operation,
    list: Vec<super::SqlParameter>,
) -> Result<Option<Vec<aws_sdk_redshiftdata::types::SqlParameter>>, DataApiError> {
    if list.is_empty() {
        return Ok(None);
    }
    list.into_iter()
        .map(|p| {
            aws_sdk_redshiftdata::types::SqlParameter::builder()
                .name(p.name)
                .value(p.value)
                .build()
                .map_err(|e| {
                    DataApiError::new(DataApiErrorKind::Validation, operation, e.to_string())
                })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// Follows NextToken to the last page, collecting each page's items.
async fn all_pages<T, F, Fut>(mut page: F) -> Result<Vec<T>, DataApiError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), DataApiError>>,
{
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        out.extend(items);
        token = next;
        if token.is_none() {
            return Ok(out);
        }
    }
}

fn status(operation: Operation, s: Option<&StatusString>) -> Result<StatementStatus, DataApiError> {
    Ok(match s {
        Some(StatusString::Submitted) => StatementStatus::Submitted,
        Some(StatusString::Picked) => StatementStatus::Picked,
        Some(StatusString::Started) => StatementStatus::Started,
        Some(StatusString::Finished) => StatementStatus::Finished,
        Some(StatusString::Aborted) => StatementStatus::Aborted,
        Some(StatusString::Failed) => StatementStatus::Failed,
        other => {
            return Err(DataApiError::new(
                DataApiErrorKind::Protocol,
                operation,
                format!("unknown statement status {other:?}"),
            ));
        }
    })
}

fn column(c: aws_sdk_redshiftdata::types::ColumnMetadata) -> ColumnMetadata {
    let name = c.name.unwrap_or_default();
    ColumnMetadata {
        label: c.label.unwrap_or_else(|| name.clone()),
        name,
        type_name: c.type_name.unwrap_or_default(),
        precision: c.precision,
        scale: c.scale,
        length: c.length,
        nullable: c.nullable,
        is_signed: c.is_signed,
        is_case_sensitive: c.is_case_sensitive,
        is_currency: c.is_currency,
        schema_name: c.schema_name.unwrap_or_default(),
        table_name: c.table_name.unwrap_or_default(),
    }
}

fn value(f: Field) -> Value {
    match f {
        Field::BooleanValue(b) => Value::Bool(b),
        Field::LongValue(n) => Value::Long(n),
        Field::DoubleValue(d) => Value::Double(d),
        Field::StringValue(s) => Value::String(s),
        Field::BlobValue(b) => Value::Blob(b.into_inner()),
        // IsNull, and members newer than this SDK: nothing the gateway can read.
        _ => Value::Null,
    }
}

#[async_trait::async_trait]
impl DataApi for AwsDataApi {
    async fn execute_statement(&self, request: ExecuteRequest) -> Result<String, DataApiError> {
        let mut call = self.client.execute_statement().sql(request.sql);
        if let Some(session) = request.session_id {
            call = call.session_id(session);
        } else {
            let t = &super::identity::effective(&self.target);
            call = with_target!(call, t)
                .database(request.database.unwrap_or_else(|| t.database.clone()));
        }
        call = call.set_session_keep_alive_seconds(request.session_keep_alive_seconds);
        call = call.set_parameters(parameters(Operation::ExecuteStatement, request.parameters)?);
        if request.result_format == ResultFormat::Csv {
            call = call.result_format(ResultFormatString::Csv);
        }
        call = call
            .set_statement_name(request.statement_name)
            .set_client_token(request.client_token);
        let out = call
            .send()
            .await
            .map_err(|e| classify(Operation::ExecuteStatement, e))?;
        out.id.ok_or_else(|| {
            DataApiError::new(
                DataApiErrorKind::Protocol,
                Operation::ExecuteStatement,
                "no Id in the response",
            )
        })
    }

    async fn describe_statement(
        &self,
        id: &str,
        wait_seconds: Option<i32>,
    ) -> Result<StatementDescription, DataApiError> {
        let out = self
            .client
            .describe_statement()
            .id(id)
            .set_wait_time_seconds(wait_seconds)
            .send()
            .await
            .map_err(|e| classify(Operation::DescribeStatement, e).for_statement(id))?;
        Ok(StatementDescription {
            status: status(Operation::DescribeStatement, out.status.as_ref())
                .map_err(|e| e.for_statement(id))?,
            id: out.id,
            error: out.error,
            has_result_set: out.has_result_set.unwrap_or(false),
            result_rows: out.result_rows,
            result_size: out.result_size,
            session_id: out.session_id,
            sub_statement_rows: out
                .sub_statements
                .unwrap_or_default()
                .iter()
                .map(|s| s.result_rows)
                .collect(),
        })
    }

    async fn get_statement_result(
        &self,
        id: &str,
        format: ResultFormat,
        next_token: Option<String>,
    ) -> Result<ResultPage, DataApiError> {
        match format {
            ResultFormat::Json => {
                let out = self
                    .client
                    .get_statement_result()
                    .id(id)
                    .set_next_token(next_token)
                    .send()
                    .await
                    .map_err(|e| classify(Operation::GetStatementResult, e).for_statement(id))?;
                Ok(ResultPage {
                    columns: out
                        .column_metadata
                        .unwrap_or_default()
                        .into_iter()
                        .map(column)
                        .collect(),
                    records: Records::Json(
                        out.records
                            .into_iter()
                            .map(|r| r.into_iter().map(value).collect())
                            .collect(),
                    ),
                    next_token: out.next_token,
                    total_rows: Some(out.total_num_rows),
                })
            }
            ResultFormat::Csv => {
                let out = self
                    .client
                    .get_statement_result_v2()
                    .id(id)
                    .set_next_token(next_token)
                    .send()
                    .await
                    .map_err(|e| classify(Operation::GetStatementResultV2, e).for_statement(id))?;
                let mut csv = String::new();
                for r in out.records {
                    if let QueryRecords::CsvRecords(text) = r {
                        if csv.is_empty() {
                            csv = text;
                        } else {
                            csv.push_str(&text);
                        }
                    }
                }
                Ok(ResultPage {
                    columns: out
                        .column_metadata
                        .unwrap_or_default()
                        .into_iter()
                        .map(column)
                        .collect(),
                    records: Records::Csv(csv),
                    next_token: out.next_token,
                    total_rows: Some(out.total_num_rows),
                })
            }
        }
    }

    async fn cancel_statement(&self, id: &str) -> Result<bool, DataApiError> {
        let out = self
            .client
            .cancel_statement()
            .id(id)
            .send()
            .await
            .map_err(|e| classify(Operation::CancelStatement, e).for_statement(id))?;
        Ok(out.status.unwrap_or(false))
    }

    async fn batch_execute_statement(
        &self,
        request: BatchExecuteRequest,
    ) -> Result<String, DataApiError> {
        let mut call = self
            .client
            .batch_execute_statement()
            .set_sqls(Some(request.sqls))
            .execution_mode(if request.transaction {
                aws_sdk_redshiftdata::types::ExecutionMode::Transaction
            } else {
                aws_sdk_redshiftdata::types::ExecutionMode::AutoCommit
            });
        if let Some(session) = request.session_id {
            call = call.session_id(session);
        } else {
            let t = &super::identity::effective(&self.target);
            call = with_target!(call, t)
                .database(request.database.unwrap_or_else(|| t.database.clone()));
        }
        if request.result_format == ResultFormat::Csv {
            call = call.result_format(ResultFormatString::Csv);
        }
        call = call
            .set_parameters(parameters(
                Operation::BatchExecuteStatement,
                request.parameters,
            )?)
            .set_statement_name(request.statement_name)
            .set_client_token(request.client_token);
        let out = call
            .send()
            .await
            .map_err(|e| classify(Operation::BatchExecuteStatement, e))?;
        out.id.ok_or_else(|| {
            DataApiError::new(
                DataApiErrorKind::Protocol,
                Operation::BatchExecuteStatement,
                "no Id in the response",
            )
        })
    }

    async fn list_databases(&self) -> Result<Vec<String>, DataApiError> {
        let t = &super::identity::effective(&self.target);
        all_pages(|token| async move {
            let page = with_target!(self.client.list_databases(), t)
                .database(&t.database)
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify(Operation::ListDatabases, e))?;
            Ok((page.databases.unwrap_or_default(), page.next_token))
        })
        .await
    }

    async fn list_schemas(
        &self,
        database: &str,
        pattern: Option<&str>,
    ) -> Result<Vec<String>, DataApiError> {
        let t = &super::identity::effective(&self.target);
        all_pages(|token| async move {
            let page = with_target!(self.client.list_schemas(), t)
                .database(database)
                .connected_database(&t.database)
                .set_schema_pattern(pattern.map(str::to_owned))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify(Operation::ListSchemas, e))?;
            Ok((page.schemas.unwrap_or_default(), page.next_token))
        })
        .await
    }

    async fn list_tables(
        &self,
        database: &str,
        schema_pattern: Option<&str>,
        table_pattern: Option<&str>,
    ) -> Result<Vec<TableMember>, DataApiError> {
        let t = &super::identity::effective(&self.target);
        all_pages(|token| async move {
            let page = with_target!(self.client.list_tables(), t)
                .database(database)
                .connected_database(&t.database)
                .set_schema_pattern(schema_pattern.map(str::to_owned))
                .set_table_pattern(table_pattern.map(str::to_owned))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify(Operation::ListTables, e))?;
            let tables = page
                .tables
                .unwrap_or_default()
                .into_iter()
                .map(|m| TableMember {
                    schema: m.schema.unwrap_or_default(),
                    name: m.name.unwrap_or_default(),
                    table_type: m.r#type.unwrap_or_default(),
                })
                .collect();
            Ok((tables, page.next_token))
        })
        .await
    }

    async fn describe_table(
        &self,
        database: &str,
        schema: Option<&str>,
        table: Option<&str>,
    ) -> Result<Vec<ColumnMetadata>, DataApiError> {
        let t = &super::identity::effective(&self.target);
        all_pages(|token| async move {
            let page = with_target!(self.client.describe_table(), t)
                .database(database)
                .connected_database(&t.database)
                .set_schema(schema.map(str::to_owned))
                .set_table(table.map(str::to_owned))
                .set_next_token(token)
                .send()
                .await
                .map_err(|e| classify(Operation::DescribeTable, e))?;
            let columns = page
                .column_list
                .unwrap_or_default()
                .into_iter()
                .map(column)
                .collect();
            Ok((columns, page.next_token))
        })
        .await
    }

    async fn list_statements(
        &self,
        name_prefix: &str,
        max: i32,
    ) -> Result<Vec<StatementSummary>, DataApiError> {
        let out = self
            .client
            .list_statements()
            .statement_name(name_prefix)
            .max_results(max.clamp(1, 100))
            .send()
            .await
            .map_err(|e| classify(Operation::ListStatements, e))?;
        out.statements
            .into_iter()
            .map(|s| {
                Ok(StatementSummary {
                    status: status(Operation::ListStatements, s.status.as_ref())?,
                    query_string: s
                        .query_string
                        .or_else(|| s.query_strings.and_then(|q| q.into_iter().next()))
                        .unwrap_or_default(),
                    result_format: match s.result_format {
                        Some(ResultFormatString::Csv) => ResultFormat::Csv,
                        _ => ResultFormat::Json,
                    },
                    created_at: s.created_at.map_or(0, |t| t.secs()),
                    id: s.id,
                })
            })
            .collect()
    }
}
