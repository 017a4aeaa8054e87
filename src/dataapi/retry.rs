//! Retries above the SDK's own: every Data API call on every path is retried
//! on throttling, quota and service faults for up to a time budget, with
//! full-jitter exponential backoff. ExecuteStatement and
//! BatchExecuteStatement carry a ClientToken, so a retried submission never
//! runs a statement twice. Errors a retry cannot fix (bad SQL, permissions,
//! unknown statements) are returned at once.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rand::Rng as _;

use crate::telemetry::metrics as metrics_names;

use super::rate::RateLimits;
use super::{
    BatchExecuteRequest, ColumnMetadata, DataApi, DataApiError, DataApiErrorKind, ExecuteRequest,
    Operation, ResultFormat, ResultPage, StatementDescription, StatementSummary, TableMember,
};

/// How failed calls are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Longest time spent retrying one call (zero: no retries above the SDK's).
    pub budget: Duration,
    /// First backoff ceiling; doubled at each retry.
    pub base_delay: Duration,
    /// Largest backoff ceiling.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            budget: Duration::from_secs(30),
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// The backoff ceiling before retry `attempt` (0-based): base × 2^attempt, capped.
    fn ceiling(&self, attempt: u32) -> Duration {
        self.base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.max_delay)
    }
}

/// Whether a failure of `operation` can go away by itself.
fn retryable(error: &DataApiError) -> bool {
    match error.kind {
        DataApiErrorKind::Throttled | DataApiErrorKind::Unavailable => true,
        // A long poll over the waiting-requests quota falls back to polling
        // (see `wait`); other quotas free up as statements end.
        DataApiErrorKind::QuotaExceeded => error.operation != Operation::DescribeStatement,
        DataApiErrorKind::Validation
        | DataApiErrorKind::NotFound
        | DataApiErrorKind::Unauthenticated
        | DataApiErrorKind::PermissionDenied
        | DataApiErrorKind::Protocol => false,
    }
}

/// A [`DataApi`] that retries the calls of the one it wraps.
#[derive(Debug)]
pub struct RetryingDataApi {
    inner: Arc<dyn DataApi>,
    policy: RetryPolicy,
    rates: RateLimits,
}

impl RetryingDataApi {
    /// `inner` with retries by `policy`.
    pub fn wrap(inner: Arc<dyn DataApi>, policy: RetryPolicy) -> Arc<dyn DataApi> {
        Self::wrap_with_rates(inner, policy, RateLimits::default())
    }

    /// `inner` with retries by `policy`, each attempt within `rates`.
    pub fn wrap_with_rates(
        inner: Arc<dyn DataApi>,
        policy: RetryPolicy,
        rates: RateLimits,
    ) -> Arc<dyn DataApi> {
        Arc::new(Self {
            inner,
            policy,
            rates,
        })
    }

    /// Runs `call` until it succeeds, fails for good, or the budget is spent.
    async fn retry<T, F, Fut>(&self, operation: Operation, mut call: F) -> Result<T, DataApiError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, DataApiError>>,
    {
        let start = Instant::now();
        let mut attempt = 0u32;
        loop {
            self.rates.acquire(operation).await;
            let outcome = call().await;
            count(operation, outcome.as_ref().err());
            let error = match outcome {
                Ok(value) => return Ok(value),
                Err(e) if retryable(&e) => e,
                Err(e) => return Err(e),
            };
            let ceiling = self.policy.ceiling(attempt);
            let pause = rand::thread_rng().gen_range(Duration::ZERO..=ceiling);
            if start.elapsed() + pause > self.policy.budget {
                tracing::info!(
                    call = %error.context(),
                    attempts = attempt + 1,
                    error = %error,
                    "Data API call failed after its retry budget"
                );
                return Err(error);
            }
            tracing::debug!(call = %error.context(), attempt, ?pause, error = %error, "retrying");
            metrics::counter!(metrics_names::DATA_API_RETRIES, "operation" => operation.name())
                .increment(1);
            tokio::time::sleep(pause).await;
            attempt += 1;
        }
    }
}

