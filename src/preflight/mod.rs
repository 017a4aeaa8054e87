//! `redshift-flight-sql check`: a preflight of the configured target that a
//! platform team runs before users do. It reports the credentials and region
//! found, whether the target answers, each Data API operation the gateway
//! needs (allowed, or refused by IAM), the round trip of a `SELECT 1`, and
//! the result-format [`probe`] that `--result-format auto` also runs at start-up.

pub mod probe;

use std::fmt;
use std::time::{Duration, Instant};

use crate::config::{DataApiTarget, ResultFormatSetting};
use crate::dataapi::{
    BatchExecuteRequest, DataApi, DataApiError, DataApiErrorKind, ExecuteRequest, Operation,
    ResultFormat, WaitPolicy, wait_for_statement,
};

/// How one finding came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// As needed.
    Pass,
    /// Works, but not as well as it could.
    Warn,
    /// The gateway cannot work like this.
    Fail,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// How it came out.
    pub verdict: Verdict,
    /// What was checked (`credentials`, `ListTables`, …).
    pub what: String,
    /// What was found.
    pub detail: String,
}

/// The whole preflight.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The findings, in the order they were checked.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Adds a finding.
    pub fn add(&mut self, verdict: Verdict, what: impl Into<String>, detail: impl Into<String>) {
        self.findings.push(Finding {
            verdict,
            what: what.into(),
            detail: detail.into(),
        });
    }

    /// Whether nothing failed.
    pub fn passed(&self) -> bool {
        self.findings.iter().all(|f| f.verdict != Verdict::Fail)
    }

    fn count(&self, verdict: Verdict) -> usize {
        self.findings
            .iter()
            .filter(|f| f.verdict == verdict)
            .count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self
            .findings
            .iter()
            .map(|x| x.what.len())
            .max()
            .unwrap_or(0);
        for finding in &self.findings {
            let verdict = match finding.verdict {
                Verdict::Pass => "PASS",
                Verdict::Warn => "WARN",
                Verdict::Fail => "FAIL",
            };
            writeln!(
                f,
                "{verdict}  {:width$}  {}",
                finding.what,
                finding.detail.replace('\n', " ")
            )?;
        }
        write!(
            f,
            "{} passed, {} warnings, {} failed: {}",
            self.count(Verdict::Pass),
            self.count(Verdict::Warn),
            self.count(Verdict::Fail),
            if self.passed() {
                "the gateway can serve this target"
            } else {
                "fix the failures above before serving"
            }
        )
    }
}

/// What the gateway needs each operation for.
fn needed_for(operation: Operation) -> &'static str {
    match operation {
        Operation::ExecuteStatement => "every query",
        Operation::BatchExecuteStatement => "schemas (search path), transactions and batches",
        Operation::DescribeStatement => "waiting for statements",
        Operation::GetStatementResult => "JSON results",
        Operation::GetStatementResultV2 => "CSV results",
        Operation::CancelStatement => "cancelling queries, and the drain at shutdown",
        Operation::ListDatabases => "GetCatalogs",
        Operation::ListSchemas => "GetDbSchemas",
        Operation::ListTables => "GetTables",
        Operation::DescribeTable => "GetTables with schemas",
        Operation::ListStatements => "ListFlights",
    }
}

/// Whether a failure still shows the caller may call the operation (the
/// request itself was refused, not the caller).
fn allowed(error: &DataApiError) -> bool {
    !matches!(
        error.kind,
        DataApiErrorKind::PermissionDenied
            | DataApiErrorKind::Unauthenticated
            | DataApiErrorKind::Unavailable
            | DataApiErrorKind::Protocol
    )
}

/// The target as the report names it.
fn describe_target(target: &DataApiTarget) -> String {
    format!("{}, database {:?}", target.identity(), target.database)
}

