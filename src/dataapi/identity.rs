//! The Data API identity a statement runs as, chosen per caller by the
//! identity map (`--identity-map`): a DbUser (temporary credentials of a
//! provisioned cluster), a SecretArn, or the gateway's own. It travels with
//! the RPC as a task-local, so every call made while serving it (statements
//! and catalog listings) carries it.

use std::future::Future;

use crate::config::DataApiTarget;

/// A database identity other than the gateway's own.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DbIdentity {
    /// Temporary credentials for this database user.
    DbUser(String),
    /// The credentials in this Secrets Manager secret.
    SecretArn(String),
}

impl std::fmt::Display for DbIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::DbUser(u) => write!(f, "DbUser {u:?}"),
            Self::SecretArn(a) => write!(f, "SecretArn {a:?}"),
        }
    }
}

tokio::task_local! {
    static CURRENT: Option<DbIdentity>;
}

/// Runs `body` with its Data API calls made as `identity` (`None`: the
/// gateway's own).
pub async fn as_identity<F: Future>(identity: Option<DbIdentity>, body: F) -> F::Output {
    CURRENT.scope(identity, body).await
}

/// The identity of the RPC being served, if it is not the gateway's own.
pub fn current() -> Option<DbIdentity> {
    CURRENT.try_with(Clone::clone).ok().flatten()
}

/// Runs `body` (synchronous) with the current identity set to `identity`.
pub fn with_identity<R>(identity: Option<DbIdentity>, body: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(identity, body)
}

/// What tickets, prepared handles, transactions, session options, cached
/// results and reused statements are bound to: `principal` *and* the Data
/// API identity of the RPC being served, so that a principal mapped to
/// another identity (its groups or claims changed) cannot read what the old
/// one ran: `principal|gateway`, `principal|db_user=…`. `:`, `|` and `%` of
/// the parts are escaped, so no two owners are prefixes of each other in a
/// StatementName.
pub fn owner(principal: &str) -> String {
    let identity = match current() {
        None => "gateway".to_owned(),
        Some(DbIdentity::DbUser(user)) => format!("db_user={}", escape(&user)),
        Some(DbIdentity::SecretArn(arn)) => format!("secret_arn={}", escape(&arn)),
    };
    format!("{}|{identity}", escape(principal))
}

fn escape(part: &str) -> String {
    let mut out = String::with_capacity(part.len());
    for c in part.chars() {
        match c {
            ':' => out.push_str("%3A"),
            '|' => out.push_str("%7C"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// `target` with the current identity in place of its DbUser or SecretArn.
pub(crate) fn effective(target: &DataApiTarget) -> DataApiTarget {
    let mut target = target.clone();
    match current() {
        Some(DbIdentity::DbUser(user)) => {
            target.db_user = Some(user);
            target.secret_arn = None;
        }
        Some(DbIdentity::SecretArn(arn)) => {
            target.secret_arn = Some(arn);
            target.db_user = None;
        }
        None => {}
    }
    target
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_owner_is_the_principal_and_the_identity_it_runs_as() {
        assert_eq!(owner("alice@example.com"), "alice@example.com|gateway");
        let as_db = with_identity(Some(DbIdentity::DbUser("a_db".into())), || owner("alice"));
        assert_eq!(as_db, "alice|db_user=a_db");
        let arn = with_identity(
            Some(DbIdentity::SecretArn("arn:aws:secretsmanager:x".into())),
            || owner("a:b|c%"),
        );
        assert_eq!(
            arn,
            "a%3Ab%7Cc%25|secret_arn=arn%3Aaws%3Asecretsmanager%3Ax"
        );
    }
}
