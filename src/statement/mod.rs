//! The statement lifecycle, one module for every path that runs SQL
//! (queries, prepared statements, updates, batches, transactions, ingest,
//! metadata queries): submit → wait → finished check → cancel, with a guard
//! that cancels the statement when the caller goes away; and the result side
//! beside it: the first page, the DoGet stream of the following pages, and
//! reuse of finished statements.

mod drain;
mod format;
mod lifecycle;
mod result_bytes;
mod results;
mod reuse;
mod stream;

use std::sync::Arc;

pub(crate) use drain::on_behalf_of;
pub(crate) use format::FormatSelector;
pub(crate) use lifecycle::{Ran, check_size, ensure_finished};
pub(crate) use results::{cache_key, handle_format};
pub(crate) use reuse::{Finished, ReuseKey};
pub(crate) use stream::{FlightDataStream, batches_stream};

use crate::cache::ResultsCache;
use crate::dataapi::{DataApi, ExecuteRequest, ResultFormat, SqlParameter, WaitPolicy};

/// One statement to run: its SQL and named parameters, and where it runs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Execution {
    /// SQL with Data API `:name` placeholders.
    pub(crate) sql: String,
    /// Values of the placeholders.
    pub(crate) parameters: Vec<SqlParameter>,
    /// The database, when not the default.
    pub(crate) database: Option<String>,
    /// The Data API session of a transaction.
    pub(crate) session_id: Option<String>,
    /// The schema session option: runs after `set search_path`.
    pub(crate) search_path: Option<String>,
    /// The unload session option or header: whether the result is read
    /// through UNLOAD (`None`: the server's default).
    pub(crate) unload: Option<crate::config::UnloadMode>,
}

impl Execution {
    /// The ExecuteStatement request that runs this execution.
    pub(crate) fn request(&self, result_format: ResultFormat) -> ExecuteRequest {
        ExecuteRequest {
            sql: self.sql.clone(),
            parameters: self.parameters.clone(),
            database: self.database.clone(),
            session_id: self.session_id.clone(),
            result_format,
            ..ExecuteRequest::default()
        }
    }
}

/// The statement that sets the search path to `schema`, run first in the
/// same batch or session as the statements it applies to.
pub(crate) fn set_search_path(schema: &str) -> String {
    format!(
        "set search_path to {}",
        redshift_sqltext::quote_identifier(schema)
    )
}

/// The statement Id of a batch's sub-statement `:n` is cancelled through its batch.
pub(crate) fn parent_id(id: &str) -> &str {
    id.split_once(':').map_or(id, |(parent, _)| parent)
}

/// What the audit log says of every statement: the Data API identity it runs
/// as, and how it shows SQL.
#[derive(Debug, Clone)]
pub(crate) struct Audit {
    /// The Data API identity ([`crate::config::DataApiTarget::identity`]).
    pub(crate) identity: String,
    /// How SQL is shown.
    pub(crate) sql: crate::telemetry::audit::AuditSql,
}

/// What the lifecycle needs: the Data API, how to wait, the default
/// database, and the shared budgets of the result side.
#[derive(Debug, Clone)]
pub(crate) struct Statements {
    api: Arc<dyn DataApi>,
    wait: WaitPolicy,
    database: String,
    cache: ResultsCache,
    /// Pages being fetched or converted at once by all DoGets. A permit is
    /// held only while that work runs, never while a stream waits for its
    /// client, so a client that does not read holds none.
    page_permits: Arc<tokio::sync::Semaphore>,
    /// First pages being fetched or converted at once (GetFlightInfo): a pool
    /// of their own, so a new query never waits behind running streams.
    first_page_permits: Arc<tokio::sync::Semaphore>,
    /// How long a DoGet may wait for its client to read before it ends.
    stream_idle_timeout: std::time::Duration,
    /// How long a DoGet waits for its next page before it sends an empty
    /// batch to keep the stream alive (`None`: never).
    stream_keepalive: Option<std::time::Duration>,
    /// Statements started and streams open, for the drain at shutdown.
    in_flight: Arc<drain::InFlight>,
    /// The result format of new statements.
    format: FormatSelector,
    /// Most statements one principal may have running (0: no limit).
    max_statements_per_principal: usize,
    /// Result bytes each principal's streams hold, under its limit.
    result_bytes: Arc<result_bytes::ResultBytes>,
    /// How the audit log shows SQL.
    audit_sql: crate::telemetry::audit::AuditSql,
}

impl Statements {
    /// The lifecycle over `api`, with the page budgets and idle limit of `limits`.
    pub(crate) fn new(
        api: Arc<dyn DataApi>,
        wait: WaitPolicy,
        database: String,
        cache: ResultsCache,
        limits: &crate::config::LimitsConfig,
        format: FormatSelector,
        audit: Audit,
    ) -> Self {
        let pages = limits.pages_in_flight.get();
        Self {
            api,
            wait,
            database,
            cache,
            page_permits: Arc::new(tokio::sync::Semaphore::new(pages)),
            first_page_permits: Arc::new(tokio::sync::Semaphore::new(pages)),
            stream_idle_timeout: limits.stream_idle_timeout.get(),
            stream_keepalive: Some(limits.stream_keepalive.get()).filter(|d| !d.is_zero()),
            in_flight: Arc::new(drain::InFlight::new(audit.identity)),
            format,
            max_statements_per_principal: limits.max_statements_per_principal,
            result_bytes: Arc::new(result_bytes::ResultBytes::new(
                limits.max_result_bytes_per_principal.as_usize(),
            )),
            audit_sql: audit.sql,
        }
    }

    /// The Data API result format of new statements.
    pub(crate) fn result_format(&self) -> ResultFormat {
        self.format.get()
    }

    /// The converter refused a page of `statement_id`: a CSV page switches
    /// `auto` to JSON. Returns the error to answer.
    pub(crate) fn convert_failed(
        &self,
        statement_id: &str,
        format: ResultFormat,
        source: crate::convert::ConvertError,
    ) -> crate::error::GatewayError {
        let switched =
            format == ResultFormat::Csv && self.format.unreadable_csv(statement_id, &source);
        crate::error::GatewayError::Convert {
            statement_id: statement_id.to_owned(),
            source,
            switched,
        }
    }

    /// The Data API (for calls outside a statement: catalog listings, describe).
    pub(crate) fn api(&self) -> &Arc<dyn DataApi> {
        &self.api
    }

    /// The results cache.
    pub(crate) fn cache(&self) -> &ResultsCache {
        &self.cache
    }

    /// The default database.
    pub(crate) fn default_database(&self) -> &str {
        &self.database
    }

    /// Refuses new statements, waits up to `timeout` for open streams and
    /// running statements, then cancels what still runs (the drain at
    /// shutdown). Returns how many statements it cancelled.
    pub(crate) async fn drain(&self, timeout: std::time::Duration) -> usize {
        self.in_flight.drain(&*self.api, timeout).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_statements_are_cancelled_through_their_batch() {
        assert_eq!(parent_id("abc:2"), "abc");
        assert_eq!(parent_id("abc"), "abc");
    }

    #[test]
    fn search_path_is_quoted() {
        assert_eq!(
            set_search_path("we\"ird"),
            "set search_path to \"we\"\"ird\""
        );
    }
}
