//! DataFusion over the Redshift Flight SQL gateway: joins a Redshift table,
//! read through the gateway, with a local CSV file.
//!
//! The TICKIT `event` table of the gateway is registered in a DataFusion
//! [`SessionContext`] as a table provider of `datafusion-table-providers`
//! ([`FlightTableFactory`] with its [`FlightSqlDriver`]: one
//! `GetFlightInfo(CommandStatementQuery)` and one `DoGet` per endpoint), the
//! CSV file `data/categories.csv` (a label for some of the category ids) as a
//! CSV table, and DataFusion runs a join of the two: the number of events per
//! label. The result is printed as `label<TAB>count` lines in label order, then
//! `rows: N`.
//!
//! A second mode, `--flight-sql SQL`, runs one query through the gateway with
//! a plain Flight SQL client (no DataFusion) and prints its rows the same way:
//! `scripts/datafusion-example.sh` computes the expected counts with it.
//!
//! The gateway's address is the first argument or `RSFS_FLIGHT_URL`
//! (`http://host:port`, `https://host:port`; `grpc://` and `grpc+tls://`, as
//! the gateway prints them, are accepted too). When `RSFS_USER` is set, the
//! client authenticates with Basic user/password (`RSFS_PASSWORD`) at
//! Handshake and sends the bearer token it gets on the calls that follow.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use arrow_flight::sql::client::FlightSqlServiceClient;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::util::display::array_value_to_string;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use datafusion_table_providers::flight::sql::{FlightSqlDriver, PASSWORD, QUERY, USERNAME};
use datafusion_table_providers::flight::{FlightProperties, FlightTableFactory};
use futures::TryStreamExt as _;
use tonic::transport::{Channel, ClientTlsConfig};

/// The command line's help.
const USAGE: &str = "\
usage: datafusion-example [--categories CSV] [URL]
       datafusion-example --flight-sql SQL [URL]

Joins the TICKIT `event` table, read through the Flight SQL gateway at URL,
with a CSV file of category labels (catid,label), and prints the number of
events per label as `label<TAB>count` lines, then `rows: N`.
With --flight-sql, runs SQL through the gateway with a plain Flight SQL client
instead and prints its rows the same way (columns separated by tabs).

