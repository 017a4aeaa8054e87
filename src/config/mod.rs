//! Configuration of `serve` and `local` as parsed blocks: every flag has an
//! `RSFS_*` environment variable, a `///` that becomes its `--help`, and one
//! default (a constant that both the flag and `Default` use). Durations and
//! sizes are parsed types (`30s`, `5m`, `512MiB`).

mod auth;
mod aws;
mod cache;
pub mod file;
mod limits;
mod query;
mod retry;
mod server;
mod target;
mod tls;
mod units;
mod unload;

use std::net::SocketAddr;

pub use auth::AuthConfig;
pub use aws::AwsSettings;
pub use cache::CacheConfig;
pub use limits::LimitsConfig;
pub use query::{QueryConfig, ResultFormatSetting};
pub use retry::RetryConfig;
pub use server::ServerConfig;
pub use target::DataApiTarget;
pub use tls::{ClientAuth, TlsConfig};
pub use units::{ByteSize, HumanDuration, UnitError};
pub use unload::{S3Uri, UnloadConfig, UnloadMode};

/// Everything the gateway needs besides its listener and its Data API.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct GatewayConfig {
    /// Where statements run.
    #[command(flatten)]
    pub target: DataApiTarget,
    /// The AWS client.
    #[command(flatten)]
    pub aws: AwsSettings,
    /// How Flight SQL is served.
    #[command(flatten)]
    pub service: ServiceConfig,
}

/// How Flight SQL is served, whatever the Data API behind it (`serve` and
/// `local` share these flags).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
pub struct ServiceConfig {
    /// The gRPC server.
    #[command(flatten)]
    pub server: ServerConfig,
    /// TLS of the Flight port.
    #[command(flatten)]
    pub tls: TlsConfig,
    /// Authentication.
    #[command(flatten)]
    pub auth: AuthConfig,
    /// Results cache.
    #[command(flatten)]
    pub cache: CacheConfig,
    /// Limits.
    #[command(flatten)]
    pub limits: LimitsConfig,
    /// Retries of Data API calls.
    #[command(flatten)]
    pub retry: RetryConfig,
    /// Query execution.
    #[command(flatten)]
    pub query: QueryConfig,
    /// Large results through UNLOAD.
    #[command(flatten)]
    pub unload: UnloadConfig,
}

/// Default address of `serve`.
pub const DEFAULT_SERVE_LISTEN: &str = "0.0.0.0:32010";

