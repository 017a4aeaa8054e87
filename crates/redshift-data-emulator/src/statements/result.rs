//! GetStatementResult and GetStatementResultV2: one page of a finished
//! statement's retained result, in the format it was asked for.

use crate::error::ApiError;
use crate::model::{ResultFormat, StatementIdInput, Status, check_wait, required, split_id};
use crate::state::State;

impl State {
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
                    statement.sub_count()
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
}
