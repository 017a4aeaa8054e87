//! The performance benchmark (issue "Performance"): starts PostgreSQL and the
//! Data API emulator in-process, the gateway as its own process (so its memory
//! can be read), creates the benchmark table with generate_series, and prints
//! P1–P8, each against a baseline measured in the same run (medians of several
//! runs, with min–max). P2/P3 come from `scripts/bench_clients.py` (ADBC,
//! awswrangler, ADBC-PostgreSQL) in the project's virtualenv.
//!
//! `scripts/bench.sh` runs it; `--rows`, `--runs`, `--clients`,
//! `--client-rows`, `--wrangler-rows`, `--result-format`, `--cache-bytes`
//! and `--unload-rows` (P8's table, 0 for none) size it.

// A terminal program: progress goes to stderr, the table to stdout.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use arrow::array::RecordBatch;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::flight_service_server::{FlightService, FlightServiceServer};
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::{FlightInfo, Ticket};
use aws_sdk_redshiftdata::config::{BehaviorVersion, Credentials, Region};
use futures::{StreamExt as _, TryStreamExt as _, stream};
use redshift_data_emulator::{self as emulator, EmulatorConfig, ThrowawayCluster};
use redshift_flight_sql::config::DataApiTarget;
use redshift_flight_sql::convert::PageConverter;
use redshift_flight_sql::convert::pages::{convert_in_order, parallel_conversions};
use redshift_flight_sql::dataapi::{AwsDataApi, DataApi as _, ResultFormat, ResultPage};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

#[derive(Debug, Clone)]
struct Options {
    rows: u64,
    runs: usize,
    clients: usize,
    client_rows: u64,
    wrangler_rows: u64,
    result_format: String,
    python: String,
    cache_bytes: u64,
    /// Rows of P8's table (0: no P8).
    unload_rows: u64,
    /// Where the emulator writes and the gateway reads UNLOAD's files.
    unload_dir: std::path::PathBuf,
}

fn options() -> anyhow::Result<Options> {
    let mut o = Options {
        rows: 1_000_000,
        runs: 5,
        clients: 64,
        client_rows: 100_000,
        wrangler_rows: 100_000,
        result_format: "csv".to_owned(),
        cache_bytes: 1 << 30,
        unload_rows: 5_000_000,
        unload_dir: std::env::temp_dir().join(format!("rsfs-bench-unload-{}", std::process::id())),
        python: std::env::var("RSFS_VENV").map_or_else(
            |_| ".venv/bin/python".to_owned(),
            |v| format!("{v}/bin/python"),
        ),
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--rows" => o.rows = value.parse()?,
            "--runs" => o.runs = value.parse()?,
            "--clients" => o.clients = value.parse()?,
            "--client-rows" => o.client_rows = value.parse()?,
            "--wrangler-rows" => o.wrangler_rows = value.parse()?,
            "--result-format" => o.result_format = value,
            "--python" => o.python = value,
            "--cache-bytes" => o.cache_bytes = value.parse()?,
            "--unload-rows" => o.unload_rows = value.parse()?,
            other => bail!("unknown option {other}"),
        }
        i += 2;
    }
    o.client_rows = o.client_rows.min(o.rows);
    o.wrangler_rows = o.wrangler_rows.min(o.rows);
    Ok(o)
}

/// Median, minimum and maximum of some durations, in seconds.
#[derive(Debug, Clone, Copy)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

fn stat(mut samples: Vec<f64>) -> Stat {
    samples.sort_by(f64::total_cmp);
    Stat {
        median: samples[samples.len() / 2],
        min: samples[0],
        max: samples[samples.len() - 1],
    }
}

/// The CSV text of a GetStatementResultV2 page (its `CSVRecords` strings).
fn csv_text(page: &[u8]) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Page {
        #[serde(rename = "Records")]
        records: Vec<Records>,
    }
    #[derive(serde::Deserialize)]
    struct Records {
        #[serde(rename = "CSVRecords")]
        csv: String,
    }
    let page: Page = serde_json::from_slice(page)?;
    Ok(page.records.into_iter().map(|r| r.csv).collect())
}

/// Tokenises CSV text with csv-core, building nothing: how many fields.
fn csv_core_fields(text: &str) -> usize {
    let mut reader = csv_core::Reader::new();
    let mut input = text.as_bytes();
    let mut field = [0u8; 64 * 1024];
    let mut fields = 0usize;
    loop {
        let (result, read, _) = reader.read_field(input, &mut field);
        input = &input[read..];
        match result {
            csv_core::ReadFieldResult::Field { .. } => fields += 1,
            csv_core::ReadFieldResult::End => return fields,
            csv_core::ReadFieldResult::InputEmpty if input.is_empty() => {
                // Flush the last field.
                let (result, _, _) = reader.read_field(&[], &mut field);
                if matches!(result, csv_core::ReadFieldResult::Field { .. }) {
                    fields += 1;
                }
                return fields;
            }
            csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
        }
    }
}

