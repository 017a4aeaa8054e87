//! `--result-format auto` and `check`: the probe reads the same query as JSON
//! and as CSV; against the emulator's usual CSV the gateway reads CSV,
//! against a CSV that writes NULL like an empty string it reads JSON; and the
//! `check` command reports permissions, reachability and the probe.

use std::process::Command;

use arrow::array::{Array as _, AsArray as _};
use redshift_data_emulator::{CsvNull, EmulatorConfig, Operation};
use redshift_flight_sql::config::{AwsSettings, DataApiTarget, RetryConfig};
use redshift_flight_sql::dataapi::{AwsDataApi, ResultFormat, WaitPolicy};
use redshift_flight_sql::preflight::probe::probe;

use super::common::{Stack, StackOptions, emulator_with, fetch, stack_with};
use super::process::AWS_ENV;

/// The emulator's CSV that cannot tell NULL from the empty string.
fn quoted_nulls() -> EmulatorConfig {
    EmulatorConfig {
        csv_null: CsvNull::Quoted,
        ..EmulatorConfig::default()
    }
}

fn api_for(url: &str) -> AwsDataApi {
    AwsDataApi::with_static_credentials(
        &AwsSettings {
            region: Some("us-east-1".to_owned()),
            endpoint_url: Some(url.to_owned()),
        },
        &RetryConfig::default(),
        DataApiTarget {
            cluster_identifier: Some("test-cluster".to_owned()),
            db_user: Some("awsuser".to_owned()),
            ..DataApiTarget::default()
        },
    )
}

#[tokio::test]
async fn the_probe_finds_csv_identical_to_json_on_the_emulator() {
    let emulator = emulator_with(EmulatorConfig::default()).await;
    let report = probe(&api_for(&emulator.url), "dev", WaitPolicy::default())
        .await
        .expect("the probe query runs");
    assert!(report.identical(), "{:?}", report.differences);
    assert_eq!((report.columns, report.rows), (15, 3));
    assert_eq!(report.chosen(), ResultFormat::Csv);
}

#[tokio::test]
async fn the_probe_names_the_value_that_csv_gets_wrong() {
    let emulator = emulator_with(quoted_nulls()).await;
    let report = probe(&api_for(&emulator.url), "dev", WaitPolicy::default())
        .await
        .expect("the probe query runs");
    assert_eq!(report.chosen(), ResultFormat::Json);
    assert!(
        report
            .differences
            .iter()
            .any(|d| d.contains(NUMERIC_NULL_UNREADABLE)),
        "{:?}",
        report.differences
    );
}

/// What the probe finds when CSV writes NULL as `""`: a NULL numeric that
/// cannot be read at all (before any NULL string could be misread).
const NUMERIC_NULL_UNREADABLE: &str = "a CSV page could not be read: column \"dec_negative\" (numeric), row 1: cannot read \"\" as numeric";

/// Runs a query with a NULL and an empty string through the gateway; the
/// result pages it read, by operation, and the values.
async fn query_and_count(stack: &Stack) -> (u64, u64, Vec<Option<String>>) {
    let mut client = stack.client().await;
    // The first call waits for the gateway to serve (after its probe).
    client
        .execute("select 1".to_owned(), None)
        .await
        .expect("ready");
    let before = stack.data_api_calls().await;
    let info = client
        .execute(
            "select * from (values (1, cast(null as varchar)), (2, '')) as t(n, s) order by n"
                .to_owned(),
            None,
        )
        .await
        .expect("query");
    let batches = fetch(&mut client, &info).await;
    let after = stack.data_api_calls().await;
    let delta =
        |op: &str| after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0);
    let values = batches
        .iter()
        .flat_map(|b| {
            let s = b.column(1).as_string::<i32>();
            (0..s.len())
                .map(|i| s.is_valid(i).then(|| s.value(i).to_owned()))
                .collect::<Vec<_>>()
        })
        .collect();
    (
        delta("GetStatementResultV2"),
        delta("GetStatementResult"),
        values,
    )
}

#[tokio::test]
async fn auto_reads_csv_from_the_usual_emulator() {
    let stack = stack_with(StackOptions {
        auto_format: true,
        ..StackOptions::default()
    })
    .await;
    let (csv, json, values) = query_and_count(&stack).await;
    assert_eq!((csv, json), (1, 0), "the page was read as CSV");
    assert_eq!(values, [None, Some(String::new())]);
}

