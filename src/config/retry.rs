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
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            retry_budget: DEFAULT_RETRY_BUDGET,
        }
    }
}

impl RetryConfig {
    /// The gateway's retry policy.
    pub fn policy(&self) -> crate::dataapi::RetryPolicy {
        crate::dataapi::RetryPolicy {
            budget: self.retry_budget.get(),
            ..crate::dataapi::RetryPolicy::default()
        }
    }
}
