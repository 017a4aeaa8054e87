//! Waiting for a statement to end: long-poll DescribeStatement with
//! WaitTimeSeconds (one call for most queries, no added latency), falling back
//! to an adaptive poll (short first waits, backing off, capped) when long
//! polling is off or the service refuses more waiting requests.

use std::time::Duration;

use super::{DataApi, DataApiError, DataApiErrorKind, StatementDescription};

/// How the gateway waits for statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    /// WaitTimeSeconds for each DescribeStatement (1–30), or `None` to poll.
    pub long_poll_seconds: Option<i32>,
    /// First poll interval.
    pub first_interval: Duration,
    /// Longest poll interval.
    pub max_interval: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        Self {
            long_poll_seconds: Some(20),
            first_interval: Duration::from_millis(5),
            max_interval: Duration::from_secs(1),
        }
    }
}

impl WaitPolicy {
    /// The sleeps of the polling fallback: doubling from `first_interval` up to `max_interval`.
    pub fn intervals(&self) -> impl Iterator<Item = Duration> + use<> {
        let max = self.max_interval;
        std::iter::successors(Some(self.first_interval), move |d| Some((*d * 2).min(max)))
    }
}

/// Describes `id` until it has ended and returns the final description.
pub async fn wait_for_statement(
    api: &dyn DataApi,
    id: &str,
    policy: WaitPolicy,
) -> Result<StatementDescription, DataApiError> {
    let mut long_poll = policy.long_poll_seconds.map(|s| s.clamp(1, 30));
    let mut intervals = policy.intervals();
    loop {
        match api.describe_statement(id, long_poll).await {
            Ok(d) if d.status.is_terminal() => return Ok(d),
            Ok(_) if long_poll.is_some() => {}
            Ok(_) => {
                let pause = intervals.next().unwrap_or(policy.max_interval);
                tokio::time::sleep(pause).await;
            }
            // Too many waiting requests: keep going by polling.
            Err(e) if e.kind == DataApiErrorKind::QuotaExceeded && long_poll.is_some() => {
                long_poll = None;
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_back_off_to_the_cap() {
        let policy = WaitPolicy {
            long_poll_seconds: None,
            first_interval: Duration::from_millis(10),
            max_interval: Duration::from_millis(50),
        };
        let got: Vec<u128> = policy.intervals().take(5).map(|d| d.as_millis()).collect();
        assert_eq!(got, [10, 20, 40, 50, 50]);
    }
}
