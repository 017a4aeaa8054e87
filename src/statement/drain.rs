//! What the gateway has in flight, for a graceful drain: the statements it
//! started that have not been seen to end, and the result streams open. On
//! SIGTERM new statements are refused (UNAVAILABLE, so clients retry on
//! another replica), open work may finish within the drain timeout, and
//! whatever still runs then is cancelled on Redshift.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::dataapi::{DataApi, StatementDescription};
use crate::error::GatewayError;
use crate::telemetry::audit::Submitted;
use crate::telemetry::metrics as names;

/// Most statements remembered as running (a client that submits by
/// PollFlightInfo and never polls again leaves one behind until the drain).
const MAX_REMEMBERED: usize = 100_000;

tokio::task_local! {
    /// The principal an RPC runs for, so that its statements are counted under it.
    static PRINCIPAL: String;
}

/// Runs `body` (an RPC's work) on behalf of `principal`: the statements it
/// starts count under that principal in `rsfs_statements_in_flight`.
pub(crate) async fn on_behalf_of<F: Future>(principal: &str, body: F) -> F::Output {
    PRINCIPAL.scope(principal.to_owned(), body).await
}

/// A statement the gateway started and has not seen end.
#[derive(Debug)]
struct Running {
    /// What the audit log reports when it ends.
    submitted: Submitted,
    /// The `principal` label it counts under in the metrics.
    label: String,
    /// The principal it runs for (`None`: the gateway's own).
    principal: Option<String>,
}

