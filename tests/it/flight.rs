//! The gateway through arrow-flight's Flight SQL client: exact types, large
//! streamed results, the results cache, PollFlightInfo and cancel, tickets,
//! auth and errors.

use arrow::array::{Array as _, AsArray as _, RecordBatch};
use arrow::datatypes::{
    DataType, Date32Type, Decimal128Type, Float32Type, Float64Type, Int16Type, Int32Type,
    Int64Type, Time64MicrosecondType, TimeUnit, TimestampMicrosecondType,
};
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt as _};
use arrow_flight::{CancelFlightInfoRequest, CancelStatus, FlightDescriptor, FlightInfo, Ticket};
use aws_sdk_redshiftdata::types::StatusString;
use base64::Engine as _;
use futures::StreamExt as _;
use prost::Message as _;
use tonic::Code;
use tonic::transport::Channel;

use crate::common::{StackOptions, fetch, stack, stack_with, statement_descriptor};

async fn query(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
) -> (FlightInfo, Vec<RecordBatch>) {
    let info = client.execute(sql.to_owned(), None).await.expect("execute");
    let batches = fetch(client, &info).await;
    if let Some(first) = batches.first() {
        let announced = info.clone().try_decode_schema().expect("schema");
        assert_eq!(
            first.schema().as_ref(),
            &announced,
            "stream schema equals FlightInfo schema"
        );
    }
    (info, batches)
}

fn status_of(e: arrow_flight::error::FlightError) -> tonic::Status {
    match e {
        arrow_flight::error::FlightError::Tonic(status) => *status,
        other => panic!("not a gRPC status: {other:?}"),
    }
}

async fn raw_client(
    url: &str,
) -> arrow_flight::flight_service_client::FlightServiceClient<Channel> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    arrow_flight::flight_service_client::FlightServiceClient::new(channel)
}

#[tokio::test]
async fn every_redshift_type_round_trips_exactly() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let table = crate::common::unique("types");
    let setup = format!(
        "create table {table} (i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, n38 numeric(38,12), \
           n5 numeric(5,2), b bool, c char(4), v varchar(20), t text, d date, ts timestamp, \
           ts_far timestamp, tstz timestamptz, tm time, by bytea, j json)"
    );
    query(&mut client, &setup).await;
    let insert = format!(
        "insert into {table} values (1, 2147483647, -9223372036854775807, 1.5, 0.1, \
           -12345678901234567890123456.123456789012, 1.20, true, 'ab', 'héllo ✓ 日本', 'text', \
           '1900-02-28', '1969-12-31 23:59:59.999999', '2262-04-11 23:47:16.854775', \
           '2021-06-21 12:28:00+02', '13:14:15.5', '\\x00ff10', '{{\"k\": [1, null]}}'), \
           (null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)"
    );
    query(&mut client, &insert).await;
    let sql = &format!("select * from {table} order by i2 nulls last");
    let (info, batches) = query(&mut client, sql).await;
    assert_eq!(info.total_records, 2);
    assert_eq!(batches.len(), 1);
    let b = &batches[0];
    let schema = b.schema();
    let types: Vec<&DataType> = schema.fields().iter().map(|f| f.data_type()).collect();
    assert_eq!(
        types,
        [
            &DataType::Int16,
            &DataType::Int32,
            &DataType::Int64,
            &DataType::Float32,
            &DataType::Float64,
            &DataType::Decimal128(38, 12),
            &DataType::Decimal128(5, 2),
            &DataType::Boolean,
            &DataType::Utf8,
            &DataType::Utf8,
            &DataType::Utf8,
            &DataType::Date32,
            &DataType::Timestamp(TimeUnit::Microsecond, None),
            &DataType::Timestamp(TimeUnit::Microsecond, None),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            &DataType::Time64(TimeUnit::Microsecond),
            &DataType::Binary,
            &DataType::Utf8,
        ]
    );
    assert_eq!(
        schema.field(9).metadata()["ARROW:FLIGHT:SQL:TYPE_NAME"],
        "varchar"
    );
    assert_eq!(
        schema.field(9).metadata()["ARROW:FLIGHT:SQL:PRECISION"],
        "20"
    );
    assert_eq!(
        schema.field(17).metadata()["ARROW:extension:name"],
        "arrow.json"
    );
    assert_eq!(b.column(0).as_primitive::<Int16Type>().value(0), 1);
    assert_eq!(b.column(1).as_primitive::<Int32Type>().value(0), i32::MAX);
    assert_eq!(b.column(2).as_primitive::<Int64Type>().value(0), -i64::MAX);
    assert_eq!(b.column(3).as_primitive::<Float32Type>().value(0), 1.5);
    assert_eq!(b.column(4).as_primitive::<Float64Type>().value(0), 0.1);
    assert_eq!(
        b.column(5).as_primitive::<Decimal128Type>().value(0),
        -12_345_678_901_234_567_890_123_456_123_456_789_012
    );
    assert_eq!(b.column(6).as_primitive::<Decimal128Type>().value(0), 120);
    assert!(b.column(7).as_boolean().value(0));
    assert_eq!(b.column(8).as_string::<i32>().value(0), "ab  ");
    assert_eq!(b.column(9).as_string::<i32>().value(0), "héllo ✓ 日本");
    assert_eq!(b.column(11).as_primitive::<Date32Type>().value(0), -25_509);
    assert_eq!(
        b.column(12)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        -1
    );
    assert_eq!(
        b.column(13)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        9_223_372_036_854_775
    );
    assert_eq!(
        b.column(14)
            .as_primitive::<TimestampMicrosecondType>()
            .value(0),
        1_624_271_280_000_000
    );
    assert_eq!(
        b.column(15)
            .as_primitive::<Time64MicrosecondType>()
            .value(0),
        47_655_500_000
    );
    assert_eq!(b.column(16).as_binary::<i32>().value(0), [0x00, 0xff, 0x10]);
    assert_eq!(
        b.column(17).as_string::<i32>().value(0),
        "{\"k\": [1, null]}"
    );
    for c in 0..b.num_columns() {
        assert!(b.column(c).is_null(1), "column {c} row 2 is NULL");
        assert!(schema.field(c).is_nullable());
    }
}

