//! The AWS client: region, endpoint and retries.

/// Default attempts per Data API call.
pub(super) const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// Settings of the AWS client (flags and `RSFS_*` variables; credentials come
/// from the standard AWS chain: environment, profile, web identity, ECS, IMDS).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
pub struct AwsSettings {
    /// AWS region (else the standard chain: AWS_REGION, profile, IMDS).
    #[arg(long, env = "RSFS_REGION")]
    pub region: Option<String>,
    /// Data API endpoint URL (also read from AWS_ENDPOINT_URL_REDSHIFT_DATA).
    #[arg(long, env = "RSFS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
    /// Attempts per Data API call, retried with backoff on throttling and 5xx.
    #[arg(long, env = "RSFS_MAX_ATTEMPTS", default_value_t = DEFAULT_MAX_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
}

impl Default for AwsSettings {
    fn default() -> Self {
        Self {
            region: None,
            endpoint_url: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        }
    }
}