/// Reads CSV text with arrow-csv into `schema`'s types, except
/// those it cannot parse in Redshift's spelling (booleans `t`/`f`,
/// timestamptz `+00`), read as text: rows read.
fn arrow_csv_rows(texts: &[String], schema: &arrow::datatypes::SchemaRef) -> anyhow::Result<usize> {
    let fields: Vec<arrow::datatypes::Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let data_type = match f.data_type() {
                arrow::datatypes::DataType::Boolean
                | arrow::datatypes::DataType::Timestamp(_, Some(_)) => {
                    arrow::datatypes::DataType::Utf8
                }
                other => other.clone(),
            };
            arrow::datatypes::Field::new(f.name(), data_type, true)
        })
        .collect();
    let schema = Arc::new(arrow::datatypes::Schema::new(fields));
    let mut rows = 0usize;
    for text in texts {
        let reader = arrow_csv::ReaderBuilder::new(Arc::clone(&schema))
            .with_batch_size(64 * 1024)
            .build(text.as_bytes())?;
        for batch in reader {
            rows += batch?.num_rows();
        }
    }
    Ok(rows)
}

/// The pages of statement `id` through the gateway's Data API client, each
/// fetched once the one before it (and its NextToken) is in hand.
fn pages_in_turn<'a>(
    api: &'a AwsDataApi,
    id: &'a str,
    format: ResultFormat,
) -> impl futures::Stream<Item = Result<ResultPage, redshift_flight_sql::dataapi::DataApiError>> + 'a
{
    stream::unfold(
        Some(None),
        move |token: Option<Option<String>>| async move {
            let page = api.get_statement_result(id, format, token?).await;
            Some(match page {
                Ok(page) => {
                    let next = page.next_token.clone().map(Some);
                    (Ok(page), next)
                }
                Err(e) => (Err(e), None),
            })
        },
    )
}

/// Rows of the batches a conversion stream yields.
async fn converted_rows<E: std::fmt::Display>(
    batches: impl futures::Stream<
        Item = Result<RecordBatch, redshift_flight_sql::convert::pages::PageError<E>>,
    >,
) -> anyhow::Result<usize> {
    let mut batches = std::pin::pin!(batches);
    let mut rows = 0;
    while let Some(batch) = batches.next().await {
        rows += batch.map_err(|e| anyhow::anyhow!("{e}"))?.num_rows();
    }
    Ok(rows)
}

fn fmt_s(s: Stat) -> String {
    format!("{:.4}s [{:.4}–{:.4}]", s.median, s.min, s.max)
}

fn sdk(url: &str) -> aws_sdk_redshiftdata::Client {
    let config = aws_sdk_redshiftdata::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("bench", "bench", None, None, "bench"))
        .endpoint_url(url)
        .http_client(redshift_flight_sql::dataapi::https_client())
        .build();
    aws_sdk_redshiftdata::Client::from_conf(config)
}

/// Raw POST to the emulator: the bytes of one response body.
async fn raw_post(url: &str, target: &str, body: &str) -> anyhow::Result<Vec<u8>> {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!(
        "POST / HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-amz-json-1.1\r\nX-Amz-Target: RedshiftData.{target}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no HTTP header end")?;
    Ok(response[split + 4..].to_vec())
}

async fn stats(url: &str) -> anyhow::Result<BTreeMap<String, u64>> {
    let addr = url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream
        .write_all(
            format!("GET /stats HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").as_bytes(),
        )
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
    Ok(serde_json::from_str(body)?)
}

fn delta(before: &BTreeMap<String, u64>, after: &BTreeMap<String, u64>, op: &str) -> u64 {
    after.get(op).copied().unwrap_or(0) - before.get(op).copied().unwrap_or(0)
}

/// The gateway as a child process (`serve`), and its address.
struct GatewayProcess {
    child: Child,
    url: String,
}

