//! Two gateway processes sharing a signing key behave as one service: a
//! ticket from one is served by the other, a PollFlightInfo started on one
//! finishes on the other, and when one is killed in the middle of a DoGet the
//! client's retried DoGet on the other returns every row.

use arrow::array::AsArray as _;
use arrow::datatypes::Int32Type;
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt as _};
use arrow_flight::{FlightClient, FlightDescriptor};
use futures::StreamExt as _;
use prost::Message as _;
use redshift_data_emulator::EmulatorConfig;
use tonic::transport::Channel;

use crate::common::{emulator_with, fetch, unique};
use crate::process::gateway_replica;

const ROWS: i64 = 50_000;

fn numbers() -> String {
    format!("select g::int4 as g, repeat('y', 80) as pad from generate_series(1, {ROWS}) g")
}

async fn channel(url: &str) -> Channel {
    tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect")
}

/// Rows and the sum of `g` of batches whose first column is `g`.
fn count_and_sum(batches: &[arrow::array::RecordBatch]) -> (i64, i64) {
    batches.iter().fold((0, 0), |(n, s), b| {
        let g = b.column(0).as_primitive::<Int32Type>();
        (
            n + i64::try_from(g.len()).unwrap_or(0),
            s + g.iter().flatten().map(i64::from).sum::<i64>(),
        )
    })
}

#[tokio::test]
async fn replicas_serve_each_others_tickets_polls_and_interrupted_streams() {
    let emulator = emulator_with(EmulatorConfig {
        page_bytes: 64 * 1024,
        ..EmulatorConfig::default()
    })
    .await;
    let key = unique("key");
    let mut first = gateway_replica(&emulator.url, &key);
    let second = gateway_replica(&emulator.url, &key);
    let mut on_first = FlightSqlServiceClient::new(channel(&first.url).await);
    let mut on_second = FlightSqlServiceClient::new(channel(&second.url).await);

    // A ticket from the first replica, read on the second.
    let info = on_first.execute(numbers(), None).await.expect("query");
    let all = fetch(&mut on_second, &info).await;
    assert_eq!(count_and_sum(&all), (ROWS, ROWS * (ROWS + 1) / 2));

    // A PollFlightInfo started on the first, finished on the second.
    let mut raw_first = FlightClient::new(channel(&first.url).await);
    let mut raw_second = FlightClient::new(channel(&second.url).await);
    let tag = unique("polled");
    let query = CommandStatementQuery {
        query: format!("select pg_sleep(0.5), 7::int4 as seven, '{tag}' as tag"),
        transaction_id: None,
    };
    let mut poll = raw_first
        .poll_flight_info(FlightDescriptor::new_cmd(query.as_any().encode_to_vec()))
        .await
        .expect("poll on the first");
    while let Some(retry) = poll.flight_descriptor.clone() {
        poll = raw_second
            .poll_flight_info(retry)
            .await
            .expect("poll on the second");
    }
    let info = poll.info.expect("the finished FlightInfo");
    let batches = fetch(&mut on_second, &info).await;
    assert_eq!(batches[0].column(1).as_primitive::<Int32Type>().value(0), 7);

    // The first replica dies in the middle of a DoGet; the client retries the
    // same ticket on the second and gets every row, none twice.
    let info = on_first
        .execute(format!("{} order by g", numbers()), None)
        .await
        .expect("query");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = on_first.do_get(ticket.clone()).await.expect("do_get");
    let partial = stream.next().await.expect("a batch").expect("readable");
    assert!(i64::try_from(partial.num_rows()).unwrap_or(0) < ROWS);
    first.kill();
    let mut interrupted = false;
    while let Some(item) = stream.next().await {
        if item.is_err() {
            interrupted = true;
            break;
        }
    }
    assert!(interrupted, "a killed replica's stream ends with an error");
    let retried: Vec<_> = on_second
        .do_get(ticket)
        .await
        .expect("do_get on the second")
        .map(|b| b.expect("readable"))
        .collect()
        .await;
    assert_eq!(count_and_sum(&retried), (ROWS, ROWS * (ROWS + 1) / 2));
}
