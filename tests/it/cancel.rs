//! A client that goes away cancels its statement, whatever path runs it: a
//! blocking GetFlightInfo, a DoPut update, an update inside a transaction.

use std::time::Duration;

use arrow_flight::sql::client::FlightSqlServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::common::{Stack, assert_aborted, stack, unique};

/// A client that gives up on any call after 1.5 s, as a user closing a tab does.
async fn impatient_client(stack: &Stack) -> FlightSqlServiceClient<Channel> {
    let channel = tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
        .expect("endpoint")
        .timeout(Duration::from_millis(1500))
        .connect()
        .await
        .expect("connect");
    FlightSqlServiceClient::new(channel)
}

fn code_of(err: arrow_flight::error::FlightError) -> Code {
    match err {
        arrow_flight::error::FlightError::Tonic(status) => status.code(),
        other => panic!("not a gRPC status: {other:?}"),
    }
}

#[tokio::test]
async fn a_client_that_goes_away_during_get_flight_info_cancels_the_statement() {
    let stack = stack().await;
    let sql = format!("select pg_sleep(30), '{}'", unique("gone"));
    let mut client = impatient_client(&stack).await;
    let err = client
        .execute(sql.clone(), None)
        .await
        .expect_err("the client gives up");
    assert_eq!(code_of(err), Code::Cancelled);
    assert_aborted(&stack, &sql).await;
}

#[tokio::test]
async fn a_client_that_goes_away_during_an_update_cancels_it() {
    let stack = stack().await;
    let sql = format!(
        "create table {} as select 1 as n from pg_sleep(30)",
        unique("never")
    );
    let mut client = impatient_client(&stack).await;
    let err = client
        .execute_update(sql.clone(), None)
        .await
        .expect_err("the client gives up");
    assert_eq!(code_of(err), Code::Cancelled);
    assert_aborted(&stack, &sql).await;
}

#[tokio::test]
async fn a_client_that_goes_away_inside_a_transaction_cancels_its_statement() {
    let stack = stack().await;
    let mut client = impatient_client(&stack).await;
    let transaction = client.begin_transaction().await.expect("begin");
    let sql = format!(
        "create table {} as select 1 as n from pg_sleep(30)",
        unique("never")
    );
    let err = client
        .execute_update(sql.clone(), Some(transaction))
        .await
        .expect_err("the client gives up");
    assert_eq!(code_of(err), Code::Cancelled);
    assert_aborted(&stack, &sql).await;
}