impl Drop for GatewayProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl GatewayProcess {
    fn start(
        emulator_url: &str,
        result_format: &str,
        cache_bytes: u64,
        unload_dir: &std::path::Path,
    ) -> anyhow::Result<Self> {
        let exe = std::env::current_exe()?;
        // target/<profile>/examples/bench → target/<profile>/redshift-flight-sql
        let bin = exe
            .parent()
            .and_then(|p| p.parent())
            .map(|p| p.join("redshift-flight-sql"))
            .context("locating the gateway binary")?;
        let mut child = Command::new(&bin)
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--cluster-identifier",
                "bench",
                "--db-user",
                "awsuser",
                "--database",
                "dev",
                "--region",
                "us-east-1",
                "--cache-bytes",
                &cache_bytes.to_string(),
                "--result-format",
                result_format,
                "--endpoint-url",
                emulator_url,
                "--unload-s3-uri",
                UNLOAD_URI,
                "--unload-iam-role",
                "arn:aws:iam::123456789012:role/bench",
                "--unload-local-dir",
            ])
            .arg(unload_dir)
            .env("AWS_ACCESS_KEY_ID", "bench")
            .env("AWS_SECRET_ACCESS_KEY", "bench")
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        let addr = line
            .trim()
            .strip_prefix("flight sql listening on grpc://")
            .with_context(|| format!("unexpected gateway line {line:?}"))?;
        Ok(Self {
            url: format!("http://{addr}"),
            child,
        })
    }

    /// Peak resident memory (VmHWM) in MiB.
    fn peak_rss_mib(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    }
}

async fn flight_client(url: &str) -> anyhow::Result<FlightSqlServiceClient<Channel>> {
    let channel = tonic::transport::Endpoint::from_shared(url.to_owned())?
        .connect()
        .await?;
    Ok(FlightSqlServiceClient::new(channel))
}

async fn read_all(
    client: &mut FlightSqlServiceClient<Channel>,
    info: &FlightInfo,
) -> anyhow::Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for e in &info.endpoint {
        let ticket = e.ticket.clone().context("ticket")?;
        let batches: Vec<RecordBatch> = client.do_get(ticket).await?.try_collect().await?;
        out.extend(batches);
    }
    Ok(out)
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

/// A bare Flight server that streams fixed batches from memory (P4's baseline).
#[derive(Debug, Clone)]
struct MemoryFlight {
    batches: Arc<Vec<RecordBatch>>,
}

type BoxStream<T> = stream::BoxStream<'static, Result<T, Status>>;

#[tonic::async_trait]
impl FlightService for MemoryFlight {
    type HandshakeStream = BoxStream<arrow_flight::HandshakeResponse>;
    type ListFlightsStream = BoxStream<FlightInfo>;
    type DoGetStream = BoxStream<arrow_flight::FlightData>;
    type DoPutStream = BoxStream<arrow_flight::PutResult>;
    type DoExchangeStream = BoxStream<arrow_flight::FlightData>;
    type DoActionStream = BoxStream<arrow_flight::Result>;
    type ListActionsStream = BoxStream<arrow_flight::ActionType>;

    async fn do_get(&self, _r: Request<Ticket>) -> Result<Response<Self::DoGetStream>, Status> {
        let batches = (*self.batches).clone();
        let schema = batches[0].schema();
        let s = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(stream::iter(batches.into_iter().map(Ok)))
            .map_err(Status::from);
        Ok(Response::new(s.boxed()))
    }
    async fn handshake(
        &self,
        _r: Request<tonic::Streaming<arrow_flight::HandshakeRequest>>,
    ) -> Result<Response<Self::HandshakeStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn list_flights(
        &self,
        _r: Request<arrow_flight::Criteria>,
    ) -> Result<Response<Self::ListFlightsStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn get_flight_info(
        &self,
        _r: Request<arrow_flight::FlightDescriptor>,
    ) -> Result<Response<FlightInfo>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn poll_flight_info(
        &self,
        _r: Request<arrow_flight::FlightDescriptor>,
    ) -> Result<Response<arrow_flight::PollInfo>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn get_schema(
        &self,
        _r: Request<arrow_flight::FlightDescriptor>,
    ) -> Result<Response<arrow_flight::SchemaResult>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn do_put(
        &self,
        _r: Request<tonic::Streaming<arrow_flight::FlightData>>,
    ) -> Result<Response<Self::DoPutStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn do_exchange(
        &self,
        _r: Request<tonic::Streaming<arrow_flight::FlightData>>,
    ) -> Result<Response<Self::DoExchangeStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn do_action(
        &self,
        _r: Request<arrow_flight::Action>,
    ) -> Result<Response<Self::DoActionStream>, Status> {
        Err(Status::unimplemented(""))
    }
    async fn list_actions(
        &self,
        _r: Request<arrow_flight::Empty>,
    ) -> Result<Response<Self::ListActionsStream>, Status> {
        Err(Status::unimplemented(""))
    }
}

