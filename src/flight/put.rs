//! DoPut: reads the descriptor and the record batches a client sends, and
//! hands them to the command they are for (an update, a prepared statement's
//! bound parameters or update, or bulk ingest).

use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::{Schema, SchemaRef};
use arrow_flight::FlightData;
use arrow_flight::decode::FlightRecordBatchStream;
use arrow_flight::error::FlightError;
use arrow_flight::sql::{Command, DoPutPreparedStatementResult, DoPutUpdateResult};
use futures::{StreamExt as _, TryStreamExt as _, stream};
use prost::Message as _;
use tonic::Streaming;

use super::decode;
use super::gateway::Gateway;
use super::session::SessionTarget;
use crate::auth::Principal;
use crate::error::{GatewayError, Result};

/// What a client sent with DoPut: its command, the batches' schema, the batches.
struct Upload {
    command: Command,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
}

/// Reads a whole DoPut upload.
async fn read_upload(mut input: Streaming<FlightData>) -> Result<Upload> {
    let first = input
        .message()
        .await
        .map_err(|s| GatewayError::InvalidArgument(format!("reading DoPut: {}", s.message())))?
        .ok_or_else(|| GatewayError::InvalidArgument("DoPut sent no message".to_owned()))?;
    let descriptor = first.flight_descriptor.clone().ok_or_else(|| {
        GatewayError::InvalidArgument("the first DoPut message has no descriptor".to_owned())
    })?;
    let command = decode::command(&descriptor.cmd)?;
    tracing::Span::current().record("command", decode::command_name(&command));
    let rest = input.map_err(|s| FlightError::Tonic(Box::new(s)));
    // A message with only the descriptor (no IPC header) carries no data.
    let all = stream::once(async { Ok(first) })
        .chain(rest)
        .try_filter(|m| std::future::ready(!m.data_header.is_empty()));
    let mut decoder = FlightRecordBatchStream::new_from_flight_data(all);
    let mut batches = Vec::new();
    while let Some(batch) = decoder
        .try_next()
        .await
        .map_err(|e| GatewayError::InvalidArgument(format!("reading DoPut batches: {e}")))?
    {
        batches.push(batch);
    }
    let schema = decoder
        .schema()
        .cloned()
        .unwrap_or_else(|| Arc::new(Schema::empty()));
    Ok(Upload {
        command,
        schema,
        batches,
    })
}

fn update_result(record_count: i64) -> Vec<u8> {
    DoPutUpdateResult { record_count }.encode_to_vec()
}

impl Gateway {
    /// DoPut: the `app_metadata` of its one PutResult.
    pub(crate) async fn do_put(
        &self,
        input: Streaming<FlightData>,
        principal: &Principal,
        target: &SessionTarget,
    ) -> Result<Vec<u8>> {
        let Upload {
            command,
            schema,
            batches,
        } = read_upload(input).await?;
        match command {
            Command::CommandStatementUpdate(c) => {
                let execution =
                    self.execution(c.query, c.transaction_id.as_deref(), principal, target)?;
                self.run_updates(vec![execution]).await.map(update_result)
            }
            Command::CommandPreparedStatementQuery(c) => {
                let handle = self
                    .bind_prepared_statement(&c.prepared_statement_handle, &batches, principal)
                    .await?;
                Ok(DoPutPreparedStatementResult {
                    prepared_statement_handle: Some(handle),
                }
                .encode_to_vec())
            }
            Command::CommandPreparedStatementUpdate(c) => self
                .prepared_update(&c.prepared_statement_handle, &batches, principal)
                .await
                .map(update_result),
            Command::CommandStatementIngest(c) => {
                self.admit_write("bulk ingest")?;
                self.ingest(c, &schema, &batches, principal, target)
                    .await
                    .map(update_result)
            }
            other => Err(GatewayError::Unimplemented(format!(
                "DoPut({})",
                decode::command_name(&other)
            ))),
        }
    }
}
