//! Clients that stop reading hold only their own streams: a new query is
//! answered as usual while they stall, and a stream left unread past the idle
//! limit ends with an error instead of holding its memory for ever.

use std::time::Duration;

use arrow_flight::Ticket;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::sql::client::FlightSqlServiceClient;
use futures::StreamExt as _;
use redshift_data_emulator::EmulatorConfig;
use redshift_flight_sql::config::{HumanDuration, LimitsConfig};
use tonic::Code;
use tonic::transport::Channel;

use crate::common::{Stack, StackOptions, fetch, stack_with};

const ROWS: usize = 200_000;

/// A result of many small pages (the emulator cuts pages at 128 KiB).
fn large_query() -> String {
    format!("select g, repeat('x', 100) as pad from generate_series(1, {ROWS}) g")
}

/// A stack whose gateway may fetch or convert only two pages at once.
async fn small_budget_stack(idle: Duration) -> Stack {
    stack_with(StackOptions {
        emulator: EmulatorConfig {
            page_bytes: 128 * 1024,
            ..EmulatorConfig::default()
        },
        limits: LimitsConfig {
            pages_in_flight: std::num::NonZeroUsize::new(2).expect("two"),
            stream_idle_timeout: HumanDuration(idle),
            ..LimitsConfig::default()
        },
        ..StackOptions::default()
    })
    .await
}

/// A client, the ticket of the large result, and its stream after one batch.
async fn stalled_reader(
    stack: &Stack,
) -> (
    FlightSqlServiceClient<Channel>,
    Ticket,
    FlightRecordBatchStream,
    usize,
) {
    let mut client = stack.client().await;
    let info = client.execute(large_query(), None).await.expect("query");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = client.do_get(ticket.clone()).await.expect("do_get");
    let first = stream.next().await.expect("a batch").expect("readable");
    (client, ticket, stream, first.num_rows())
}

/// Reads a stream to its end: the rows, and the error that ended it if any.
async fn drain(stream: &mut FlightRecordBatchStream) -> (usize, Option<tonic::Status>) {
    let mut rows = 0;
    while let Some(item) = stream.next().await {
        match item {
            Ok(batch) => rows += batch.num_rows(),
            Err(arrow_flight::error::FlightError::Tonic(status)) => return (rows, Some(*status)),
            Err(other) => panic!("not a gRPC status: {other:?}"),
        }
    }
    (rows, None)
}

#[tokio::test]
async fn stalled_readers_do_not_hold_back_a_new_query() {
    let stack = small_budget_stack(Duration::from_secs(300)).await;
    let mut stalled = Vec::new();
    for _ in 0..3 {
        stalled.push(stalled_reader(&stack).await);
    }
    // Three streams now wait for clients that do not read. A new query is
    // answered as usual (the client gives up after 20 s; it takes milliseconds).
    let channel = tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
        .expect("endpoint")
        .timeout(Duration::from_secs(20))
        .connect()
        .await
        .expect("connect");
    let mut fresh = FlightSqlServiceClient::new(channel);
    let info = fresh
        .execute("select 41 + 1 as answer".to_owned(), None)
        .await
        .expect("a new query is not held back");
    let batches = fetch(&mut fresh, &info).await;
    let answer = batches[0]
        .column(0)
        .as_any()
        .downcast_ref::<arrow::array::Int32Array>()
        .expect("int4");
    assert_eq!(answer.value(0), 42);
    // The stalled readers lost nothing: each reads on to the last row.
    for (_client, _ticket, mut stream, first) in stalled {
        let (rest, error) = drain(&mut stream).await;
        assert!(error.is_none(), "{error:?}");
        assert_eq!(first + rest, ROWS);
    }
}

#[tokio::test]
async fn a_stream_left_unread_past_the_idle_limit_ends_with_an_error() {
    let stack = small_budget_stack(Duration::from_secs(1)).await;
    let (mut client, ticket, mut stream, first) = stalled_reader(&stack).await;
    // The client stops reading for longer than the limit (this pause is the
    // behaviour under test, not a wait for something to happen).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (rest, error) = drain(&mut stream).await;
    let error = error.expect("the stream ends with an error, not as if complete");
    assert_eq!(error.code(), Code::Aborted, "{error:?}");
    assert!(
        error.message().contains("DoGet the same ticket again"),
        "{error:?}"
    );
    assert!(first + rest < ROWS);
    // DoGet is repeatable: read promptly, the same ticket gives every row.
    let mut again = client.do_get(ticket).await.expect("do_get again");
    let (rows, error) = drain(&mut again).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(rows, ROWS);
}
