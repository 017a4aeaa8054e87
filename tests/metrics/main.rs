//! Prometheus metrics after real queries: the counters move by the right
//! amounts. A test binary of its own, with one test, because the metrics
//! recorder is one per process and other tests' gateways would move it too.

use std::collections::BTreeMap;

use arrow_flight::error::FlightError;
use redshift_data_emulator::EmulatorConfig;

#[allow(dead_code, unreachable_pub, unused_imports)]
#[path = "../it/common.rs"]
mod common;

/// The response to `GET path` (HTTP/1.1, the connection closed after it).
async fn get(url: &str, path: &str) -> String {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    response
}

/// The samples of a Prometheus text exposition, by series (`name{labels}`).
async fn scrape(url: &str) -> BTreeMap<String, f64> {
    let response = get(url, "/metrics").await;
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// The HTTP status of `GET path`.
async fn status(url: &str, path: &str) -> u16 {
    get(url, path)
        .await
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0)
}

/// The value of the series whose name and labels contain every `part`.
fn value(samples: &BTreeMap<String, f64>, parts: &[&str]) -> f64 {
    samples
        .iter()
        .filter(|(series, _)| parts.iter().all(|p| series.contains(p)))
        .map(|(_, v)| v)
        .sum()
}

#[tokio::test]
async fn metrics_count_what_queries_do() {
    let _ = redshift_flight_sql::telemetry::metrics::recorder();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let metrics_url = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = tokio_util::sync::CancellationToken::new();
    let ready = redshift_flight_sql::telemetry::metrics::Readiness::default();
    tokio::spawn(redshift_flight_sql::telemetry::metrics::serve(
        listener,
        ready.clone(),
        shutdown.clone(),
    ));
    assert_eq!(
        status(&metrics_url, "/readyz").await,
        503,
        "not ready before serving"
    );
    assert_eq!(status(&metrics_url, "/healthz").await, 200);
    ready.set(true);
    assert_eq!(status(&metrics_url, "/readyz").await, 200);

    let stack = common::stack_with(common::StackOptions::default()).await;
    let mut client = stack.client().await;
    let before = scrape(&metrics_url).await;

    // One query read twice: one ExecuteStatement, a cache hit on the re-read.
    let info = client
        .execute("select g from generate_series(1, 1000) g".to_owned(), None)
        .await
        .expect("query");
    let first = common::fetch(&mut client, &info).await;
    let again = common::fetch(&mut client, &info).await;
    assert_eq!(first, again);
    // A statement Redshift refuses.
    let err = client
        .execute("select * from no_such_table".to_owned(), None)
        .await
        .expect_err("missing table");
    assert!(matches!(err, FlightError::Tonic(_)));
    let after = scrape(&metrics_url).await;
    let delta = |parts: &[&str]| value(&after, parts) - value(&before, parts);

    assert_eq!(
        delta(&[
            "rsfs_data_api_calls_total",
            "operation=\"ExecuteStatement\"",
            "outcome=\"ok\""
        ]),
        2.0,
        "one ExecuteStatement per query"
    );
    // Both DoGets start from the cache (the first from the first page that
    // GetFlightInfo cached, the re-read from the whole result): one page read.
    assert_eq!(delta(&["rsfs_cache_lookups_total", "outcome=\"hit\""]), 2.0);
    assert_eq!(
        delta(&["rsfs_cache_lookups_total", "outcome=\"miss\""]),
        0.0
    );
    assert_eq!(
        delta(&[
            "rsfs_data_api_calls_total",
            "operation=\"GetStatementResultV2\"",
            "outcome=\"ok\""
        ]),
        1.0
    );
    assert_eq!(delta(&["rsfs_result_rows_total"]), 1000.0);
    assert!(delta(&["rsfs_result_bytes_total"]) > 0.0);
    assert_eq!(
        delta(&[
            "grpc_server_handled_total",
            "grpc_method=\"GetFlightInfo\"",
            "grpc_code=\"OK\""
        ]),
        1.0
    );
    assert_eq!(
        delta(&[
            "grpc_server_handled_total",
            "grpc_method=\"GetFlightInfo\"",
            "grpc_code=\"InvalidArgument\""
        ]),
        1.0
    );
    assert_eq!(
        delta(&[
            "grpc_server_handled_total",
            "grpc_method=\"DoGet\"",
            "grpc_code=\"OK\""
        ]),
        2.0,
        "a DoGet counts when its stream ends"
    );
    assert!(
        delta(&[
            "grpc_server_handling_seconds_count",
            "grpc_method=\"DoGet\""
        ]) >= 2.0
    );
    assert_eq!(value(&after, &["rsfs_result_streams_open"]), 0.0);

    // Throttling is counted, and retried, under fault injection.
    let throttled = common::stack_with(common::StackOptions {
        emulator: EmulatorConfig {
            throttle_probability: 0.5,
            ..EmulatorConfig::default()
        },
        ..common::StackOptions::default()
    })
    .await;
    let mut client = throttled.client().await;
    // The SDK retries a throttled call itself (3 attempts), so a call
    // reaches the gateway's count only when every attempt was throttled
    // (1 in 8 at this rate): queries run until one has, or 100 have run.
    let throttled_calls = ["rsfs_data_api_calls_total", "outcome=\"throttled\""];
    let mut end = scrape(&metrics_url).await;
    for i in 0..100 {
        if value(&end, &throttled_calls) > 0.0 {
            break;
        }
        let info = client
            .execute(format!("select {i} as n"), None)
            .await
            .expect("absorbed");
        common::fetch(&mut client, &info).await;
        end = scrape(&metrics_url).await;
    }
    assert!(value(&end, &throttled_calls) > 0.0);
    assert!(value(&end, &["rsfs_data_api_retries_total"]) > 0.0);
    // The stacks above read fixed CSV: the format gauge says so.
    assert_eq!(value(&end, &["rsfs_result_format", "format=\"csv\""]), 1.0);
    assert_eq!(value(&end, &["rsfs_result_format", "format=\"json\""]), 0.0);

    statements_in_flight_are_counted_per_principal(&metrics_url).await;
    shutdown.cancel();
}

/// A running statement counts under its principal until it ends.
async fn statements_in_flight_are_counted_per_principal(metrics_url: &str) {
    let stack = common::stack_with(common::StackOptions {
        users: vec![("alice", "wonderland")],
        ..common::StackOptions::default()
    })
    .await;
    let mut raw = stack.raw_client_as("alice", "wonderland").await;
    let alice = ["rsfs_statements_in_flight", "principal=\"alice\""];
    let before = value(&scrape(metrics_url).await, &alice);
    // PollFlightInfo answers while the statement runs.
    let first = raw
        .poll_flight_info(common::statement_descriptor("select pg_sleep(2), 1 as n"))
        .await
        .expect("submitted");
    let running = value(&scrape(metrics_url).await, &alice);
    assert_eq!(running - before, 1.0, "alice's statement is in flight");
    // Poll to the end: the statement is no longer in flight.
    let mut descriptor = first.flight_descriptor;
    while let Some(next) = descriptor {
        descriptor = raw
            .poll_flight_info(next)
            .await
            .expect("poll")
            .flight_descriptor;
    }
    let ended = value(&scrape(metrics_url).await, &alice);
    assert_eq!(ended, before, "the statement ended");
}
