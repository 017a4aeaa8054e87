//! Input that must not hurt: each answered with the right code and no Data
//! API call where none is needed — placeholder numbers past the limit, SQL
//! past the Data API's size, too many bound rows, and request messages that
//! are not protobuf at all.

use arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use bytes::{Buf as _, BufMut as _, Bytes};
use std::sync::Arc;
use tonic::Code;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

use crate::common::{fetch, stack};

fn code_of(err: arrow_flight::error::FlightError) -> Code {
    match err {
        arrow_flight::error::FlightError::Tonic(status) => status.code(),
        other => panic!("not a gRPC status: {other:?}"),
    }
}

fn executes(calls: &std::collections::BTreeMap<String, u64>) -> u64 {
    ["ExecuteStatement", "BatchExecuteStatement"]
        .iter()
        .map(|op| calls.get(*op).copied().unwrap_or(0))
        .sum()
}

#[tokio::test]
async fn placeholder_numbers_past_the_limit_are_refused_before_any_call() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let before = executes(&stack.data_api_calls().await);
    for sql in ["select $18446744073709551615", "select $1000000"] {
        let err = client
            .prepare(sql.to_owned(), None)
            .await
            .expect_err("refused");
        assert_eq!(code_of(err), Code::InvalidArgument, "{sql}");
    }
    assert_eq!(executes(&stack.data_api_calls().await), before);
    // The server is unharmed: the next statement runs.
    let info = client
        .execute("select 1 as one".to_owned(), None)
        .await
        .expect("still serving");
    assert_eq!(fetch(&mut client, &info).await[0].num_rows(), 1);
}

#[tokio::test]
async fn sql_past_the_data_api_limit_is_refused_before_any_call() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let before = executes(&stack.data_api_calls().await);
    for size in [100 * 1024 + 1, 5 * 1024 * 1024] {
        let sql = format!("select '{}'", "x".repeat(size));
        let err = client
            .execute(sql.clone(), None)
            .await
            .expect_err("too long");
        assert_eq!(code_of(err), Code::InvalidArgument);
        let err = client.prepare(sql, None).await.expect_err("too long");
        assert_eq!(code_of(err), Code::InvalidArgument);
    }
    assert_eq!(executes(&stack.data_api_calls().await), before);
}

#[tokio::test]
async fn bound_rows_are_capped_and_many_rows_answer_in_order() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let mut prepared = client
        .prepare("select ?::int4 as n, ?::varchar as tag".to_owned(), None)
        .await
        .expect("prepare");
    let rows = |n: i32| {
        RecordBatch::try_from_iter(vec![
            (
                "1",
                Arc::new(Int32Array::from_iter_values(0..n)) as ArrayRef,
            ),
            (
                "2",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("row {i}")),
                )) as ArrayRef,
            ),
        ])
        .expect("rows")
    };
    prepared.set_parameters(rows(1001)).expect("bind");
    let err = prepared.execute().await.expect_err("over the cap");
    assert_eq!(code_of(err), Code::InvalidArgument);
    // Twenty rows: twenty statements, answered as endpoints in row order.
    prepared.set_parameters(rows(20)).expect("bind");
    let info = prepared.execute().await.expect("twenty rows");
    assert_eq!(info.endpoint.len(), 20);
    let batches = fetch(&mut client, &info).await;
    let got: Vec<i32> = batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int32Array>()
                .expect("int4")
                .values()
                .to_vec()
        })
        .collect();
    assert_eq!(got, (0..20).collect::<Vec<_>>());
}

/// A codec that sends bytes as they are and reads answers as bytes.
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Self::Error> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Self;
    type Decoder = Self;

    fn encoder(&mut self) -> Self {
        *self
    }

    fn decoder(&mut self) -> Self {
        *self
    }
}

#[tokio::test]
async fn request_messages_that_are_not_protobuf_are_invalid_arguments() {
    let stack = stack().await;
    let channel = tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
        .expect("endpoint")
        .connect()
        .await
        .expect("connect");
    // Wire type 7 does not exist: no protobuf decoder accepts these bytes.
    let garbage = Bytes::from_static(b"\x0f\xff\xff\xff");
    for (rpc, streaming) in [
        ("GetFlightInfo", false),
        ("PollFlightInfo", false),
        ("GetSchema", false),
        ("DoGet", true),
        ("DoAction", true),
    ] {
        let mut grpc = tonic::client::Grpc::new(channel.clone());
        grpc.ready().await.expect("ready");
        let path = format!("/arrow.flight.protocol.FlightService/{rpc}")
            .parse()
            .expect("path");
        let request = tonic::Request::new(garbage.clone());
        let status = if streaming {
            grpc.server_streaming(request, path, RawCodec)
                .await
                .map(|_| ())
                .expect_err(rpc)
        } else {
            grpc.unary(request, path, RawCodec)
                .await
                .map(|_| ())
                .expect_err(rpc)
        };
        assert_eq!(status.code(), Code::InvalidArgument, "{rpc}: {status:?}");
    }
}
