//! The state every RPC shares, cheap to clone: the statement lifecycle, the
//! signer of tickets and handles, the authenticator, and the short-lived
//! caches of metadata answers, prepared schemas and bound rows.

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::auth::Authenticator;
use crate::config::{LimitsConfig, QueryConfig};
use crate::statement::{Finished, ReuseKey, Statements};
use crate::ticket::TicketSigner;
use crate::ticket::proto::ParameterRow;

/// Everything an RPC needs.
#[derive(Debug, Clone)]
pub(crate) struct Gateway {
    /// The statement lifecycle and result side.
    pub(crate) statements: Statements,
    /// Signs and opens tickets, handles and cookies.
    pub(crate) signer: TicketSigner,
    /// Checks credentials and bearer tokens.
    pub(crate) auth: Authenticator,
    /// Metadata answers by (principal, command), kept briefly.
    pub(crate) metadata_cache: moka::future::Cache<(String, Vec<u8>), RecordBatch>,
    /// Dataset schemas of prepared queries by (SQL, database/search path, principal).
    pub(crate) schema_cache: moka::future::Cache<(String, String, String), SchemaRef>,
    /// Rows bound to a prepared statement handle, for clients older than
    /// DoPutPreparedStatementResult that keep using the handle they had
    /// (this replica only; current clients use the new, self-contained handle).
    pub(crate) bound_rows: moka::future::Cache<Vec<u8>, Arc<Vec<ParameterRow>>>,
    /// Most parameter rows one request may bind.
    pub(crate) max_bound_rows: usize,
    /// Statements one request runs at once.
    pub(crate) statements_per_request: usize,
    /// Finished statements by what ran them, when reuse is on; concurrent
    /// identical queries wait for one execution.
    pub(crate) reuse: Option<moka::future::Cache<ReuseKey, Finished>>,
}

impl Gateway {
    /// A gateway running its statements through `statements`.
    pub(crate) fn new(
        statements: Statements,
        signer: TicketSigner,
        auth: Authenticator,
        query: &QueryConfig,
        limits: &LimitsConfig,
    ) -> Self {
        let reuse = (!query.reuse.get().is_zero()).then(|| {
            moka::future::Cache::builder()
                .max_capacity(query.reuse_entries)
                .time_to_live(query.reuse.get())
                .build()
        });
        Self {
            statements,
            signer,
            auth,
            metadata_cache: moka::future::Cache::builder()
                .max_capacity(limits.metadata_cache_entries)
                .time_to_live(limits.metadata_cache_ttl.get())
                .build(),
            schema_cache: moka::future::Cache::builder()
                .max_capacity(limits.schema_cache_entries)
                .time_to_live(limits.schema_cache_ttl.get())
                .build(),
            bound_rows: moka::future::Cache::builder()
                .max_capacity(limits.bound_rows_entries)
                .time_to_live(limits.bound_rows_ttl.get())
                .build(),
            max_bound_rows: limits.max_bound_rows,
            statements_per_request: limits.statements_per_request,
            reuse,
        }
    }

    /// The default database (the Flight SQL catalog when a client names none).
    pub(crate) fn default_database(&self) -> &str {
        self.statements.default_database()
    }
}
