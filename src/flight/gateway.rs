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
    /// Only statements that read run (`--read-only`).
    pub(crate) read_only: bool,
    /// The Data API identity of each principal.
    pub(crate) identities: Arc<crate::auth::identity_map::IdentityMap>,
    /// The transactions of client connections, for statements prepared in
    /// one that has ended.
    pub(crate) successors: super::successor::Successors,
    /// The UNLOAD result path, when configured.
    pub(crate) unload: Option<Arc<crate::unload::Unload>>,
}

impl Gateway {
    /// A gateway running its statements through `statements`, each
    /// principal's as `identities` says.
    pub(crate) fn new(
        statements: Statements,
        signer: TicketSigner,
        auth: Authenticator,
        identities: crate::auth::identity_map::IdentityMap,
        query: &QueryConfig,
        limits: &LimitsConfig,
        unload: Option<crate::unload::Unload>,
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
            read_only: query.read_only,
            identities: Arc::new(identities),
            successors: super::successor::Successors::default(),
            unload: unload.map(Arc::new),
        }
    }

    /// Refuses SQL this gateway does not run: two-phase commit
    /// (UNIMPLEMENTED: Redshift has none) and, with `--read-only`, anything
    /// that writes (PERMISSION_DENIED).
    pub(crate) fn admit_sql(&self, sql: &str) -> crate::error::Result<()> {
        use crate::error::GatewayError;
        if redshift_sqltext::is_two_phase_commit(sql) {
            return Err(GatewayError::Unimplemented(
                "two-phase commit (Redshift has no PREPARE TRANSACTION, COMMIT PREPARED or ROLLBACK PREPARED)"
                    .to_owned(),
            ));
        }
        if self.read_only && !redshift_sqltext::is_read_only(sql) {
            let first = redshift_sqltext::keywords(sql)
                .into_iter()
                .next()
                .unwrap_or_default()
                .to_ascii_uppercase();
            return Err(GatewayError::ReadOnly(format!(
                "this gateway is read-only (--read-only): it runs queries that only read, and this {first} statement would write"
            )));
        }
        Ok(())
    }

    /// Refuses a write with `--read-only` (an ingest, which has no SQL text).
    pub(crate) fn admit_write(&self, what: &str) -> crate::error::Result<()> {
        if self.read_only {
            return Err(crate::error::GatewayError::ReadOnly(format!(
                "this gateway is read-only (--read-only): {what} is refused"
            )));
        }
        Ok(())
    }

    /// The default database (the Flight SQL catalog when a client names none).
    pub(crate) fn default_database(&self) -> &str {
        self.statements.default_database()
    }
}
