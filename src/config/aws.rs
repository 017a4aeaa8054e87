//! The AWS client: region and endpoint (retries are their own block).

/// Settings of the AWS client (flags and `RSFS_*` variables; credentials come
/// from the standard AWS chain: environment, profile, web identity, ECS, IMDS).
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "AWS")]
pub struct AwsSettings {
    /// AWS region (else the standard chain: AWS_REGION, profile, IMDS).
    #[arg(long, env = "RSFS_REGION")]
    pub region: Option<String>,
    /// Data API endpoint URL (also read from AWS_ENDPOINT_URL_REDSHIFT_DATA).
    #[arg(long, env = "RSFS_ENDPOINT_URL")]
    pub endpoint_url: Option<String>,
}