#[tokio::test]
async fn csv_and_json_result_formats_give_identical_batches() {
    let sql = "select g, g * 1.25::numeric(10,2) n, case when g % 3 = 0 then null else 'x,\"' || g end s, \
               case when g % 4 = 0 then '' end e, timestamp '2000-01-01' + g * interval '1 second' ts, g % 2 = 0 b \
               from generate_series(1, 5000) g order by g";
    let json = stack().await;
    let csv = stack_with(StackOptions {
        result_format: redshift_flight_sql::dataapi::ResultFormat::Csv,
        ..StackOptions::default()
    })
    .await;
    let (_, a) = query(&mut json.client().await, sql).await;
    let (_, b) = query(&mut csv.client().await, sql).await;
    let a = arrow::compute::concat_batches(&a[0].schema(), &a).expect("concat");
    let b = arrow::compute::concat_batches(&b[0].schema(), &b).expect("concat");
    assert_eq!(a.num_rows(), 5000);
    assert_eq!(a, b);
    let calls = csv.data_api_calls().await;
    assert!(calls.get("GetStatementResultV2").copied().unwrap_or(0) > 0);
    assert_eq!(calls.get("GetStatementResult"), None);
}

#[tokio::test]
async fn a_million_rows_stream_across_many_pages() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let (info, batches) = query(
        &mut client,
        "select g::int8 id, (g % 1000)::int4 bucket from generate_series(1, 1000000) g",
    )
    .await;
    assert_eq!(info.total_records, 1_000_000);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let mut sum_id: i64 = 0;
    let mut sum_bucket: i64 = 0;
    for b in &batches {
        sum_id += b
            .column(0)
            .as_primitive::<Int64Type>()
            .values()
            .iter()
            .sum::<i64>();
        sum_bucket += b
            .column(1)
            .as_primitive::<Int32Type>()
            .values()
            .iter()
            .map(|v| i64::from(*v))
            .sum::<i64>();
    }
    assert_eq!(rows, 1_000_000);
    // What PostgreSQL computes for the same rows.
    let (_, check) = query(
        &mut client,
        "select sum(g)::int8, sum(g % 1000)::int8 from generate_series(1, 1000000) g",
    )
    .await;
    assert_eq!(
        sum_id,
        check[0].column(0).as_primitive::<Int64Type>().value(0)
    );
    assert_eq!(
        sum_bucket,
        check[0].column(1).as_primitive::<Int64Type>().value(0)
    );
    let calls = stack.data_api_calls().await;
    let pages = calls.get("GetStatementResult").copied().unwrap_or(0)
        + calls.get("GetStatementResultV2").copied().unwrap_or(0);
    assert!(pages > 3, "the result came in {pages} pages");
}

#[tokio::test]
async fn a_cached_reread_makes_no_data_api_call() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let (info, first) = query(&mut client, "select * from generate_series(1, 1000) g").await;
    let before = stack.data_api_calls().await;
    let again = fetch(&mut client, &info).await;
    let after = stack.data_api_calls().await;
    assert_eq!(first, again, "a DoGet is repeatable");
    assert_eq!(before, after, "the second DoGet was served from the cache");
}

