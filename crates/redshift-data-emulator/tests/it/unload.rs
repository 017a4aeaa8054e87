//! UNLOAD … FORMAT PARQUET through ExecuteStatement, written to a local
//! directory (`--s3-local-dir`) and read back with the Parquet reader:
//! every type, slices and parts as Redshift names them, the manifest, the
//! rules on a destination that is not empty, and the errors.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{
    Array as _, AsArray as _, BooleanArray, Date32Array, Float32Array, Float64Array, Int16Array,
    Int32Array, Int64Array, RecordBatch, RecordBatchReader as _, StringArray,
    Time64MicrosecondArray,
};
use arrow::datatypes::{DataType, Decimal128Type, SchemaRef, TimeUnit, TimestampMicrosecondType};
use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::StatusString;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use redshift_data_emulator::EmulatorConfig;

use crate::fixture::{Emulator, emulator_with, unique};
use crate::sdk::{CLUSTER, finish, run};

const BUCKET: &str = "unload-bucket";
const ROLE: &str = "IAM_ROLE 'arn:aws:iam::123456789012:role/unload'";

/// An emulator that unloads into a temporary directory.
async fn unload_emulator() -> (Emulator, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let emu = emulator_with(EmulatorConfig {
        unload_local_dir: Some(dir.path().to_owned()),
        ..EmulatorConfig::default()
    })
    .await;
    (emu, dir)
}

#[track_caller]
fn finished(d: &DescribeStatementOutput) {
    assert_eq!(d.status(), Some(&StatusString::Finished), "{:?}", d.error());
}

#[track_caller]
fn failed_with(d: &DescribeStatementOutput, message: &str) {
    assert_eq!(d.status(), Some(&StatusString::Failed));
    assert_eq!(d.error(), Some(message));
}

/// The keys under `prefix` in the bucket's directory, in name order.
fn keys(dir: &Path, prefix: &str) -> Vec<String> {
    fn walk(root: &Path, at: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(at) else {
            return;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let key = path.strip_prefix(root).expect("under root");
                out.push(key.to_string_lossy().into_owned());
            }
        }
    }
    let root = dir.join(BUCKET);
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    out.retain(|k| k.starts_with(prefix));
    out.sort();
    out
}

fn file(dir: &Path, key: &str) -> PathBuf {
    dir.join(BUCKET).join(key)
}

/// The schema and batches of one Parquet file.
fn read(path: &Path) -> (SchemaRef, Vec<RecordBatch>) {
    let f = std::fs::File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(f)
        .expect("parquet")
        .build()
        .expect("reader");
    let schema = reader.schema();
    let batches = reader.collect::<Result<Vec<_>, _>>().expect("batches");
    (schema, batches)
}

/// The Int64 values of the first column of a file, in order.
fn first_column(path: &Path) -> Vec<i64> {
    let (_, batches) = read(path);
    batches
        .iter()
        .flat_map(|b| {
            b.column(0)
                .as_any()
                .downcast_ref::<Int64Array>()
                .expect("int8 column")
                .values()
                .to_vec()
        })
        .collect()
}

/// Runs `sql` as the database user `user` and waits for it.
async fn run_as(
    c: &aws_sdk_redshiftdata::Client,
    user: &str,
    sql: &str,
) -> DescribeStatementOutput {
    let out = c
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .db_user(user)
        .database("dev")
        .sql(sql)
        .send()
        .await
        .expect("execute");
    finish(c, out.id().expect("id")).await
}

fn unload(query: &str, prefix: &str, options: &str) -> String {
    format!("UNLOAD ('{query}') TO 's3://{BUCKET}/{prefix}' {ROLE} FORMAT AS PARQUET {options}")
}

