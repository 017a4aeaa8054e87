//! The UNLOAD result path end to end: the emulator writes Parquet files for
//! `UNLOAD … FORMAT PARQUET` into a directory, the gateway answers one
//! endpoint per file and streams each back as Arrow, equal to what the page
//! path gives for the same query; past the emulator's result cap a query is
//! run again through UNLOAD; files of an expired result are deleted.

use std::path::{Path, PathBuf};

use arrow::array::{AsArray as _, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::Int32Type;
use arrow_flight::FlightInfo;
use arrow_flight::sql::client::FlightSqlServiceClient;
use redshift_data_emulator::EmulatorConfig;
use redshift_flight_sql::config::UnloadConfig;
use tonic::transport::Channel;

use super::common::{Stack, StackOptions, fetch, stack_with, status_of, unique};

const BUCKET: &str = "unload-tests";

/// A stack whose emulator and gateway share an UNLOAD directory.
async fn unload_stack(dir: &Path, emulator: EmulatorConfig, cache_ttl_seconds: u64) -> Stack {
    stack_with(StackOptions {
        emulator: EmulatorConfig {
            unload_local_dir: Some(dir.to_owned()),
            ..emulator
        },
        unload: UnloadConfig {
            unload_s3_uri: Some(format!("s3://{BUCKET}/results/").parse().expect("uri")),
            unload_iam_role: Some("arn:aws:iam::123456789012:role/unload".to_owned()),
            unload_local_dir: Some(dir.to_owned()),
            ..UnloadConfig::default()
        },
        cache_ttl_seconds,
        ..StackOptions::default()
    })
    .await
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique("rsfs-unload"));
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

/// The Parquet files under the results folder.
fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.join(BUCKET)];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "parquet") {
                found.push(path);
            }
        }
    }
    found
}

async fn run(
    client: &mut FlightSqlServiceClient<Channel>,
    sql: &str,
    unload: &str,
) -> (FlightInfo, Vec<RecordBatch>) {
    client.set_header("rsfs-unload", unload);
    let info = client.execute(sql.to_owned(), None).await.expect("execute");
    let batches = fetch(client, &info).await;
    (info, batches)
}

fn one_batch(info: &FlightInfo, batches: &[RecordBatch]) -> RecordBatch {
    let schema = std::sync::Arc::new(info.clone().try_decode_schema().expect("schema"));
    for b in batches {
        assert_eq!(b.schema(), schema, "every batch in the announced schema");
    }
    concat_batches(&schema, batches).expect("concat")
}

/// The status a DoGet of `info`'s first endpoint ends with (at the call or in the stream).
async fn first_endpoint_fails(
    client: &mut FlightSqlServiceClient<Channel>,
    info: &FlightInfo,
) -> tonic::Status {
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    match client.do_get(ticket).await {
        Err(e) => status_of(e),
        Ok(stream) => {
            let read: Result<Vec<RecordBatch>, _> =
                futures::TryStreamExt::try_collect(stream).await;
            status_of(read.expect_err("the DoGet fails"))
        }
    }
}

/// The sum of an int4 first column.
fn sum_of_first_column(batch: &RecordBatch) -> i64 {
    batch
        .column(0)
        .as_primitive::<Int32Type>()
        .iter()
        .flatten()
        .map(i64::from)
        .sum()
}

#[tokio::test]
async fn a_result_through_unload_is_the_page_paths_exactly() {
    let dir = temp_dir();
    let stack = unload_stack(&dir, EmulatorConfig::default(), 0).await;
    let mut client = stack.client().await;
    let table = unique("unload_types");
    client
        .execute_update(
            format!(
                "create table {table} (id int4, i2 int2, i8 int8, f4 float4, f8 float8, \
                 n38 numeric(38,12), n5 numeric(5,2), b bool, c char(4), v varchar(20), d date, \
                 ts timestamp, tstz timestamptz, tm time, j json)"
            ),
            None,
        )
        .await
        .expect("create");
    client
        .execute_update(
            format!(
                "insert into {table} values (1, -32768, -9223372036854775807, 1.5, 0.1, \
                 -12345678901234567890123456.123456789012, 1.20, true, 'ab', 'héllo ✓ it''s', \
                 '1900-02-28', '1969-12-31 23:59:59.999999', '2021-06-21 12:28:00+02', \
                 '13:14:15.5', '{{\"k\": [1, null]}}'), \
                 (2, null, null, null, null, null, null, null, null, null, null, null, null, null, null)"
            ),
            None,
        )
        .await
        .expect("insert");
    let sql = format!("select * from {table} order by id");
    let (paged_info, paged) = run(&mut client, &sql, "off").await;
    let (info, unloaded) = run(&mut client, &sql, "on").await;
    assert!(
        !parquet_files(&dir).is_empty(),
        "the second run went through UNLOAD"
    );
    assert_eq!(
        info.clone().try_decode_schema().expect("schema"),
        paged_info.clone().try_decode_schema().expect("schema"),
        "the same schema, Flight SQL metadata included"
    );
    assert!(info.ordered, "ORDER BY: PARALLEL OFF, endpoints in order");
    assert_eq!(info.total_records, 2);
    assert_eq!(
        one_batch(&info, &unloaded),
        one_batch(&paged_info, &paged),
        "the same values, to the last digit and microsecond"
    );
}

