//! The 12 operations of the service model, named once: parsed from the
//! `X-Amz-Target` header and used as the key of the call counters.

/// One operation of the Redshift Data API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// BatchExecuteStatement.
    BatchExecuteStatement,
    /// CancelStatement.
    CancelStatement,
    /// DescribeStatement.
    DescribeStatement,
    /// DescribeTable.
    DescribeTable,
    /// ExecuteStatement.
    ExecuteStatement,
    /// GetStatementResult.
    GetStatementResult,
    /// GetStatementResultV2.
    GetStatementResultV2,
    /// ListDatabases.
    ListDatabases,
    /// ListSchemas.
    ListSchemas,
    /// ListSessions.
    ListSessions,
    /// ListStatements.
    ListStatements,
    /// ListTables.
    ListTables,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Self; 12] = [
        Self::BatchExecuteStatement,
        Self::CancelStatement,
        Self::DescribeStatement,
        Self::DescribeTable,
        Self::ExecuteStatement,
        Self::GetStatementResult,
        Self::GetStatementResultV2,
        Self::ListDatabases,
        Self::ListSchemas,
        Self::ListSessions,
        Self::ListStatements,
        Self::ListTables,
    ];

    /// The operation's name in the model (and in `X-Amz-Target`).
    pub fn name(self) -> &'static str {
        match self {
            Self::BatchExecuteStatement => "BatchExecuteStatement",
            Self::CancelStatement => "CancelStatement",
            Self::DescribeStatement => "DescribeStatement",
            Self::DescribeTable => "DescribeTable",
            Self::ExecuteStatement => "ExecuteStatement",
            Self::GetStatementResult => "GetStatementResult",
            Self::GetStatementResultV2 => "GetStatementResultV2",
            Self::ListDatabases => "ListDatabases",
            Self::ListSchemas => "ListSchemas",
            Self::ListSessions => "ListSessions",
            Self::ListStatements => "ListStatements",
            Self::ListTables => "ListTables",
        }
    }

    /// The operation an `X-Amz-Target` value (`RedshiftData.<Operation>`) names.
    pub(crate) fn from_target(target: &str) -> Option<Self> {
        let name = target.strip_prefix("RedshiftData.")?;
        Self::ALL.into_iter().find(|op| op.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_round_trips_through_its_target() {
        for op in Operation::ALL {
            assert_eq!(
                Operation::from_target(&format!("RedshiftData.{}", op.name())),
                Some(op)
            );
        }
        assert_eq!(Operation::from_target("ExecuteStatement"), None);
        assert_eq!(Operation::from_target("RedshiftData.DropEverything"), None);
        assert_eq!(Operation::from_target(""), None);
    }
}