/// Counts one Data API call by operation and outcome.
fn count(operation: Operation, error: Option<&DataApiError>) {
    let outcome = match error.map(|e| e.kind) {
        None => "ok",
        Some(DataApiErrorKind::Validation) => "validation",
        Some(DataApiErrorKind::NotFound) => "not_found",
        Some(DataApiErrorKind::Throttled) => "throttled",
        Some(DataApiErrorKind::QuotaExceeded) => "quota_exceeded",
        Some(DataApiErrorKind::Unauthenticated) => "unauthenticated",
        Some(DataApiErrorKind::PermissionDenied) => "permission_denied",
        Some(DataApiErrorKind::Unavailable) => "unavailable",
        Some(DataApiErrorKind::Protocol) => "protocol",
    };
    metrics::counter!(
        metrics_names::DATA_API_CALLS,
        "operation" => operation.name(),
        "outcome" => outcome
    )
    .increment(1);
}

/// The operation that reads a page in `format`.
fn result_operation(format: ResultFormat) -> Operation {
    match format {
        ResultFormat::Json => Operation::GetStatementResult,
        ResultFormat::Csv => Operation::GetStatementResultV2,
    }
}

/// A ClientToken for one logical submission (the model allows 1–64 characters).
fn client_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

#[async_trait::async_trait]
impl DataApi for RetryingDataApi {
    async fn execute_statement(&self, mut request: ExecuteRequest) -> Result<String, DataApiError> {
        request.client_token.get_or_insert_with(client_token);
        self.retry(Operation::ExecuteStatement, || {
            self.inner.execute_statement(request.clone())
        })
        .await
    }

    async fn describe_statement(
        &self,
        id: &str,
        wait_seconds: Option<i32>,
    ) -> Result<StatementDescription, DataApiError> {
        self.retry(Operation::DescribeStatement, || {
            self.inner.describe_statement(id, wait_seconds)
        })
        .await
    }

    async fn get_statement_result(
        &self,
        id: &str,
        format: ResultFormat,
        next_token: Option<String>,
    ) -> Result<ResultPage, DataApiError> {
        self.retry(result_operation(format), || {
            self.inner
                .get_statement_result(id, format, next_token.clone())
        })
        .await
    }

    async fn cancel_statement(&self, id: &str) -> Result<bool, DataApiError> {
        self.retry(Operation::CancelStatement, || {
            self.inner.cancel_statement(id)
        })
        .await
    }

    async fn batch_execute_statement(
        &self,
        mut request: BatchExecuteRequest,
    ) -> Result<String, DataApiError> {
        request.client_token.get_or_insert_with(client_token);
        self.retry(Operation::BatchExecuteStatement, || {
            self.inner.batch_execute_statement(request.clone())
        })
        .await
    }

    async fn list_databases(&self) -> Result<Vec<String>, DataApiError> {
        self.retry(Operation::ListDatabases, || self.inner.list_databases())
            .await
    }

    async fn list_schemas(
        &self,
        database: &str,
        pattern: Option<&str>,
    ) -> Result<Vec<String>, DataApiError> {
        self.retry(Operation::ListSchemas, || {
            self.inner.list_schemas(database, pattern)
        })
        .await
    }

    async fn list_tables(
        &self,
        database: &str,
        schema_pattern: Option<&str>,
        table_pattern: Option<&str>,
    ) -> Result<Vec<TableMember>, DataApiError> {
        self.retry(Operation::ListTables, || {
            self.inner
                .list_tables(database, schema_pattern, table_pattern)
        })
        .await
    }

    async fn describe_table(
        &self,
        database: &str,
        schema: Option<&str>,
        table: Option<&str>,
    ) -> Result<Vec<ColumnMetadata>, DataApiError> {
        self.retry(Operation::DescribeTable, || {
            self.inner.describe_table(database, schema, table)
        })
        .await
    }