/// `serve` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address the Flight SQL server listens on.
    #[arg(long, env = "RSFS_LISTEN", default_value = DEFAULT_SERVE_LISTEN)]
    pub listen: SocketAddr,
    /// The gateway.
    #[command(flatten)]
    pub gateway: GatewayConfig,
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use clap::{CommandFactory as _, Parser};

    use super::*;
    use crate::auth::AuthMode;

    /// The blocks as the `serve` command parses them.
    #[derive(Debug, Parser)]
    struct Serve {
        #[command(flatten)]
        args: ServeArgs,
    }

    fn parse(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        Serve::try_parse_from(std::iter::once("serve").chain(args.iter().copied())).map(|s| s.args)
    }

    /// Each block parsed alone, for comparing its defaults.
    #[derive(Debug, Parser)]
    struct Blocks {
        #[command(flatten)]
        server: ServerConfig,
        #[command(flatten)]
        auth: AuthConfig,
        #[command(flatten)]
        cache: CacheConfig,
        #[command(flatten)]
        limits: LimitsConfig,
        #[command(flatten)]
        query: QueryConfig,
        #[command(flatten)]
        aws: AwsSettings,
        #[command(flatten)]
        retry: RetryConfig,
    }

    #[test]
    fn the_defaults_used_are_the_defaults_parsed() {
        let parsed = Blocks::try_parse_from(["blocks"]).expect("no flags");
        assert_eq!(parsed.server, ServerConfig::default());
        assert_eq!(parsed.auth, AuthConfig::default());
        assert_eq!(parsed.cache, CacheConfig::default());
        assert_eq!(parsed.limits, LimitsConfig::default());
        assert_eq!(parsed.query, QueryConfig::default());
        assert_eq!(parsed.aws, AwsSettings::default());
        assert_eq!(parsed.retry, RetryConfig::default());
    }

    #[test]
    fn the_help_shows_the_defaults_in_their_units() {
        let help = Serve::command().render_long_help().to_string();
        for shown in [
            "[default: 1h]",
            "[default: 30s]",
            "[default: 20s]",
            "[default: 64MiB]",
            "[default: 12h]",
            "[default: 5m]",
            "[default: 10m]",
            "[default: auto]",
            "[default: none]",
            "[default: dev]",
            "[env: RSFS_CACHE_TTL=]",
            "[env: RSFS_PAGES_IN_FLIGHT=]",
        ] {
            assert!(help.contains(shown), "the help lacks {shown}");
        }
    }

    #[test]
    fn serve_needs_a_target() {
        let e = parse(&[]).expect_err("no target");
        assert_eq!(e.kind(), clap::error::ErrorKind::MissingRequiredArgument);
        let args = parse(&["--workgroup-name", "wg"]).expect("workgroup");
        assert_eq!(args.gateway.target.workgroup_name.as_deref(), Some("wg"));
        let args = parse(&["--cluster-identifier", "c", "--db-user", "u"]).expect("cluster");
        assert_eq!(args.gateway.target.db_user.as_deref(), Some("u"));
        assert!(parse(&["--cluster-identifier", "c", "--workgroup-name", "wg"]).is_err());
        assert!(
            parse(&[
                "--cluster-identifier",
                "c",
                "--db-user",
                "u",
                "--secret-arn",
                "arn"
            ])
            .is_err()
        );
    }

    #[test]
    fn every_block_parses_its_flags() {
        let args = parse(&[
            "--workgroup-name",
            "wg",
            "--listen",
            "127.0.0.1:0",
            "--database",
            "analytics",
            "--region",
            "eu-west-1",
            "--endpoint-url",
            "http://127.0.0.1:1",
            "--max-attempts",
            "7",
            "--keepalive-interval",
            "15s",
            "--keepalive-timeout",
            "5s",
            "--max-message-size",
            "16MiB",
            "--auth",
            "basic",
            "--users-file",
            "/etc/users",
            "--token-ttl",
            "1h",
            "--cache-bytes",
            "1GiB",
            "--cache-ttl",
            "10m",
            "--pages-in-flight",
            "4",
            "--metadata-cache-ttl",
            "1m",
            "--metadata-cache-entries",
            "10",
            "--schema-cache-ttl",
            "2m",
            "--schema-cache-entries",
            "20",
            "--bound-rows-ttl",
            "3m",
            "--bound-rows-entries",
            "30",
            "--result-format",
            "json",
            "--long-poll",
            "5s",
            "--reuse",
            "1m",
            "--reuse-entries",
            "40",
            "--retry-budget",
            "45s",
        ])
        .expect("all flags");
        let (t, a) = (&args.gateway.target, &args.gateway.aws);
        let g = &args.gateway.service;
        assert_eq!(args.listen, "127.0.0.1:0".parse().expect("addr"));
        assert_eq!(t.database, "analytics");
        assert_eq!(a.region.as_deref(), Some("eu-west-1"));
        assert_eq!(g.retry.max_attempts, 7);
        assert_eq!(g.retry.retry_budget.get(), Duration::from_secs(45));
        assert_eq!(g.server.keepalive_interval.get(), Duration::from_secs(15));
        assert_eq!(g.server.keepalive_timeout.get(), Duration::from_secs(5));
        assert_eq!(g.server.max_message_size, ByteSize::mib(16));
        assert_eq!(g.auth.modes, [AuthMode::Basic]);
        assert_eq!(g.auth.token_ttl.get(), Duration::from_secs(3600));
        assert_eq!(g.cache.capacity(), 1 << 30);
        assert_eq!(g.cache.cache_ttl.get(), Duration::from_secs(600));
        assert_eq!(g.limits.pages_in_flight.get(), 4);
        assert_eq!(g.limits.metadata_cache_ttl.get(), Duration::from_secs(60));
        assert_eq!(g.limits.metadata_cache_entries, 10);
        assert_eq!(g.limits.schema_cache_ttl.get(), Duration::from_secs(120));
        assert_eq!(g.limits.schema_cache_entries, 20);
        assert_eq!(g.limits.bound_rows_ttl.get(), Duration::from_secs(180));
        assert_eq!(g.limits.bound_rows_entries, 30);
        assert_eq!(g.query.result_format, ResultFormatSetting::Json);
        assert_eq!(g.query.long_poll_seconds(), Some(5));
        assert_eq!(g.query.reuse.get(), Duration::from_secs(60));
        assert_eq!(g.query.reuse_entries, 40);
    }

    #[test]
    fn data_api_rates_parse_by_operation_name() {
        let args = parse(&[
            "--workgroup-name",
            "wg",
            "--data-api-rate",
            "ExecuteStatement=30,GetStatementResult=20",
        ])
        .expect("rates");
        let rates = &args.gateway.service.retry.data_api_rates;
        assert_eq!(rates.len(), 2);
        assert_eq!(rates[0].0, crate::dataapi::Operation::ExecuteStatement);
        assert_eq!(rates[1].1.get(), 20);
        for bad in ["DropTable=1", "ExecuteStatement=0", "ExecuteStatement"] {
            assert!(parse(&["--workgroup-name", "wg", "--data-api-rate", bad]).is_err());
        }
    }

    #[test]
    fn the_old_seconds_flags_still_work() {
        let args = parse(&[
            "--workgroup-name",
            "wg",
            "--cache-ttl-seconds",
            "120",
            "--token-ttl-seconds",
            "60",
            "--long-poll-seconds",
            "0",
            "--reuse-seconds",
            "30",
            "--cache-bytes",
            "1048576",
        ])
        .expect("old flags");
        let g = &args.gateway.service;
        assert_eq!(g.cache.cache_ttl.get(), Duration::from_secs(120));
        assert_eq!(g.auth.token_ttl.get(), Duration::from_secs(60));
        assert_eq!(g.query.long_poll_seconds(), None);
        assert_eq!(g.query.reuse.get(), Duration::from_secs(30));
        assert_eq!(g.cache.capacity(), 1 << 20);
    }

    #[test]
    fn bad_values_are_refused_with_a_reason() {
        for bad in [
            &["--workgroup-name", "wg", "--long-poll", "31s"][..],
            &["--workgroup-name", "wg", "--long-poll", "500ms"],
            &["--workgroup-name", "wg", "--cache-ttl", "forever"],
            &["--workgroup-name", "wg", "--cache-bytes", "lots"],
            &["--workgroup-name", "wg", "--pages-in-flight", "0"],
            &["--workgroup-name", "wg", "--max-attempts", "0"],
            &["--workgroup-name", "wg", "--auth", "oidc,nonsense"],
        ] {
            let e = parse(bad).expect_err("refused");
            assert!(!e.to_string().is_empty());
        }
    }
}
