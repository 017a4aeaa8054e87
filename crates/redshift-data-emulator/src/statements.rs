//! Statements and their lifecycle: ExecuteStatement, BatchExecuteStatement,
//! DescribeStatement, CancelStatement, GetStatementResult[V2], ListStatements.
//!
//! A statement is submitted at once and run by its own task on its own
//! PostgreSQL connection (or its session's), walking SUBMITTED → PICKED →
//! STARTED → FINISHED | FAILED | ABORTED. Waiters long-poll on a watch channel.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::{StreamExt as _, pin_mut};
use serde_json::{Value as Json, json};
use tokio::sync::watch;
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{CancelToken, NoTls};

use super::State;
use super::error::ApiError;
use super::model::{
    BatchExecuteStatementInput, ExecuteStatementInput, ExecutionMode, Identity,
    ListStatementsInput, ResultFormat, SqlParameter, StatementIdInput, Status, validate_identity,
};
use super::params;
use super::postgres::Connection;
use super::results::ResultSet;
use super::sessions::Session;
use super::values::epoch_seconds;

/// The Data API's limit on SQL text.
pub(crate) const MAX_SQL_BYTES: usize = 100 * 1024;
/// The Data API's limit on statements in a batch.
const MAX_BATCH_SQLS: usize = 40;

/// Where a statement runs: the identity it was submitted with and its database.
#[derive(Debug, Clone, Default)]
pub(crate) struct Target {
    pub(crate) identity: Identity,
    pub(crate) database: String,
}

impl Target {
    /// Adds the identity members (and Database) to a response object.
    pub(crate) fn write(&self, out: &mut serde_json::Map<String, Json>) {
        let Identity {
            cluster_identifier,
            secret_arn,
            db_user,
            workgroup_name,
        } = &self.identity;
        for (key, value) in [
            ("ClusterIdentifier", cluster_identifier),
            ("SecretArn", secret_arn),
            ("DbUser", db_user),
            ("WorkgroupName", workgroup_name),
        ] {
            if let Some(v) = value {
                out.insert(key.to_owned(), v.clone().into());
            }
        }
        out.insert("Database".to_owned(), self.database.clone().into());
    }
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

#[derive(Debug)]
struct Progress {
    status: Status,
    updated_at: DateTime<Utc>,
    pid: i64,
    started: Option<Instant>,
    duration_ns: i64,
    subs: Vec<SubStatement>,
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
    progress: Mutex<Progress>,
    changed: watch::Sender<()>,
    cancel_requested: AtomicBool,
    cancel_token: Mutex<Option<PgCancel>>,
}

/// The handle that cancels the query running on a statement's connection.
#[derive(Clone)]
struct PgCancel(CancelToken);

impl std::fmt::Debug for PgCancel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgCancel")
    }
}

/// A named parameter bound as text: PostgreSQL parses it with the input function
/// of the type it infers from context, as Redshift does with Data API strings.
#[derive(Debug)]
struct TextParameter<'a>(&'a str);

