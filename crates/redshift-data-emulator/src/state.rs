//! The shared state of one emulator: its settings, the PostgreSQL connector,
//! the statements and sessions it remembers, and the calls it has served.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::config::EmulatorConfig;
use crate::error::ApiError;
use crate::operation::Operation;
use crate::postgres::Connector;
use crate::records::{Session, Statement, lock};
use crate::unload::Stores;

/// Shared state of one emulator.
#[derive(Debug)]
pub(crate) struct State {
    pub(crate) config: EmulatorConfig,
    pub(crate) connector: Connector,
    /// The buckets UNLOAD writes to.
    pub(crate) unload_stores: Stores,
    statements: Mutex<HashMap<String, Arc<Statement>>>,
    client_tokens: Mutex<HashMap<String, String>>,
    pub(crate) sessions: Mutex<HashMap<String, Arc<Session>>>,
    calls: Mutex<BTreeMap<&'static str, u64>>,
    query_ids: AtomicI64,
}

impl State {
    /// A fresh emulator that runs statements through `connector`.
    pub(crate) fn new(config: EmulatorConfig, connector: Connector) -> Self {
        Self {
            unload_stores: Stores::new(&config),
            config,
            connector,
            statements: Mutex::default(),
            client_tokens: Mutex::default(),
            sessions: Mutex::default(),
            calls: Mutex::default(),
            query_ids: AtomicI64::new(1000),
        }
    }

    /// The statement with this Id (without a sub-statement suffix).
    pub(crate) fn statement(&self, id: &str) -> Result<Arc<Statement>, ApiError> {
        lock(&self.statements)
            .get(id)
            .cloned()
            .ok_or_else(|| ApiError::not_found(format!("Query does not exist: {id}"), id))
    }

    /// The statement an earlier request with this ClientToken submitted.
    pub(crate) fn statement_for_token(&self, token: &str) -> Option<Arc<Statement>> {
        let id = lock(&self.client_tokens).get(token).cloned()?;
        lock(&self.statements).get(&id).cloned()
    }

    /// Remembers a submitted statement (and its ClientToken).
    pub(crate) fn insert_statement(&self, statement: &Arc<Statement>, token: Option<String>) {
        lock(&self.statements).insert(statement.id.clone(), Arc::clone(statement));
        if let Some(token) = token {
            lock(&self.client_tokens).insert(token, statement.id.clone());
        }
    }

    /// Every statement remembered.
    pub(crate) fn all_statements(&self) -> Vec<Arc<Statement>> {
        lock(&self.statements).values().cloned().collect()
    }

    /// How many statements are still running.
    pub(crate) fn active_statements(&self) -> usize {
        lock(&self.statements)
            .values()
            .filter(|s| s.is_active())
            .count()
    }

    /// The next RedshiftQueryId.
    pub(crate) fn next_query_id(&self) -> i64 {
        self.query_ids.fetch_add(1, Ordering::Relaxed)
    }

    /// Counts one call of `operation`.
    pub(crate) fn count_call(&self, operation: Operation) {
        *lock(&self.calls).entry(operation.name()).or_default() += 1;
    }

    /// Calls per operation since start.
    pub(crate) fn calls(&self) -> BTreeMap<&'static str, u64> {
        lock(&self.calls).clone()
    }

    /// Forgets statements (and their results) older than the retention time.
    pub(crate) fn expire_statements(&self) {
        let retention = Duration::from_secs(self.config.retention_seconds);
        let now = Instant::now();
        let mut statements = lock(&self.statements);
        statements.retain(|_, s| s.is_active() || now.duration_since(s.created) < retention);
        let live: HashSet<String> = statements.keys().cloned().collect();
        drop(statements);
        lock(&self.client_tokens).retain(|_, id| live.contains(id));
    }
}
