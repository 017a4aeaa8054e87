//! Request shapes of the Data API operations, member by member as in the
//! service model (`service-2.json`), the small enums they use, and the checks
//! of request members the service makes before it runs anything.

use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// A named parameter of a statement (`SqlParameter`).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub(crate) struct SqlParameter {
    pub(crate) name: String,
    pub(crate) value: String,
}

/// The identity members shared by most operations (sent back as given).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Identity {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) cluster_identifier: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) secret_arn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) db_user: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) workgroup_name: Option<String>,
}

/// Where a statement runs: the identity it was submitted with and its
/// database; responses carry both as members.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Target {
    #[serde(flatten)]
    pub(crate) identity: Identity,
    pub(crate) database: String,
}

impl Target {
    /// Whether the target passes the Database, ClusterIdentifier and
    /// WorkgroupName filters of a listing (an absent filter passes all).
    pub(crate) fn matches(
        &self,
        database: Option<&str>,
        cluster_identifier: Option<&str>,
        workgroup_name: Option<&str>,
    ) -> bool {
        database.is_none_or(|d| self.database == d)
            && cluster_identifier
                .is_none_or(|c| self.identity.cluster_identifier.as_deref() == Some(c))
            && workgroup_name.is_none_or(|w| self.identity.workgroup_name.as_deref() == Some(w))
    }
}

/// The members ExecuteStatement and BatchExecuteStatement share.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ExecuteCommon {
    #[serde(flatten)]
    pub(crate) identity: Identity,
    pub(crate) database: Option<String>,
    #[allow(dead_code)]
    pub(crate) with_event: Option<bool>,
    pub(crate) statement_name: Option<String>,
    pub(crate) parameters: Option<Vec<SqlParameter>>,
    pub(crate) client_token: Option<String>,
    pub(crate) result_format: Option<String>,
    pub(crate) session_keep_alive_seconds: Option<i64>,
    pub(crate) session_id: Option<String>,
    pub(crate) wait_time_seconds: Option<i64>,
}

/// `ExecuteStatementInput`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ExecuteStatementInput {
    pub(crate) sql: Option<String>,
    #[serde(flatten)]
    pub(crate) common: ExecuteCommon,
}

/// `BatchExecuteStatementInput`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct BatchExecuteStatementInput {
    pub(crate) sqls: Option<Vec<String>>,
    pub(crate) execution_mode: Option<String>,
    #[serde(flatten)]
    pub(crate) common: ExecuteCommon,
}

/// Requests that name one statement: Describe, Cancel, GetStatementResult[V2].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StatementIdInput {
    pub(crate) id: Option<String>,
    pub(crate) next_token: Option<String>,
    pub(crate) wait_time_seconds: Option<i64>,
}

/// `ListStatementsRequest`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListStatementsInput {
    pub(crate) next_token: Option<String>,
    pub(crate) max_results: Option<i64>,
    pub(crate) statement_name: Option<String>,
    pub(crate) status: Option<String>,
    #[allow(dead_code)]
    pub(crate) role_level: Option<bool>,
    pub(crate) database: Option<String>,
    pub(crate) cluster_identifier: Option<String>,
    pub(crate) workgroup_name: Option<String>,
}

/// `ListSessionsRequest`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ListSessionsInput {
    pub(crate) next_token: Option<String>,
    pub(crate) max_results: Option<i64>,
    pub(crate) session_id: Option<String>,
    pub(crate) status: Option<String>,
    #[allow(dead_code)]
    pub(crate) role_level: Option<bool>,
    pub(crate) cluster_identifier: Option<String>,
    pub(crate) workgroup_name: Option<String>,
    pub(crate) database: Option<String>,
}

/// ListDatabases, ListSchemas, ListTables and DescribeTable requests.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct CatalogInput {
    #[serde(flatten)]
    pub(crate) identity: Identity,
    pub(crate) database: Option<String>,
    pub(crate) connected_database: Option<String>,
    pub(crate) schema_pattern: Option<String>,
    pub(crate) table_pattern: Option<String>,
    pub(crate) schema: Option<String>,
    pub(crate) table: Option<String>,
    pub(crate) next_token: Option<String>,
    pub(crate) max_results: Option<i64>,
}

/// `ResultFormatString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ResultFormat {
    Json,
    Csv,
}

impl ResultFormat {
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("JSON") => Ok(Self::Json),
            Some("CSV") => Ok(Self::Csv),
            Some(other) => Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'resultFormat' failed to satisfy constraint: Member must satisfy enum value set: [JSON, CSV]"
            ))),
        }
    }
}

/// `ExecutionMode` of a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ExecutionMode {
    Transaction,
    AutoCommit,
}

impl ExecutionMode {
    pub(crate) fn parse(value: Option<&str>) -> Result<Self, ApiError> {
        match value {
            None | Some("TRANSACTION") => Ok(Self::Transaction),
            Some("AUTO_COMMIT") => Ok(Self::AutoCommit),
            Some(other) => Err(ApiError::validation(format!(
                "1 validation error detected: Value '{other}' at 'executionMode' failed to satisfy constraint: Member must satisfy enum value set: [TRANSACTION, AUTO_COMMIT]"
            ))),
        }
    }
}

/// `StatementStatusString`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Status {
    Submitted,
    Picked,
    Started,
    Finished,
    Aborted,
    Failed,
}

impl Status {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Picked => "PICKED",
            Self::Started => "STARTED",
            Self::Finished => "FINISHED",
            Self::Aborted => "ABORTED",
            Self::Failed => "FAILED",
        }
    }

    pub(crate) fn is_terminal(self) -> bool {
        matches!(self, Self::Finished | Self::Aborted | Self::Failed)
    }
}

