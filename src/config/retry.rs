//! How Data API calls are retried: the SDK's attempts per call, and the
//! gateway's time budget above them.

use super::units::HumanDuration;

/// Default attempts per Data API call inside the SDK.
pub(super) const DEFAULT_MAX_ATTEMPTS: u32 = 3;
/// Default time spent retrying one Data API call.
pub(super) const DEFAULT_RETRY_BUDGET: HumanDuration = HumanDuration::secs(30);

/// Retry settings (flags and `RSFS_*` variables), the same for `serve` and `local`.
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Retry")]
pub struct RetryConfig {
    /// Attempts per Data API call inside the AWS SDK (with its own short backoff).
    #[arg(long, env = "RSFS_MAX_ATTEMPTS", default_value_t = DEFAULT_MAX_ATTEMPTS,
          value_parser = clap::value_parser!(u32).range(1..=20))]
    pub max_attempts: u32,
    /// How long the gateway keeps retrying a Data API call that was throttled
    /// or failed on the service side (full-jitter backoff; 0 turns it off).
    /// A retried ExecuteStatement carries the same ClientToken, so it never
    /// runs twice.
    #[arg(long, env = "RSFS_RETRY_BUDGET", default_value_t = DEFAULT_RETRY_BUDGET)]
    pub retry_budget: HumanDuration,
    /// Most Data API calls per second of an operation, gateway-wide
    /// (`ExecuteStatement=30,GetStatementResult=20`, …; unlisted operations
    /// are not limited): a call beyond its rate waits instead of being
    /// throttled. Set them to your account's quotas divided by the replicas.
    #[arg(long = "data-api-rate", env = "RSFS_DATA_API_RATE", value_delimiter = ',', value_parser = parse_rate)]
    pub data_api_rates: Vec<(crate::dataapi::Operation, std::num::NonZeroU32)>,
}

/// Parses `Operation=N` (calls per second).
fn parse_rate(s: &str) -> Result<(crate::dataapi::Operation, std::num::NonZeroU32), String> {
    let (name, rate) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not OPERATION=CALLS_PER_SECOND"))?;
    let operation = crate::dataapi::Operation::from_name(name.trim()).ok_or_else(|| {
        let names: Vec<&str> = crate::dataapi::Operation::ALL
            .iter()
            .map(|op| op.name())
            .collect();
        format!(
            "`{name}` is not an operation the gateway calls ({})",
            names.join(", ")
        )
    })?;
    let rate = rate
        .trim()
        .parse()
        .map_err(|_| format!("`{rate}` is not a whole number of calls per second above 0"))?;
    Ok((operation, rate))
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_budget: DEFAULT_RETRY_BUDGET,
            data_api_rates: Vec::new(),
        }
    }
}

impl RetryConfig {
    /// The gateway's retry policy.
    /// The gateway-wide rates of Data API calls.
    pub fn rates(&self) -> crate::dataapi::RateLimits {
        crate::dataapi::RateLimits::new(&self.data_api_rates)
    }

    /// The gateway's retry policy.
    pub fn policy(&self) -> crate::dataapi::RetryPolicy {
        crate::dataapi::RetryPolicy {
            budget: self.retry_budget.get(),
            ..crate::dataapi::RetryPolicy::default()
        }
    }
}