URL defaults to $RSFS_FLIGHT_URL (http://host:port, https://host:port, or the
grpc://host:port the gateway prints). $RSFS_USER and $RSFS_PASSWORD, when set,
authenticate with Basic user/password at Handshake.
";

/// The query the gateway runs for DataFusion's `event` table: the whole table
/// (the provider pushes no projection or filter down; DataFusion applies them).
const EVENT_QUERY: &str = "select eventid, venueid, catid, dateid, eventname, starttime from event";

/// The join DataFusion runs over the two tables.
const JOIN_QUERY: &str = "\
    select c.label, count(*) as events \
    from event e join categories c on e.catid = c.catid \
    group by c.label \
    order by c.label";

/// The CSV file of category labels committed beside this crate.
const DEFAULT_CATEGORIES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/data/categories.csv");

/// What the command line asks for.
#[derive(Debug)]
struct Args {
    /// The gateway, as a URL tonic connects to (`http://` or `https://`).
    url: String,
    /// The CSV file of category labels.
    categories: PathBuf,
    /// A query to run with a plain Flight SQL client instead of the join.
    flight_sql: Option<String>,
}

/// Basic credentials for the gateway's Handshake.
#[derive(Debug, Clone)]
struct Credentials {
    /// The user name.
    user: String,
    /// The password (empty when `RSFS_PASSWORD` is not set).
    password: String,
}

impl Credentials {
    /// `RSFS_USER` and `RSFS_PASSWORD`, or `None` without a user.
    fn from_env() -> Option<Self> {
        let user = std::env::var("RSFS_USER").ok().filter(|u| !u.is_empty())?;
        let password = std::env::var("RSFS_PASSWORD").unwrap_or_default();
        Some(Self { user, password })
    }
}

/// Why the command line was not run.
#[derive(Debug)]
enum ArgsError {
    /// `--help`: print the usage and succeed.
    Help,
    /// A bad command line: print the message and the usage, and fail.
    Invalid(String),
}

/// Parses `args` (without the program name); `env_url` is `RSFS_FLIGHT_URL`.
fn parse_args(
    args: impl IntoIterator<Item = String>,
    env_url: Option<String>,
) -> Result<Args, ArgsError> {
    let mut args = args.into_iter();
    let mut url = None;
    let mut categories = None;
    let mut flight_sql = None;
    while let Some(arg) = args.next() {
        let mut value = |name: &str| {
            args.next()
                .ok_or_else(|| ArgsError::Invalid(format!("{name} needs a value")))
        };
        match arg.as_str() {
            "-h" | "--help" => return Err(ArgsError::Help),
            "--categories" => categories = Some(PathBuf::from(value("--categories")?)),
            "--flight-sql" => flight_sql = Some(value("--flight-sql")?),
            flag if flag.starts_with('-') => {
                return Err(ArgsError::Invalid(format!("unknown option {flag}")));
            }
            _ if url.is_some() => {
                return Err(ArgsError::Invalid(format!("unexpected argument {arg}")));
            }
            _ => url = Some(arg),
        }
    }
    let url = url
        .or(env_url.filter(|u| !u.is_empty()))
        .ok_or_else(|| ArgsError::Invalid("no gateway URL (argument or RSFS_FLIGHT_URL)".into()))?;
    Ok(Args {
        url: tonic_url(&url),
        categories: categories.unwrap_or_else(|| PathBuf::from(DEFAULT_CATEGORIES)),
        flight_sql,
    })
}

/// The URL tonic connects to for a gateway address: `grpc://` is plain
/// HTTP/2 and `grpc+tls://` is HTTPS; other URLs are used as they are.
fn tonic_url(url: &str) -> String {
    if let Some(rest) = url.strip_prefix("grpc+tls://") {
        format!("https://{rest}")
    } else if let Some(rest) = url.strip_prefix("grpc://") {
        format!("http://{rest}")
    } else {
        url.to_owned()
    }
}

/// The schema of the categories CSV file: `catid` has the type of
/// `event.catid` (Redshift `smallint`), so the join needs no cast.
fn categories_schema() -> Schema {
    Schema::new(vec![
        Field::new("catid", DataType::Int16, false),
        Field::new("label", DataType::Utf8, false),
    ])
}

/// Registers the gateway's `event` table and the categories CSV file in a
/// DataFusion session and runs [`JOIN_QUERY`] over them.
async fn run_join(
    args: &Args,
    credentials: Option<&Credentials>,
) -> anyhow::Result<Vec<RecordBatch>> {
    let ctx = SessionContext::new();

    let mut options = HashMap::from([(QUERY.to_owned(), EVENT_QUERY.to_owned())]);
    if let Some(credentials) = credentials {
        options.insert(USERNAME.to_owned(), credentials.user.clone());
        options.insert(PASSWORD.to_owned(), credentials.password.clone());
    }
    // The gateway's tickets stay valid as long as the result (24 hours) and
    // may be read more than once: the FlightInfo of registration serves the
    // scan too, so the query runs once.
    let properties = FlightProperties::new().with_reusable_flight_info(true);
    let driver = FlightSqlDriver::new().with_properties_template(properties);
    let factory = FlightTableFactory::new(Arc::new(driver));
    let event = factory
        .open_table(args.url.as_str(), options)
        .await
        .with_context(|| format!("opening the event table at {}", args.url))?;
    ctx.register_table("event", Arc::new(event))?;

    let categories = args
        .categories
        .to_str()
        .with_context(|| format!("{} is not UTF-8", args.categories.display()))?;
    let schema = categories_schema();
    ctx.register_csv(
        "categories",
        categories,
        CsvReadOptions::new().has_header(true).schema(&schema),
    )
    .await
    .with_context(|| format!("registering {categories}"))?;

    let frame = ctx.sql(JOIN_QUERY).await.context("planning the join")?;
    frame.collect().await.context("running the join")
}

/// Runs `sql` through the gateway with a plain Flight SQL client: one
/// `GetFlightInfo(CommandStatementQuery)`, then a `DoGet` of each endpoint's
/// ticket on the same connection (the gateway's endpoints name no location).
async fn run_flight_sql(
    url: &str,
    credentials: Option<&Credentials>,
    sql: &str,
) -> anyhow::Result<Vec<RecordBatch>> {
    let channel = Channel::from_shared(url.to_owned())
        .with_context(|| format!("bad gateway URL {url}"))?
        .tls_config(ClientTlsConfig::new().with_enabled_roots())?
        .connect()
        .await
        .with_context(|| format!("connecting to {url}"))?;
    let mut client = FlightSqlServiceClient::new(channel);
    if let Some(credentials) = credentials {
        client
            .handshake(&credentials.user, &credentials.password)
            .await
            .context("Handshake")?;
    }
    let info = client
        .execute(sql.to_owned(), None)
        .await
        .context("GetFlightInfo")?;
    let mut batches = Vec::new();
    for endpoint in info.endpoint {
        let Some(ticket) = endpoint.ticket else {
            bail!("an endpoint without a ticket");
        };
        let stream = client.do_get(ticket).await.context("DoGet")?;
        batches.extend(
            stream
                .try_collect::<Vec<_>>()
                .await
                .context("reading DoGet")?,
        );
    }
    Ok(batches)
}

/// The rows of `batches` as lines of tab-separated values (NULL is empty),
/// then `rows: N`.
fn tsv(batches: &[RecordBatch]) -> anyhow::Result<String> {
    let mut out = String::new();
    let mut rows = 0;
    for batch in batches {
        for row in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .map(|column| array_value_to_string(column, row))
                .collect::<Result<Vec<_>, _>>()?;
            out.push_str(&values.join("\t"));
            out.push('\n');
            rows += 1;
        }
    }
    out.push_str(&format!("rows: {rows}\n"));
    Ok(out)
}

