//! Result bytes each principal's DoGets hold in the gateway
//! (`--max-result-bytes-per-principal`): a converted batch counts from the
//! moment its stream queues it until its client asks for the batch after it
//! (by then its messages have been handed to the connection). A principal at
//! its limit gets RESOURCE_EXHAUSTED for a new DoGet; the streams it already
//! has go on, so one client reading its streams in turn never waits on
//! itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::error::GatewayError;

/// The bytes held per principal, and the limit.
#[derive(Debug, Default)]
pub(crate) struct ResultBytes {
    held: Mutex<HashMap<String, usize>>,
    /// Most bytes one principal may hold before its new DoGets are refused (0: none).
    limit: usize,
}

impl ResultBytes {
    /// A tracker that refuses new DoGets of a principal holding `limit` bytes (0: never).
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            held: Mutex::default(),
            limit,
        }
    }

    /// The bytes `principal`'s streams hold now.
    pub(crate) fn held_by(&self, principal: &str) -> usize {
        self.held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(principal)
            .copied()
            .unwrap_or(0)
    }

    /// Whether `principal` may open one more stream.
    pub(crate) fn admit(&self, principal: &str) -> Result<(), GatewayError> {
        let held = self.held_by(principal);
        if self.limit > 0 && held >= self.limit {
            return Err(GatewayError::LimitReached(format!(
                "{principal} has {held} bytes of results waiting to be read, the most --max-result-bytes-per-principal ({}) allows; read or close a result stream and retry",
                self.limit
            )));
        }
        Ok(())
    }

    /// Counts `bytes` held for `principal` until the guard is dropped.
    pub(crate) fn hold(self: &Arc<Self>, principal: &str, bytes: usize) -> HeldBytes {
        *self
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(principal.to_owned())
            .or_default() += bytes;
        HeldBytes {
            tracker: Arc::clone(self),
            principal: principal.to_owned(),
            bytes,
        }
    }
}

/// Bytes counted against a principal while this lives.
#[derive(Debug)]
pub(crate) struct HeldBytes {
    tracker: Arc<ResultBytes>,
    principal: String,
    bytes: usize,
}

impl Drop for HeldBytes {
    fn drop(&mut self) {
        let mut held = self
            .tracker
            .held
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(n) = held.get_mut(&self.principal) {
            *n = n.saturating_sub(self.bytes);
            if *n == 0 {
                held.remove(&self.principal);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_principal_at_its_limit_is_refused_until_its_bytes_are_read() {
        let tracker = Arc::new(ResultBytes::new(100));
        let first = tracker.hold("alice", 60);
        tracker.admit("alice").expect("under the limit");
        let second = tracker.hold("alice", 60);
        let e = tracker.admit("alice").expect_err("at the limit");
        assert!(e.to_string().contains("120 bytes"), "{e}");
        tracker.admit("bob").expect("bob is not alice");
        drop(first);
        tracker.admit("alice").expect("read");
        drop(second);
        assert_eq!(tracker.held_by("alice"), 0);
        ResultBytes::new(0).admit("alice").expect("no limit at all");
    }
}