    async fn list_statements(
        &self,
        name_prefix: &str,
        max: i32,
    ) -> Result<Vec<StatementSummary>, DataApiError> {
        self.retry(Operation::ListStatements, || {
            self.inner.list_statements(name_prefix, max)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    /// A Data API whose ExecuteStatement fails `failures` times with `kind`,
    /// recording the ClientToken of every attempt.
    #[derive(Debug)]
    struct Flaky {
        failures: u32,
        kind: DataApiErrorKind,
        calls: AtomicU32,
        tokens: std::sync::Mutex<Vec<Option<String>>>,
    }

    fn flaky(failures: u32, kind: DataApiErrorKind) -> Arc<Flaky> {
        Arc::new(Flaky {
            failures,
            kind,
            calls: AtomicU32::new(0),
            tokens: std::sync::Mutex::default(),
        })
    }

    fn unused<T>() -> Result<T, DataApiError> {
        Err(DataApiError::new(
            DataApiErrorKind::Protocol,
            Operation::ListDatabases,
            "not used by these tests",
        ))
    }

    #[async_trait::async_trait]
    impl DataApi for Flaky {
        async fn execute_statement(&self, r: ExecuteRequest) -> Result<String, DataApiError> {
            self.tokens.lock().expect("lock").push(r.client_token);
            if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                return Err(DataApiError::new(
                    self.kind,
                    Operation::ExecuteStatement,
                    "fault",
                ));
            }
            Ok("id".to_owned())
        }
        async fn describe_statement(
            &self,
            _: &str,
            _: Option<i32>,
        ) -> Result<StatementDescription, DataApiError> {
            unused()
        }
        async fn get_statement_result(
            &self,
            _: &str,
            _: ResultFormat,
            _: Option<String>,
        ) -> Result<ResultPage, DataApiError> {
            unused()
        }
        async fn cancel_statement(&self, _: &str) -> Result<bool, DataApiError> {
            unused()
        }
        async fn batch_execute_statement(
            &self,
            _: BatchExecuteRequest,
        ) -> Result<String, DataApiError> {
            unused()
        }
        async fn list_databases(&self) -> Result<Vec<String>, DataApiError> {
            unused()
        }
        async fn list_schemas(
            &self,
            _: &str,
            _: Option<&str>,
        ) -> Result<Vec<String>, DataApiError> {
            unused()
        }
        async fn list_tables(
            &self,
            _: &str,
            _: Option<&str>,
            _: Option<&str>,
        ) -> Result<Vec<TableMember>, DataApiError> {
            unused()
        }
        async fn describe_table(
            &self,
            _: &str,
            _: Option<&str>,
            _: Option<&str>,
        ) -> Result<Vec<ColumnMetadata>, DataApiError> {
            unused()
        }
        async fn list_statements(
            &self,
            _: &str,
            _: i32,
        ) -> Result<Vec<StatementSummary>, DataApiError> {
            unused()
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            budget: Duration::from_secs(5),
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
        }
    }

    #[tokio::test]
    async fn throttling_is_absorbed_with_one_client_token_for_every_attempt() {
        let inner = flaky(4, DataApiErrorKind::Throttled);
        let api = RetryingDataApi::wrap(inner.clone(), fast());
        let id = api
            .execute_statement(ExecuteRequest::default())
            .await
            .expect("absorbed");
        assert_eq!(id, "id");
        let tokens = inner.tokens.lock().expect("lock").clone();
        assert_eq!(tokens.len(), 5);
        assert!(tokens[0].is_some());
        assert!(tokens.iter().all(|t| *t == tokens[0]), "{tokens:?}");
    }

    #[tokio::test]
    async fn mistakes_are_not_retried() {
        let inner = flaky(1, DataApiErrorKind::Validation);
        let api = RetryingDataApi::wrap(inner.clone(), fast());
        let e = api
            .execute_statement(ExecuteRequest::default())
            .await
            .expect_err("bad SQL");
        assert_eq!(e.kind, DataApiErrorKind::Validation);
        assert_eq!(inner.calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn the_budget_bounds_the_time_spent() {
        let inner = flaky(u32::MAX, DataApiErrorKind::Unavailable);
        let policy = RetryPolicy {
            budget: Duration::from_millis(50),
            ..fast()
        };
        let api = RetryingDataApi::wrap(inner.clone(), policy);
        let started = Instant::now();
        let e = api
            .execute_statement(ExecuteRequest::default())
            .await
            .expect_err("still failing");
        assert_eq!(e.kind, DataApiErrorKind::Unavailable);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert!(inner.calls.load(Ordering::SeqCst) > 1);
    }

    #[test]
    fn backoff_doubles_to_its_cap() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::from_millis(50));
        assert_eq!(p.ceiling(1), Duration::from_millis(100));
        assert_eq!(p.ceiling(30), Duration::from_secs(5));
    }
}
