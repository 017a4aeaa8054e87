//! Reading a finished statement's result: the first page (fetched,
//! converted and cached during GetFlightInfo, so FlightInfo carries the real
//! schema) and whole results for the gateway's own queries (metadata,
//! schema discovery).

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;

use super::{Ran, Statements};
use crate::cache::{CacheKey, CachedResult};
use crate::convert::PageConverter;
use crate::dataapi::{ExecuteRequest, ResultFormat};
use crate::error::{GatewayError, Result};
use crate::ticket::{StatementHandle, proto};

/// The Data API result format a handle's statement was run with.
pub(crate) fn result_format(handle: &StatementHandle) -> ResultFormat {
    if handle.result_format == proto::ResultFormat::Csv as i32 {
        ResultFormat::Csv
    } else {
        ResultFormat::Json
    }
}

/// The handle's field for a result format.
pub(crate) fn handle_format(format: ResultFormat) -> i32 {
    match format {
        ResultFormat::Json => proto::ResultFormat::Json as i32,
        ResultFormat::Csv => proto::ResultFormat::Csv as i32,
    }
}

/// Where a handle's result is cached: its statement, for its principal only.
pub(crate) fn cache_key(handle: &StatementHandle) -> CacheKey {
    CacheKey {
        statement_id: handle.statement_id.clone(),
        owner: handle.owner.clone(),
    }
}

impl Statements {
    /// Fetches and converts the first result page.
    pub(crate) async fn first_page(&self, handle: &StatementHandle) -> Result<CachedResult> {
        // Bounded, so that many clients starting at once do not each hold a
        // page and its conversion; apart from the streams' budget, so that a
        // new query never waits behind them.
        let _permit = Arc::clone(&self.first_page_permits)
            .acquire_owned()
            .await
            .map_err(|e| GatewayError::Internal(format!("page budget closed: {e}")))?;
        let format = result_format(handle);
        let page = self
            .api
            .get_statement_result(&handle.statement_id, format, None)
            .await?;
        let converter = PageConverter::new(page.columns, Some(&handle.database));
        let batch = converter
            .convert(&page.records, true)
            .map_err(|source| self.convert_failed(&handle.statement_id, format, source))?;
        Ok(CachedResult {
            converter,
            batches: if batch.num_rows() > 0 {
                vec![batch]
            } else {
                Vec::new()
            },
            next_token: page.next_token,
            total_rows: page.total_rows,
            encoded: None,
        })
    }

    /// Runs a statement to its end and reads its whole result (metadata
    /// queries, schema discovery): the schema and every batch.
    pub(crate) async fn run_to_batches(
        &self,
        request: ExecuteRequest,
        search_path: Option<&str>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        let format = request.result_format;
        let database = request
            .database
            .clone()
            .unwrap_or_else(|| self.database.clone());
        let Ran { id, description } = self.run_to_end(request, search_path).await?;
        if !description.has_result_set {
            return Ok((Arc::new(Schema::empty()), Vec::new()));
        }
        let mut page = self.api.get_statement_result(&id, format, None).await?;
        let converter = PageConverter::new(std::mem::take(&mut page.columns), Some(&database));
        let mut batches = Vec::new();
        let mut first = true;
        loop {
            let batch = converter
                .convert(&page.records, std::mem::take(&mut first))
                .map_err(|source| self.convert_failed(&id, format, source))?;
            if batch.num_rows() > 0 {
                batches.push(batch);
            }
            match page.next_token.take() {
                Some(token) => {
                    page = self
                        .api
                        .get_statement_result(&id, format, Some(token))
                        .await?;
                }
                None => return Ok((converter.schema(), batches)),
            }
        }
    }
}
