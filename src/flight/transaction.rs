//! Transactions: BeginTransaction opens a Data API session running BEGIN; the
//! signed transaction id carries its SessionId; statements with that id run in
//! the session; EndTransaction commits or rolls back and lets it close.
//! Savepoints, which Redshift does not support, are refused.

use arrow_flight::sql::{
    ActionBeginTransactionRequest, ActionBeginTransactionResult, ActionEndTransactionRequest,
};

use super::Gateway;
use super::statement::Execution;
use crate::auth::Principal;
use crate::error::{GatewayError, Result};
use crate::ticket::PayloadKind;
use crate::ticket::proto::Transaction;

/// The caller's session options that decide where statements run.
#[derive(Debug, Clone, Default)]
pub(crate) struct SessionTarget {
    /// Database (the `catalog` option).
    pub(crate) catalog: Option<String>,
    /// Search path (the `schema` option).
    pub(crate) schema: Option<String>,
}

/// `EndTransaction` actions (ActionEndTransactionRequest.EndTransaction).
const COMMIT: i32 = 1;
const ROLLBACK: i32 = 2;

impl Gateway {
    /// Where a statement runs: the session of `transaction_id`, or the database
    /// of the caller's session options.
    pub(crate) fn execution(
        &self,
        sql: String,
        transaction_id: Option<&[u8]>,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<Execution> {
        match transaction_id.filter(|t| !t.is_empty()) {
            Some(id) => {
                let transaction = self.open_transaction(id, principal)?;
                Ok(Execution {
                    sql,
                    parameters: Vec::new(),
                    database: None,
                    session_id: Some(transaction.session_id),
                    search_path: target.schema.clone(),
                })
            }
            None => Ok(Execution {
                sql,
                parameters: Vec::new(),
                database: target.catalog.clone(),
                session_id: None,
                search_path: target.schema.clone(),
            }),
        }
    }

    fn open_transaction(&self, id: &[u8], principal: &Principal) -> Result<Transaction> {
        let transaction: Transaction = self.signer.open(PayloadKind::Transaction, id)?;
        if transaction.principal != principal.0 {
            return Err(GatewayError::ForeignTicket);
        }
        Ok(transaction)
    }

    /// BeginTransaction.
    pub(crate) async fn begin_transaction(
        &self,
        _request: ActionBeginTransactionRequest,
        principal: &Principal,
        catalog: Option<&str>,
    ) -> Result<ActionBeginTransactionResult> {
        let session_id = self
            .open_session(catalog.map(str::to_owned), "begin")
            .await?;
        let transaction = Transaction {
            session_id,
            principal: principal.0.clone(),
            database: catalog.unwrap_or(&self.settings.database).to_owned(),
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
        self.end_session(&transaction.session_id, sql).await
    }
}

/// Savepoints and two-phase commit: Redshift has neither.
pub(crate) fn savepoints_unsupported() -> GatewayError {
    GatewayError::Unimplemented("savepoints (Redshift does not support SAVEPOINT)".to_owned())
}
