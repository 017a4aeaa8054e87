//! What the emulator remembers between calls: statements with the progress
//! of each SQL text, and sessions with their pinned connection; and the
//! responses that describe them.

use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_postgres::CancelToken;

use crate::error::ApiError;
use crate::model::{ExecutionMode, ResultFormat, SqlParameter, Status, Target};
use crate::postgres::Connection;
use crate::responses::{
    DescribeStatementResponse, ExecuteStatementOutput, SessionData, SessionStatus, StatementData,
    SubStatementData, Timestamp,
};
use crate::results::ResultSet;

/// Locks `m`; a panic elsewhere does not make the records unreadable.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Progress of one SQL statement (the only one, or one of a batch).
#[derive(Debug, Clone)]
pub(crate) struct SubStatement {
    pub(crate) status: Status,
    pub(crate) query_string: String,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) error: Option<String>,
    pub(crate) duration_ns: i64,
    pub(crate) result_rows: i64,
    pub(crate) result_size: i64,
    pub(crate) has_result_set: bool,
    pub(crate) query_id: i64,
    pub(crate) result: Option<Arc<ResultSet>>,
}

impl SubStatement {
    /// A SQL text just submitted.
    pub(crate) fn submitted(query_string: String, now: DateTime<Utc>) -> Self {
        Self {
            status: Status::Submitted,
            query_string,
            created_at: now,
            updated_at: now,
            error: None,
            duration_ns: -1,
            result_rows: -1,
            result_size: -1,
            has_result_set: false,
            query_id: 0,
            result: None,
        }
    }

    /// Its `SubStatementData` under the Id `id`.
    fn data(&self, id: String) -> SubStatementData {
        let finished = self.status == Status::Finished;
        SubStatementData {
            id,
            duration: self.duration_ns,
            error: self.error.clone(),
            status: self.status,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
            query_string: Some(self.query_string.clone()),
            result_rows: if finished { self.result_rows } else { -1 },
            result_size: if finished { self.result_size } else { -1 },
            redshift_query_id: self.query_id,
            has_result_set: self.has_result_set,
        }
    }
}

/// The changing part of a statement.
#[derive(Debug)]
pub(crate) struct Progress {
    pub(crate) status: Status,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) pid: i64,
    pub(crate) started: Option<Instant>,
    pub(crate) duration_ns: i64,
    pub(crate) subs: Vec<SubStatement>,
}

/// The handle that cancels the query running on a statement's connection.
#[derive(Clone)]
pub(crate) struct PgCancel(pub(crate) CancelToken);

impl std::fmt::Debug for PgCancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgCancel")
    }
}

/// One submitted statement or batch.
#[derive(Debug)]
pub(crate) struct Statement {
    pub(crate) id: String,
    pub(crate) name: Option<String>,
    pub(crate) target: Target,
    pub(crate) parameters: Option<Vec<SqlParameter>>,
    pub(crate) result_format: ResultFormat,
    pub(crate) is_batch: bool,
    pub(crate) execution_mode: ExecutionMode,
    pub(crate) session_id: Option<String>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) created: Instant,
    pub(crate) progress: Mutex<Progress>,
    pub(crate) changed: watch::Sender<()>,
    pub(crate) cancel_requested: AtomicBool,
    pub(crate) cancel_token: Mutex<Option<PgCancel>>,
}

impl Statement {
    /// The statement's status (a batch's is that of the whole batch).
    pub(crate) fn status(&self) -> Status {
        lock(&self.progress).status
    }

    /// Whether the statement is still SUBMITTED, PICKED or STARTED.
    pub(crate) fn is_active(&self) -> bool {
        !self.status().is_terminal()
    }

    /// Changes the progress and wakes the waiters.
    pub(crate) fn update(&self, f: impl FnOnce(&mut Progress)) {
        {
            let mut p = lock(&self.progress);
            f(&mut p);
            p.updated_at = Utc::now();
        }
        self.changed.send_replace(());
    }

    /// Waits until the statement ends or `seconds` pass.
    pub(crate) async fn wait(&self, seconds: Option<i64>) {
        let Some(seconds) = seconds.filter(|s| *s > 0) else {
            return;
        };
        let mut rx = self.changed.subscribe();
        let deadline = tokio::time::sleep(Duration::from_secs(seconds.unsigned_abs()));
        tokio::pin!(deadline);
        while self.is_active() {
            tokio::select! {
                () = &mut deadline => return,
                changed = rx.changed() => if changed.is_err() { return },
            }
        }
    }

    /// How many SQL texts the statement has.
    pub(crate) fn sub_count(&self) -> usize {
        lock(&self.progress).subs.len()
    }

    /// The progress of SQL text `index`.
    pub(crate) fn sub(&self, index: usize) -> Option<SubStatement> {
        lock(&self.progress).subs.get(index).cloned()
    }

    fn sub_id(&self, index: usize) -> String {
        format!("{}:{}", self.id, index + 1)
    }

