//! Updates (DDL and DML): one alone runs as one statement; several run in
//! one transaction, as one BatchExecuteStatement of at most 40 or in a Data
//! API session for more (or in the caller's transaction). Each returns the
//! rows it affected. Every statement goes through the lifecycle, so a client
//! that goes away cancels its update.

use super::gateway::Gateway;
use crate::dataapi::{BatchExecuteRequest, ResultFormat};
use crate::error::Result;
use crate::statement::{Execution, Ran, set_search_path};

/// Most statements in one BatchExecuteStatement, less one for a `set search_path`.
const MAX_BATCH: usize = 39;

impl Gateway {
    /// Runs updates: one alone, several in one transaction. The rows affected.
    pub(crate) async fn run_updates(&self, executions: Vec<Execution>) -> Result<i64> {
        let [single] = executions.as_slice() else {
            return self.run_update_batch(executions).await;
        };
        let Ran { description, .. } = self
            .statements
            .run_to_end(
                single.request(ResultFormat::default()),
                single.search_path.as_deref(),
            )
            .await?;
        Ok(description.result_rows.max(0))
    }

    async fn run_update_batch(&self, executions: Vec<Execution>) -> Result<i64> {
        let Some(first) = executions.first() else {
            return Ok(0);
        };
        let database = first.database.clone();
        let in_transaction = first.session_id.clone();
        if in_transaction.is_none() && executions.len() <= MAX_BATCH {
            return self.batch(&executions, database, None, true).await;
        }
        // More than one batch: hold them in one transaction of a session.
        let (session, own) = match in_transaction {
            Some(s) => (s, false),
            None => (self.open_session(database.clone(), "begin").await?, true),
        };
        let mut total = 0;
        for chunk in executions.chunks(MAX_BATCH) {
            match self.batch(chunk, None, Some(session.clone()), false).await {
                Ok(n) => total += n,
                Err(e) => {
                    if own {
                        let _ = self.end_session(&session, "rollback").await;
                    }
                    return Err(e);
                }
            }
        }
        if own {
            self.end_session(&session, "commit").await?;
        }
        Ok(total)
    }

    /// One BatchExecuteStatement of `executions` (after `set search_path`
    /// when they have one): the rows its statements affected.
    async fn batch(
        &self,
        executions: &[Execution],
        database: Option<String>,
        session_id: Option<String>,
        transaction: bool,
    ) -> Result<i64> {
        let search_path = executions.first().and_then(|e| e.search_path.clone());
        let sqls: Vec<String> = search_path
            .as_deref()
            .map(set_search_path)
            .into_iter()
            .chain(executions.iter().map(|e| e.sql.clone()))
            .collect();
        let Ran { description, .. } = self
            .statements
            .run_batch_to_end(BatchExecuteRequest {
                sqls,
                parameters: executions
                    .iter()
                    .flat_map(|e| e.parameters.clone())
                    .collect(),
                database: if session_id.is_some() { None } else { database },
                session_id,
                transaction,
                statement_name: None,
                result_format: ResultFormat::Json,
                client_token: None,
            })
            .await?;
        let skip = usize::from(search_path.is_some());
        Ok(if description.sub_statement_rows.is_empty() {
            description.result_rows.max(0)
        } else {
            description
                .sub_statement_rows
                .iter()
                .skip(skip)
                .map(|n| n.max(&0))
                .sum()
        })
    }
}