/// Statements started and streams open.
#[derive(Debug, Default)]
pub(crate) struct InFlight {
    /// The Data API identity statements run as (for the audit log).
    identity: String,
    /// Running statements by Id.
    running: Mutex<HashMap<String, Running>>,
    /// Statements admitted under a principal's limit and being submitted.
    admitted: Mutex<HashMap<String, usize>>,
    streams: AtomicUsize,
    draining: CancellationToken,
    changed: Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl InFlight {
    /// Nothing in flight yet; statements run as `identity`.
    pub(crate) fn new(identity: String) -> Self {
        Self {
            identity,
            ..Self::default()
        }
    }

    /// The principal of the RPC being served (`gateway` outside one).
    pub(crate) fn principal() -> String {
        PRINCIPAL
            .try_with(Clone::clone)
            .unwrap_or_else(|_| "gateway".to_owned())
    }

    /// A submission the Data API refused, for the audit log.
    pub(crate) fn refused(&self, submitted: &Submitted, error: &str) {
        submitted.refused(&self.identity, error);
    }

    /// Whether the drain has begun (no new statements).
    pub(crate) fn is_draining(&self) -> bool {
        self.draining.is_cancelled()
    }

    /// A statement was submitted.
    pub(crate) fn started(&self, id: &str, submitted: Submitted) {
        let principal = PRINCIPAL.try_with(Clone::clone).ok();
        let label = principal
            .as_deref()
            .map_or_else(|| "gateway".to_owned(), names::principal_label);
        let mut running = lock(&self.running);
        let id = super::parent_id(id);
        if running.len() < MAX_REMEMBERED && !running.contains_key(id) {
            metrics::gauge!(names::STATEMENTS_RUNNING).increment(1);
            metrics::gauge!(names::STATEMENTS_IN_FLIGHT, "principal" => label.clone()).increment(1);
            running.insert(
                id.to_owned(),
                Running {
                    submitted,
                    label,
                    principal,
                },
            );
        }
    }

    /// A statement was seen to end, as `description` says.
    pub(crate) fn ended(&self, id: &str, description: &StatementDescription) {
        if let Some(r) = lock(&self.running).remove(super::parent_id(id)) {
            metrics::gauge!(names::STATEMENTS_RUNNING).decrement(1);
            metrics::gauge!(names::STATEMENTS_IN_FLIGHT, "principal" => r.label).decrement(1);
            let outcome = format!("{:?}", description.status).to_ascii_lowercase();
            r.submitted.ended(
                &self.identity,
                super::parent_id(id),
                &outcome,
                description.result_rows,
                description.result_size,
                description.error.as_deref(),
            );
        }
        self.changed.notify_waiters();
    }

    /// A statement the gateway cancelled (or found ended when it tried):
    /// it no longer counts as running, even while Redshift finishes the
    /// cancellation, which the Data API does after CancelStatement returns.
    pub(crate) fn cancelled(&self, id: &str) {
        if let Some(r) = lock(&self.running).remove(super::parent_id(id)) {
            metrics::gauge!(names::STATEMENTS_RUNNING).decrement(1);
            metrics::gauge!(names::STATEMENTS_IN_FLIGHT, "principal" => r.label).decrement(1);
            r.submitted.ended(
                &self.identity,
                super::parent_id(id),
                "cancelled",
                -1,
                -1,
                None,
            );
        }
        self.changed.notify_waiters();
    }

    /// The running statements of `principal`.
    fn running_of(&self, principal: &str) -> Vec<String> {
        lock(&self.running)
            .iter()
            .filter(|(_, r)| r.principal.as_deref() == Some(principal))
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// Counts one more statement of `principal` if it has fewer than `limit`
    /// running or being submitted.
    fn try_admit(&self, principal: &str, limit: usize) -> bool {
        let running = lock(&self.running)
            .values()
            .filter(|r| r.principal.as_deref() == Some(principal))
            .count();
        let mut admitted = lock(&self.admitted);
        let pending = admitted.entry(principal.to_owned()).or_default();
        if running + *pending < limit {
            *pending += 1;
            true
        } else {
            false
        }
    }

    /// Room for one more statement of the RPC's principal under `limit`
    /// (0: no limit; the gateway's own statements have none). At the limit,
    /// the principal's statements are described first: one whose client
    /// stopped polling may have ended unseen.
    pub(crate) async fn admit(
        self: &Arc<Self>,
        api: &dyn DataApi,
        limit: usize,
    ) -> Result<Option<Admission>, GatewayError> {
        let Some(principal) = PRINCIPAL.try_with(Clone::clone).ok().filter(|_| limit > 0) else {
            return Ok(None);
        };
        if !self.try_admit(&principal, limit) {
            for id in self.running_of(&principal) {
                if let Ok(d) = api.describe_statement(&id, None).await
                    && d.status.is_terminal()
                {
                    self.ended(&id, &d);
                }
            }
            if !self.try_admit(&principal, limit) {
                return Err(GatewayError::LimitReached(format!(
                    "{principal} has {limit} statements running, the most --max-statements-per-principal allows; retry when one has ended"
                )));
            }
        }
        Ok(Some(Admission {
            in_flight: Arc::clone(self),
            principal,
        }))
    }

    /// A result stream opened; it counts until the guard is dropped.
    pub(crate) fn stream(self: &Arc<Self>) -> StreamGuard {
        self.streams.fetch_add(1, Ordering::SeqCst);
        metrics::gauge!(names::STREAMS_OPEN).increment(1);
        StreamGuard(Arc::clone(self))
    }

    fn idle(&self) -> bool {
        self.streams.load(Ordering::SeqCst) == 0 && lock(&self.running).is_empty()
    }

    /// Refuses new statements from now on, waits up to `timeout` for open
    /// streams and running statements to end, then cancels the statements
    /// still running. Returns how many it cancelled.
    pub(crate) async fn drain(&self, api: &dyn DataApi, timeout: Duration) -> usize {
        self.draining.cancel();
        let settled = tokio::time::timeout(timeout, async {
            loop {
                let changed = self.changed.notified();
                if self.idle() {
                    return;
                }
                changed.await;
            }
        })
        .await;
        if settled.is_err() {
            tracing::warn!(
                streams = self.streams.load(Ordering::SeqCst),
                statements = lock(&self.running).len(),
                ?timeout,
                "drain timeout: cancelling what still runs"
            );
        }
        let left: Vec<(String, Running)> = lock(&self.running).drain().collect();
        for (id, running) in &left {
            metrics::gauge!(names::STATEMENTS_RUNNING).decrement(1);
            metrics::gauge!(names::STATEMENTS_IN_FLIGHT, "principal" => running.label.clone())
                .decrement(1);
            running
                .submitted
                .ended(&self.identity, id, "cancelled_at_shutdown", -1, -1, None);
            match api.cancel_statement(id).await {
                Ok(_) => tracing::info!(statement_id = %id, "cancelled at shutdown"),
                Err(e) => tracing::debug!(statement_id = %id, error = %e, "cancel at shutdown"),
            }
        }
        left.len()
    }
}

/// One statement of a principal being submitted, counted against its limit
/// until it is running (or its submission failed).
#[derive(Debug)]
pub(crate) struct Admission {
    in_flight: Arc<InFlight>,
    principal: String,
}

impl Drop for Admission {
    fn drop(&mut self) {
        let mut admitted = lock(&self.in_flight.admitted);
        if let Some(n) = admitted.get_mut(&self.principal) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                admitted.remove(&self.principal);
            }
        }
    }
}

/// Counts one open result stream while it lives.
#[derive(Debug)]
pub(crate) struct StreamGuard(Arc<InFlight>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.streams.fetch_sub(1, Ordering::SeqCst);
        metrics::gauge!(names::STREAMS_OPEN).decrement(1);
        self.0.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_statements_are_remembered_by_their_batch() {
        let f = InFlight::new("cluster \"c\"".to_owned());
        let submitted =
            Submitted::new("alice", "select 1", crate::telemetry::audit::AuditSql::Text);
        f.started("abc:2", submitted);
        assert!(!f.idle());
        let ended = StatementDescription {
            id: "abc".to_owned(),
            status: crate::dataapi::StatementStatus::Finished,
            error: None,
            has_result_set: true,
            result_rows: 1,
            result_size: 1,
            session_id: None,
            sub_statement_rows: Vec::new(),
        };
        f.ended("abc", &ended);
        assert!(f.idle());
        let f = Arc::new(f);
        let guard = f.stream();
        assert!(!f.idle());
        drop(guard);
        assert!(f.idle());
    }
}