    /// The DescribeStatement response of the statement, or of sub-statement `sub`.
    pub(crate) fn describe(&self, sub: Option<usize>) -> Option<DescribeStatementResponse> {
        let p = lock(&self.progress);
        let (statement, sub_statements, execution_mode) = match sub {
            Some(index) => (p.subs.get(index)?.data(self.sub_id(index)), None, None),
            None if !self.is_batch => {
                let mut data = p.subs[0].data(self.id.clone());
                data.updated_at = Timestamp(p.updated_at);
                (data, None, None)
            }
            None => {
                let finished = p.status == Status::Finished;
                let rows: i64 = p.subs.iter().map(|s| s.result_rows.max(0)).sum();
                let size: i64 = p.subs.iter().map(|s| s.result_size.max(0)).sum();
                let batch = SubStatementData {
                    id: self.id.clone(),
                    duration: p.duration_ns,
                    error: p.subs.iter().find_map(|s| s.error.clone()),
                    status: p.status,
                    created_at: Timestamp(self.created_at),
                    updated_at: Timestamp(p.updated_at),
                    query_string: None,
                    result_rows: if finished { rows } else { -1 },
                    result_size: if finished { size } else { -1 },
                    redshift_query_id: p.subs.iter().map(|s| s.query_id).max().unwrap_or(0),
                    has_result_set: p.subs.iter().any(|s| s.has_result_set),
                };
                let subs = p
                    .subs
                    .iter()
                    .enumerate()
                    .map(|(i, s)| s.data(self.sub_id(i)))
                    .collect();
                (batch, Some(subs), Some(self.execution_mode))
            }
        };
        Some(DescribeStatementResponse {
            statement,
            target: self.target.clone(),
            redshift_pid: p.pid,
            query_parameters: self.parameters.clone(),
            sub_statements,
            result_format: self.result_format,
            session_id: self.session_id.clone(),
            execution_mode,
        })
    }

    /// Its entry in ListStatements.
    pub(crate) fn list_entry(&self) -> StatementData {
        let p = lock(&self.progress);
        let (query_string, query_strings) = if self.is_batch {
            let sqls = p.subs.iter().map(|s| s.query_string.clone()).collect();
            (None, Some(sqls))
        } else {
            (Some(p.subs[0].query_string.clone()), None)
        };
        StatementData {
            id: self.id.clone(),
            query_string,
            query_strings,
            secret_arn: self.target.identity.secret_arn.clone(),
            status: p.status,
            statement_name: self.name.clone(),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(p.updated_at),
            query_parameters: self.parameters.clone(),
            is_batch_statement: self.is_batch,
            result_format: self.result_format,
            session_id: self.session_id.clone(),
        }
    }

    /// The Execute/BatchExecute response.
    pub(crate) fn submitted_response(&self) -> ExecuteStatementOutput {
        let p = lock(&self.progress);
        ExecuteStatementOutput {
            id: self.id.clone(),
            created_at: Timestamp(self.created_at),
            target: self.target.clone(),
            db_groups: self
                .target
                .identity
                .cluster_identifier
                .is_some()
                .then(Vec::new),
            session_id: self.session_id.clone(),
            status: p.status,
            redshift_pid: p.pid,
            has_result_set: p.subs.iter().any(|s| s.has_result_set),
        }
    }
}

/// The changing part of a session.
#[derive(Debug)]
pub(crate) struct SessionState {
    pub(crate) status: SessionStatus,
    pub(crate) keep_alive_seconds: i64,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) expires_at: DateTime<Utc>,
    pub(crate) current_statement: Option<String>,
}

/// One session and its pinned connection.
#[derive(Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) target: Target,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) state: Mutex<SessionState>,
    /// Opened by the first statement; dropped when the session closes (which
    /// rolls back any transaction left open).
    pub(crate) connection: tokio::sync::Mutex<Option<Connection>>,
}

/// `n` seconds as a chrono duration.
pub(crate) fn seconds(n: i64) -> chrono::TimeDelta {
    chrono::TimeDelta::seconds(n)
}

impl Session {
    /// A session opened, busy with `statement`, by the statement that asked for it.
    pub(crate) fn open(target: Target, statement: &str, keep_alive: i64) -> Self {
        let now = Utc::now();
        Self {
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
        }
    }

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

    /// The session's status.
    pub(crate) fn status(&self) -> SessionStatus {
        lock(&self.state).status
    }

    /// Closes the session if it has been idle past its keep-alive.
    pub(crate) fn expire(&self, now: DateTime<Utc>) {
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

    /// Its entry in ListSessions.
    pub(crate) fn data(&self) -> SessionData {
        let s = lock(&self.state);
        let identity = &self.target.identity;
        SessionData {
            session_id: self.id.clone(),
            status: s.status,
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(s.updated_at),
            database: self.target.database.clone(),
            db_user: identity.db_user.clone(),
            cluster_identifier: identity.cluster_identifier.clone(),
            workgroup_name: identity.workgroup_name.clone(),
            session_alive_seconds: s.keep_alive_seconds,
            session_ttl: Timestamp(s.expires_at),
            current_statement_id: s.current_statement.clone(),
        }
    }
}
