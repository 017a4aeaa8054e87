//! Transactions: BeginTransaction opens a Data API session running BEGIN; the
//! signed transaction id carries its SessionId; statements with that id run in
//! the session; EndTransaction commits or rolls back and lets it close.
//! Savepoints, which Redshift does not support, are refused.

use arrow_flight::sql::{
    ActionBeginTransactionRequest, ActionBeginTransactionResult, ActionEndTransactionRequest,
    CommandStatementQuery,
};

use super::gateway::Gateway;
use super::session::SessionTarget;
use crate::auth::Principal;
use crate::dataapi::{ExecuteRequest, ResultFormat};
use crate::error::{GatewayError, Result};
use crate::statement::{Execution, Ran};
use crate::ticket::PayloadKind;
use crate::ticket::proto::Transaction;

/// `EndTransaction` actions (ActionEndTransactionRequest.EndTransaction).
const COMMIT: i32 = 1;
const ROLLBACK: i32 = 2;

impl Gateway {
    /// The execution of a CommandStatementQuery.
    pub(crate) fn query_execution(
        &self,
        query: CommandStatementQuery,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<Execution> {
        self.execution(
            query.query,
            query.transaction_id.as_deref(),
            principal,
            target,
        )
    }

    /// Where a statement runs: the session of `transaction_id`, or the database
    /// of the caller's session options.
    pub(crate) fn execution(
        &self,
        sql: String,
        transaction_id: Option<&[u8]>,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<Execution> {
        self.admit_sql(&sql)?;
        match transaction_id.filter(|t| !t.is_empty()) {
            Some(id) => {
                let transaction = self.open_transaction(id, principal)?;
                Ok(Execution {
                    sql,
                    parameters: Vec::new(),
                    database: None,
                    session_id: Some(transaction.session_id),
                    search_path: target.schema.clone(),
                    unload: target.unload,
                })
            }
            None => Ok(Execution {
                sql,
                parameters: Vec::new(),
                database: target.catalog.clone(),
                session_id: None,
                search_path: target.schema.clone(),
                unload: target.unload,
            }),
        }
    }

    fn open_transaction(&self, id: &[u8], principal: &Principal) -> Result<Transaction> {
        let transaction: Transaction = self.signer.open(PayloadKind::Transaction, id)?;
        if transaction.owner != principal.owner() {
            return Err(GatewayError::ForeignTicket);
        }
        Ok(transaction)
    }

    /// BeginTransaction: now the transaction of the caller's connection.
    pub(crate) async fn begin_transaction(
        &self,
        _request: ActionBeginTransactionRequest,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<ActionBeginTransactionResult> {
        let catalog = target.catalog.as_deref();
        let session_id = self
            .open_session(catalog.map(str::to_owned), "begin")
            .await?;
        self.successors
            .began(&principal.owner(), target.connection, &session_id)
            .await;
        let transaction = Transaction {
            session_id,
            owner: principal.owner(),
            database: catalog.unwrap_or(self.default_database()).to_owned(),
        };
        Ok(ActionBeginTransactionResult {
            transaction_id: self.signer.seal(PayloadKind::Transaction, &transaction),
        })
    }

    /// EndTransaction: COMMIT or ROLLBACK.
    pub(crate) async fn end_transaction(
        &self,
        request: ActionEndTransactionRequest,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<()> {
        let transaction = self.open_transaction(&request.transaction_id, principal)?;
        let sql = match request.action {
            COMMIT => "commit",
            ROLLBACK => "rollback",
            other => {
                return Err(GatewayError::InvalidArgument(format!(
                    "EndTransaction action {other} is neither COMMIT nor ROLLBACK"
                )));
            }
        };
        let ended = self.end_session(&transaction.session_id, sql).await;
        // Ended either way: a failed COMMIT leaves the session aborted.
        self.successors
            .ended(
                &principal.owner(),
                target.connection,
                &transaction.session_id,
            )
            .await;
        ended
    }
}

impl Gateway {
    /// Opens a Data API session by running `sql` (BEGIN) in it.
    pub(crate) async fn open_session(&self, database: Option<String>, sql: &str) -> Result<String> {
        let Ran { description, .. } = self
            .statements
            .run_to_end(
                ExecuteRequest {
                    sql: sql.to_owned(),
                    database,
                    session_keep_alive_seconds: Some(SESSION_KEEP_ALIVE_SECONDS),
                    result_format: ResultFormat::default(),
                    ..ExecuteRequest::default()
                },
                None,
            )
            .await?;
        description
            .session_id
            .ok_or_else(|| GatewayError::Internal("the Data API opened no session".to_owned()))
    }

    /// Runs COMMIT or ROLLBACK in a session and lets the session close.
    pub(crate) async fn end_session(&self, session_id: &str, sql: &str) -> Result<()> {
        self.statements
            .run_to_end(
                ExecuteRequest {
                    sql: sql.to_owned(),
                    session_id: Some(session_id.to_owned()),
                    session_keep_alive_seconds: Some(0),
                    ..ExecuteRequest::default()
                },
                None,
            )
            .await
            .map(|_| ())
    }
}

/// How long an idle transaction's Data API session is kept (a client that
/// disconnects without ending its transaction holds its locks this long).
const SESSION_KEEP_ALIVE_SECONDS: i32 = 900;

/// Savepoints and two-phase commit: Redshift has neither.
pub(crate) fn savepoints_unsupported() -> GatewayError {
    GatewayError::Unimplemented("savepoints (Redshift does not support SAVEPOINT)".to_owned())
}
