//! The test fixture: the emulator's own (one throwaway PostgreSQL per test
//! binary, an emulator per test on port 0 with a real aws-sdk-redshiftdata
//! client), and the gateway in front of it.

use redshift_data_emulator::EmulatorConfig;
use tokio_util::sync::CancellationToken;

// The emulator crate's test fixture, shared so that both test binaries start
// PostgreSQL and the emulator one way; each uses part of it.
#[allow(dead_code)]
#[path = "../../crates/redshift-data-emulator/tests/it/fixture.rs"]
mod fixture;

pub(crate) use fixture::{Emulator, emulator_with, postgres_url, unique};

/// The whole stack: an emulator and the gateway over the real AWS SDK.
pub(crate) struct Stack {
    pub(crate) emulator: Emulator,
    pub(crate) flight_url: String,
    pub(crate) gateway: Gateway,
}

/// A gateway serving on a free port until dropped.
pub(crate) struct Gateway {
    /// Its address (`http://…`).
    pub(crate) url: String,
    shutdown: CancellationToken,
    served: Option<tokio::task::JoinHandle<()>>,
}

impl Gateway {
    /// Sends the shutdown signal (what SIGTERM does) and returns the task
    /// that ends when `run` has drained and returned.
    pub(crate) fn shut_down(&mut self) -> tokio::task::JoinHandle<()> {
        self.shutdown.cancel();
        self.served.take().expect("shut down once")
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// Options of a test stack.
#[derive(Default)]
pub(crate) struct StackOptions {
    pub(crate) emulator: EmulatorConfig,
    /// `(user, password)` pairs: turns `--auth basic` on.
    pub(crate) users: Vec<(&'static str, &'static str)>,
    /// The whole auth block instead (`users` is then not used).
    pub(crate) auth: Option<redshift_flight_sql::config::AuthConfig>,
    pub(crate) result_format: redshift_flight_sql::dataapi::ResultFormat,
    /// `--result-format auto` (the probe at start-up) instead of `result_format`.
    pub(crate) auto_format: bool,
    /// `--reuse-seconds`.
    pub(crate) reuse_seconds: u64,
    /// The gateway's limits.
    pub(crate) limits: redshift_flight_sql::config::LimitsConfig,
    /// The gateway's server settings (keep-alive, drain).
    pub(crate) server: redshift_flight_sql::config::ServerConfig,
    /// TLS of the Flight port.
    pub(crate) tls: redshift_flight_sql::config::TlsConfig,
    /// Query settings (`result_format`, `auto_format` and `reuse_seconds` win
    /// over theirs).
    pub(crate) query: redshift_flight_sql::config::QueryConfig,
    /// The UNLOAD path (off unless its location and role are set).
    pub(crate) unload: redshift_flight_sql::config::UnloadConfig,
    /// `--cache-ttl` in seconds (0: the fixture's 600).
    pub(crate) cache_ttl_seconds: u64,
}

/// Starts an emulator and a gateway on free ports.
pub(crate) async fn stack_with(mut options: StackOptions) -> Stack {
    let emulator = emulator_with(std::mem::take(&mut options.emulator)).await;
    let gateway = gateway(&emulator.url, options).await;
    Stack {
        emulator,
        flight_url: gateway.url.clone(),
        gateway,
    }
}

/// Starts a gateway on a free port in front of the Data API at `emulator_url`
/// (`options.emulator` is not used).
pub(crate) async fn gateway(emulator_url: &str, options: StackOptions) -> Gateway {
    use redshift_flight_sql::config::{
        AuthConfig, AwsSettings, ByteSize, CacheConfig, DataApiTarget, GatewayConfig,
        HumanDuration, QueryConfig, ServiceConfig,
    };
    use redshift_flight_sql::dataapi::AwsDataApi;

    let target = DataApiTarget {
        cluster_identifier: Some("test-cluster".to_owned()),
        db_user: Some("awsuser".to_owned()),
        database: "dev".to_owned(),
        ..DataApiTarget::default()
    };
    let aws = AwsSettings {
        region: Some("us-east-1".to_owned()),
        endpoint_url: Some(emulator_url.to_owned()),
    };
    let mut auth = AuthConfig {
        token_ttl: HumanDuration::secs(3600),
        ..AuthConfig::default()
    };
    if !options.users.is_empty() {
        auth.modes = vec![redshift_flight_sql::auth::AuthMode::Basic];
        auth.users_file = Some(users_file(&options.users));
    }
    if let Some(given) = options.auth {
        auth = given;
    }
    let service = ServiceConfig {
        auth,
        cache: CacheConfig {
            cache_bytes: Some(ByteSize::mib(256)),
            cache_ttl: HumanDuration::secs(match options.cache_ttl_seconds {
                0 => 600,
                n => n,
            }),
        },
        query: QueryConfig {
            result_format: if options.auto_format {
                redshift_flight_sql::config::ResultFormatSetting::Auto
            } else {
                options.result_format.into()
            },
            reuse: HumanDuration::secs(options.reuse_seconds),
            ..options.query
        },
        limits: options.limits,
        server: options.server,
        tls: options.tls,
        unload: options.unload,
        ..ServiceConfig::default()
    };
    let api = std::sync::Arc::new(AwsDataApi::with_static_credentials(
        &aws,
        &service.retry,
        target.clone(),
    ));
    let config = GatewayConfig {
        target,
        aws,
        service,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let flight_url = format!("http://{}", listener.local_addr().expect("addr"));
    let shutdown = CancellationToken::new();
    let token = shutdown.clone();
    let served = tokio::spawn(async move {
        redshift_flight_sql::run(config, api, listener, token)
            .await
            .expect("gateway");
    });
    Gateway {
        url: flight_url,
        shutdown,
        served: Some(served),
    }
}

/// A users file of these `(user, password)` pairs.
pub(crate) fn users_file(users: &[(&str, &str)]) -> std::path::PathBuf {
    let mut lines = String::new();
    for (user, password) in users {
        let hash = redshift_flight_sql::auth::hash_password(password).expect("hash");
        lines.push_str(&format!("{user}:{hash}\n"));
    }
    let path = std::env::temp_dir().join(format!("{}.users", unique("rsfs")));
    std::fs::write(&path, lines).expect("users file");
    path
}

/// Starts a stack without auth.
pub(crate) async fn stack() -> Stack {
    stack_with(StackOptions::default()).await
}

impl Stack {
    /// A Flight SQL client connected to the gateway.
    pub(crate) async fn client(
        &self,
    ) -> arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel> {
        let channel = tonic::transport::Endpoint::from_shared(self.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect");
        arrow_flight::sql::client::FlightSqlServiceClient::new(channel)
    }

    /// A channel to the gateway.
    pub(crate) async fn channel(&self) -> tonic::transport::Channel {
        tonic::transport::Endpoint::from_shared(self.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect")
    }

    /// A raw Flight client whose calls carry the bearer token a Basic
    /// Handshake as `user` answered.
    pub(crate) async fn raw_client_as(
        &self,
        user: &str,
        password: &str,
    ) -> arrow_flight::FlightClient {
        let channel = self.channel().await;
        let mut sql = arrow_flight::sql::client::FlightSqlServiceClient::new(channel.clone());
        sql.handshake(user, password).await.expect("handshake");
        let token = sql.token().expect("a bearer token").clone();
        let mut raw = arrow_flight::FlightClient::new(channel);
        raw.add_header("authorization", &format!("Bearer {token}"))
            .expect("header");
        raw
    }

    /// The statements the gateway ran for `principal`, as the emulator lists
    /// them (the gateway names each statement after its principal).
    pub(crate) async fn statements_of(
        &self,
        principal: &str,
    ) -> Vec<aws_sdk_redshiftdata::types::StatementData> {
        self.emulator
            .client
            .list_statements()
            .statement_name(format!("rsfs:{principal}|"))
            .send()
            .await
            .expect("ListStatements")
            .statements()
            .to_vec()
    }

    /// Runs `sqls` in one transaction through the Data API as the
    /// superuser (no DbUser), waiting for the end: roles, tables and grants
    /// a test needs.
    pub(crate) async fn as_superuser(&self, sqls: &[String]) {
        use aws_sdk_redshiftdata::types::StatusString;
        let client = &self.emulator.client;
        let id = client
            .batch_execute_statement()
            .cluster_identifier("test-cluster")
            .database("dev")
            .set_sqls(Some(sqls.to_vec()))
            .send()
            .await
            .expect("batch")
            .id()
            .expect("an Id")
            .to_owned();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let d = client
                .describe_statement()
                .id(&id)
                .wait_time_seconds(5)
                .send()
                .await
                .expect("describe");
            match d.status() {
                Some(StatusString::Finished) => return,
                Some(StatusString::Failed | StatusString::Aborted) => {
                    panic!("setup failed: {:?}", d.error())
                }
                _ => assert!(std::time::Instant::now() < deadline, "setup never ended"),
            }
        }
    }

    /// The DbUser the emulator recorded for the newest statement of `principal`.
    pub(crate) async fn db_user_of_last(&self, principal: &str) -> Option<String> {
        let statements = self.statements_of(principal).await;
        let newest = statements
            .iter()
            .max_by_key(|s| s.created_at().map(|d| (d.secs(), d.subsec_nanos())))
            .expect("a statement");
        let id = newest.id().to_owned();
        self.emulator
            .client
            .describe_statement()
            .id(id)
            .send()
            .await
            .expect("describe")
            .db_user()
            .map(str::to_owned)
    }

    /// Data API calls per operation so far, from the emulator's counters.
    pub(crate) async fn data_api_calls(&self) -> std::collections::BTreeMap<String, u64> {
        fixture::get_stats(&self.emulator.url)
            .await
            .as_object()
            .expect("stats object")
            .iter()
            .map(|(k, v)| (k.clone(), v.as_u64().unwrap_or(0)))
            .collect()
    }
}

/// Reads every endpoint of `info`, in order, checking that each reuses the
/// client's connection (no location).
pub(crate) async fn fetch(
    client: &mut arrow_flight::sql::client::FlightSqlServiceClient<tonic::transport::Channel>,
    info: &arrow_flight::FlightInfo,
) -> Vec<arrow::array::RecordBatch> {
    let mut batches = Vec::new();
    for endpoint in &info.endpoint {
        assert!(
            endpoint.location.is_empty(),
            "endpoints reuse the client's connection"
        );
        let ticket = endpoint.ticket.clone().expect("ticket");
        let stream = client.do_get(ticket).await.expect("do_get");
        let got: Vec<arrow::array::RecordBatch> = futures::TryStreamExt::try_collect(stream)
            .await
            .expect("stream");
        batches.extend(got);
    }
    batches
}

/// The Data API statement that ran `sql` (alone or in a batch), as
/// ListStatements shows it.
pub(crate) async fn statement_of_sql(
    stack: &Stack,
    sql: &str,
) -> aws_sdk_redshiftdata::types::StatementData {
    let listed = stack
        .emulator
        .client
        .list_statements()
        .send()
        .await
        .expect("list");
    listed
        .statements()
        .iter()
        .find(|s| {
            s.query_string() == Some(sql) || s.query_strings().iter().any(|q| q.as_str() == sql)
        })
        .cloned()
        .expect("the statement was submitted")
}

/// Finds the Data API statement that ran `sql` and long-polls it to its
/// end: it must end ABORTED, cancelled by the gateway.
pub(crate) async fn assert_aborted(stack: &Stack, sql: &str) {
    let id = statement_of_sql(stack, sql).await.id().to_owned();
    let d = stack
        .emulator
        .client
        .describe_statement()
        .id(id)
        .wait_time_seconds(20)
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.status(),
        Some(&aws_sdk_redshiftdata::types::StatusString::Aborted),
        "{d:?}"
    );
}

/// The gRPC status of a failed Flight call.
pub(crate) fn status_of(err: arrow_flight::error::FlightError) -> tonic::Status {
    match err {
        arrow_flight::error::FlightError::Tonic(status) => *status,
        other => panic!("not a gRPC status: {other:?}"),
    }
}

/// The descriptor of a CommandStatementQuery.
pub(crate) fn statement_descriptor(sql: &str) -> arrow_flight::FlightDescriptor {
    use arrow_flight::sql::ProstMessageExt as _;
    use prost::Message as _;
    arrow_flight::FlightDescriptor::new_cmd(
        arrow_flight::sql::CommandStatementQuery {
            query: sql.to_owned(),
            transaction_id: None,
        }
        .as_any()
        .encode_to_vec(),
    )
}