fn millis(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Checks `target` through `api` and adds the findings to `report`: the
/// target answers, each operation is allowed, the round trip of `SELECT 1`,
/// and the result-format probe (judged against `format`).
pub async fn check_target(
    report: &mut Report,
    api: &dyn DataApi,
    target: &DataApiTarget,
    wait: WaitPolicy,
    format: ResultFormatSetting,
) {
    let database = target.database.as_str();
    let began = Instant::now();
    match api.list_databases().await {
        Ok(databases) => {
            report.add(
                Verdict::Pass,
                "target",
                format!(
                    "{} answered in {} ({} databases)",
                    describe_target(target),
                    millis(began.elapsed()),
                    databases.len()
                ),
            );
            report.add(
                Verdict::Pass,
                "ListDatabases",
                needed_for(Operation::ListDatabases),
            );
            if !databases.iter().any(|d| d == database) {
                report.add(
                    Verdict::Warn,
                    "database",
                    format!("{database:?} is not among the databases listed: {databases:?}"),
                );
            }
        }
        Err(e) if allowed(&e) || e.kind == DataApiErrorKind::PermissionDenied => {
            report.add(
                Verdict::Pass,
                "target",
                format!("{} answered", describe_target(target)),
            );
            record::<()>(report, Operation::ListDatabases, &Err(e));
        }
        Err(e) => {
            report.add(
                Verdict::Fail,
                "target",
                format!(
                    "{} did not answer ({:?}): {e}; nothing else was checked",
                    describe_target(target),
                    e.kind
                ),
            );
            return;
        }
    }
    statement_operations(report, api, database, wait).await;
    catalog_operations(report, api, database).await;
    result_format(report, api, database, wait, format).await;
}

/// Adds the finding of one operation's call.
fn record<T>(report: &mut Report, operation: Operation, outcome: &Result<T, DataApiError>) {
    match outcome {
        Ok(_) => report.add(Verdict::Pass, operation.name(), needed_for(operation)),
        Err(e) if allowed(e) => report.add(
            Verdict::Pass,
            operation.name(),
            format!(
                "{} (allowed; the test call was refused: {e})",
                needed_for(operation)
            ),
        ),
        Err(e) => report.add(
            Verdict::Fail,
            operation.name(),
            format!(
                "missing: needed for {} ({:?}: {e})",
                needed_for(operation),
                e.kind
            ),
        ),
    }
}

/// ExecuteStatement, DescribeStatement, both result operations, CancelStatement
/// and BatchExecuteStatement, with the round trip of `SELECT 1`.
async fn statement_operations(
    report: &mut Report,
    api: &dyn DataApi,
    database: &str,
    wait: WaitPolicy,
) {
    for format in [ResultFormat::Json, ResultFormat::Csv] {
        let began = Instant::now();
        let executed = api
            .execute_statement(ExecuteRequest {
                sql: "select 1".to_owned(),
                database: Some(database.to_owned()),
                result_format: format,
                statement_name: Some("rsfs:check".to_owned()),
                ..ExecuteRequest::default()
            })
            .await;
        if format == ResultFormat::Json {
            record(report, Operation::ExecuteStatement, &executed);
        }
        let Ok(id) = executed else { return };
        let described = wait_for_statement(api, &id, wait).await;
        if format == ResultFormat::Json {
            record(report, Operation::DescribeStatement, &described);
        }
        let operation = match format {
            ResultFormat::Json => Operation::GetStatementResult,
            ResultFormat::Csv => Operation::GetStatementResultV2,
        };
        match described {
            Ok(d) if d.status == crate::dataapi::StatementStatus::Finished => {
                let page = api.get_statement_result(&id, format, None).await;
                record(report, operation, &page);
                if format == ResultFormat::Json && page.is_ok() {
                    report.add(
                        Verdict::Pass,
                        "round trip",
                        format!(
                            "SELECT 1 took {} from ExecuteStatement to its result",
                            millis(began.elapsed())
                        ),
                    );
                }
            }
            Ok(d) => report.add(
                Verdict::Fail,
                operation.name(),
                format!(
                    "SELECT 1 ended {:?}: {}",
                    d.status,
                    d.error.unwrap_or_default()
                ),
            ),
            Err(_) => {}
        }
        if format == ResultFormat::Json {
            // Cancelling a finished statement is refused as a request (it
            // has ended), which shows the permission without harm.
            record(
                report,
                Operation::CancelStatement,
                &api.cancel_statement(&id).await,
            );
        }
    }
    let batch = api
        .batch_execute_statement(BatchExecuteRequest {
            sqls: vec!["select 1".to_owned(), "select 2".to_owned()],
            database: Some(database.to_owned()),
            statement_name: Some("rsfs:check".to_owned()),
            result_format: ResultFormat::Json,
            ..BatchExecuteRequest::default()
        })
        .await;
    if let Ok(id) = &batch {
        let _ = wait_for_statement(api, id, wait).await;
    }
    record(report, Operation::BatchExecuteStatement, &batch);
}

/// The catalog operations behind the metadata commands.
async fn catalog_operations(report: &mut Report, api: &dyn DataApi, database: &str) {
    let schemas = api.list_schemas(database, Some("pg_catalog")).await;
    record(report, Operation::ListSchemas, &schemas);
    let tables = api
        .list_tables(database, Some("pg_catalog"), Some("pg_class"))
        .await;
    record(report, Operation::ListTables, &tables);
    let columns = api
        .describe_table(database, Some("pg_catalog"), Some("pg_class"))
        .await;
    record(report, Operation::DescribeTable, &columns);
    let statements = api.list_statements("rsfs:", 1).await;
    record(report, Operation::ListStatements, &statements);
}

/// The probe, judged against the configured format: a difference fails a
/// gateway forced to CSV, and warns one on `auto` (which then uses JSON).
async fn result_format(
    report: &mut Report,
    api: &dyn DataApi,
    database: &str,
    wait: WaitPolicy,
    setting: ResultFormatSetting,
) {
    match probe::probe(api, database, wait).await {
        Ok(found) if found.identical() => report.add(
            Verdict::Pass,
            "result format",
            format!(
                "JSON and CSV converted to identical Arrow ({} columns, {} rows); {}",
                found.columns,
                found.rows,
                match setting {
                    ResultFormatSetting::Json => "--result-format csv or auto would be faster here",
                    _ => "CSV is used",
                }
            ),
        ),
        Ok(found) => report.add(
            if setting == ResultFormatSetting::Csv {
                Verdict::Fail
            } else {
                Verdict::Warn
            },
            "result format",
            format!(
                "CSV results differ from JSON, so {}: {}",
                match setting {
                    ResultFormatSetting::Csv =>
                        "--result-format csv would return wrong values (use auto or json)",
                    _ => "JSON is used",
                },
                found.differences.join("; ")
            ),
        ),
        Err(e) => report.add(
            Verdict::Fail,
            "result format",
            format!("the probe query failed: {e}"),
        ),
    }
}

/// How long the start-up probe of `--result-format auto` may take before
/// the gateway settles for JSON.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The format `--result-format auto` starts with: CSV when the probe finds
/// it identical to JSON within [`PROBE_TIMEOUT`], JSON otherwise; logs which
/// and why.
pub async fn choose_format(api: &dyn DataApi, database: &str, wait: WaitPolicy) -> ResultFormat {
    match tokio::time::timeout(PROBE_TIMEOUT, probe::probe(api, database, wait)).await {
        Ok(Ok(found)) if found.identical() => {
            tracing::info!(
                columns = found.columns,
                rows = found.rows,
                "result format: CSV (the probe read identical values from CSV and JSON)"
            );
            ResultFormat::Csv
        }
        Ok(Ok(found)) => {
            tracing::warn!(
                differences = %found.differences.join("; "),
                "result format: JSON (CSV results differ from JSON)"
            );
            ResultFormat::Json
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "result format: JSON (the probe query failed)");
            ResultFormat::Json
        }
        Err(_) => {
            tracing::warn!(
                timeout = ?PROBE_TIMEOUT,
                "result format: JSON (the probe query did not finish in time)"
            );
            ResultFormat::Json
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_fails_on_any_failure_and_says_so() {
        let mut report = Report::default();
        report.add(Verdict::Pass, "credentials", "environment");
        report.add(Verdict::Warn, "result format", "JSON is used");
        assert!(report.passed());
        report.add(Verdict::Fail, "ListTables", "missing");
        assert!(!report.passed());
        let text = report.to_string();
        assert!(text.contains("FAIL  ListTables     missing"), "{text}");
        assert!(
            text.ends_with("1 passed, 1 warnings, 1 failed: fix the failures above before serving")
        );
    }

    #[test]
    fn a_refused_request_still_shows_the_permission() {
        let refused = DataApiError::new(
            DataApiErrorKind::Validation,
            Operation::CancelStatement,
            "Could not cancel a query that is already finished",
        );
        assert!(allowed(&refused));
        let denied = DataApiError::new(
            DataApiErrorKind::PermissionDenied,
            Operation::ListTables,
            "not authorized",
        );
        assert!(!allowed(&denied));
    }
}
