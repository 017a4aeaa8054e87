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