#[tokio::test]
async fn every_type_is_written_as_redshift_writes_parquet() {
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    let table = unique("unload_types");
    finished(
        &run(
            c,
            &format!(
                "create table {table} (b bool, s int2, i int4, l int8, r float4, d float8, \
                 n numeric(22,2), u numeric, t text, v varchar(20), ch char(4), dt date, \
                 tm time, ts timestamp, tz timestamptz, j json, jb jsonb, iv interval, id uuid)"
            ),
        )
        .await,
    );
    finished(
        &run(
            c,
            &format!(
                "insert into {table} values (true, -2, 7, 9223372036854775807, 0.5, -1.25, \
                 12345678901234567890.12, 3.14159265358979323846264338327950288, 'it''s', 'héllo', 'ab', \
                 '1969-07-20', '23:59:59.5', '2020-08-21 17:33:51.88712', '2021-06-21 10:28:00+02', \
                 '{{\"a\": [1, 2]}}', '{{\"b\": 1}}', '1 day 02:00:00', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'), \
                 (null, null, null, null, null, null, null, null, null, null, null, null, null, \
                 null, null, null, null, null, null)"
            ),
        )
        .await,
    );
    let d = run(
        c,
        &unload(
            &format!("select * from {table}, (select 26::oid oid_col) o order by i"),
            "types/",
            "PARALLEL OFF",
        ),
    )
    .await;
    finished(&d);
    assert_eq!(d.result_rows(), 2);
    assert_eq!(d.has_result_set(), Some(false));
    assert_eq!(d.result_size(), 0);
    assert_eq!(keys(dir.path(), "types/"), ["types/000.parquet"]);

    let (schema, batches) = read(&file(dir.path(), "types/000.parquet"));
    let types: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    let utc = DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()));
    let local = DataType::Timestamp(TimeUnit::Microsecond, None);
    assert_eq!(
        types,
        [
            ("b", &DataType::Boolean),
            ("s", &DataType::Int16),
            ("i", &DataType::Int32),
            ("l", &DataType::Int64),
            ("r", &DataType::Float32),
            ("d", &DataType::Float64),
            ("n", &DataType::Decimal128(22, 2)),
            ("u", &DataType::Utf8),
            ("t", &DataType::Utf8),
            ("v", &DataType::Utf8),
            ("ch", &DataType::Utf8),
            ("dt", &DataType::Date32),
            ("tm", &DataType::Time64(TimeUnit::Microsecond)),
            ("ts", &local),
            ("tz", &utc),
            ("j", &DataType::Utf8),
            ("jb", &DataType::Utf8),
            ("iv", &DataType::Utf8),
            ("id", &DataType::Utf8),
            ("oid_col", &DataType::Int64),
        ]
    );
    let batch = arrow::compute::concat_batches(&schema, &batches).expect("one batch");
    assert_eq!(batch.num_rows(), 2);
    let col = |name: &str| Arc::clone(batch.column_by_name(name).expect(name));
    let text = |name: &str| {
        col(name)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect(name)
            .value(0)
            .to_owned()
    };
    assert!(
        col("b")
            .as_any()
            .downcast_ref::<BooleanArray>()
            .expect("b")
            .value(0)
    );
    assert_eq!(
        col("s")
            .as_any()
            .downcast_ref::<Int16Array>()
            .expect("s")
            .value(0),
        -2
    );
    assert_eq!(
        col("i")
            .as_any()
            .downcast_ref::<Int32Array>()
            .expect("i")
            .value(0),
        7
    );
    assert_eq!(
        col("l")
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("l")
            .value(0),
        i64::MAX
    );
    assert_eq!(
        col("r")
            .as_any()
            .downcast_ref::<Float32Array>()
            .expect("r")
            .value(0),
        0.5
    );
    assert_eq!(
        col("d")
            .as_any()
            .downcast_ref::<Float64Array>()
            .expect("d")
            .value(0),
        -1.25
    );
    let n = col("n");
    let n = n.as_primitive::<Decimal128Type>();
    assert_eq!(n.value(0), 1_234_567_890_123_456_789_012);
    assert_eq!(n.value_as_string(0), "12345678901234567890.12");
    assert_eq!(text("u"), "3.14159265358979323846264338327950288");
    assert_eq!(text("t"), "it's");
    assert_eq!(text("v"), "héllo");
    assert_eq!(text("ch"), "ab  ");
    // 1969-07-20: 165 days before the Unix epoch.
    assert_eq!(
        col("dt")
            .as_any()
            .downcast_ref::<Date32Array>()
            .expect("dt")
            .value(0),
        -165
    );
    assert_eq!(
        col("tm")
            .as_any()
            .downcast_ref::<Time64MicrosecondArray>()
            .expect("tm")
            .value(0),
        86_399_500_000
    );
    let ts = col("ts");
    // 2020-08-21 17:33:51.88712 (no zone).
    assert_eq!(
        ts.as_primitive::<TimestampMicrosecondType>().value(0),
        1_598_031_231_887_120
    );
    let tz = col("tz");
    // 2021-06-21 10:28:00+02 is 08:28:00 UTC.
    assert_eq!(
        tz.as_primitive::<TimestampMicrosecondType>().value(0),
        1_624_264_080_000_000
    );
    assert_eq!(text("j"), "{\"a\": [1, 2]}");
    assert_eq!(text("jb"), "{\"b\": 1}");
    assert_eq!(text("iv"), "1 day 02:00:00");
    assert_eq!(text("id"), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    assert_eq!(
        col("oid_col")
            .as_any()
            .downcast_ref::<Int64Array>()
            .expect("oid")
            .value(0),
        26
    );
    // The second row is all NULL (but for the oid of the cross join).
    for (i, column) in batch.columns().iter().enumerate().take(19) {
        assert!(column.is_null(1), "column {i} of the NULL row");
    }
}

