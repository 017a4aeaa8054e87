//! A client that goes away cancels its statement, whatever path runs it: a
//! blocking GetFlightInfo, a DoPut update, an update inside a transaction, the
//! DoGet of a prepared query that GetFlightInfo answered before it ended.

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

#[tokio::test]
async fn a_prepared_query_answers_before_it_ends_and_a_dropped_do_get_cancels_it() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let sql = format!(
        "select pg_sleep(30)::varchar as slept, '{}'::varchar as marker",
        unique("pending")
    );
    let mut prepared = client.prepare(sql.clone(), None).await.expect("prepare");
    let announced = prepared.dataset_schema().expect("dataset schema").clone();
    // Answered while the statement still runs (JDBC can only cancel or time
    // out a query whose GetFlightInfo has returned).
    let info = prepared.execute().await.expect("GetFlightInfo");
    use aws_sdk_redshiftdata::types::StatusString;
    let status = crate::common::statement_of_sql(&stack, &sql)
        .await
        .status()
        .cloned()
        .expect("a status");
    assert!(
        matches!(
            status,
            StatusString::Submitted | StatusString::Picked | StatusString::Started
        ),
        "GetFlightInfo answered before the statement ended: {status:?}"
    );
    assert_eq!(info.clone().try_decode_schema().expect("schema"), announced);
    assert_eq!(
        info.total_records, -1,
        "not known before the statement ends"
    );
    // DoGet waits for the statement; a client that gives up cancels it.
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let waited = tokio::time::timeout(Duration::from_secs(1), client.do_get(ticket)).await;
    assert!(waited.is_err(), "DoGet waits while the statement runs");
    assert_aborted(&stack, &sql).await;
}

#[tokio::test]
async fn a_prepared_querys_stream_has_exactly_the_announced_schema() {
    use std::sync::Arc;

    use arrow::array::{Array as _, AsArray as _, Int32Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};

    let stack = stack().await;
    let mut client = stack.client().await;
    let mut prepared = client
        .prepare(
            "select ?::int + 1 as next, ? as echoed, 12.5::numeric(6,2) as price, \
             '2024-02-29 10:11:12'::timestamp as at where ?::int > 0"
                .to_owned(),
            None,
        )
        .await
        .expect("prepare");
    let announced = prepared.dataset_schema().expect("dataset schema").clone();
    let params = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("1", DataType::Int32, false),
            Field::new("2", DataType::Utf8, false),
            Field::new("3", DataType::Int32, false),
        ])),
        vec![
            Arc::new(Int32Array::from(vec![41])),
            Arc::new(StringArray::from(vec!["héllo"])),
            Arc::new(Int32Array::from(vec![1])),
        ],
    )
    .expect("params");
    prepared.set_parameters(params).expect("bind");
    let info = prepared.execute().await.expect("GetFlightInfo");
    assert_eq!(info.clone().try_decode_schema().expect("schema"), announced);
    let batches = crate::common::fetch(&mut client, &info).await;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 1);
    let batch = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
    assert_eq!(
        *batch.schema(),
        announced,
        "the stream's schema is the announced one"
    );
    assert_eq!(batch.column(0).as_primitive::<Int32Type>().value(0), 42);
    let echoed = arrow::compute::cast(batch.column(1), &DataType::Utf8).expect("text");
    assert_eq!(echoed.as_string::<i32>().value(0), "héllo");
    assert!(!batch.column(2).is_null(0));
    // A failed statement fails its DoGet with Redshift's message.
    let mut failing = client
        .prepare("select 1 / (?::int - 1) as boom".to_owned(), None)
        .await
        .expect("prepare");
    failing
        .set_parameters(
            RecordBatch::try_new(
                Arc::new(Schema::new(vec![Field::new("1", DataType::Int32, false)])),
                vec![Arc::new(Int32Array::from(vec![1]))],
            )
            .expect("params"),
        )
        .expect("bind");
    let info = failing
        .execute()
        .await
        .expect("GetFlightInfo answers first");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let err = match client.do_get(ticket).await {
        Err(e) => e,
        Ok(stream) => futures::TryStreamExt::try_collect::<Vec<_>>(stream)
            .await
            .expect_err("division by zero"),
    };
    let status = crate::common::status_of(err);
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert!(status.message().contains("division by zero"), "{status:?}");
}

#[tokio::test]
async fn a_prepared_query_whose_scale_only_its_values_tell_is_read_exactly() {
    use arrow::array::AsArray as _;
    use arrow::datatypes::{DataType, Decimal128Type};

    // PostgreSQL's unconstrained numeric has no precision before it has
    // values: its GetFlightInfo waits for the result rather than announce a
    // schema that would round 1.25.
    let stack = stack().await;
    let mut client = stack.client().await;
    let mut prepared = client
        .prepare("select 1.25::numeric as n".to_owned(), None)
        .await
        .expect("prepare");
    let info = prepared.execute().await.expect("GetFlightInfo");
    let schema = info.clone().try_decode_schema().expect("schema");
    assert_eq!(schema.field(0).data_type(), &DataType::Decimal128(38, 2));
    assert_eq!(info.total_records, 1, "the statement had ended");
    let batches = crate::common::fetch(&mut client, &info).await;
    let batch = batches.iter().find(|b| b.num_rows() > 0).expect("a row");
    assert_eq!(
        batch.column(0).as_primitive::<Decimal128Type>().value(0),
        125
    );
}

#[tokio::test]
async fn a_prepared_query_in_a_transaction_ends_before_its_flight_info() {
    // A transaction's session runs one statement at a time: its queries end
    // before GetFlightInfo answers, so the client's next statement finds the
    // session free.
    let stack = stack().await;
    let mut client = stack.client().await;
    let transaction = client.begin_transaction().await.expect("begin");
    let mut prepared = client
        .prepare("select 7 as seven".to_owned(), Some(transaction.clone()))
        .await
        .expect("prepare");
    let info = prepared.execute().await.expect("GetFlightInfo");
    assert_eq!(info.total_records, 1, "the statement had ended");
    let mut next = client
        .prepare("select 8 as eight".to_owned(), Some(transaction.clone()))
        .await
        .expect("prepare the next");
    let next_info = next.execute().await.expect("the session is free");
    assert_eq!(
        crate::common::fetch(&mut client, &info).await[0].num_rows(),
        1
    );
    assert_eq!(
        crate::common::fetch(&mut client, &next_info).await[0].num_rows(),
        1
    );
    client
        .end_transaction(transaction, arrow_flight::sql::EndTransaction::Commit)
        .await
        .expect("commit");
}
