//! Per-principal limits: the statement beyond a principal's limit is refused
//! with RESOURCE_EXHAUSTED while another principal is unaffected, and the
//! room comes back when its statements end, even ones it stopped polling.
//! The same holds for result bytes waiting in a principal's streams.

use arrow_flight::{CancelFlightInfoRequest, FlightClient, PollInfo};
use redshift_flight_sql::config::LimitsConfig;
use tonic::Code;

use super::common::{StackOptions, stack_with, statement_descriptor, unique};

/// Submits a long statement and returns at once (PollFlightInfo).
async fn start_sleeper(client: &mut FlightClient, tag: &str) -> Result<PollInfo, tonic::Status> {
    let sql = format!("select pg_sleep(60), '{tag}' as tag");
    client
        .poll_flight_info(statement_descriptor(&sql))
        .await
        .map_err(|e| match e {
            arrow_flight::error::FlightError::Tonic(status) => *status,
            other => tonic::Status::unknown(other.to_string()),
        })
}

#[tokio::test]
async fn a_principal_at_its_limit_is_refused_and_others_are_not() {
    let stack = stack_with(StackOptions {
        users: vec![("alice", "a-pass"), ("bob", "b-pass")],
        limits: LimitsConfig {
            max_statements_per_principal: 2,
            ..LimitsConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let mut alice = stack.raw_client_as("alice", "a-pass").await;
    let mut bob = stack.raw_client_as("bob", "b-pass").await;

    let first = start_sleeper(&mut alice, &unique("first"))
        .await
        .expect("alice's first");
    let second_tag = unique("second");
    let second = start_sleeper(&mut alice, &second_tag)
        .await
        .expect("alice's second");
    let refused = start_sleeper(&mut alice, &unique("more"))
        .await
        .expect_err("alice's third is over her limit");
    assert_eq!(refused.code(), Code::ResourceExhausted, "{refused:?}");
    assert!(
        refused.message().contains(
            "alice has 2 statements running, the most --max-statements-per-principal allows"
        ),
        "{refused:?}"
    );
    // Bob is unaffected by Alice's limit.
    let bobs = bob
        .poll_flight_info(statement_descriptor("select 1 as n"))
        .await
        .expect("bob's query runs");
    assert!(bobs.info.is_some());

    // Cancelling one through the gateway frees its place at once.
    alice
        .cancel_flight_info(CancelFlightInfoRequest::new(first.info.expect("info")))
        .await
        .expect("cancel");
    let third = start_sleeper(&mut alice, &unique("more"))
        .await
        .expect("room again after a cancel");

    // A statement that ends without the gateway seeing it (here cancelled
    // behind its back, as a client that stopped polling leaves one): the
    // gateway describes her statements when she is at her limit.
    let behind = stack
        .statements_of("alice")
        .await
        .iter()
        .find(|st| st.query_string().is_some_and(|q| q.contains(&second_tag)))
        .expect("alice's second statement")
        .id()
        .to_owned();
    stack
        .emulator
        .client
        .cancel_statement()
        .id(&behind)
        .send()
        .await
        .expect("cancelled behind the gateway's back");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let d = stack
            .emulator
            .client
            .describe_statement()
            .id(&behind)
            .send()
            .await
            .expect("describe");
        if d.status() == Some(&aws_sdk_redshiftdata::types::StatusString::Aborted) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "never aborted");
        tokio::task::yield_now().await;
    }
    let fourth = start_sleeper(&mut alice, &unique("more"))
        .await
        .expect("room again once the unseen statement ended");
    for poll in [second, third, fourth] {
        alice
            .cancel_flight_info(CancelFlightInfoRequest::new(poll.info.expect("info")))
            .await
            .expect("cancel");
    }
}

#[tokio::test]
async fn a_principal_holding_its_result_bytes_gets_no_new_stream() {
    use futures::StreamExt as _;
    let stack = stack_with(StackOptions {
        users: vec![("alice", "a-pass"), ("bob", "b-pass")],
        // Small pages, so the result is many batches.
        emulator: redshift_data_emulator::EmulatorConfig {
            page_bytes: 64 * 1024,
            ..redshift_data_emulator::EmulatorConfig::default()
        },
        limits: LimitsConfig {
            // Any batch waiting for alice's client puts her at the limit.
            max_result_bytes_per_principal: redshift_flight_sql::config::ByteSize(1),
            ..LimitsConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let sql = "select g, repeat('x', 100) as pad from generate_series(1, 20000) g";
    let mut alice = stack.client().await;
    alice.handshake("alice", "a-pass").await.expect("handshake");
    let info = alice.execute(sql.to_owned(), None).await.expect("query");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    // Alice reads one batch and stops: the batch in hand is still hers.
    let mut stalled = alice.do_get(ticket.clone()).await.expect("do_get");
    let first = stalled.next().await.expect("a batch").expect("readable");
    assert!(first.num_rows() < 20_000, "the result is several batches");

    let status = match alice.do_get(ticket.clone()).await {
        Ok(mut s) => match s.next().await {
            Some(Err(arrow_flight::error::FlightError::Tonic(status))) => *status,
            other => panic!("a second stream was served: {other:?}"),
        },
        Err(arrow_flight::error::FlightError::Tonic(status)) => *status,
        Err(other) => panic!("not a gRPC status: {other:?}"),
    };
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status
            .message()
            .contains("--max-result-bytes-per-principal"),
        "{status:?}"
    );

    // Bob is not alice: his stream is served.
    let mut bob = stack.client().await;
    bob.handshake("bob", "b-pass").await.expect("handshake");
    let info = bob
        .execute(sql.to_owned(), None)
        .await
        .expect("bob's query");
    let bobs = super::common::fetch(&mut bob, &info).await;
    assert_eq!(bobs.iter().map(|b| b.num_rows()).sum::<usize>(), 20_000);

    // Once alice has read her stream to its end, she may open another.
    let mut rows = first.num_rows();
    while let Some(batch) = stalled.next().await {
        rows += batch.expect("readable").num_rows();
    }
    assert_eq!(rows, 20_000);
    let again = super::common::fetch(&mut alice, &info_of(&ticket)).await;
    assert_eq!(again.iter().map(|b| b.num_rows()).sum::<usize>(), 20_000);
}

/// A FlightInfo of one endpoint with `ticket` (what `fetch` reads).
fn info_of(ticket: &arrow_flight::Ticket) -> arrow_flight::FlightInfo {
    arrow_flight::FlightInfo::new()
        .with_endpoint(arrow_flight::FlightEndpoint::new().with_ticket(ticket.clone()))
}
