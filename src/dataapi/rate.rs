//! Gateway-wide rates of Data API calls, per operation (`--data-api-rate`):
//! the account's quotas are shared by every replica and every user, so a
//! call beyond its operation's rate waits for its turn instead of being
//! throttled by the service (and retried with backoff).

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::Operation;
use crate::telemetry::metrics as names;

/// A limiter per operation that has a rate; the others run freely.
#[derive(Debug, Clone, Default)]
pub struct RateLimits(HashMap<Operation, Arc<DefaultDirectRateLimiter>>);

impl RateLimits {
    /// At most `per_second` calls of each listed operation per second (in
    /// bursts of up to that many).
    pub fn new(rates: &[(Operation, NonZeroU32)]) -> Self {
        Self(
            rates
                .iter()
                .map(|(op, n)| (*op, Arc::new(RateLimiter::direct(Quota::per_second(*n)))))
                .collect(),
        )
    }

    /// Waits until a call of `operation` is within its rate.
    pub(crate) async fn acquire(&self, operation: Operation) {
        let Some(limiter) = self.0.get(&operation) else {
            return;
        };
        if limiter.check().is_err() {
            metrics::counter!(names::DATA_API_RATE_WAITS, "operation" => operation.name())
                .increment(1);
            limiter.until_ready().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_beyond_the_rate_wait_and_others_do_not() {
        let limits = RateLimits::new(&[(Operation::ExecuteStatement, NonZeroU32::MIN)]);
        let started = std::time::Instant::now();
        limits.acquire(Operation::ListTables).await;
        limits.acquire(Operation::ListTables).await;
        limits.acquire(Operation::ExecuteStatement).await;
        assert!(started.elapsed() < std::time::Duration::from_millis(500));
        limits.acquire(Operation::ExecuteStatement).await;
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(900),
            "the second call in a second waited for its turn"
        );
    }
}