#[tokio::test]
async fn bad_sql_is_invalid_argument_with_the_postgres_message() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let err = client
        .execute("select * from no_such_table".to_owned(), None)
        .await
        .expect_err("bad sql");
    let status = status_of(err);
    assert_eq!(status.code(), Code::InvalidArgument);
    assert!(
        status
            .message()
            .contains("relation \"no_such_table\" does not exist"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn statements_without_rows_have_an_empty_schema() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let table = crate::common::unique("ddl");
    let (info, batches) = query(&mut client, &format!("create table {table} (a int)")).await;
    assert!(
        info.try_decode_schema()
            .expect("schema")
            .fields()
            .is_empty()
    );
    assert!(batches.iter().all(|b| b.num_rows() == 0));
}

#[tokio::test]
async fn get_schema_returns_the_query_schema() {
    let stack = stack().await;
    let descriptor = FlightDescriptor::new_cmd(
        CommandStatementQuery {
            query: "select 1::int8 a, 'x'::varchar(3) b".to_owned(),
            transaction_id: None,
        }
        .as_any()
        .encode_to_vec(),
    );
    let mut raw = raw_client(&stack.flight_url).await;
    let result = raw
        .get_schema(descriptor)
        .await
        .expect("schema")
        .into_inner();
    let schema = arrow::datatypes::Schema::try_from(&result).expect("decode");
    assert_eq!(schema.field(0).data_type(), &DataType::Int64);
    assert_eq!(schema.field(1).name(), "b");
    // GetSchema does not run statements: DDL leaves nothing behind.
    let table = crate::common::unique("never");
    let result = raw
        .get_schema(statement_descriptor(&format!(
            "create table {table} (a int)"
        )))
        .await
        .expect("schema of ddl")
        .into_inner();
    assert!(
        arrow::datatypes::Schema::try_from(&result)
            .expect("decode")
            .fields()
            .is_empty()
    );
    let mut client = stack.client().await;
    let (_, batches) = query(
        &mut client,
        &format!(
            "select count(*)::int4 n from information_schema.tables where table_name = '{table}'"
        ),
    )
    .await;
    assert_eq!(batches[0].column(0).as_primitive::<Int32Type>().value(0), 0);
}

#[tokio::test]
async fn poll_flight_info_reports_progress_then_completes() {
    let stack = stack().await;
    let mut raw = arrow_flight::FlightClient::new(
        tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect"),
    );
    let started = std::time::Instant::now();
    let first = raw
        .poll_flight_info(statement_descriptor("select pg_sleep(2), 42::int4 answer"))
        .await
        .expect("poll");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(1),
        "the first poll returns at once"
    );
    let mut descriptor = first
        .flight_descriptor
        .clone()
        .expect("a running query has a retry descriptor");
    let progress = first.progress.expect("progress");
    assert!((0.0..1.0).contains(&progress));
    assert!(first.expiration_time.is_some());
    let mut last = first;
    for _ in 0..30 {
        last = raw
            .poll_flight_info(descriptor.clone())
            .await
            .expect("retry");
        match &last.flight_descriptor {
            Some(next) => {
                let p = last.progress.expect("progress");
                assert!((0.0..1.0).contains(&p));
                descriptor = next.clone();
            }
            None => break,
        }
    }
    assert!(last.flight_descriptor.is_none(), "the query ended");
    assert_eq!(last.progress, Some(1.0));
    let info = last.info.expect("complete FlightInfo");
    let schema = info.clone().try_decode_schema().expect("schema");
    assert_eq!(schema.field(1).name(), "answer");
    let mut client = stack.client().await;
    let batches = fetch(&mut client, &info).await;
    assert_eq!(
        batches[0].column(1).as_primitive::<Int32Type>().value(0),
        42
    );
}

#[tokio::test]
async fn cancel_flight_info_aborts_the_statement() {
    let stack = stack().await;
    let mut raw = arrow_flight::FlightClient::new(
        tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect"),
    );
    let poll = raw
        .poll_flight_info(statement_descriptor("select pg_sleep(30)"))
        .await
        .expect("poll");
    let info = poll.info.clone().expect("info");
    let result = raw
        .cancel_flight_info(CancelFlightInfoRequest::new(info))
        .await
        .expect("cancel");
    assert_eq!(result.status, CancelStatus::Cancelled as i32);
    // The Data API statement ends ABORTED, and polling reports CANCELLED.
    let err = loop {
        match raw
            .poll_flight_info(poll.flight_descriptor.clone().expect("descriptor"))
            .await
        {
            Ok(p) if p.flight_descriptor.is_some() => continue,
            Ok(p) => panic!("a cancelled statement completed: {p:?}"),
            Err(e) => break e,
        }
    };
    let arrow_flight::error::FlightError::Tonic(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.code(), Code::Cancelled);
    let statements = stack
        .emulator
        .client
        .list_statements()
        .status(StatusString::Aborted)
        .send()
        .await
        .expect("list");
    assert!(
        statements
            .statements()
            .iter()
            .any(|s| s.query_string() == Some("select pg_sleep(30)"))
    );
}

