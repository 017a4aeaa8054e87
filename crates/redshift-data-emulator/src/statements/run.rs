//! Running a statement to its end on its own task: on its own PostgreSQL
//! connection (or its session's), walking SUBMITTED → PICKED → STARTED →
//! FINISHED | FAILED | ABORTED, a batch in one transaction or each statement
//! on its own; a result set is encoded as it streams in.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;

use chrono::Utc;
use futures::{StreamExt as _, pin_mut};
use tokio_postgres::types::{Format, IsNull, ToSql, Type, to_sql_checked};

use crate::catalog::result_metadata;
use crate::error::redshift_error;
use crate::model::{ExecutionMode, ResultFormat, SqlParameter, Status};
use crate::params;
use crate::postgres::Connection;
use crate::records::{PgCancel, Session, Statement, lock};
use crate::results::ResultSet;
use crate::state::State;

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

impl State {
    /// Runs a statement to its end and records every step.
    pub(crate) async fn run(
        self: Arc<Self>,
        statement: Arc<Statement>,
        session: Option<Arc<Session>>,
    ) {
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
        // The statement's privileges are those of its identity's role.
        if let Err(e) = conn
            .client
            .batch_execute(&role_statement(&statement.target.identity))
            .await
        {
            self.fail_all(statement, &e);
            return Err(());
        }
        let transaction =
            statement.is_batch && statement.execution_mode == ExecutionMode::Transaction;
        if transaction && let Err(e) = conn.client.batch_execute("BEGIN").await {
            self.fail_all(statement, &e);
            return Err(());
        }
        let count = statement.sub_count();
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
        if transaction && let Err(e) = conn.client.batch_execute("COMMIT").await {
            self.fail_all(statement, &e);
            return Err(());
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
        if crate::unload::is_unload(sql) {
            return self.run_unload(conn, sql, parameters).await;
        }
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
        let metadata = result_metadata(&conn.client, columns).await;
        let mut result = ResultSet::new(format, columns, &metadata, self.config.csv_null);
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
}

impl State {
    /// Runs an UNLOAD: no result set, ResultRows the rows unloaded.
    async fn run_unload(
        &self,
        conn: &Connection,
        sql: &str,
        parameters: Option<&[SqlParameter]>,
    ) -> Result<SqlOutcome, Failure> {
        if parameters.is_some() {
            return Err(Failure {
                message: "ERROR: the emulator runs UNLOAD without named parameters".to_owned(),
                cancelled: false,
            });
        }
        let rows = crate::unload::run(&conn.client, sql, &self.unload_stores, self.config.slices)
            .await
            .map_err(|f| Failure {
                message: f.message,
                cancelled: f.cancelled,
            })?;
        Ok(SqlOutcome {
            rows: i64::try_from(rows).unwrap_or(i64::MAX),
            size: 0,
            result: None,
        })
    }
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

fn elapsed_ns(started: Option<Instant>) -> i64 {
    started.map_or(0, |s| {
        i64::try_from(s.elapsed().as_nanos()).unwrap_or(i64::MAX)
    })
}

/// The role a statement runs as, as Redshift would run it as the database
/// user of its identity: `DbUser`, or the user a `SecretArn` names (here the
/// secret's name, without the 6-character suffix Secrets Manager appends);
/// the caller's IAM identity runs as the superuser the emulator connects as.
pub(crate) fn role_statement(identity: &crate::model::Identity) -> String {
    let role = identity
        .db_user
        .clone()
        .or_else(|| identity.secret_arn.as_deref().map(secret_user));
    match role {
        Some(role) => format!("set role {}", redshift_sqltext::quote_identifier(&role)),
        None => "reset role".to_owned(),
    }
}

/// The user of a secret: its name (`arn:…:secret:NAME-AbCdEf` → `NAME`).
fn secret_user(arn: &str) -> String {
    let name = arn.rsplit_once(":secret:").map_or(arn, |(_, n)| n);
    match name.rsplit_once('-') {
        Some((base, suffix))
            if suffix.len() == 6 && suffix.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            base.to_owned()
        }
        _ => name.to_owned(),
    }
}

#[cfg(test)]
mod role_tests {
    use super::*;

    #[test]
    fn each_identity_runs_as_its_role() {
        let mut identity = crate::model::Identity::default();
        assert_eq!(role_statement(&identity), "reset role");
        identity.secret_arn =
            Some("arn:aws:secretsmanager:us-east-1:1:secret:analyst-AbC123".into());
        assert_eq!(role_statement(&identity), "set role \"analyst\"");
        identity.db_user = Some("alice".into());
        assert_eq!(role_statement(&identity), "set role \"alice\"");
    }
}
