//! Where a statement prepared inside a transaction runs once that
//! transaction has ended. ADBC keeps its prepared statements across COMMIT
//! and ROLLBACK and executes them again (CommandPreparedStatementQuery and
//! CommandPreparedStatementUpdate carry no transaction id); it means the
//! connection's transaction of now. That is the one the same client
//! connection began after the old one ended, or none (autocommit) when it
//! began none. Known to the replica that served both; elsewhere the old
//! session is used and the Data API says it is closed.

use std::net::SocketAddr;
use std::time::Duration;

/// How long the link from an ended transaction to its connection is kept:
/// as long as an idle transaction's session lives.
const KEPT: Duration = Duration::from_secs(900);

/// Most transactions remembered (each entry is a few dozen bytes).
const ENTRIES: u64 = 100_000;

/// A client connection of one owner.
type Connection = (String, SocketAddr);

/// The transactions of client connections.
#[derive(Debug, Clone)]
pub(crate) struct Successors {
    /// The open transaction (its Data API session) of each connection.
    open: moka::future::Cache<Connection, String>,
    /// The connection of each ended transaction's session.
    ended: moka::future::Cache<String, Connection>,
}

fn cache<K, V>() -> moka::future::Cache<K, V>
where
    K: std::hash::Hash + Eq + Send + Sync + 'static,
    V: Clone + Send + Sync + 'static,
{
    moka::future::Cache::builder()
        .max_capacity(ENTRIES)
        .time_to_live(KEPT)
        .build()
}

impl Default for Successors {
    fn default() -> Self {
        Self {
            open: cache(),
            ended: cache(),
        }
    }
}

impl Successors {
    /// `owner`'s connection `peer` began the transaction of `session`.
    pub(crate) async fn began(&self, owner: &str, peer: Option<SocketAddr>, session: &str) {
        if let Some(peer) = peer {
            self.open
                .insert((owner.to_owned(), peer), session.to_owned())
                .await;
        }
    }

    /// `owner`'s connection `peer` ended the transaction of `session`.
    pub(crate) async fn ended(&self, owner: &str, peer: Option<SocketAddr>, session: &str) {
        let Some(peer) = peer else { return };
        let connection = (owner.to_owned(), peer);
        if self.open.get(&connection).await.as_deref() == Some(session) {
            self.open.invalidate(&connection).await;
        }
        self.ended.insert(session.to_owned(), connection).await;
    }

    /// The session a statement of `owner` prepared in `session` runs in now:
    /// `session` while its transaction is open (or not known to have ended),
    /// else the transaction its connection has open now, or none.
    pub(crate) async fn now(&self, owner: &str, session: &str) -> Option<String> {
        match self.ended.get(session).await {
            Some(connection) if connection.0 == owner => self.open.get(&connection).await,
            _ => Some(session.to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_ended_transaction_leads_to_its_connections_next_or_none() {
        let s = Successors::default();
        let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
        let other: SocketAddr = "127.0.0.1:5001".parse().expect("addr");
        s.began("alice|gateway", Some(peer), "s1").await;
        s.began("alice|gateway", Some(other), "t1").await;
        assert_eq!(s.now("alice|gateway", "s1").await.as_deref(), Some("s1"));
        s.ended("alice|gateway", Some(peer), "s1").await;
        assert_eq!(s.now("alice|gateway", "s1").await, None, "autocommit now");
        s.began("alice|gateway", Some(peer), "s2").await;
        assert_eq!(s.now("alice|gateway", "s1").await.as_deref(), Some("s2"));
        assert_eq!(
            s.now("alice|gateway", "t1").await.as_deref(),
            Some("t1"),
            "another connection's transaction is its own"
        );
        assert_eq!(
            s.now("bob|gateway", "s1").await.as_deref(),
            Some("s1"),
            "another owner never follows alice's connection"
        );
        s.ended("alice|gateway", Some(peer), "s2").await;
        assert_eq!(s.now("alice|gateway", "s2").await, None);
    }
}
