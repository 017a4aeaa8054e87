//! The drain at shutdown: health turns NOT_SERVING, a new query is refused
//! with UNAVAILABLE, a stream in progress reads to its end, and a statement
//! still running when the drain timeout passes ends ABORTED on the Data API.

use std::time::Duration;

use arrow_flight::FlightClient;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt as _};
use futures::StreamExt as _;
use prost::Message as _;
use redshift_data_emulator::EmulatorConfig;
use redshift_flight_sql::config::{HumanDuration, ServerConfig};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

use crate::common::{StackOptions, assert_aborted, stack_with, unique};

const FLIGHT_SERVICE: &str = "arrow.flight.protocol.FlightService";

#[tokio::test]
async fn a_drain_finishes_streams_refuses_new_statements_and_cancels_the_rest() {
    let mut stack = stack_with(StackOptions {
        emulator: EmulatorConfig {
            page_bytes: 64 * 1024,
            ..EmulatorConfig::default()
        },
        server: ServerConfig {
            drain_timeout: HumanDuration::secs(3),
            ..ServerConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let channel = tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    let mut health = HealthClient::new(channel.clone());
    let mut statuses = health
        .watch(HealthCheckRequest {
            service: FLIGHT_SERVICE.to_owned(),
        })
        .await
        .expect("watch")
        .into_inner();
    let first = statuses.next().await.expect("a status").expect("status");
    assert_eq!(first.status(), ServingStatus::Serving);

    // A stream in progress: one batch read of many.
    let mut client = stack.client().await;
    let rows = 60_000;
    let info = client
        .execute(
            format!("select g, repeat('z', 60) as pad from generate_series(1, {rows}) g"),
            None,
        )
        .await
        .expect("query");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let mut stream = client.do_get(ticket).await.expect("do_get");
    let mut read = stream
        .next()
        .await
        .expect("a batch")
        .expect("readable")
        .num_rows();

    // A statement that would run for two minutes.
    let sleeper = format!("select pg_sleep(120), '{}' as tag", unique("sleeper"));
    let mut raw = FlightClient::new(channel.clone());
    raw.poll_flight_info(arrow_flight::FlightDescriptor::new_cmd(
        CommandStatementQuery {
            query: sleeper.clone(),
            transaction_id: None,
        }
        .as_any()
        .encode_to_vec(),
    ))
    .await
    .expect("submitted");

    let served = stack.gateway.shut_down();
    let drained = statuses.next().await.expect("a status").expect("status");
    assert_eq!(drained.status(), ServingStatus::NotServing);
    let err = client
        .execute("select 1".to_owned(), None)
        .await
        .expect_err("no new statement while draining");
    let arrow_flight::error::FlightError::Tonic(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    while let Some(batch) = stream.next().await {
        read += batch.expect("the stream finishes").num_rows();
    }
    assert_eq!(read, rows);

    // The drain timeout passes with the sleeper still running: it is cancelled.
    assert_aborted(&stack, &sleeper).await;
    tokio::time::timeout(Duration::from_secs(30), served)
        .await
        .expect("run returns after the drain")
        .expect("run");
}
