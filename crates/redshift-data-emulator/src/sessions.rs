//! Data API sessions: SessionKeepAliveSeconds pins one PostgreSQL connection to
//! a SessionId, so BEGIN … COMMIT spans several ExecuteStatement calls. A session
//! runs one statement at a time and closes when idle past its keep-alive.
//! Here: opening, finding and expiring sessions, and ListSessions.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::error::ApiError;
use crate::model::{ListSessionsInput, Target};
use crate::paging::{page_size, paginate};
use crate::records::{Session, lock, seconds};
use crate::responses::{ListSessionsResponse, SessionStatus};
use crate::state::State;

/// How often idle sessions and expired results are swept.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

impl State {
    /// Opens a session for a statement that asked for one (SessionKeepAliveSeconds > 0).
    pub(crate) fn open_session(
        &self,
        target: Target,
        statement: &str,
        keep_alive: i64,
    ) -> Result<Arc<Session>, ApiError> {
        let open = lock(&self.sessions)
            .values()
            .filter(|s| s.status() != SessionStatus::Closed)
            .count();
        if open >= self.config.max_sessions {
            return Err(ApiError::ActiveSessionsExceeded(format!(
                "Active sessions exceeded the allowed quota ({}).",
                self.config.max_sessions
            )));
        }
        let session = Arc::new(Session::open(target, statement, keep_alive));
        lock(&self.sessions).insert(session.id.clone(), Arc::clone(&session));
        Ok(session)
    }

    /// The session with this Id.
    pub(crate) fn session(&self, id: &str) -> Result<Arc<Session>, ApiError> {
        lock(&self.sessions)
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Session {id} does not exist"), id))
    }

    /// Closes idle sessions and forgets long-closed ones; run periodically.
    pub(crate) fn expire_sessions(&self) {
        let now = Utc::now();
        let sessions: Vec<Arc<Session>> = lock(&self.sessions).values().cloned().collect();
        for s in &sessions {
            s.expire(now);
        }
        let forget_after = seconds(3600);
        lock(&self.sessions).retain(|_, s| {
            let st = lock(&s.state);
            st.status != SessionStatus::Closed || now - st.updated_at < forget_after
        });
    }

    /// ListSessions.
    pub(crate) fn list_sessions(
        &self,
        input: ListSessionsInput,
    ) -> Result<ListSessionsResponse, ApiError> {
        self.expire_sessions();
        let max = page_size(input.max_results, 100)?;
        let status = match input.status.as_deref() {
            None => None,
            Some("AVAILABLE") => Some(SessionStatus::Available),
            Some("BUSY") => Some(SessionStatus::Busy),
            Some("CLOSED") => Some(SessionStatus::Closed),
            Some(other) => {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{other}' at 'status' failed to satisfy constraint: Member must satisfy enum value set: [AVAILABLE, BUSY, CLOSED]"
                )));
            }
        };
        let mut sessions: Vec<Arc<Session>> = lock(&self.sessions).values().cloned().collect();
        sessions.retain(|s| {
            input.session_id.as_deref().is_none_or(|id| s.id == id)
                && status.is_none_or(|st| s.status() == st)
                && s.target.matches(
                    input.database.as_deref(),
                    input.cluster_identifier.as_deref(),
                    input.workgroup_name.as_deref(),
                )
        });
        sessions.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let entries = sessions.iter().map(|s| s.data()).collect();
        let (sessions, next_token) = paginate(entries, input.next_token.as_deref(), max)?;
        Ok(ListSessionsResponse {
            sessions,
            next_token,
        })
    }
}
