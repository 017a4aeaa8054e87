//! A fault soak, bounded in time: hundreds of queries of mixed sizes through
//! an emulator that throttles a fifth of all calls, fails one in twenty with
//! a 500 and adds latency — none wrong, none lost, none failed. And an
//! emulator killed and restarted in the middle of a stream: the client gets a
//! clear error or the whole result, never part of it presented as complete.

use arrow::array::AsArray as _;
use arrow::datatypes::Int32Type;
use futures::StreamExt as _;
use redshift_data_emulator::EmulatorConfig;

use crate::common::{StackOptions, fetch, gateway, postgres_url, stack_with, unique};
use crate::process::Process;

/// Queries in the soak, and how many run at once.
const QUERIES: usize = 320;
const CONCURRENCY: usize = 8;
/// Row counts, taken in turn.
const SIZES: [i64; 5] = [1, 10, 300, 3000, 8000];

fn numbers(n: i64, tag: &str) -> String {
    format!("select g::int4 as g, '{tag}' as tag from generate_series(1, {n}) g")
}

/// Rows and the sum of the first column.
fn count_and_sum(batches: &[arrow::array::RecordBatch]) -> (i64, i64) {
    batches.iter().fold((0, 0), |(n, s), b| {
        let g = b.column(0).as_primitive::<Int32Type>();
        (
            n + i64::try_from(b.num_rows()).unwrap_or(0),
            s + g.iter().flatten().map(i64::from).sum::<i64>(),
        )
    })
}

#[tokio::test]
async fn a_fault_soak_loses_nothing() {
    let stack = stack_with(StackOptions {
        emulator: EmulatorConfig {
            throttle_probability: 0.2,
            error_probability: 0.05,
            latency_ms: 2,
            page_bytes: 16 * 1024,
            ..EmulatorConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let outcomes: Vec<Result<(), String>> = futures::stream::iter(0..QUERIES)
        .map(|i| {
            let stack = &stack;
            async move {
                let n = SIZES[i % SIZES.len()];
                let mut client = stack.client().await;
                let info = client
                    .execute(numbers(n, &unique("soak")), None)
                    .await
                    .map_err(|e| format!("query {i} ({n} rows): {e}"))?;
                let mut batches = Vec::new();
                for endpoint in &info.endpoint {
                    let ticket = endpoint.ticket.clone().ok_or("no ticket")?;
                    let stream = client
                        .do_get(ticket)
                        .await
                        .map_err(|e| format!("DoGet {i}: {e}"))?;
                    let got: Vec<_> = stream.collect().await;
                    for b in got {
                        batches.push(b.map_err(|e| format!("stream {i}: {e}"))?);
                    }
                }
                let got = count_and_sum(&batches);
                if got == (n, n * (n + 1) / 2) {
                    Ok(())
                } else {
                    Err(format!("query {i}: {got:?} for {n} rows"))
                }
            }
        })
        .buffer_unordered(CONCURRENCY)
        .collect()
        .await;
    let failures: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    // Faults were met and absorbed: more submissions than queries reached the
    // emulator (each retry of a refused one counts), and every query passed.
    let calls = stack.data_api_calls().await;
    let executes = calls.get("ExecuteStatement").copied().unwrap_or(0);
    assert!(
        executes > u64::try_from(QUERIES).unwrap_or(0),
        "no fault was retried: {calls:?}"
    );
    assert!(
        failures.is_empty(),
        "{} of {QUERIES} failed: {failures:#?}",
        failures.len()
    );
}

#[tokio::test]
async fn an_emulator_restarted_mid_stream_gives_an_error_or_the_whole_result() {
    let postgres = postgres_url();
    let emulator_args = |listen: &str| {
        Process::start(
            &[
                "emulator",
                "--listen",
                listen,
                "--postgres-url",
                &postgres,
                "--page-bytes",
                "16384",
            ],
            &[],
            "emulator listening on http://",
        )
    };
    let mut emulator = emulator_args("127.0.0.1:0");
    let address = emulator.url.trim_start_matches("http://").to_owned();
    let gateway = gateway(&emulator.url, StackOptions::default()).await;
    let channel = tonic::transport::Endpoint::from_shared(gateway.url.clone())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut client = arrow_flight::sql::client::FlightSqlServiceClient::new(channel);
    let n = 40_000;
    let info = client
        .execute(numbers(n, &unique("restart")), None)
        .await
        .expect("query");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = client.do_get(ticket).await.expect("do_get");
    let mut batches = vec![stream.next().await.expect("a batch").expect("readable")];
    emulator.kill();
    // The same address, a new emulator that knows none of the old statements.
    let _restarted = emulator_args(&address);
    let mut error = None;
    while let Some(item) = stream.next().await {
        match item {
            Ok(b) => batches.push(b),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    let (rows, sum) = count_and_sum(&batches);
    match error {
        Some(arrow_flight::error::FlightError::Tonic(status)) => {
            assert!(rows < n, "an error after every row");
            assert!(!status.message().is_empty());
        }
        Some(other) => panic!("not a gRPC status: {other:?}"),
        None => assert_eq!((rows, sum), (n, n * (n + 1) / 2), "a partial result"),
    }
    // And the gateway goes on serving through the new emulator.
    let info = client
        .execute("select 1::int4 as g".to_owned(), None)
        .await
        .expect("a query after the restart");
    assert_eq!(count_and_sum(&fetch(&mut client, &info).await), (1, 1));
}
