//! Statements and their lifecycle, one file per job: submitting
//! (ExecuteStatement, BatchExecuteStatement), running, describing and listing
//! (DescribeStatement, ListStatements), cancelling (CancelStatement), and
//! fetching results (GetStatementResult[V2]).
//!
//! A statement is submitted at once and run by its own task on its own
//! PostgreSQL connection (or its session's), walking SUBMITTED → PICKED →
//! STARTED → FINISHED | FAILED | ABORTED. Waiters long-poll on a watch channel.

mod cancel;
mod describe;
mod execute;
mod result;
mod run;
