//! The audit log: one event per statement on the tracing target
//! [`TARGET`], so a log pipeline can route it apart from the rest
//! (`RUST_LOG=info,rsfs::audit=info`, with `--log-format json` one JSON
//! object per event). Each names the principal, the Data API identity the
//! statement ran as, its statement Id, its SQL (truncated, or only its
//! SHA-256 with `--audit-sql hash`), rows, bytes, duration and outcome.

use std::time::Instant;

use sha2::Digest as _;

/// The tracing target of audit events.
pub const TARGET: &str = "rsfs::audit";

/// Longest SQL text an event carries.
const MAX_SQL: usize = 1000;

/// How audit events show SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum AuditSql {
    /// The text, truncated to 1000 characters, and its SHA-256.
    #[default]
    Text,
    /// Only its SHA-256 (the SQL may hold personal data).
    Hash,
}

/// What the audit log keeps of a statement from its submission to its end.
#[derive(Debug, Clone)]
pub(crate) struct Submitted {
    principal: String,
    /// The identity the identity map chose, when not the gateway's own.
    identity: Option<String>,
    sql: String,
    sql_sha256: String,
    started: Instant,
}

impl Submitted {
    /// A statement of `principal` with `sql`, submitted now.
    pub(crate) fn new(principal: &str, sql: &str, shown: AuditSql) -> Self {
        let sql_sha256 = sha256_hex(sql.as_bytes());
        let sql = match shown {
            AuditSql::Hash => String::new(),
            AuditSql::Text => sql.chars().take(MAX_SQL).collect(),
        };
        Self {
            principal: principal.to_owned(),
            identity: crate::dataapi::identity::current().map(|i| i.to_string()),
            sql,
            sql_sha256,
            started: Instant::now(),
        }
    }

    /// The event of its end: `outcome` is the statement's status
    /// (`finished`, `failed`, `aborted`) or `cancelled_at_shutdown`.
    pub(crate) fn ended(
        &self,
        identity: &str,
        statement_id: &str,
        outcome: &str,
        rows: i64,
        bytes: i64,
        error: Option<&str>,
    ) {
        let identity = self.identity.as_deref().unwrap_or(identity);
        tracing::info!(
            target: TARGET,
            principal = %self.principal,
            identity,
            statement_id,
            sql = %self.sql,
            sql_sha256 = %self.sql_sha256,
            rows,
            bytes,
            duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            outcome,
            error = error.unwrap_or_default(),
            "statement"
        );
    }

    /// The event of a submission the Data API refused (no statement ran).
    pub(crate) fn refused(&self, identity: &str, error: &str) {
        self.ended(identity, "", "refused", 0, 0, Some(error));
    }
}

/// The SHA-256 of `bytes` in lowercase hex (SQL in the audit log, API
/// tokens in the tokens file).
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    sha2::Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_is_truncated_or_hashed() {
        let long = "x".repeat(5000);
        let text = Submitted::new("alice", &long, AuditSql::Text);
        assert_eq!(text.sql.len(), MAX_SQL);
        assert_eq!(text.sql_sha256.len(), 64);
        let hashed = Submitted::new("alice", "select 1", AuditSql::Hash);
        assert!(hashed.sql.is_empty());
        assert_eq!(
            hashed.sql_sha256,
            "822ae07d4783158bc1912bb623e5107cc9002d519e1143a9c200ed6ee18b6d0f"
        );
    }
}