#[tokio::test]
async fn auto_reads_json_when_csv_cannot_tell_null_from_empty() {
    let stack = stack_with(StackOptions {
        emulator: quoted_nulls(),
        auto_format: true,
        ..StackOptions::default()
    })
    .await;
    let (csv, json, values) = query_and_count(&stack).await;
    assert_eq!((csv, json), (0, 1), "the page was read as JSON");
    assert_eq!(values, [None, Some(String::new())], "NULL stays NULL");

    // Forced to CSV, the same gateway would have turned the NULL into "".
    let forced = stack_with(StackOptions {
        emulator: quoted_nulls(),
        result_format: ResultFormat::Csv,
        ..StackOptions::default()
    })
    .await;
    let (_, _, values) = query_and_count(&forced).await;
    assert_eq!(values, [Some(String::new()), Some(String::new())]);
}

/// Runs `redshift-flight-sql check` against `endpoint`: its exit code and report.
async fn check(endpoint: &str, extra: &[&str]) -> (i32, String) {
    let mut args = vec![
        "check".to_owned(),
        "--cluster-identifier".to_owned(),
        "test-cluster".to_owned(),
        "--db-user".to_owned(),
        "awsuser".to_owned(),
        "--endpoint-url".to_owned(),
        endpoint.to_owned(),
        "--max-attempts".to_owned(),
        "1".to_owned(),
    ];
    args.extend(extra.iter().map(|s| (*s).to_owned()));
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_redshift-flight-sql"))
            .args(&args)
            .envs(AWS_ENV)
            .env("RUST_LOG", "error")
            .output()
            .expect("running check")
    })
    .await
    .expect("check thread");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test]
async fn check_passes_against_the_emulator() {
    let emulator = emulator_with(EmulatorConfig::default()).await;
    let (code, report) = check(&emulator.url, &[]).await;
    assert_eq!(code, 0, "{report}");
    for line in [
        "PASS  credentials",
        "from EnvironmentVariable (access key …)",
        "PASS  region",
        "PASS  target",
        "PASS  ExecuteStatement",
        "PASS  GetStatementResultV2",
        "PASS  CancelStatement",
        "PASS  BatchExecuteStatement",
        "PASS  ListTables",
        "PASS  DescribeTable",
        "PASS  ListStatements",
        "PASS  round trip",
        "PASS  result format",
        "0 failed: the gateway can serve this target",
    ] {
        assert!(report.contains(line), "no {line:?} in\n{report}");
    }
}

#[tokio::test]
async fn check_fails_and_names_each_denied_operation() {
    let emulator = emulator_with(EmulatorConfig {
        deny_operations: vec![Operation::ListTables, Operation::CancelStatement],
        ..EmulatorConfig::default()
    })
    .await;
    let (code, report) = check(&emulator.url, &[]).await;
    assert_eq!(code, 1, "{report}");
    for line in [
        "FAIL  ListTables",
        "missing: needed for GetTables (PermissionDenied: User: ",
        "not authorized to perform: redshift-data:ListTables",
        "FAIL  CancelStatement",
        "PASS  ListSchemas",
        "2 failed: fix the failures above before serving",
    ] {
        assert!(report.contains(line), "no {line:?} in\n{report}");
    }
}

#[tokio::test]
async fn check_fails_when_the_target_does_not_answer() {
    // A port that was free a moment ago: nothing listens there.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        format!("http://{}", listener.local_addr().expect("addr"))
    };
    let (code, report) = check(&closed, &[]).await;
    assert_eq!(code, 1, "{report}");
    assert!(report.contains("FAIL  target"), "{report}");
    assert!(report.contains("did not answer (Unavailable)"), "{report}");
    assert!(report.contains("nothing else was checked"), "{report}");
}

#[tokio::test]
async fn check_judges_a_different_csv_by_the_configured_format() {
    let emulator = emulator_with(quoted_nulls()).await;
    let (code, report) = check(&emulator.url, &[]).await;
    assert_eq!(code, 0, "auto falls back to JSON: a warning\n{report}");
    assert!(report.contains("WARN  result format"), "{report}");
    assert!(report.contains("so JSON is used"), "{report}");
    let (code, report) = check(&emulator.url, &["--result-format", "csv"]).await;
    assert_eq!(code, 1, "forced CSV would return wrong values\n{report}");
    assert!(report.contains("FAIL  result format"), "{report}");
    assert!(report.contains(NUMERIC_NULL_UNREADABLE), "{report}");
}