#[tokio::test]
async fn an_unloaded_result_is_one_endpoint_per_file() {
    let dir = temp_dir();
    let stack = unload_stack(
        &dir,
        EmulatorConfig {
            slices: 4,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await;
    let mut client = stack.client().await;
    let sql = "select g as n, md5(g::text) as h from generate_series(1, 20000) g";
    let (info, batches) = run(&mut client, sql, "on").await;
    assert_eq!(info.endpoint.len(), 4, "one file per slice");
    assert!(!info.ordered, "no ORDER BY: files in no order");
    assert_eq!(info.total_records, 20_000);
    let all = one_batch(&info, &batches);
    let mut seen: Vec<i32> = all
        .column(0)
        .as_primitive::<Int32Type>()
        .iter()
        .flatten()
        .collect();
    seen.sort_unstable();
    assert_eq!(seen, (1..=20_000).collect::<Vec<_>>(), "every row once");
    // Every endpoint has a ticket of its own, readable on its own.
    let tickets: std::collections::HashSet<Vec<u8>> = info
        .endpoint
        .iter()
        .map(|e| e.ticket.clone().expect("ticket").ticket.to_vec())
        .collect();
    assert_eq!(tickets.len(), 4);

    // A ticket whose files were deleted (a lifecycle rule, another
    // replica's expiry) is NOT_FOUND, not INTERNAL.
    for file in parquet_files(&dir) {
        std::fs::remove_file(file).expect("delete");
    }
    let failed = first_endpoint_fails(&mut client, &info).await;
    assert_eq!(failed.code(), tonic::Code::NotFound, "{failed:?}");
    assert!(failed.message().contains("expired"), "{failed:?}");
}

#[tokio::test]
async fn past_the_result_cap_a_query_runs_again_through_unload() {
    let dir = temp_dir();
    let stack = unload_stack(
        &dir,
        EmulatorConfig {
            max_result_bytes: 50_000,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await;
    let mut client = stack.client().await;
    let sql = "select g as n, repeat('x', 40) as pad from generate_series(1, 5000) g";
    // With UNLOAD off the Data API's refusal is the answer, with its message.
    client.set_header("rsfs-unload", "off");
    let refused = status_of(
        client
            .execute(sql.to_owned(), None)
            .await
            .expect_err("too large for the page path"),
    );
    assert_eq!(refused.code(), tonic::Code::InvalidArgument, "{refused:?}");
    assert!(
        refused.message().contains("exceeds the limit"),
        "{refused:?}"
    );
    assert!(parquet_files(&dir).is_empty());
    // The default (auto): the page path fails, UNLOAD serves every row.
    let (info, batches) = run(&mut client, sql, "auto").await;
    let all = one_batch(&info, &batches);
    assert_eq!(all.num_rows(), 5000);
    let sum = sum_of_first_column(&all);
    assert_eq!(sum, 5000 * 5001 / 2);
    assert!(!parquet_files(&dir).is_empty(), "read through UNLOAD");
}

#[tokio::test]
async fn an_expired_result_has_its_files_deleted() {
    let dir = temp_dir();
    let stack = unload_stack(&dir, EmulatorConfig::default(), 1).await;
    let mut client = stack.client().await;
    let (info, batches) = run(&mut client, "select g from generate_series(1, 10) g", "on").await;
    assert_eq!(one_batch(&info, &batches).num_rows(), 10);
    assert!(!parquet_files(&dir).is_empty());
    // The retention sweep runs every TTL (1 s here): wait for it, bounded.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !parquet_files(&dir).is_empty() {
        assert!(
            std::time::Instant::now() < deadline,
            "the files of an expired result were not deleted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let failed = first_endpoint_fails(&mut client, &info).await;
    assert_eq!(failed.code(), tonic::Code::NotFound, "{failed:?}");
}

#[tokio::test]
async fn what_unload_cannot_run_takes_the_page_path() {
    let dir = temp_dir();
    let stack = unload_stack(&dir, EmulatorConfig::default(), 0).await;
    let mut client = stack.client().await;
    // A top-level LIMIT (UNLOAD refuses it): served by the page path.
    let (info, batches) = run(
        &mut client,
        "select g from generate_series(1, 100) g order by g limit 7",
        "on",
    )
    .await;
    assert_eq!(one_batch(&info, &batches).num_rows(), 7);
    assert!(parquet_files(&dir).is_empty(), "no UNLOAD ran");
}

#[tokio::test]
async fn a_prepared_query_answered_early_is_unloaded_when_its_result_is_refused() {
    let dir = temp_dir();
    let stack = unload_stack(
        &dir,
        EmulatorConfig {
            max_result_bytes: 50_000,
            ..EmulatorConfig::default()
        },
        0,
    )
    .await;
    let mut client = stack.client().await;
    // A prepared query's GetFlightInfo answers before the statement runs
    // (the JDBC driver's path); the refusal comes at DoGet.
    let sql = "select g as n, repeat('y', 40) as pad from generate_series(1, 5000) g";
    let mut prepared = client.prepare(sql.to_owned(), None).await.expect("prepare");
    let info = prepared.execute().await.expect("execute");
    assert_eq!(
        info.endpoint.len(),
        1,
        "answered before the statement ended"
    );
    let all = one_batch(&info, &fetch(&mut client, &info).await);
    assert_eq!(all.num_rows(), 5000);
    let sum = sum_of_first_column(&all);
    assert_eq!(sum, 5000 * 5001 / 2);
    assert!(!parquet_files(&dir).is_empty(), "read through UNLOAD");
}