async fn handshake_header_only(url: &str, authorization: &str) -> Result<String, tonic::Status> {
    let mut raw = raw_client(url).await;
    // No message at all, as the ADBC and JDBC drivers do.
    let mut request =
        tonic::Request::new(futures::stream::empty::<arrow_flight::HandshakeRequest>());
    request
        .metadata_mut()
        .insert("authorization", authorization.parse().expect("header"));
    let response = raw.handshake(request).await?;
    let header = response
        .metadata()
        .get("authorization")
        .expect("authorization header in the response")
        .to_str()
        .expect("ascii")
        .to_owned();
    let _: Vec<_> = response.into_inner().collect().await;
    Ok(header.strip_prefix("Bearer ").expect("Bearer").to_owned())
}

#[tokio::test]
async fn basic_auth_handshake_issues_bearer_tokens_and_tickets_are_bound() {
    let stack = stack_with(StackOptions {
        users: vec![("alice", "wonderland"), ("bob", "builder")],
        ..StackOptions::default()
    })
    .await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD_NO_PAD.encode(s);
    let alice = handshake_header_only(
        &stack.flight_url,
        &format!("Basic {}", b64("alice:wonderland")),
    )
    .await
    .expect("alice, unpadded base64");
    let padded = base64::engine::general_purpose::STANDARD.encode("bob:builder");
    let bob = handshake_header_only(&stack.flight_url, &format!("Basic {padded}"))
        .await
        .expect("bob, padded base64");
    let wrong = handshake_header_only(&stack.flight_url, &format!("Basic {}", b64("alice:nope")))
        .await
        .expect_err("wrong password");
    assert_eq!(wrong.code(), Code::Unauthenticated);

    // Without a token nothing is served.
    let mut anonymous = stack.client().await;
    let err = anonymous
        .execute("select 1".to_owned(), None)
        .await
        .expect_err("no token");
    assert_eq!(status_of(err).code(), Code::Unauthenticated);

    let mut as_alice = stack.client().await;
    as_alice.set_token(alice);
    let info = as_alice
        .execute("select 'secret'::text s".to_owned(), None)
        .await
        .expect("alice runs");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    assert_eq!(fetch(&mut as_alice, &info).await[0].num_rows(), 1);

    // Bob presents Alice's ticket: refused.
    let mut as_bob = stack.client().await;
    as_bob.set_token(bob);
    let err = as_bob
        .do_get(ticket.clone())
        .await
        .expect_err("foreign ticket");
    assert_eq!(status_of(err).code(), Code::PermissionDenied);

    // A ticket with one byte changed: refused, never served.
    let mut forged = ticket.ticket.to_vec();
    let at = forged.len() - 40;
    forged[at] ^= 0x01;
    let err = as_alice
        .do_get(Ticket::new(forged))
        .await
        .expect_err("forged ticket");
    assert!(matches!(
        status_of(err).code(),
        Code::PermissionDenied | Code::InvalidArgument
    ));
    let err = as_alice
        .do_get(Ticket::new(b"garbage".to_vec()))
        .await
        .expect_err("garbage");
    assert_eq!(status_of(err).code(), Code::InvalidArgument);
}

#[tokio::test]
async fn identical_queries_share_one_execution_when_reuse_is_on() {
    let executes = |calls: &std::collections::BTreeMap<String, u64>| {
        calls.get("ExecuteStatement").copied().unwrap_or(0)
    };
    let sql = format!(
        "select pg_sleep(0.5), '{}'::varchar(40) tag",
        crate::common::unique("same")
    );
    let stack = stack_with(StackOptions {
        reuse_seconds: 60,
        ..StackOptions::default()
    })
    .await;
    let (mut a, mut b) = (stack.client().await, stack.client().await);
    let before = executes(&stack.data_api_calls().await);
    // Two dashboards fire the same query at once: one Data API execution.
    let (x, y) = tokio::join!(query(&mut a, &sql), query(&mut b, &sql));
    assert_eq!(x.1, y.1);
    assert_eq!(executes(&stack.data_api_calls().await) - before, 1);
    // Within the reuse time, the finished statement is reused.
    query(&mut a, &sql).await;
    assert_eq!(executes(&stack.data_api_calls().await) - before, 1);
    // Another text runs.
    query(&mut a, "select 2 as two").await;
    assert_eq!(executes(&stack.data_api_calls().await) - before, 2);

    // Off by default: every query runs.
    let plain = crate::common::stack().await;
    let mut c = plain.client().await;
    let before = executes(&plain.data_api_calls().await);
    query(&mut c, "select 3 as three").await;
    query(&mut c, "select 3 as three").await;
    assert_eq!(executes(&plain.data_api_calls().await) - before, 2);
}
