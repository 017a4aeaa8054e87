//! DescribeStatement (of a statement, a batch, or one sub-statement) and
//! ListStatements.

use crate::error::ApiError;
use crate::model::{ListStatementsInput, StatementIdInput, Status, check_wait, required, split_id};
use crate::paging::{page_size, paginate};
use crate::responses::{DescribeStatementResponse, ListStatementsResponse};
use crate::state::State;

impl State {
    /// DescribeStatement.
    pub(crate) async fn describe_statement(
        &self,
        input: StatementIdInput,
    ) -> Result<DescribeStatementResponse, ApiError> {
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

    /// ListStatements: most recent first, filtered, paginated.
    pub(crate) fn list_statements(
        &self,
        input: ListStatementsInput,
    ) -> Result<ListStatementsResponse, ApiError> {
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
                && st.target.matches(
                    input.database.as_deref(),
                    input.cluster_identifier.as_deref(),
                    input.workgroup_name.as_deref(),
                )
        });
        all.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        let entries = all.iter().map(|s| s.list_entry()).collect();
        let (statements, next_token) = paginate(entries, input.next_token.as_deref(), max)?;
        Ok(ListStatementsResponse {
            statements,
            next_token,
        })
    }
}
