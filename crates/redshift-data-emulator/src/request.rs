//! The checks the emulator makes of a request before it touches PostgreSQL,
//! gathered in one function so that they can be fuzzed without a database:
//! the operation, the JSON body as the operation's typed input, and the
//! members checked up front (identity, statement Id, wait time, page size,
//! result format, execution mode, named parameters).

use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::model::{
    BatchExecuteStatementInput, CatalogInput, ExecuteStatementInput, ExecutionMode,
    ListSessionsInput, ListStatementsInput, ResultFormat, StatementIdInput, check_wait, split_id,
    validate_identity,
};
use crate::operation::Operation;
use crate::paging::{decode_token, page_size};
use crate::params;

/// The `X-Amz-Target` of each of the 12 operations.
pub const OPERATION_TARGETS: [&str; 12] = [
    "RedshiftData.BatchExecuteStatement",
    "RedshiftData.CancelStatement",
    "RedshiftData.DescribeStatement",
    "RedshiftData.DescribeTable",
    "RedshiftData.ExecuteStatement",
    "RedshiftData.GetStatementResult",
    "RedshiftData.GetStatementResultV2",
    "RedshiftData.ListDatabases",
    "RedshiftData.ListSchemas",
    "RedshiftData.ListSessions",
    "RedshiftData.ListStatements",
    "RedshiftData.ListTables",
];

/// A request body as an operation's typed input (an empty body is the
/// input with every member absent).
pub(crate) fn parse<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::Serialization(format!("Malformed request body: {e}")))
}

/// Checks a request as the emulator does before it runs anything: the
/// service's error for a request it would refuse, Ok otherwise.
pub fn check_request(target: &str, body: &[u8]) -> Result<(), ApiError> {
    let operation = Operation::from_target(target)
        .ok_or_else(|| ApiError::UnknownOperation(format!("Unknown operation '{target}'")))?;
    let token = |t: Option<&str>| {
        if t.is_some_and(|t| decode_token(t).is_none()) {
            return Err(ApiError::validation("Invalid NextToken".to_owned()));
        }
        Ok(())
    };
    match operation {
        Operation::ExecuteStatement => {
            let input: ExecuteStatementInput = parse(body)?;
            let common = &input.common;
            validate_identity(&common.identity, common.session_id.is_some())?;
            check_wait(common.wait_time_seconds)?;
            ResultFormat::parse(common.result_format.as_deref())?;
            if let Some(sql) = &input.sql {
                params::rewrite(sql);
            }
        }
        Operation::BatchExecuteStatement => {
            let input: BatchExecuteStatementInput = parse(body)?;
            let common = &input.common;
            validate_identity(&common.identity, common.session_id.is_some())?;
            check_wait(common.wait_time_seconds)?;
            ResultFormat::parse(common.result_format.as_deref())?;
            ExecutionMode::parse(input.execution_mode.as_deref())?;
            for sql in input.sqls.iter().flatten() {
                params::rewrite(sql);
            }
        }
        Operation::DescribeStatement
        | Operation::CancelStatement
        | Operation::GetStatementResult
        | Operation::GetStatementResultV2 => {
            let input: StatementIdInput = parse(body)?;
            if let Some(id) = &input.id {
                split_id(id)?;
            }
            check_wait(input.wait_time_seconds)?;
            token(input.next_token.as_deref())?;
        }
        Operation::ListStatements => {
            let input: ListStatementsInput = parse(body)?;
            page_size(input.max_results, 100)?;
            token(input.next_token.as_deref())?;
        }
        Operation::ListSessions => {
            let input: ListSessionsInput = parse(body)?;
            page_size(input.max_results, 100)?;
            token(input.next_token.as_deref())?;
        }
        Operation::ListDatabases
        | Operation::ListSchemas
        | Operation::ListTables
        | Operation::DescribeTable => {
            let input: CatalogInput = parse(body)?;
            validate_identity(&input.identity, false)?;
            page_size(input.max_results, 1000)?;
            token(input.next_token.as_deref())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_its_target() {
        for target in OPERATION_TARGETS {
            assert!(Operation::from_target(target).is_some(), "{target}");
        }
    }

    #[test]
    fn refusals_are_the_services_errors() {
        assert!(check_request("RedshiftData.Nope", b"{}").is_err());
        assert!(check_request("RedshiftData.ExecuteStatement", b"{").is_err());
        assert!(check_request("RedshiftData.DescribeStatement", br#"{"Id":"not-an-id"}"#).is_err());
        assert!(check_request("RedshiftData.ListStatements", br#"{"MaxResults":101}"#).is_err());
        assert!(
            check_request(
                "RedshiftData.ExecuteStatement",
                br#"{"Sql":"select :a","ClusterIdentifier":"c","DbUser":"u"}"#
            )
            .is_ok()
        );
    }
}