/// Runs what the command line asks for and prints its result.
async fn run(args: Args) -> anyhow::Result<()> {
    let credentials = Credentials::from_env();
    let batches = match &args.flight_sql {
        Some(sql) => run_flight_sql(&args.url, credentials.as_ref(), sql).await?,
        None => run_join(&args, credentials.as_ref()).await?,
    };
    print!("{}", tsv(&batches)?);
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(
        std::env::args().skip(1),
        std::env::var("RSFS_FLIGHT_URL").ok(),
    ) {
        Ok(args) => args,
        Err(ArgsError::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(ArgsError::Invalid(message)) => {
            eprint!("datafusion-example: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("datafusion-example: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The command line `args` as owned strings.
    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|a| (*a).to_owned()).collect()
    }

    #[test]
    fn the_url_comes_from_the_argument_before_the_environment() {
        let args = parse_args(strings(&["grpc://127.0.0.1:1"]), Some("http://x:2".into())).unwrap();
        assert_eq!(args.url, "http://127.0.0.1:1");
        let args = parse_args(strings(&[]), Some("grpc+tls://x:2".into())).unwrap();
        assert_eq!(args.url, "https://x:2");
        assert!(args.flight_sql.is_none());
        assert_eq!(args.categories, PathBuf::from(DEFAULT_CATEGORIES));
    }

    #[test]
    fn a_missing_url_or_unknown_option_is_refused() {
        assert!(matches!(
            parse_args(strings(&[]), None),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(
            parse_args(strings(&["--nope", "http://x:1"]), None),
            Err(ArgsError::Invalid(_))
        ));
        assert!(matches!(
            parse_args(strings(&["--flight-sql"]), Some("http://x:1".into())),
            Err(ArgsError::Invalid(_))
        ));
    }

    #[test]
    fn flight_sql_mode_takes_its_query() {
        let args = parse_args(
            strings(&[
                "--flight-sql",
                "select 1",
                "--categories",
                "c.csv",
                "http://x:1",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(args.flight_sql.as_deref(), Some("select 1"));
        assert_eq!(args.categories, PathBuf::from("c.csv"));
    }

    #[test]
    fn rows_print_as_tab_separated_lines() {
        use datafusion::arrow::array::{Int64Array, StringArray};
        let schema = Arc::new(Schema::new(vec![
            Field::new("label", DataType::Utf8, true),
            Field::new("events", DataType::Int64, false),
        ]));
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(StringArray::from(vec![Some("opera"), None])),
                Arc::new(Int64Array::from(vec![727, 3])),
            ],
        )
        .unwrap();
        assert_eq!(tsv(&[batch]).unwrap(), "opera\t727\n\t3\nrows: 2\n");
        assert_eq!(tsv(&[]).unwrap(), "rows: 0\n");
    }

    #[tokio::test]
    async fn the_committed_categories_file_reads_with_its_schema() {
        let ctx = SessionContext::new();
        let schema = categories_schema();
        ctx.register_csv(
            "categories",
            DEFAULT_CATEGORIES,
            CsvReadOptions::new().has_header(true).schema(&schema),
        )
        .await
        .unwrap();
        let batches = ctx
            .sql("select count(*), count(distinct catid) from categories")
            .await
            .unwrap()
            .collect()
            .await
            .unwrap();
        let out = tsv(&batches).unwrap();
        let (rows, distinct) = out.lines().next().unwrap().split_once('\t').unwrap();
        assert_eq!(rows, distinct, "a catid has one label");
        assert!(rows.parse::<u32>().unwrap() > 0);
    }
}