/// A member the model marks required, or the service's error for its absence.
pub(crate) fn required<T>(value: Option<T>, member: &str) -> Result<T, ApiError> {
    value.ok_or_else(|| {
        ApiError::validation(format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    })
}

/// WaitTimeSeconds: 1 to 30 when given.
pub(crate) fn check_wait(seconds: Option<i64>) -> Result<Option<i64>, ApiError> {
    match seconds {
        Some(s) if !(1..=30).contains(&s) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{s}' at 'waitTimeSeconds' failed to satisfy constraint: Member must have value between 1 and 30"
        ))),
        other => Ok(other),
    }
}

/// Splits `id[:n]` into the statement Id and a zero-based sub-statement index.
pub(crate) fn split_id(id: &str) -> Result<(&str, Option<usize>), ApiError> {
    let (base, sub) = match id.split_once(':') {
        Some((base, n)) => {
            let n: usize = n
                .parse()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::validation(format!("Invalid statement Id '{id}'")))?;
            (base, Some(n - 1))
        }
        None => (id, None),
    };
    if uuid::Uuid::parse_str(base).is_err()
        || base.len() != 36
        || base.bytes().any(|b| b.is_ascii_uppercase())
    {
        return Err(ApiError::validation(format!(
            "1 validation error detected: Value '{id}' at 'id' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z0-9]{{8}}(-[a-z0-9]{{4}}){{3}}-[a-z0-9]{{12}}(:\\d{{0,2}})?"
        )));
    }
    Ok((base, sub))
}

fn matches_pattern(value: &str, first: fn(u8) -> bool, rest: fn(u8) -> bool) -> bool {
    let b = value.as_bytes();
    !b.is_empty() && first(b[0]) && b[1..].iter().all(|&c| rest(c))
}

/// Checks the identity members as the service does: a cluster (optionally with
/// DbUser or SecretArn, not both) or a workgroup (optionally with SecretArn).
pub(crate) fn validate_identity(identity: &Identity, session: bool) -> Result<(), ApiError> {
    let Identity {
        cluster_identifier,
        secret_arn,
        db_user,
        workgroup_name,
    } = identity;
    if session {
        if cluster_identifier.is_some()
            || workgroup_name.is_some()
            || db_user.is_some()
            || secret_arn.is_some()
        {
            return Err(ApiError::validation(
                "SessionId cannot be specified together with ClusterIdentifier, WorkgroupName, DbUser or SecretArn: the session already has a connection",
            ));
        }
        return Ok(());
    }
    match (cluster_identifier, workgroup_name) {
        (Some(_), Some(_)) => {
            return Err(ApiError::validation(
                "Either ClusterIdentifier or WorkgroupName must be specified, not both",
            ));
        }
        (None, None) => {
            return Err(ApiError::validation(
                "Either ClusterIdentifier or WorkgroupName must be specified",
            ));
        }
        (Some(cluster), None) => {
            let ok = cluster.len() <= 63
                && matches_pattern(
                    cluster,
                    |c| c.is_ascii_lowercase(),
                    |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-',
                )
                && !cluster.ends_with('-')
                && !cluster.contains("--");
            if !ok {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{cluster}' at 'clusterIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-z][a-z0-9]*(-[a-z0-9]+)*"
                )));
            }
        }
        (None, Some(workgroup)) => {
            let ok = workgroup.starts_with("arn:")
                || ((3..=63).contains(&workgroup.len())
                    && workgroup
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-'));
            if !ok {
                return Err(ApiError::validation(format!(
                    "1 validation error detected: Value '{workgroup}' at 'workgroupName' failed to satisfy constraint: Member must satisfy regular expression pattern: ([a-z0-9-]{{3,63}}|arn:…)"
                )));
            }
            if db_user.is_some() {
                return Err(ApiError::validation(
                    "DbUser is not supported with WorkgroupName; use SecretArn or IAM identity",
                ));
            }
        }
    }
    if db_user.is_some() && secret_arn.is_some() {
        return Err(ApiError::validation(
            "Either DbUser or SecretArn can be specified, not both",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(c: Option<&str>, w: Option<&str>, u: Option<&str>, s: Option<&str>) -> Identity {
        Identity {
            cluster_identifier: c.map(Into::into),
            workgroup_name: w.map(Into::into),
            db_user: u.map(Into::into),
            secret_arn: s.map(Into::into),
        }
    }

    #[test]
    fn identities_the_service_accepts() {
        let ok = [
            id(Some("redshift-cluster-1"), None, Some("awsuser"), None),
            id(Some("c1"), None, None, Some("arn:aws:secretsmanager:x")),
            id(Some("c1"), None, None, None),
            id(None, Some("default-wg"), None, None),
            id(
                None,
                Some("default-wg"),
                None,
                Some("arn:aws:secretsmanager:x"),
            ),
        ];
        for i in ok {
            assert!(validate_identity(&i, false).is_ok(), "{i:?}");
        }
        let bad = [
            id(None, None, None, None),
            id(Some("c1"), Some("wg1"), None, None),
            id(Some("c1"), None, Some("u"), Some("arn")),
            id(None, Some("wg1"), Some("u"), None),
            id(Some("Bad_Cluster"), None, Some("u"), None),
            id(None, Some("WG"), None, None),
        ];
        for i in bad {
            assert!(
                matches!(validate_identity(&i, false), Err(ApiError::Validation(_))),
                "{i:?}"
            );
        }
        assert!(validate_identity(&id(Some("c1"), None, None, None), true).is_err());
        assert!(validate_identity(&Identity::default(), true).is_ok());
    }
}
