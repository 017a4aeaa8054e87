//! Data API failures: what the service said, classified by its error code,
//! with the operation and the statement they came from.

/// A Data API operation the gateway calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Operation {
    /// ExecuteStatement.
    ExecuteStatement,
    /// BatchExecuteStatement.
    BatchExecuteStatement,
    /// DescribeStatement.
    DescribeStatement,
    /// GetStatementResult (JSON records).
    GetStatementResult,
    /// GetStatementResultV2 (CSV records).
    GetStatementResultV2,
    /// CancelStatement.
    CancelStatement,
    /// ListDatabases.
    ListDatabases,
    /// ListSchemas.
    ListSchemas,
    /// ListTables.
    ListTables,
    /// DescribeTable.
    DescribeTable,
    /// ListStatements.
    ListStatements,
}

impl Operation {
    /// Every operation the gateway calls.
    pub const ALL: [Self; 11] = [
        Self::ExecuteStatement,
        Self::BatchExecuteStatement,
        Self::DescribeStatement,
        Self::GetStatementResult,
        Self::GetStatementResultV2,
        Self::CancelStatement,
        Self::ListDatabases,
        Self::ListSchemas,
        Self::ListTables,
        Self::DescribeTable,
        Self::ListStatements,
    ];

    /// The operation of a name in the service model.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.name() == name)
    }

    /// The operation's name in the service model.
    pub fn name(self) -> &'static str {
        match self {
            Self::ExecuteStatement => "ExecuteStatement",
            Self::BatchExecuteStatement => "BatchExecuteStatement",
            Self::DescribeStatement => "DescribeStatement",
            Self::GetStatementResult => "GetStatementResult",
            Self::GetStatementResultV2 => "GetStatementResultV2",
            Self::CancelStatement => "CancelStatement",
            Self::ListDatabases => "ListDatabases",
            Self::ListSchemas => "ListSchemas",
            Self::ListTables => "ListTables",
            Self::DescribeTable => "DescribeTable",
            Self::ListStatements => "ListStatements",
        }
    }
}

impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What kind of failure the service reported, by its error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataApiErrorKind {
    /// ValidationException: the request (SQL, parameters, identity) is wrong.
    Validation,
    /// ResourceNotFoundException: unknown or expired statement or session.
    NotFound,
    /// Throttling that outlived the SDK's retries.
    Throttled,
    /// Active statements, sessions or waiting requests over their quota.
    QuotaExceeded,
    /// Credentials are missing, invalid or expired.
    Unauthenticated,
    /// The credentials may not do this.
    PermissionDenied,
    /// The service or the network failed (5xx, timeouts, connection errors).
    Unavailable,
    /// A response the gateway cannot understand.
    Protocol,
}

/// A failed Data API call: the service's message, its kind, and where it
/// happened (the operation and, when there is one, the statement Id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DataApiError {
    /// What kind of failure.
    pub kind: DataApiErrorKind,
    /// The operation that failed.
    pub operation: Operation,
    /// The statement the call was about, if any.
    pub statement_id: Option<String>,
    /// The service's own message.
    pub message: String,
}

impl DataApiError {
    /// A failure of `operation`.
    pub fn new(kind: DataApiErrorKind, operation: Operation, message: impl Into<String>) -> Self {
        Self {
            kind,
            operation,
            statement_id: None,
            message: message.into(),
        }
    }

    /// The same failure, about statement `id`.
    #[must_use]
    pub fn for_statement(mut self, id: &str) -> Self {
        self.statement_id = Some(id.to_owned());
        self
    }

    /// Where it happened, for logs and server-side messages:
    /// `DescribeStatement of statement 1234` or `ListTables`.
    pub fn context(&self) -> String {
        match &self.statement_id {
            Some(id) => format!("{} of statement {id}", self.operation),
            None => self.operation.name().to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_the_services_and_context_names_operation_and_statement() {
        let e = DataApiError::new(
            DataApiErrorKind::NotFound,
            Operation::DescribeStatement,
            "Query does not exist",
        )
        .for_statement("abc");
        assert_eq!(e.to_string(), "Query does not exist");
        assert_eq!(e.context(), "DescribeStatement of statement abc");
        let e = DataApiError::new(DataApiErrorKind::Throttled, Operation::ListTables, "x");
        assert_eq!(e.context(), "ListTables");
    }
}
