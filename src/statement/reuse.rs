//! Reuse of finished statements (opt-in, `--reuse-seconds`): what makes two
//! executions the same statement, and what is kept of one that finished.

use crate::dataapi::{SqlParameter, StatementDescription};
use crate::ticket::StatementHandle;

/// What makes two executions the same statement.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct ReuseKey {
    /// Who ran it, as which identity.
    pub(crate) owner: String,
    /// Its database (empty: the default).
    pub(crate) database: String,
    /// Its search path (empty: none).
    pub(crate) search_path: String,
    /// Its SQL text.
    pub(crate) sql: String,
    /// Its parameter values.
    pub(crate) parameters: Vec<SqlParameter>,
}

/// A statement that ran to its successful end.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// The handle its tickets carry.
    pub(crate) handle: StatementHandle,
    /// Its final description.
    pub(crate) description: StatementDescription,
}
