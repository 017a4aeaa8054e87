//! CancelStatement: asks PostgreSQL to cancel the statement's query, again
//! and again until the statement has ended.

use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio_postgres::NoTls;

use crate::error::ApiError;
use crate::model::{StatementIdInput, required, split_id};
use crate::records::lock;
use crate::responses::CancelStatementResponse;
use crate::state::State;

impl State {
    /// CancelStatement.
    pub(crate) fn cancel_statement(
        &self,
        input: StatementIdInput,
    ) -> Result<CancelStatementResponse, ApiError> {
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
        Ok(CancelStatementResponse { status: true })
    }
}
