//! ExecuteStatement and BatchExecuteStatement: the checks the service makes
//! before it accepts a statement, then registration (with its session and
//! ClientToken) and the start of the task that runs it.

use std::collections::HashSet;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::model::{
    BatchExecuteStatementInput, ExecuteCommon, ExecuteStatementInput, ExecutionMode, ResultFormat,
    SqlParameter, Status, Target, check_wait, required, validate_identity,
};
use crate::params;
use crate::records::{Progress, Session, Statement, SubStatement};
use crate::responses::ExecuteStatementOutput;
use crate::state::State;

/// The Data API's limit on SQL text.
const MAX_SQL_BYTES: usize = 100 * 1024;
/// The Data API's limit on statements in a batch.
const MAX_BATCH_SQLS: usize = 40;

/// Checks Parameters against the placeholders of every SQL text.
fn check_parameters(sqls: &[String], parameters: Option<&[SqlParameter]>) -> Result<(), ApiError> {
    let Some(parameters) = parameters else {
        return Ok(());
    };
    if parameters.is_empty() {
        return Err(ApiError::validation(
            "1 validation error detected: Value '[]' at 'parameters' failed to satisfy constraint: Member must have length greater than or equal to 1",
        ));
    }
    let mut seen = HashSet::new();
    for p in parameters {
        if p.value.is_empty() {
            return Err(ApiError::validation(format!(
                "Parameter '{}' has an empty value: parameter values must have length greater than or equal to 1",
                p.name
            )));
        }
        if p.name.is_empty()
            || !p
                .name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        {
            return Err(ApiError::validation(format!(
                "Parameter name '{}' must satisfy regular expression pattern: [0-9a-zA-Z_]+",
                p.name
            )));
        }
        if !seen.insert(p.name.as_str()) {
            return Err(ApiError::validation(format!(
                "Parameter '{}' is specified more than once",
                p.name
            )));
        }
    }
    let mut used = HashSet::new();
    for sql in sqls {
        for name in params::rewrite(sql).names {
            if !seen.contains(name.as_str()) {
                return Err(ApiError::validation(format!(
                    "Parameter '{name}' is used in the SQL but has no value in Parameters"
                )));
            }
            used.insert(name);
        }
    }
    if let Some(unused) = parameters.iter().find(|p| !used.contains(&p.name)) {
        return Err(ApiError::validation(format!(
            "Parameter '{}' is not used in the SQL statement",
            unused.name
        )));
    }
    Ok(())
}

impl State {
    /// ExecuteStatement.
    pub(crate) async fn execute_statement(
        self: &Arc<Self>,
        input: ExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput, ApiError> {
        let sql = required(input.sql, "sql")?;
        self.submit(vec![sql], false, None, input.common).await
    }

    /// BatchExecuteStatement.
    pub(crate) async fn batch_execute_statement(
        self: &Arc<Self>,
        input: BatchExecuteStatementInput,
    ) -> Result<ExecuteStatementOutput, ApiError> {
        let sqls = required(input.sqls, "sqls")?;
        if sqls.is_empty() || sqls.len() > MAX_BATCH_SQLS {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_SQLS} and greater than or equal to 1"
            )));
        }
        self.submit(sqls, true, input.execution_mode, input.common)
            .await
    }

    /// Checks a submission, registers the statement, starts it on its own
    /// task, and waits up to WaitTimeSeconds for it.
    async fn submit(
        self: &Arc<Self>,
        sqls: Vec<String>,
        is_batch: bool,
        execution_mode: Option<String>,
        s: ExecuteCommon,
    ) -> Result<ExecuteStatementOutput, ApiError> {
        let wait = check_wait(s.wait_time_seconds)?;
        for sql in &sqls {
            if sql.trim().is_empty() {
                return Err(ApiError::validation("SQL statement is empty"));
            }
            if sql.len() > MAX_SQL_BYTES {
                return Err(ApiError::validation(format!(
                    "SQL statement is {} bytes; the maximum is {MAX_SQL_BYTES} bytes (100 KB)",
                    sql.len()
                )));
            }
        }
        if let Some(name) = &s.statement_name
            && name.len() > 2048
        {
            return Err(ApiError::validation(
                "StatementName must be at most 2048 characters",
            ));
        }
        if let Some(token) = &s.client_token {
            if token.is_empty() || token.len() > 64 {
                return Err(ApiError::validation(
                    "ClientToken must be 1 to 64 characters",
                ));
            }
            if let Some(existing) = self.statement_for_token(token) {
                existing.wait(wait).await;
                return Ok(existing.submitted_response());
            }
        }
        let result_format = ResultFormat::parse(s.result_format.as_deref())?;
        let execution_mode = ExecutionMode::parse(execution_mode.as_deref())?;
        let keep_alive = match s.session_keep_alive_seconds {
            Some(k) if !(0..=86_400).contains(&k) => {
                return Err(ApiError::validation(
                    "SessionKeepAliveSeconds must be between 0 and 86400",
                ));
            }
            other => other,
        };
        validate_identity(&s.identity, s.session_id.is_some())?;
        check_parameters(&sqls, s.parameters.as_deref())?;

        let session: Option<Arc<Session>>;
        let target;
        if let Some(session_id) = &s.session_id {
            if s.database.is_some() {
                return Err(ApiError::validation(
                    "Database cannot be specified with SessionId: the session is already connected",
                ));
            }
            let found = self.session(session_id)?;
            target = found.target.clone();
            session = Some(found);
        } else {
            target = Target {
                identity: s.identity.clone(),
                database: s
                    .database
                    .clone()
                    .unwrap_or_else(|| self.config.default_database.clone()),
            };
            session = None;
        }
        let active = self.active_statements();
        if active >= self.config.max_active_statements {
            return Err(ApiError::ActiveStatementsExceeded(format!(
                "Active statements exceeded the allowed quota ({}).",
                self.config.max_active_statements
            )));
        }
        let id = uuid::Uuid::new_v4().to_string();
        // Claim the session (or open a new one) before the statement is visible.
        let session = match session {
            Some(existing) => {
                existing.claim(&id, keep_alive)?;
                Some(existing)
            }
            None => match keep_alive {
                Some(k) if k > 0 => Some(self.open_session(target.clone(), &id, k)?),
                _ => None,
            },
        };
        let now = Utc::now();
        let subs = sqls
            .into_iter()
            .map(|sql| SubStatement::submitted(sql, now))
            .collect();
        let statement = Arc::new(Statement {
            id: id.clone(),
            name: s.statement_name,
            target,
            parameters: s.parameters,
            result_format,
            is_batch,
            execution_mode,
            session_id: session.as_ref().map(|s| s.id.clone()),
            created_at: now,
            created: Instant::now(),
            progress: Mutex::new(Progress {
                status: Status::Submitted,
                updated_at: now,
                pid: -1,
                started: None,
                duration_ns: -1,
                subs,
            }),
            changed: watch::channel(()).0,
            cancel_requested: AtomicBool::new(false),
            cancel_token: Mutex::new(None),
        });
        self.insert_statement(&statement, s.client_token);
        let state = Arc::clone(self);
        let running = Arc::clone(&statement);
        tokio::spawn(async move { state.run(running, session).await });
        statement.wait(wait).await;
        Ok(statement.submitted_response())
    }
}
