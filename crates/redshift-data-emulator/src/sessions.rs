//! Data API sessions: SessionKeepAliveSeconds pins one PostgreSQL connection to
//! a SessionId, so BEGIN … COMMIT spans several ExecuteStatement calls. A session
//! runs one statement at a time and closes when idle past its keep-alive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value as Json, json};

use super::State;
use super::error::ApiError;
use super::model::ListSessionsInput;
use super::postgres::Connection;
use super::statements::{Target, page_size, paginate};
use super::values::epoch_seconds;

/// `SessionStatusString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SessionStatus {
    Available,
    Busy,
    Closed,
}

impl SessionStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Available => "AVAILABLE",
            Self::Busy => "BUSY",
            Self::Closed => "CLOSED",
        }
    }
}

#[derive(Debug)]
struct SessionState {
    status: SessionStatus,
    keep_alive_seconds: i64,
    updated_at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    current_statement: Option<String>,
}

/// One session and its pinned connection.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) target: Target,
    created_at: DateTime<Utc>,
    state: Mutex<SessionState>,
    /// Opened by the first statement; dropped when the session closes (which
    /// rolls back any transaction left open).
    pub(crate) connection: tokio::sync::Mutex<Option<Connection>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn seconds(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

impl Session {
    /// Marks the session busy with `statement`, or refuses if it is busy or closed.
    pub(crate) fn claim(&self, statement: &str, keep_alive: Option<i64>) -> Result<(), ApiError> {
        let mut s = lock(&self.state);
        if s.status == SessionStatus::Available && s.expires_at <= Utc::now() {
            s.status = SessionStatus::Closed;
        }
        match s.status {
            SessionStatus::Closed => Err(ApiError::validation(format!(
                "Session {} is closed (its keep-alive ran out, or a statement ended it with SessionKeepAliveSeconds 0)",
                self.id
            ))),
            SessionStatus::Busy => Err(ApiError::validation(format!(
                "Session {} is busy running statement {}; a session runs one statement at a time",
                self.id,
                s.current_statement.as_deref().unwrap_or("?")
            ))),
            SessionStatus::Available => {
                s.status = SessionStatus::Busy;
                s.current_statement = Some(statement.to_owned());
                if let Some(k) = keep_alive {
                    s.keep_alive_seconds = k;
                }
                s.updated_at = Utc::now();
                Ok(())
            }
        }
    }

    /// Called when the session's statement ends: the keep-alive starts again.
    pub(crate) fn release(&self, statement: &str, connected: bool) {
        let close = {
            let mut s = lock(&self.state);
            if s.current_statement.as_deref() == Some(statement) {
                s.current_statement = None;
            }
            let now = Utc::now();
            s.updated_at = now;
            s.expires_at = now + seconds(s.keep_alive_seconds);
            if s.keep_alive_seconds == 0 || !connected {
                s.status = SessionStatus::Closed;
                true
            } else {
                s.status = SessionStatus::Available;
                false
            }
        };
        if close {
            self.drop_connection();
        }
    }

    fn drop_connection(&self) {
        if let Ok(mut conn) = self.connection.try_lock() {
            conn.take();
        }
    }

    fn status(&self) -> SessionStatus {
        lock(&self.state).status
    }

    /// Closes the session if it has been idle past its keep-alive.
    fn expire(&self, now: DateTime<Utc>) {
        let expired = {
            let mut s = lock(&self.state);
            if s.status == SessionStatus::Available && s.expires_at <= now {
                s.status = SessionStatus::Closed;
                s.updated_at = now;
                true
            } else {
                false
            }
        };
        if expired {
            self.drop_connection();
        }
    }

    fn data(&self) -> Json {
        let s = lock(&self.state);
        let mut out = serde_json::Map::new();
        out.insert("SessionId".into(), self.id.clone().into());
        out.insert("Status".into(), s.status.as_str().into());
        out.insert("CreatedAt".into(), epoch_seconds(self.created_at).into());
        out.insert("UpdatedAt".into(), epoch_seconds(s.updated_at).into());
        out.insert("Database".into(), self.target.database.clone().into());
        let identity = &self.target.identity;
        if let Some(u) = &identity.db_user {
            out.insert("DbUser".into(), u.clone().into());
        }
        if let Some(c) = &identity.cluster_identifier {
            out.insert("ClusterIdentifier".into(), c.clone().into());
        }
        if let Some(w) = &identity.workgroup_name {
            out.insert("WorkgroupName".into(), w.clone().into());
        }
        out.insert("SessionAliveSeconds".into(), s.keep_alive_seconds.into());
        out.insert("SessionTtl".into(), epoch_seconds(s.expires_at).into());
        if let Some(current) = &s.current_statement {
            out.insert("CurrentStatementId".into(), current.clone().into());
        }
        Json::Object(out)
    }
}

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
        let now = Utc::now();
        let session = Arc::new(Session {
            id: uuid::Uuid::new_v4().to_string(),
            target,
            created_at: now,
            state: Mutex::new(SessionState {
                status: SessionStatus::Busy,
                keep_alive_seconds: keep_alive,
                updated_at: now,
                expires_at: now + seconds(keep_alive),
                current_statement: Some(statement.to_owned()),
            }),
            connection: tokio::sync::Mutex::new(None),
        });
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
    pub(crate) fn list_sessions(&self, input: ListSessionsInput) -> Result<Json, ApiError> {
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
                && input
                    .database
                    .as_deref()
                    .is_none_or(|d| s.target.database == d)
                && input
                    .cluster_identifier
                    .as_deref()
                    .is_none_or(|c| s.target.identity.cluster_identifier.as_deref() == Some(c))
                && input
                    .workgroup_name
                    .as_deref()
                    .is_none_or(|w| s.target.identity.workgroup_name.as_deref() == Some(w))
        });
        sessions.sort_by(|a, b| {
            b.created_at
                .cmp(&a.created_at)
                .then_with(|| a.id.cmp(&b.id))
        });
        let entries: Vec<Json> = sessions.iter().map(|s| s.data()).collect();
        let (page, next) = paginate(entries, input.next_token.as_deref(), max)?;
        let mut out = json!({ "Sessions": page });
        if let Some(next) = next {
            out["NextToken"] = next.into();
        }
        Ok(out)
    }
}

/// How often idle sessions and expired results are swept.
pub(crate) const SWEEP_INTERVAL: Duration = Duration::from_secs(1);
