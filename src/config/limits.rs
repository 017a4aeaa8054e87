//! Limits of what the gateway holds at once and how long it keeps metadata.

use std::num::NonZeroUsize;

use clap::builder::TypedValueParser as _;

use super::units::{ByteSize, HumanDuration};

/// Default result pages held at once across all DoGets.
pub(super) const DEFAULT_PAGES_IN_FLIGHT: NonZeroUsize = NonZeroUsize::MIN.saturating_add(7);
/// Default time a metadata answer (GetTables, GetDbSchemas, …) is reused.
pub(super) const DEFAULT_METADATA_CACHE_TTL: HumanDuration = HumanDuration::secs(30);
/// Default metadata answers kept.
pub(super) const DEFAULT_METADATA_CACHE_ENTRIES: u64 = 1000;
/// Default most parameter rows one request may bind.
pub(super) const DEFAULT_MAX_BOUND_ROWS: usize = 1000;
/// Default statements one request runs at once (a query bound to many rows).
pub(super) const DEFAULT_STATEMENTS_PER_REQUEST: usize = 8;
/// Default time a DoGet may wait for its client to read.
pub(super) const DEFAULT_STREAM_IDLE_TIMEOUT: HumanDuration = HumanDuration::secs(300);
/// Default wait for the next page after which a DoGet sends an empty batch.
pub(super) const DEFAULT_STREAM_KEEPALIVE: HumanDuration = HumanDuration::secs(15);
/// Default time a prepared query's dataset schema is reused.
pub(super) const DEFAULT_SCHEMA_CACHE_TTL: HumanDuration = HumanDuration::secs(300);
/// Default dataset schemas kept.
pub(super) const DEFAULT_SCHEMA_CACHE_ENTRIES: u64 = 10_000;
/// Default time rows bound to a prepared statement handle are remembered.
pub(super) const DEFAULT_BOUND_ROWS_TTL: HumanDuration = HumanDuration::secs(600);
/// Default handles whose bound rows are remembered.
pub(super) const DEFAULT_BOUND_ROWS_ENTRIES: u64 = 10_000;

/// Limits (flags and `RSFS_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Limits")]
pub struct LimitsConfig {
    /// Result pages (a few MiB each) fetched or being converted at once across
    /// all DoGets: enough to keep the cores busy, few enough that memory does
    /// not grow with the number of clients.
    #[arg(long, env = "RSFS_PAGES_IN_FLIGHT", default_value_t = DEFAULT_PAGES_IN_FLIGHT)]
    pub pages_in_flight: NonZeroUsize,
    /// How long a DoGet waits for a client that stopped reading before it
    /// ends the stream with an error and frees what it holds.
    #[arg(long, env = "RSFS_STREAM_IDLE_TIMEOUT", default_value_t = DEFAULT_STREAM_IDLE_TIMEOUT)]
    pub stream_idle_timeout: HumanDuration,
    /// When a DoGet has waited this long for its next page (a slow Data API
    /// call), it sends an empty batch, so that load balancers that cut idle
    /// streams keep it open (0 = never; every Flight client skips empty batches).
    #[arg(long, env = "RSFS_STREAM_KEEPALIVE", default_value_t = DEFAULT_STREAM_KEEPALIVE)]
    pub stream_keepalive: HumanDuration,
    /// Most statements one principal may have running at once
    /// (RESOURCE_EXHAUSTED beyond; 0 = no limit): one greedy user cannot take
    /// the account's whole Data API quota of active statements.
    #[arg(long, env = "RSFS_MAX_STATEMENTS_PER_PRINCIPAL", default_value_t = 0)]
    pub max_statements_per_principal: usize,
    /// Most result bytes one principal's DoGets may hold in the gateway at
    /// once (converted batches not yet taken by their clients): beyond it a
    /// new DoGet of that principal gets RESOURCE_EXHAUSTED until its other
    /// streams are read or closed (0 = no limit).
    #[arg(long, env = "RSFS_MAX_RESULT_BYTES_PER_PRINCIPAL", default_value_t = ByteSize(0))]
    pub max_result_bytes_per_principal: ByteSize,
    /// Most parameter rows one request may bind (INVALID_ARGUMENT beyond).
    #[arg(long, env = "RSFS_MAX_BOUND_ROWS", default_value_t = DEFAULT_MAX_BOUND_ROWS)]
    pub max_bound_rows: usize,
    /// Statements one request runs at once, such as a query bound to many
    /// parameter rows (each row is its own statement; the Data API counts
    /// them against its active-statements quota).
    #[arg(long, env = "RSFS_STATEMENTS_PER_REQUEST", default_value_t = DEFAULT_STATEMENTS_PER_REQUEST,
          value_parser = clap::value_parser!(u16).range(1..=64).map(usize::from))]
    pub statements_per_request: usize,
    /// How long a metadata answer (GetTables, GetDbSchemas, …) is reused for the same caller.
    #[arg(long, env = "RSFS_METADATA_CACHE_TTL", default_value_t = DEFAULT_METADATA_CACHE_TTL)]
    pub metadata_cache_ttl: HumanDuration,
    /// Metadata answers kept.
    #[arg(long, env = "RSFS_METADATA_CACHE_ENTRIES", default_value_t = DEFAULT_METADATA_CACHE_ENTRIES)]
    pub metadata_cache_entries: u64,
    /// How long a prepared query's dataset schema is reused.
    #[arg(long, env = "RSFS_SCHEMA_CACHE_TTL", default_value_t = DEFAULT_SCHEMA_CACHE_TTL)]
    pub schema_cache_ttl: HumanDuration,
    /// Dataset schemas kept.
    #[arg(long, env = "RSFS_SCHEMA_CACHE_ENTRIES", default_value_t = DEFAULT_SCHEMA_CACHE_ENTRIES)]
    pub schema_cache_entries: u64,
    /// How long this replica remembers rows bound to a prepared statement
    /// handle (for clients that keep using the handle they bound to).
    #[arg(long, env = "RSFS_BOUND_ROWS_TTL", default_value_t = DEFAULT_BOUND_ROWS_TTL)]
    pub bound_rows_ttl: HumanDuration,
    /// Handles whose bound rows are remembered.
    #[arg(long, env = "RSFS_BOUND_ROWS_ENTRIES", default_value_t = DEFAULT_BOUND_ROWS_ENTRIES)]
    pub bound_rows_entries: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            pages_in_flight: DEFAULT_PAGES_IN_FLIGHT,
            stream_idle_timeout: DEFAULT_STREAM_IDLE_TIMEOUT,
            stream_keepalive: DEFAULT_STREAM_KEEPALIVE,
            max_statements_per_principal: 0,
            max_result_bytes_per_principal: ByteSize(0),
            max_bound_rows: DEFAULT_MAX_BOUND_ROWS,
            statements_per_request: DEFAULT_STATEMENTS_PER_REQUEST,
            metadata_cache_ttl: DEFAULT_METADATA_CACHE_TTL,
            metadata_cache_entries: DEFAULT_METADATA_CACHE_ENTRIES,
            schema_cache_ttl: DEFAULT_SCHEMA_CACHE_TTL,
            schema_cache_entries: DEFAULT_SCHEMA_CACHE_ENTRIES,
            bound_rows_ttl: DEFAULT_BOUND_ROWS_TTL,
            bound_rows_entries: DEFAULT_BOUND_ROWS_ENTRIES,
        }
    }
}