#[tokio::test]
async fn parallel_on_deals_rows_to_the_slices_and_zero_rows_is_one_file() {
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    let d = run(
        c,
        &unload(
            "select i::int8 from generate_series(0, 9) i order by i",
            "par/x_",
            "PARALLEL ON",
        ),
    )
    .await;
    finished(&d);
    assert_eq!(d.result_rows(), 10);
    let names = keys(dir.path(), "par/");
    assert_eq!(
        names,
        [
            "par/x_0000_part_00.parquet",
            "par/x_0001_part_00.parquet",
            "par/x_0002_part_00.parquet",
            "par/x_0003_part_00.parquet"
        ]
    );
    assert_eq!(first_column(&file(dir.path(), &names[0])), [0, 4, 8]);
    assert_eq!(first_column(&file(dir.path(), &names[3])), [3, 7]);

    let d = run(c, &unload("select 1::int8 a where false", "none/", "")).await;
    finished(&d);
    assert_eq!(d.result_rows(), 0);
    assert_eq!(keys(dir.path(), "none/"), ["none/0000_part_00.parquet"]);
    let (schema, batches) = read(&file(dir.path(), "none/0000_part_00.parquet"));
    assert_eq!(schema.field(0).name(), "a");
    assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 0);
}

#[tokio::test]
async fn parallel_off_writes_in_row_order_in_parts_of_maxfilesize_with_a_manifest() {
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    // About 14 MB of hex, which Snappy hardly shrinks: several 5 MB parts.
    let query = "select i::int8, md5(i::text) || md5((i + 1)::text) || md5((i + 2)::text) s \
                 from generate_series(1, 150000) i order by i";
    let d = run(
        c,
        &unload(
            query,
            "big/",
            "PARALLEL OFF MAXFILESIZE 5 MB MANIFEST VERBOSE",
        ),
    )
    .await;
    finished(&d);
    assert_eq!(d.result_rows(), 150_000);
    let names = keys(dir.path(), "big/");
    let parts: Vec<&String> = names.iter().filter(|n| n.ends_with(".parquet")).collect();
    assert!(parts.len() >= 2, "{names:?}");
    let mut rows = Vec::new();
    for (i, name) in parts.iter().enumerate() {
        assert_eq!(**name, format!("big/{i:03}.parquet"));
        rows.extend(first_column(&file(dir.path(), name)));
    }
    assert_eq!(rows, (1..=150_000).collect::<Vec<i64>>());
    assert_eq!(names.last().map(String::as_str), Some("big/manifest"));

    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(file(dir.path(), "big/manifest")).expect("manifest"))
            .expect("manifest json");
    let entries = manifest["entries"].as_array().expect("entries");
    assert_eq!(entries.len(), parts.len());
    let mut total_bytes = 0;
    let mut total_rows = 0;
    for (entry, name) in entries.iter().zip(&parts) {
        assert_eq!(entry["url"], format!("s3://{BUCKET}/{name}"));
        let size = std::fs::metadata(file(dir.path(), name))
            .expect("size")
            .len();
        assert_eq!(entry["meta"]["content_length"], size);
        total_bytes += size;
        total_rows += entry["meta"]["record_count"]
            .as_u64()
            .expect("record_count");
    }
    for entry in &entries[..entries.len() - 1] {
        let size = entry["meta"]["content_length"].as_u64().expect("size");
        assert!(size > 4 * 1024 * 1024, "a part closed early: {size}");
    }
    assert_eq!(total_rows, 150_000);
    assert_eq!(manifest["meta"]["content_length"], total_bytes);
    assert_eq!(manifest["meta"]["record_count"], 150_000);

    // Without VERBOSE: the URLs only.
    let d = run(c, &unload("select 1::int8", "plain/", "MANIFEST")).await;
    finished(&d);
    let manifest: serde_json::Value = serde_json::from_slice(
        &std::fs::read(file(dir.path(), "plain/manifest")).expect("manifest"),
    )
    .expect("manifest json");
    assert_eq!(
        manifest,
        serde_json::json!({"entries": [{"url": format!("s3://{BUCKET}/plain/0000_part_00.parquet")}]})
    );
}