/// Where P8's UNLOAD writes (a directory under `--unload-dir` on both sides:
/// the object store is the local file system, not S3's network).
const UNLOAD_URI: &str = "s3://bench/results/";

const CREATE: &str = "create table bench as select \
  g::int4 as c_int4, g::int8 * 1000003 as c_int8, g * 0.25::float8 as c_float8, \
  (g % 100000 / 7.0)::numeric(18,4) as c_numeric, md5(g::text)::varchar(32) as c_varchar, \
  g % 2 = 0 as c_bool, date '2000-01-01' + (g % 10000) as c_date, \
  timestamp '2000-01-01' + g * interval '1 second' as c_timestamp, \
  timestamptz '2000-01-01 00:00:00+00' + g * interval '1 minute' as c_timestamptz, \
  case when g % 10 < 3 then null else 'v' || g end::varchar(16) as c_nullable \
  from generate_series(1, ROWS) g";

/// ExecuteStatement on the benchmark's cluster, user and database.
fn bench_statement(
    client: &aws_sdk_redshiftdata::Client,
) -> aws_sdk_redshiftdata::operation::execute_statement::builders::ExecuteStatementFluentBuilder {
    client
        .execute_statement()
        .cluster_identifier("bench")
        .db_user("awsuser")
        .database("dev")
}

async fn wait_finished(client: &aws_sdk_redshiftdata::Client, id: &str) -> anyhow::Result<()> {
    loop {
        let d = client
            .describe_statement()
            .id(id)
            .wait_time_seconds(20)
            .send()
            .await?;
        match d.status().map(|s| s.as_str()) {
            Some("FINISHED") => return Ok(()),
            Some("FAILED" | "ABORTED") => bail!("statement {id}: {:?}", d.error()),
            _ => {}
        }
    }
}

