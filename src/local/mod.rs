//! The whole stack in one process for people and tests: a throwaway
//! PostgreSQL with a TICKIT sample, the Data API emulator, and the gateway
//! talking to it through the real AWS SDK.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use redshift_data_emulator::{self as emulator, EmulatorConfig, ThrowawayCluster};

use crate::config::{AwsSettings, DataApiTarget, GatewayConfig, ServiceConfig};
use crate::dataapi::AwsDataApi;

/// The TICKIT sample: seven tables, tens of thousands of rows.
pub const TICKIT_SQL: &str = include_str!("tickit.sql");

/// `local` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct LocalArgs {
    /// Address of the Flight SQL server (port 0 picks a free port).
    #[arg(long, env = "RSFS_LISTEN", default_value = "127.0.0.1:32010")]
    pub listen: SocketAddr,
    /// Address of the Data API emulator.
    #[arg(long, env = "RSFS_EMULATOR_LISTEN", default_value = "127.0.0.1:0")]
    pub emulator_listen: SocketAddr,
    /// Serve TLS with a throwaway CA and server certificate made at start
    /// (the CA's file is printed: give it to clients as their root certificate).
    #[arg(long, env = "RSFS_LOCAL_TLS", conflicts_with = "tls_cert")]
    pub tls: bool,
    /// How Flight SQL is served (no authentication by default).
    #[command(flatten)]
    pub service: ServiceConfig,
    /// The emulator.
    #[command(flatten)]
    pub emulator: EmulatorConfig,
}

/// Loads the TICKIT sample into the database at `postgres_url` unless its
/// tables exist.
pub async fn load_tickit(postgres_url: &str) -> anyhow::Result<()> {
    emulator::load_sql_unless_table_exists(postgres_url, "sales", TICKIT_SQL)
        .await
        .context("loading TICKIT")
}

/// Replaces the database part of a PostgreSQL URL.
fn with_database(url: &str, database: &str) -> String {
    match url.rfind('/') {
        Some(i) if i > "postgres://".len() => format!("{}/{database}", &url[..i]),
        _ => format!("{url}/{database}"),
    }
}

/// The bucket and prefix `local` unloads to when none is given.
pub const LOCAL_UNLOAD_URI: &str = "s3://local-unload/results/";
/// The IAM role `local` names in its UNLOAD statements when none is given.
pub const LOCAL_UNLOAD_ROLE: &str = "arn:aws:iam::123456789012:role/local-unload";

/// Points the gateway's and the emulator's UNLOAD at the same place: the S3
/// endpoint given to either, else a directory of `local`'s own (returned,
/// to be removed at the end). UNLOAD is so always available locally.
fn local_unload(args: &mut LocalArgs) -> anyhow::Result<Option<std::path::PathBuf>> {
    let unload = &mut args.service.unload;
    if unload.unload_s3_uri.is_none() {
        unload.unload_s3_uri = Some(LOCAL_UNLOAD_URI.parse().map_err(anyhow::Error::msg)?);
    }
    unload
        .unload_iam_role
        .get_or_insert_with(|| LOCAL_UNLOAD_ROLE.to_owned());
    let emulator = &mut args.emulator;
    match (&unload.unload_s3_endpoint, &emulator.unload_s3_endpoint) {
        (Some(url), None) => emulator.unload_s3_endpoint = Some(url.clone()),
        (None, Some(url)) => unload.unload_s3_endpoint = Some(url.clone()),
        _ => {}
    }
    if unload.unload_s3_endpoint.is_some() {
        return Ok(None);
    }
    let (dir, owned) = match (&unload.unload_local_dir, &emulator.unload_local_dir) {
        (Some(dir), _) | (None, Some(dir)) => (dir.clone(), false),
        (None, None) => (
            std::env::temp_dir().join(format!("rsfs-local-unload-{}", std::process::id())),
            true,
        ),
    };
    unload.unload_local_dir = Some(dir.clone());
    emulator.unload_local_dir = Some(dir.clone());
    Ok(owned.then_some(dir))
}

/// Runs PostgreSQL, the emulator and the gateway until `shutdown`; calls
/// `announce` with each ready line.
pub async fn run(
    args: LocalArgs,
    shutdown: CancellationToken,
    announce: impl Fn(&str),
) -> anyhow::Result<()> {
    let mut args = args;
    let unload_dir = local_unload(&mut args)?;
    let cluster = tokio::task::spawn_blocking(ThrowawayCluster::start).await??;
    let admin = cluster.url("postgres");
    let database = args.emulator.default_database.clone();
    emulator::ensure_database(&admin, &database).await?;
    load_tickit(&with_database(&admin, &database)).await?;

    let emulator_listener = TcpListener::bind(args.emulator_listen)
        .await
        .with_context(|| format!("binding {}", args.emulator_listen))?;
    let emulator_url = format!("http://{}", emulator_listener.local_addr()?);
    announce(&emulator::ready_line(&emulator_url));
    let emulator_task = tokio::spawn({
        let shutdown = shutdown.clone();
        let config = args.emulator.clone();
        let admin = admin.clone();
        async move { emulator::serve(config, &admin, emulator_listener, shutdown).await }
    });

    let target = DataApiTarget {
        cluster_identifier: Some("local".to_owned()),
        db_user: Some("awsuser".to_owned()),
        database: database.clone(),
        ..DataApiTarget::default()
    };
    let settings = AwsSettings {
        region: Some("us-east-1".to_owned()),
        endpoint_url: Some(emulator_url),
    };
    let api = AwsDataApi::with_static_credentials(&settings, &args.service.retry, target.clone());
    let mut service = args.service;
    let tls_dir = args
        .tls
        .then(|| std::env::temp_dir().join(format!("rsfs-local-tls-{}", std::process::id())));
    if let Some(dir) = &tls_dir {
        let (ca, cert, key) = crate::tls::throwaway_ca(dir).context("making a throwaway CA")?;
        announce(&format!("tls ca certificate: {}", ca.display()));
        service.tls.tls_cert = Some(cert);
        service.tls.tls_key = Some(key);
    }
    let scheme = if service.tls.enabled() {
        "grpc+tls"
    } else {
        "grpc"
    };
    let config = GatewayConfig {
        target,
        aws: settings,
        service,
    };
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("binding {}", args.listen))?;
    announce(&format!(
        "flight sql listening on {scheme}://{}",
        listener.local_addr()?
    ));
    let served = crate::run(config, std::sync::Arc::new(api), listener, shutdown).await;
    if let Some(dir) = tls_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Some(dir) = unload_dir {
        let _ = std::fs::remove_dir_all(dir);
    }
    served?;
    emulator_task.await??;
    drop(cluster);
    Ok(())
}