#[tokio::test]
async fn a_destination_that_is_not_empty_needs_allowoverwrite_or_cleanpath() {
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    let first = unload("select i::int8 from generate_series(1, 8) i", "again/", "");
    finished(&run(c, &first).await);
    assert_eq!(keys(dir.path(), "again/").len(), 4);
    failed_with(
        &run(c, &first).await,
        "ERROR: Specified unload destination on S3 is not empty. Consider using a different \
         bucket / prefix, manually removing the target files in S3, or using the ALLOWOVERWRITE option.",
    );
    assert_eq!(keys(dir.path(), "again/").len(), 4, "the first files stay");

    let fewer = "select i::int8 from generate_series(100, 101) i";
    finished(&run(c, &unload(fewer, "again/", "ALLOWOVERWRITE")).await);
    assert_eq!(
        keys(dir.path(), "again/").len(),
        4,
        "overwritten, others kept"
    );
    assert_eq!(
        first_column(&file(dir.path(), "again/0000_part_00.parquet")),
        [100]
    );
    assert_eq!(
        first_column(&file(dir.path(), "again/0002_part_00.parquet")),
        [3, 7]
    );

    std::fs::write(file(dir.path(), "again/stale.txt"), "old").expect("stale file");
    finished(&run(c, &unload(fewer, "again/", "CLEANPATH")).await);
    assert_eq!(
        keys(dir.path(), "again/"),
        ["again/0000_part_00.parquet", "again/0001_part_00.parquet"]
    );
    failed_with(
        &run(c, &unload(fewer, "again/", "ALLOWOVERWRITE CLEANPATH")).await,
        "ERROR: ALLOWOVERWRITE and CLEANPATH cannot be used together",
    );
}

#[tokio::test]
async fn unsupported_types_formats_and_clauses_fail_in_redshift_words() {
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    failed_with(
        &run(
            c,
            &unload("select 1 a, ''\\\\xff''::bytea blob", "err/", ""),
        )
        .await,
        "ERROR: UNLOAD to Parquet does not support the VARBYTE type of column \"blob\"",
    );
    failed_with(
        &run(
            c,
            &format!("UNLOAD ('select 1') TO 's3://{BUCKET}/err/' {ROLE} FORMAT CSV"),
        )
        .await,
        "ERROR: the emulator runs UNLOAD only as FORMAT PARQUET, not FORMAT CSV",
    );
    failed_with(
        &run(c, &unload("select 1 limit 1", "err/", "")).await,
        "ERROR: Limit clause is not supported.",
    );
    failed_with(
        &run(c, &unload("select 1", "err/", "PARALLEL SIDEWAYS")).await,
        "ERROR: syntax error at or near \"SIDEWAYS\"",
    );
    failed_with(
        &run(c, &unload("select * from no_such_table", "err/", "")).await,
        "ERROR: relation \"no_such_table\" does not exist",
    );
    assert!(keys(dir.path(), "err/").is_empty());
}

#[tokio::test]
async fn a_failure_midway_removes_the_files_written() {
    // Some 14 MB of rows (two or more finished 5 MB parts) before the error.
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    let d = run(
        c,
        &unload(
            "select i::int8, md5(i::text) || md5((i + 1)::text) || md5((i + 2)::text) s, \
             1 / (i - 150000) q from generate_series(1, 200000) i",
            "half/",
            "PARALLEL OFF MAXFILESIZE 5 MB",
        ),
    )
    .await;
    failed_with(&d, "ERROR: division by zero");
    assert!(
        keys(dir.path(), "half/").is_empty(),
        "{:?}",
        keys(dir.path(), "half/")
    );
}

#[tokio::test]
async fn the_query_runs_with_the_privileges_of_the_statements_user() {
    let (emu, dir) = unload_emulator().await;
    let c = &emu.client;
    let table = unique("unload_secret");
    let user = unique("unload_user");
    for sql in [
        format!("create table {table} (a int8)"),
        format!("insert into {table} values (1)"),
        format!("create role {user}"),
    ] {
        finished(&run(c, &sql).await);
    }
    failed_with(
        &run_as(
            c,
            &user,
            &unload(&format!("select * from {table}"), "priv/", ""),
        )
        .await,
        &format!("ERROR: permission denied for table {table}"),
    );
    assert!(keys(dir.path(), "priv/").is_empty());
    finished(&run(c, &format!("grant select on {table} to {user}")).await);
    let d = run_as(
        c,
        &user,
        &unload(&format!("select * from {table}"), "priv/", ""),
    )
    .await;
    finished(&d);
    assert_eq!(d.result_rows(), 1);
}