/// ExecuteStatement → FINISHED of `sql` on the emulator alone: seconds as
/// the client sees them, and the statement's own Duration.
async fn statement_time(
    client: &aws_sdk_redshiftdata::Client,
    sql: &str,
    format: ResultFormat,
) -> anyhow::Result<(f64, f64)> {
    let format = match format {
        ResultFormat::Csv => aws_sdk_redshiftdata::types::ResultFormatString::Csv,
        ResultFormat::Json => aws_sdk_redshiftdata::types::ResultFormatString::Json,
    };
    let t = Instant::now();
    let out = bench_statement(client)
        .sql(sql)
        .result_format(format)
        .send()
        .await?;
    let id = out.id().context("id")?;
    wait_finished(client, id).await?;
    let wall = t.elapsed().as_secs_f64();
    let described = client.describe_statement().id(id).send().await?;
    Ok((wall, described.duration() as f64 / 1e9))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let o = options()?;
    eprintln!("bench: {o:?}");
    let cluster = tokio::task::spawn_blocking(ThrowawayCluster::start).await??;
    let admin = cluster.url("postgres");
    emulator::ensure_database(&admin, "dev").await?;
    let pg_url = cluster.url("dev");
    {
        let started = Instant::now();
        let create = CREATE.replace("ROWS", &o.rows.to_string());
        emulator::load_sql_unless_table_exists(
            &pg_url,
            "bench",
            &format!("{create}; analyze bench"),
        )
        .await?;
        if o.unload_rows > 0 {
            let create = CREATE
                .replace("ROWS", &o.unload_rows.to_string())
                .replace("create table bench ", "create table bench_unload ");
            emulator::load_sql_unless_table_exists(
                &pg_url,
                "bench_unload",
                &format!("{create}; analyze bench_unload"),
            )
            .await?;
        }
        eprintln!(
            "bench: created {} rows in {:.1}s",
            o.rows,
            started.elapsed().as_secs_f64()
        );
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let emulator_url = format!("http://{}", listener.local_addr()?);
    let shutdown = tokio_util::sync::CancellationToken::new();
    {
        let config = EmulatorConfig {
            max_result_bytes: 4 << 30,
            max_active_statements: 1000,
            unload_local_dir: Some(o.unload_dir.clone()),
            ..EmulatorConfig::default()
        };
        let admin = admin.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move { emulator::serve(config, &admin, listener, shutdown).await });
    }
    let gateway = GatewayProcess::start(
        &emulator_url,
        &o.result_format,
        o.cache_bytes,
        &o.unload_dir,
    )?;
    let data_api = sdk(&emulator_url);
    let all = "select * from bench";
    let mut table: Vec<(String, String, String, String)> = Vec::new();

    // P1: conversion vs the serde_json floor on the same pages.
    let format = if o.result_format == "csv" {
        ResultFormat::Csv
    } else {
        ResultFormat::Json
    };
    let api = AwsDataApi::from_client(
        data_api.clone(),
        DataApiTarget {
            cluster_identifier: Some("bench".into()),
            db_user: Some("awsuser".into()),
            database: "dev".into(),
            ..DataApiTarget::default()
        },
    );
    let id = api
        .execute_statement(redshift_flight_sql::dataapi::ExecuteRequest {
            sql: all.to_owned(),
            result_format: format,
            ..Default::default()
        })
        .await?;
    wait_finished(&data_api, &id).await?;
    let target = if format == ResultFormat::Csv {
        "GetStatementResultV2"
    } else {
        "GetStatementResult"
    };
    let mut pages: Vec<Vec<u8>> = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let body = match &token {
            None => format!("{{\"Id\":\"{id}\"}}"),
            Some(t) => format!("{{\"Id\":\"{id}\",\"NextToken\":\"{t}\"}}"),
        };
        let page = raw_post(&emulator_url, target, &body).await?;
        let v: serde_json::Value = serde_json::from_slice(&page)?;
        token = v
            .get("NextToken")
            .and_then(|t| t.as_str())
            .map(str::to_owned);
        pages.push(page);
        if token.is_none() {
            break;
        }
    }
    let page_bytes: usize = pages.iter().map(Vec::len).sum();
    let csv = format == ResultFormat::Csv;
    let texts: Vec<String> = if csv {
        pages
            .iter()
            .map(|p| csv_text(p))
            .collect::<anyhow::Result<_>>()?
    } else {
        Vec::new()
    };
    // The pages as the SDK gives them, fetched once: conversion is timed
    // on them alone, the fetching on its own.
    let mut fetched: Vec<ResultPage> = Vec::new();
    let mut sdk_only = Vec::new();
    for run in 0..o.runs {
        let t = Instant::now();
        let these: Vec<ResultPage> = pages_in_turn(&api, &id, format).try_collect().await?;
        sdk_only.push(t.elapsed().as_secs_f64());
        if run == 0 {
            fetched = these;
        }
    }
    let converter = Arc::new(PageConverter::new(
        fetched
            .first()
            .map(|p| p.columns.clone())
            .unwrap_or_default(),
        Some("dev"),
    ));
    let schema = converter.schema();
    let parallel = parallel_conversions();
    let mut floor = Vec::new();
    let mut arrow_csv: Vec<f64> = Vec::new();
    let mut arrow_csv_error: Option<String> = None;
    let mut one_core = Vec::new();
    let mut all_cores = Vec::new();
    let mut path = Vec::new();
    for _ in 0..o.runs {
        // The floor: the least any reader of these pages must do. CSV: the
        // pages' CSV text tokenised by csv-core, building nothing (reading
        // the text out of the JSON is the SDK's share, timed with it).
        // JSON: serde_json skipping over the page.
        let t = Instant::now();
        let mut fields = 0usize;
        if csv {
            for text in &texts {
                fields += csv_core_fields(text);
            }
        } else {
            for p in &pages {
                let _: serde::de::IgnoredAny = serde_json::from_slice(p)?;
            }
        }
        floor.push(t.elapsed().as_secs_f64());
        if csv {
            anyhow::ensure!(fields > 0, "csv-core found no fields");
        }
        // The gateway's conversion (the DoGet pipeline's), on one core and
        // on all of them, over the same pages.
        for (threads, times) in [(1, &mut one_core), (parallel, &mut all_cores)] {
            let records: Vec<Result<_, std::convert::Infallible>> =
                fetched.iter().map(|p| Ok(p.records.clone())).collect();
            let t = Instant::now();
            let n = converted_rows(convert_in_order(
                Arc::clone(&converter),
                stream::iter(records),
                true,
                threads,
                None,
            ))
            .await?;
            times.push(t.elapsed().as_secs_f64());
            anyhow::ensure!(n as u64 == o.rows, "converted {n} rows");
        }
        // The whole path: each page fetched while those before it convert.
        let t = Instant::now();
        let n = converted_rows(convert_in_order(
            Arc::clone(&converter),
            pages_in_turn(&api, &id, format).map_ok(|page| page.records),
            true,
            parallel,
            None,
        ))
        .await?;
        anyhow::ensure!(n as u64 == o.rows, "converted {n} rows");
        path.push(t.elapsed().as_secs_f64());
        // Beside it: arrow-csv's typed reader over the same CSV text, into
        // the gateway's types (names and metadata aside, every field nullable).
        if let (true, None) = (csv, &arrow_csv_error) {
            let t = Instant::now();
            match arrow_csv_rows(&texts, &schema) {
                Ok(rows) if rows as u64 == o.rows => arrow_csv.push(t.elapsed().as_secs_f64()),
                Ok(rows) => arrow_csv_error = Some(format!("read {rows} rows")),
                Err(e) => arrow_csv_error = Some(e.to_string()),
            }
        }
    }
    drop(fetched);
    let (floor, path, sdk_only) = (stat(floor), stat(path), stat(sdk_only));
    let (one_core, all_cores) = (stat(one_core), stat(all_cores));
    let floor_name = if csv {
        "csv-core tokenising"
    } else {
        "serde_json IgnoredAny"
    };
    let beside = match (&arrow_csv_error, arrow_csv.is_empty()) {
        (Some(e), _) => format!("; arrow-csv failed: {e}"),
        (None, false) => {
            let a = stat(arrow_csv);
            format!(
                "; arrow-csv typed reader {} ({:.2}×)",
                fmt_s(a),
                a.median / floor.median
            )
        }
        (None, true) => String::new(),
    };
    table.push((
        "P1 conversion (pages → Arrow)".into(),
        format!(
            "{} ({} pages, {:.0} MiB)",
            fmt_s(all_cores),
            pages.len(),
            page_bytes as f64 / 1048576.0
        ),
        format!("{floor_name} {}", fmt_s(floor)),
        format!(
            "conversion on {parallel} cores {} = {:.2}× the floor (goal ≤ 1.2×); on one core {} = {:.2}×; \
             fetched in turn while converting {} (the Data API call + SDK alone {}){beside}",
            fmt_s(all_cores),
            all_cores.median / floor.median,
            fmt_s(one_core),
            one_core.median / floor.median,
            fmt_s(path),
            fmt_s(sdk_only),
        ),
    ));

    // The emulator's share: ExecuteStatement → FINISHED of the reads P2 and
    // P3 make, on the Data API alone (Redshift's share, on a real cluster).
    let some = format!("select * from bench where c_int4 <= {}", o.wrangler_rows);
    let (mut all_wall, mut all_duration, mut some_wall) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..o.runs {
        let (wall, duration) = statement_time(&data_api, all, format).await?;
        all_wall.push(wall);
        all_duration.push(duration);
        some_wall.push(statement_time(&data_api, &some, format).await?.0);
    }
    let (all_wall, all_duration, some_wall) = (stat(all_wall), stat(all_duration), stat(some_wall));

    // P5: SELECT 1 latency, gateway vs bare SDK calls.
    let mut flight = flight_client(&gateway.url).await?;
    let mut through_gateway = Vec::new();
    let mut bare = Vec::new();
    for i in 0..(o.runs * 6).max(10) {
        let sql = format!("select {i} as one");
        let t = Instant::now();
        let info = flight.execute(sql.clone(), None).await?;
        let got = read_all(&mut flight, &info).await?;
        through_gateway.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(rows(&got) == 1);
        let t = Instant::now();
        let out = bench_statement(&data_api).sql(sql).send().await?;
        let id = out.id().context("id")?.to_owned();
        wait_finished(&data_api, &id).await?;
        let _ = data_api.get_statement_result().id(&id).send().await?;
        bare.push(t.elapsed().as_secs_f64());
    }
    let (g, b) = (stat(through_gateway), stat(bare));
    table.push((
        "P5 latency SELECT 1".into(),
        fmt_s(g),
        format!("bare SDK execute→wait→get {}", fmt_s(b)),
        format!(
            "{:+.2} ms added at the median (goal ≤ 1 ms)",
            (g.median - b.median) * 1000.0
        ),
    ));

    // P6: Data API calls for a 2-second query, and for a cached re-read.
    let before = stats(&emulator_url).await?;
    let info = flight
        .execute("select pg_sleep(2), 1 as x".to_owned(), None)
        .await?;
    read_all(&mut flight, &info).await?;
    let after = stats(&emulator_url).await?;
    let describes = delta(&before, &after, "DescribeStatement");

    // P4: cached re-read vs a bare Flight server streaming the same batches.
    let info = flight.execute(all.to_owned(), None).await?;
    let first = read_all(&mut flight, &info).await?;
    anyhow::ensure!(rows(&first) as u64 == o.rows, "read {} rows", rows(&first));
    let before = stats(&emulator_url).await?;
    let mut cached = Vec::new();
    for _ in 0..o.runs {
        let t = Instant::now();
        let again = read_all(&mut flight, &info).await?;
        cached.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(rows(&again) as u64 == o.rows);
    }
    let after = stats(&emulator_url).await?;
    let reread_calls: u64 = after.values().sum::<u64>() - before.values().sum::<u64>();
    table.push((
        "P6 Data API calls".into(),
        format!("{describes} DescribeStatement for a 2 s query; {reread_calls} calls for {} cached re-reads", o.runs),
        "goal ≤ 8; 0".into(),
        if describes <= 8 && reread_calls == 0 { "met".into() } else { "NOT met".into() },
    ));
    let memory_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let memory_url = format!("http://{}", memory_listener.local_addr()?);
    let memory = MemoryFlight {
        batches: Arc::new(first.clone()),
    };
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(FlightServiceServer::new(memory).max_encoding_message_size(64 << 20))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(
                memory_listener,
            ))
            .await;
    });
    let mut bare_client = arrow_flight::FlightClient::new(
        tonic::transport::Endpoint::from_shared(memory_url)?
            .connect()
            .await?,
    );
    let mut from_memory = Vec::new();
    for _ in 0..o.runs {
        let t = Instant::now();
        let got: Vec<RecordBatch> = bare_client
            .do_get(Ticket::new(Vec::new()))
            .await?
            .try_collect()
            .await?;
        from_memory.push(t.elapsed().as_secs_f64());
        anyhow::ensure!(rows(&got) as u64 == o.rows);
    }
    let (c, m) = (stat(cached), stat(from_memory));
    table.push((
        "P4 cached re-read (DoGet)".into(),
        fmt_s(c),
        format!("bare arrow-flight from memory {}", fmt_s(m)),
        format!(
            "{:.2}× the bare server's throughput (goal ≥ 0.8×)",
            m.median / c.median
        ),
    ));

    // P2/P3: clients in Python (ADBC via the gateway, awswrangler, ADBC-PostgreSQL).
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench_clients.py");
    let output = Command::new(&o.python)
        .arg(script)
        .args(["--flight", &gateway.url.replace("http://", "grpc://")])
        .args(["--emulator", &emulator_url, "--postgres", &pg_url])
        .args(["--runs", &o.runs.to_string(), "--rows", &o.rows.to_string()])
        .args(["--wrangler-rows", &o.wrangler_rows.to_string()])
        .args(["--unload-rows", &o.unload_rows.to_string()])
        .stderr(Stdio::inherit())
        .output()
        .context("running scripts/bench_clients.py")?;
    anyhow::ensure!(output.status.success(), "bench_clients.py failed");
    let clients: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let s = |k: &str| -> Stat {
        let v = &clients[k];
        Stat {
            median: v["median"].as_f64().unwrap_or(f64::NAN),
            min: v["min"].as_f64().unwrap_or(f64::NAN),
            max: v["max"].as_f64().unwrap_or(f64::NAN),
        }
    };
    let (adbc_small, wrangler) = (s("adbc_wrangler_rows"), s("wrangler"));
    let (adbc, pg) = (s("adbc"), s("postgres"));
    table.push((
        format!("Emulator statement ({} rows, {format:?})", o.rows),
        format!(
            "execute → FINISHED {} (its Duration {})",
            fmt_s(all_wall),
            fmt_s(all_duration)
        ),
        format!("ADBC-PostgreSQL direct {}", fmt_s(pg)),
        format!(
            "{:.2}× (goal ≤ 1.2×); {} rows: {}",
            all_wall.median / pg.median,
            o.wrangler_rows,
            fmt_s(some_wall)
        ),
    ));
    // The gateway's own share: the emulator's statement time taken out of
    // each read that waits for it.
    let net = |through: f64, statement: f64| (through - statement).max(1e-9);
    table.push((
        format!("P2 vs awswrangler ({} rows)", o.wrangler_rows),
        format!("ADBC via gateway {}", fmt_s(adbc_small)),
        format!("awswrangler read_sql_query {}", fmt_s(wrangler)),
        format!(
            "{:.1}× faster (goal ≥ 30×); without the emulator's {:.3}s statement: {:.3}s vs {:.3}s = {:.1}×",
            wrangler.median / adbc_small.median,
            some_wall.median,
            net(adbc_small.median, some_wall.median),
            net(wrangler.median, some_wall.median),
            net(wrangler.median, some_wall.median) / net(adbc_small.median, some_wall.median)
        ),
    ));
    table.push((
        format!("P3 vs the database ({} rows)", o.rows),
        format!("ADBC via gateway {}", fmt_s(adbc)),
        format!("ADBC-PostgreSQL direct {}", fmt_s(pg)),
        format!(
            "{:.2}× slower (goal ≤ 2×); without the emulator's {:.3}s statement: {:.3}s = {:.2}×",
            adbc.median / pg.median,
            all_wall.median,
            net(adbc.median, all_wall.median),
            net(adbc.median, all_wall.median) / pg.median
        ),
    ));

    // P7: concurrent clients.
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..o.clients {
        let url = gateway.url.clone();
        let span = o.client_rows;
        let total = o.rows;
        tasks.push(tokio::spawn(async move {
            let mut client = flight_client(&url).await?;
            let start = (c as u64 * 7919 * 13) % total.saturating_sub(span).max(1);
            let sql = format!(
                "select * from bench where c_int4 > {start} and c_int4 <= {}",
                start + span
            );
            let t = Instant::now();
            let info = client.execute(sql, None).await?;
            let n = rows(&read_all(&mut client, &info).await?);
            anyhow::Ok((n, t.elapsed().as_secs_f64()))
        }));
    }
    let mut durations = Vec::new();
    let mut total_rows = 0usize;
    for t in tasks {
        let (n, d) = t.await??;
        total_rows += n;
        durations.push(d);
    }
    let wall = started.elapsed().as_secs_f64();
    let d = stat(durations);
    table.push((
        format!("P7 load ({} clients × {} rows)", o.clients, o.client_rows),
        format!(
            "{:.0} rows/s total; per client {}",
            total_rows as f64 / wall,
            fmt_s(d)
        ),
        format!(
            "gateway peak RSS vs cache capacity ({} MiB) + 256 MiB",
            o.cache_bytes >> 20
        ),
        format!(
            "goal ≥ 1,000,000 rows/s; peak RSS {:.0} MiB; slowest/fastest client {:.1}×",
            gateway.peak_rss_mib(),
            d.max / d.min
        ),
    ));

    // P8: a large result through UNLOAD vs the page path vs awswrangler.
    if o.unload_rows > 0 {
        // Where the time goes: the two statements alone, on the Data API.
        let unload_sql = format!(
            "unload ('select * from bench_unload') to '{UNLOAD_URI}bench-probe/' \
             iam_role 'arn:aws:iam::123456789012:role/bench' format parquet allowoverwrite"
        );
        let mut statement_seconds = Vec::new();
        for sql in [unload_sql.as_str(), "select * from bench_unload"] {
            let (wall, _) = statement_time(&data_api, sql, ResultFormat::Csv).await?;
            statement_seconds.push(wall);
        }
        let (unload_run, page_run) = (statement_seconds[0], statement_seconds[1]);
        let (through_unload, through_pages) = (s("unload"), s("unload_pages"));
        let wrangler_rate =
            clients["wrangler"]["rows"].as_f64().unwrap_or(f64::NAN) / wrangler.median;
        let wrangler_seconds = o.unload_rows as f64 / wrangler_rate;
        table.push((
            format!("P8 large result via UNLOAD ({} rows)", o.unload_rows),
            format!("ADBC, rsfs-unload=on {}", fmt_s(through_unload)),
            format!(
                "page path {}; awswrangler ≈{wrangler_seconds:.1}s (its rows/s at {} rows)",
                fmt_s(through_pages),
                o.wrangler_rows
            ),
            format!(
                "{:.2}× the page path (goal ≥ 3×), {:.0}× awswrangler",
                through_pages.median / through_unload.median,
                wrangler_seconds / through_unload.median
            ),
        ));
        table.push((
            "P8 where time goes".into(),
            format!(
                "UNLOAD statement {unload_run:.2}s, then Parquet files → Arrow → client {:.2}s",
                (through_unload.median - unload_run).max(0.0)
            ),
            format!(
                "page statement {page_run:.2}s, then pages → Arrow → client {:.2}s",
                (through_pages.median - page_run).max(0.0)
            ),
            "emulator statement time = Redshift's share".into(),
        ));
    }

    // Where the time goes for the full read.
    table.push((
        "Where time goes (full read)".into(),
        format!(
            "emulator statement {:.3}s; Data API pages (emulator + HTTP + SDK parse) {:.3}s",
            all_wall.median, sdk_only.median
        ),
        format!(
            "conversion {:.3}s on {parallel} cores ({:.3}s on one), overlapped with the pages: {:.3}s",
            all_cores.median, one_core.median, path.median
        ),
        format!("client end to end {:.3}s", adbc.median),
    ));

    println!("\n| measure | gateway | baseline | ratio |");
    println!("|---|---|---|---|");
    for (a, b, c, d) in &table {
        println!("| {a} | {b} | {c} | {d} |");
    }
    shutdown.cancel();
    drop(gateway);
    drop(cluster);
    let _ = std::fs::remove_dir_all(&o.unload_dir);
    Ok(())
}