impl ToSql for TextParameter<'_> {
    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        out.extend_from_slice(self.0.as_bytes());
        Ok(IsNull::No)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    fn encode_format(&self, _ty: &Type) -> Format {
        Format::Text
    }

    to_sql_checked!();
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Statement {
    fn status(&self) -> Status {
        lock(&self.progress).status
    }

    /// Whether the statement is still SUBMITTED, PICKED or STARTED.
    pub(crate) fn is_active(&self) -> bool {
        !self.status().is_terminal()
    }

    fn update(&self, f: impl FnOnce(&mut Progress)) {
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

    fn sub(&self, index: usize) -> Option<SubStatement> {
        lock(&self.progress).subs.get(index).cloned()
    }

    /// The DescribeStatement response of the statement, or of sub-statement `sub`.
    fn describe(&self, sub: Option<usize>) -> Option<Json> {
        let p = lock(&self.progress);
        let mut out = serde_json::Map::new();
        self.target.write(&mut out);
        if let Some(parameters) = &self.parameters {
            out.insert("QueryParameters".into(), json!(parameters));
        }
        out.insert("ResultFormat".into(), self.result_format.as_str().into());
        if let Some(session) = &self.session_id {
            out.insert("SessionId".into(), session.clone().into());
        }
        out.insert("RedshiftPid".into(), p.pid.into());
        match sub {
            Some(index) => {
                let s = p.subs.get(index)?;
                out.insert("Id".into(), format!("{}:{}", self.id, index + 1).into());
                write_sub(&mut out, s);
            }
            None if !self.is_batch => {
                out.insert("Id".into(), self.id.clone().into());
                write_sub(&mut out, &p.subs[0]);
                out.insert("UpdatedAt".into(), epoch_seconds(p.updated_at).into());
            }
            None => {
                out.insert("Id".into(), self.id.clone().into());
                out.insert("Status".into(), p.status.as_str().into());
                out.insert("CreatedAt".into(), epoch_seconds(self.created_at).into());
                out.insert("UpdatedAt".into(), epoch_seconds(p.updated_at).into());
                out.insert("Duration".into(), p.duration_ns.into());
                let finished = p.status == Status::Finished;
                let rows: i64 = p.subs.iter().map(|s| s.result_rows.max(0)).sum();
                let size: i64 = p.subs.iter().map(|s| s.result_size.max(0)).sum();
                out.insert(
                    "ResultRows".into(),
                    (if finished { rows } else { -1 }).into(),
                );
                out.insert(
                    "ResultSize".into(),
                    (if finished { size } else { -1 }).into(),
                );
                out.insert(
                    "HasResultSet".into(),
                    p.subs.iter().any(|s| s.has_result_set).into(),
                );
                out.insert(
                    "RedshiftQueryId".into(),
                    p.subs.iter().map(|s| s.query_id).max().unwrap_or(0).into(),
                );
                if let Some(error) = p.subs.iter().find_map(|s| s.error.clone()) {
                    out.insert("Error".into(), error.into());
                }
                out.insert("ExecutionMode".into(), self.execution_mode.as_str().into());
                let subs: Vec<Json> = p
                    .subs
                    .iter()
                    .enumerate()
                    .map(|(i, s)| {
                        let mut m = serde_json::Map::new();
                        m.insert("Id".into(), format!("{}:{}", self.id, i + 1).into());
                        write_sub(&mut m, s);
                        Json::Object(m)
                    })
                    .collect();
                out.insert("SubStatements".into(), subs.into());
            }
        }
        Some(Json::Object(out))
    }

    fn list_entry(&self) -> Json {
        let p = lock(&self.progress);
        let mut out = serde_json::Map::new();
        out.insert("Id".into(), self.id.clone().into());
        if self.is_batch {
            let sqls: Vec<Json> = p
                .subs
                .iter()
                .map(|s| s.query_string.clone().into())
                .collect();
            out.insert("QueryStrings".into(), sqls.into());
        } else {
            out.insert("QueryString".into(), p.subs[0].query_string.clone().into());
        }
        if let Some(secret) = &self.target.identity.secret_arn {
            out.insert("SecretArn".into(), secret.clone().into());
        }
        out.insert("Status".into(), p.status.as_str().into());
        if let Some(name) = &self.name {
            out.insert("StatementName".into(), name.clone().into());
        }
        out.insert("CreatedAt".into(), epoch_seconds(self.created_at).into());
        out.insert("UpdatedAt".into(), epoch_seconds(p.updated_at).into());
        if let Some(parameters) = &self.parameters {
            out.insert("QueryParameters".into(), json!(parameters));
        }
        out.insert("IsBatchStatement".into(), self.is_batch.into());
        out.insert("ResultFormat".into(), self.result_format.as_str().into());
        if let Some(session) = &self.session_id {
            out.insert("SessionId".into(), session.clone().into());
        }
        Json::Object(out)
    }

    /// The Execute/BatchExecute response.
    fn submitted_response(&self) -> Json {
        let p = lock(&self.progress);
        let mut out = serde_json::Map::new();
        out.insert("Id".into(), self.id.clone().into());
        out.insert("CreatedAt".into(), epoch_seconds(self.created_at).into());
        self.target.write(&mut out);
        if self.target.identity.cluster_identifier.is_some() {
            out.insert("DbGroups".into(), json!([]));
        }
        if let Some(session) = &self.session_id {
            out.insert("SessionId".into(), session.clone().into());
        }
        out.insert("Status".into(), p.status.as_str().into());
        out.insert("RedshiftPid".into(), p.pid.into());
        out.insert(
            "HasResultSet".into(),
            p.subs.iter().any(|s| s.has_result_set).into(),
        );
        Json::Object(out)
    }
}

fn write_sub(out: &mut serde_json::Map<String, Json>, s: &SubStatement) {
    let finished = s.status == Status::Finished;
    out.insert("Status".into(), s.status.as_str().into());
    out.insert("QueryString".into(), s.query_string.clone().into());
    out.insert("CreatedAt".into(), epoch_seconds(s.created_at).into());
    out.insert("UpdatedAt".into(), epoch_seconds(s.updated_at).into());
    out.insert("Duration".into(), s.duration_ns.into());
    out.insert("HasResultSet".into(), s.has_result_set.into());
    out.insert(
        "ResultRows".into(),
        (if finished { s.result_rows } else { -1 }).into(),
    );
    out.insert(
        "ResultSize".into(),
        (if finished { s.result_size } else { -1 }).into(),
    );
    out.insert("RedshiftQueryId".into(), s.query_id.into());
    if let Some(error) = &s.error {
        out.insert("Error".into(), error.clone().into());
    }
}

/// Splits `id[:n]` into the statement Id and a zero-based sub-statement index.
fn split_id(id: &str) -> Result<(&str, Option<usize>), ApiError> {
    let (base, sub) = match id.split_once(':') {
        Some((base, n)) => {
            let n: usize = n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::validation(format!("Invalid statement Id '{id}'")))?;
            (base, Some(n - 1))
        }
        None => (id, None),
    };
    if uuid::Uuid::parse_str(base).is_err()
        || base.len() != 36
        || base.bytes().any(|b| b.is_ascii_uppercase())
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{id}' at 'id' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9]{{8}}(-[a-z0-9]{{4}}){{3}}-[a-z0-9]{{12}}(:\\d{{0,2}})?"
        )));
    }
    Ok((base, sub))
}

fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

fn check_wait(seconds: Option<i64>) -> Result<Option<i64>, ApiError> {
    match seconds {
        Some(s) if !(1..=30).contains(&s) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{s}' at 'waitTimeSeconds' failed to satisfy constraint: Member must have value between 1 and 30"
        ))),
        other => Ok(other),
    }
}

/// Everything ExecuteStatement and BatchExecuteStatement have in common.
struct Submission {
    sqls: Vec<String>,
    identity: Identity,
    database: Option<String>,
    statement_name: Option<String>,
    parameters: Option<Vec<SqlParameter>>,
    client_token: Option<String>,
    result_format: Option<String>,
    session_keep_alive_seconds: Option<i64>,
    session_id: Option<String>,
    execution_mode: Option<String>,
    wait_time_seconds: Option<i64>,
    is_batch: bool,
}

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
    let mut seen = std::collections::HashSet::new();
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
    let mut used = std::collections::HashSet::new();
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
    ) -> Result<Json, ApiError> {
        let sql = required(input.sql, "sql")?;
        self.submit(Submission {
            sqls: vec![sql],
            identity: input.identity,
            database: input.database,
            statement_name: input.statement_name,
            parameters: input.parameters,
            client_token: input.client_token,
            result_format: input.result_format,
            session_keep_alive_seconds: input.session_keep_alive_seconds,
            session_id: input.session_id,
            execution_mode: None,
            wait_time_seconds: input.wait_time_seconds,
            is_batch: false,
        })
        .await
    }

    /// BatchExecuteStatement.
    pub(crate) async fn batch_execute_statement(
        self: &Arc<Self>,
        input: BatchExecuteStatementInput,
    ) -> Result<Json, ApiError> {
        let sqls = required(input.sqls, "sqls")?;
        if sqls.is_empty() || sqls.len() > MAX_BATCH_SQLS {
            return Err(ApiError::validation(format!(
                "1 validation error detected: Value at 'sqls' failed to satisfy constraint: Member must have length less than or equal to {MAX_BATCH_SQLS} and greater than or equal to 1"
            )));
        }
        self.submit(Submission {
            sqls,
            identity: input.identity,
            database: input.database,
            statement_name: input.statement_name,
            parameters: input.parameters,
            client_token: input.client_token,
            result_format: input.result_format,
            session_keep_alive_seconds: input.session_keep_alive_seconds,
            session_id: input.session_id,
            execution_mode: input.execution_mode,
            wait_time_seconds: input.wait_time_seconds,
            is_batch: true,
        })
        .await
    }

    async fn submit(self: &Arc<Self>, s: Submission) -> Result<Json, ApiError> {
        let wait = check_wait(s.wait_time_seconds)?;
        for sql in &s.sqls {
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
        if let Some(name) = &s.statement_name {
            if name.len() > 2048 {
                return Err(ApiError::validation(
                    "StatementName must be at most 2048 characters",
                ));
            }
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
        let execution_mode = ExecutionMode::parse(s.execution_mode.as_deref())?;
        if !s.is_batch && s.execution_mode.is_some() {
            return Err(ApiError::validation(
                "ExecutionMode applies to BatchExecuteStatement only",
            ));
        }
        let keep_alive = match s.session_keep_alive_seconds {
            Some(k) if !(0..=86_400).contains(&k) => {
                return Err(ApiError::validation(
                    "SessionKeepAliveSeconds must be between 0 and 86400",
                ));
            }
            other => other,
        };
        validate_identity(&s.identity, s.session_id.is_some())?;
        check_parameters(&s.sqls, s.parameters.as_deref())?;

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
        let subs = s
            .sqls
            .iter()
            .map(|sql| SubStatement {
                status: Status::Submitted,
                query_string: sql.clone(),
                created_at: now,
                updated_at: now,
                error: None,
                duration_ns: -1,
                result_rows: -1,
                result_size: -1,
                has_result_set: false,
                query_id: 0,
                result: None,
            })
            .collect();
        let statement = Arc::new(Statement {
            id: id.clone(),
            name: s.statement_name,
            target,
            parameters: s.parameters,
            result_format,
            is_batch: s.is_batch,
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

    /// Runs a statement to its end and records every step.
    async fn run(self: Arc<Self>, statement: Arc<Statement>, session: Option<Arc<Session>>) {
        statement.update(|p| {
            p.status = Status::Picked;
            p.started = Some(Instant::now());
        });
        let outcome = match &session {
            Some(session) => {
                let mut conn = session.connection.lock().await;
                if conn.is_none() {
                    match self.connector.connect(&session.target.database).await {
                        Ok(c) => *conn = Some(c),
                        Err(e) => {
                            drop(conn);
                            self.fail_all(&statement, &e);
                            session.release(&statement.id, false);
                            return;
                        }
                    }
                }
                let outcome = match conn.as_ref() {
                    Some(c) => self.run_on(&statement, c).await,
                    None => Ok(()),
                };
                drop(conn);
                session.release(&statement.id, true);
                outcome
            }
            None => match self.connector.connect(&statement.target.database).await {
                Ok(c) => self.run_on(&statement, &c).await,
                Err(e) => {
                    self.fail_all(&statement, &e);
                    return;
                }
            },
        };
        let _ = outcome;
        *lock(&statement.cancel_token) = None;
    }

    fn fail_all(&self, statement: &Statement, error: &tokio_postgres::Error) {
        let message = redshift_error(error);
        statement.update(|p| {
            p.status = Status::Failed;
            p.duration_ns = elapsed_ns(p.started);
            for s in &mut p.subs {
                s.status = Status::Failed;
                s.error = Some(message.clone());
                s.updated_at = Utc::now();
            }
        });
    }

    async fn run_on(&self, statement: &Statement, conn: &Connection) -> Result<(), ()> {
        *lock(&statement.cancel_token) = Some(PgCancel(conn.client.cancel_token()));
        let abort_all = |from: usize| {
            statement.update(|p| {
                p.status = Status::Aborted;
                p.duration_ns = elapsed_ns(p.started);
                for s in p.subs.iter_mut().skip(from) {
                    if !s.status.is_terminal() {
                        s.status = Status::Aborted;
                        s.updated_at = Utc::now();
                    }
                }
            });
        };
        if statement.cancel_requested.load(Ordering::SeqCst) {
            abort_all(0);
            return Err(());
        }
        statement.update(|p| {
            p.status = Status::Started;
            p.pid = conn.pid;
        });
        let transaction =
            statement.is_batch && statement.execution_mode == ExecutionMode::Transaction;
        if transaction {
            if let Err(e) = conn.client.batch_execute("BEGIN").await {
                self.fail_all(statement, &e);
                return Err(());
            }
        }
        let count = lock(&statement.progress).subs.len();
        let mut any_failed = false;
        for index in 0..count {
            let query_id = self.next_query_id();
            let began = Instant::now();
            statement.update(|p| {
                let s = &mut p.subs[index];
                s.status = Status::Started;
                s.query_id = query_id;
                s.updated_at = Utc::now();
            });
            let sql = lock(&statement.progress).subs[index].query_string.clone();
            let result = self
                .run_sql(
                    conn,
                    &sql,
                    statement.parameters.as_deref(),
                    statement.result_format,
                )
                .await;
            let duration = i64::try_from(began.elapsed().as_nanos()).unwrap_or(i64::MAX);
            match result {
                Ok(outcome) => statement.update(|p| {
                    let s = &mut p.subs[index];
                    s.status = Status::Finished;
                    s.duration_ns = duration;
                    s.result_rows = outcome.rows;
                    s.result_size = outcome.size;
                    s.has_result_set = outcome.result.is_some();
                    s.result = outcome.result.map(Arc::new);
                    s.updated_at = Utc::now();
                }),
                Err(failure) => {
                    let aborted =
                        failure.cancelled || statement.cancel_requested.load(Ordering::SeqCst);
                    if statement.is_batch && !transaction && !aborted {
                        // AUTO_COMMIT: a failure of one statement does not affect the others.
                        any_failed = true;
                        statement.update(|p| {
                            let s = &mut p.subs[index];
                            s.status = Status::Failed;
                            s.duration_ns = duration;
                            s.error = Some(failure.message.clone());
                            s.updated_at = Utc::now();
                        });
                        continue;
                    }
                    if transaction {
                        let _ = conn.client.batch_execute("ROLLBACK").await;
                    }
                    statement.update(|p| {
                        let s = &mut p.subs[index];
                        s.status = if aborted {
                            Status::Aborted
                        } else {
                            Status::Failed
                        };
                        s.duration_ns = duration;
                        s.error = Some(failure.message.clone());
                        s.updated_at = Utc::now();
                        p.status = s.status;
                        p.duration_ns = elapsed_ns(p.started);
                        for later in p.subs.iter_mut().skip(index + 1) {
                            later.status = Status::Aborted;
                            later.updated_at = Utc::now();
                        }
                    });
                    return Err(());
                }
            }
            if statement.cancel_requested.load(Ordering::SeqCst) && index + 1 < count {
                if transaction {
                    let _ = conn.client.batch_execute("ROLLBACK").await;
                }
                abort_all(index + 1);
                return Err(());
            }
        }
        if transaction {
            if let Err(e) = conn.client.batch_execute("COMMIT").await {
                self.fail_all(statement, &e);
                return Err(());
            }
        }
        statement.update(|p| {
            p.status = if any_failed {
                Status::Failed
            } else {
                Status::Finished
            };
            p.duration_ns = elapsed_ns(p.started);
        });
        Ok(())
    }

    /// Runs one SQL text; a result set is encoded as it streams in.
    async fn run_sql(
        &self,
        conn: &Connection,
        sql: &str,
        parameters: Option<&[SqlParameter]>,
        format: ResultFormat,
    ) -> Result<SqlOutcome, Failure> {
        let (sql, names) = match parameters {
            Some(_) => {
                let r = params::rewrite(sql);
                (r.sql, r.names)
            }
            None => (sql.to_owned(), Vec::new()),
        };
        let values: Vec<TextParameter<'_>> = names
            .iter()
            .map(|name| {
                let value = parameters
                    .and_then(|ps| ps.iter().find(|p| &p.name == name))
                    .map_or("", |p| p.value.as_str());
                TextParameter(value)
            })
            .collect();
        let prepared = conn.client.prepare(&sql).await.map_err(Failure::from)?;
        if prepared.params().len() != values.len() {
            return Err(Failure {
                message: format!(
                    "ERROR: the statement has {} parameter placeholders but {} named parameters were bound",
                    prepared.params().len(),
                    values.len()
                ),
                cancelled: false,
            });
        }
        let columns = prepared.columns();
        if columns.is_empty() {
            let rows = conn
                .client
                .execute_raw(&prepared, values.iter())
                .await
                .map_err(Failure::from)?;
            return Ok(SqlOutcome {
                rows: i64::try_from(rows).unwrap_or(i64::MAX),
                size: 0,
                result: None,
            });
        }
        let metadata = super::catalog::result_metadata(&conn.client, columns).await;
        let mut result = ResultSet::new(format, columns, &metadata);
        let stream = conn
            .client
            .query_raw(&prepared, values.iter())
            .await
            .map_err(Failure::from)?;
        pin_mut!(stream);
        while let Some(row) = stream.next().await {
            let row = row.map_err(Failure::from)?;
            result.push_row(&row).map_err(|message| Failure {
                message: format!("ERROR: {message}"),
                cancelled: false,
            })?;
            if result.size() > self.config.max_result_bytes {
                return Err(Failure {
                    message: format!(
                        "ERROR: Query result size exceeds the limit of {} bytes",
                        self.config.max_result_bytes
                    ),
                    cancelled: false,
                });
            }
        }
        result.finish();
        Ok(SqlOutcome {
            rows: i64::try_from(result.rows()).unwrap_or(i64::MAX),
            size: i64::try_from(result.size()).unwrap_or(i64::MAX),
            result: Some(result),
        })
    }

    /// DescribeStatement.
    pub(crate) async fn describe_statement(
        &self,
        input: StatementIdInput,
    ) -> Result<Json, ApiError> {
        let id = required(input.id, "id")?;
        let wait = check_wait(input.wait_time_seconds)?;
        let (base, sub) = split_id(&id)?;
        let statement = self.statement(base)?;
        statement.wait(wait).await;
        if sub.is_some() && !statement.is_batch {
            return Err(ApiError::not_found(
                format!("Query does not exist: {id}"),
                id,
            ));
        }
        statement
            .describe(sub)
            .ok_or_else(|| ApiError::not_found(format!("Query does not exist: {id}"), id.clone()))
    }

    /// CancelStatement.
    pub(crate) fn cancel_statement(&self, input: StatementIdInput) -> Result<Json, ApiError> {
        let id = required(input.id, "id")?;
        let (base, sub) = split_id(&id)?;
        if sub.is_some() {
            return Err(ApiError::validation(
                "Cancel the batch by its Id; sub-statements cannot be cancelled one by one",
            ));
        }
        let statement = self.statement(base)?;
        let status = statement.status();
        if status.is_terminal() {
            return Err(ApiError::validation(format!(
                "Could not cancel a query that is already in {} state with ID: {id}",
                status.as_str()
            )));
        }
        statement.cancel_requested.store(true, Ordering::SeqCst);
        // Keep cancelling until the statement ends: a cancel that reaches
        // PostgreSQL between two queries of the statement would be lost.
        tokio::spawn(async move {
            let mut rx = statement.changed.subscribe();
            for _ in 0..100 {
                let token = lock(&statement.cancel_token).clone();
                if let Some(token) = token {
                    let _ = token.0.cancel_query(NoTls).await;
                }
                if !statement.is_active() {
                    break;
                }
                let _ = tokio::time::timeout(Duration::from_millis(100), rx.changed()).await;
                if !statement.is_active() {
                    break;
                }
            }
        });
        Ok(json!({ "Status": true }))
    }

    /// GetStatementResult (`v2 == false`) and GetStatementResultV2.
    pub(crate) async fn statement_result(
        &self,
        input: StatementIdInput,
        v2: bool,
    ) -> Result<Vec<u8>, ApiError> {
        let id = required(input.id, "id")?;
        let wait = check_wait(input.wait_time_seconds)?;
        let (base, sub) = split_id(&id)?;
        let statement = self.statement(base)?;
        statement.wait(wait).await;
        let index = match (statement.is_batch, sub) {
            (false, None) => 0,
            (true, Some(i)) => i,
            (false, Some(_)) => {
                return Err(ApiError::not_found(
                    format!("Query does not exist: {id}"),
                    id,
                ));
            }
            (true, None) => {
                return Err(ApiError::validation(format!(
                    "Statement {id} is a batch: ask for the result of one sub-statement ({id}:1 … {id}:{})",
                    lock(&statement.progress).subs.len()
                )));
            }
        };
        let sub_statement = statement.sub(index).ok_or_else(|| {
            ApiError::not_found(format!("Query does not exist: {id}"), id.clone())
        })?;
        let no_result = || {
            ApiError::not_found(
                "Query does not have result. Please check query status with DescribeStatement.",
                id.clone(),
            )
        };
        if sub_statement.status != Status::Finished {
            return Err(no_result());
        }
        let result = sub_statement.result.ok_or_else(no_result)?;
        match (result.format, v2) {
            (ResultFormat::Json, true) => {
                return Err(ApiError::validation(
                    "The query result format is JSON; use GetStatementResult to fetch it",
                ));
            }
            (ResultFormat::Csv, false) => {
                return Err(ApiError::validation(
                    "The query result format is CSV; use GetStatementResultV2 to fetch it",
                ));
            }
            _ => {}
        }
        result.page(input.next_token.as_deref(), self.config.page_bytes)
    }

    /// ListStatements: most recent first, filtered, paginated.
    pub(crate) fn list_statements(&self, input: ListStatementsInput) -> Result<Json, ApiError> {
        let max = page_size(input.max_results, 100)?;
        let status = match input.status.as_deref() {
            None | Some("ALL") => None,
            Some(s) => Some(
                [
                    Status::Submitted,
                    Status::Picked,
                    Status::Started,
                    Status::Finished,
                    Status::Aborted,
                    Status::Failed,
                ]
                .into_iter()
                .find(|x| x.as_str() == s)
                .ok_or_else(|| ApiError::validation(format!("Invalid Status '{s}'")))?,
            ),
        };
        let mut all = self.all_statements();
        all.retain(|st| {
            status.is_none_or(|s| st.status() == s)
                && input
                    .statement_name
                    .as_deref()
                    .is_none_or(|prefix| st.name.as_deref().is_some_and(|n| n.starts_with(prefix)))
                && input
                    .database
                    .as_deref()
                    .is_none_or(|d| st.target.database == d)
                && input
                    .cluster_identifier
                    .as_deref()
                    .is_none_or(|c| st.target.identity.cluster_identifier.as_deref() == Some(c))
                && input
                    .workgroup_name
                    .as_deref()
                    .is_none_or(|w| st.target.identity.workgroup_name.as_deref() == Some(w))
        });
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        let entries: Vec<Json> = all.iter().map(|s| s.list_entry()).collect();
        let (page, next) = paginate(entries, input.next_token.as_deref(), max)?;
        let mut out = json!({ "Statements": page });
        if let Some(next) = next {
            out["NextToken"] = next.into();
        }
        Ok(out)
    }
}

/// The MaxResults of a list operation: 0 or absent means the default.
pub(crate) fn page_size(max_results: Option<i64>, limit: i64) -> Result<usize, ApiError> {
    match max_results {
        None | Some(0) => Ok(usize::try_from(limit).unwrap_or(100)),
        Some(n) if (1..=limit).contains(&n) => Ok(usize::try_from(n).unwrap_or(100)),
        Some(n) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {limit}"
        ))),
    }
}

/// Cuts one page out of a full listing.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    next_token: Option<&str>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(t) => super::results::decode_token(t)
            .filter(|s| *s <= items.len())
            .ok_or_else(|| ApiError::validation("Invalid NextToken"))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    let next = (end < total).then(|| super::results::encode_token(end));
    Ok((page, next))
}

#[derive(Debug)]
struct SqlOutcome {
    rows: i64,
    size: i64,
    result: Option<ResultSet>,
}

#[derive(Debug)]
struct Failure {
    message: String,
    cancelled: bool,
}

impl From<tokio_postgres::Error> for Failure {
    fn from(e: tokio_postgres::Error) -> Self {
        let cancelled = e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED);
        Self {
            message: redshift_error(&e),
            cancelled,
        }
    }
}

/// PostgreSQL's message in Redshift's form: `ERROR: relation "x" does not exist`.
pub(crate) fn redshift_error(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("ERROR: {}", db.message()),
        None => format!("ERROR: {e}"),
    }
}

fn elapsed_ns(started: Option<Instant>) -> i64 {
    started.map_or(0, |s| {
        i64::try_from(s.elapsed().as_nanos()).unwrap_or(i64::MAX)
    })
}
