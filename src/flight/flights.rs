//! ListFlights: the caller's recent statements, found by the StatementName
//! that marks them; finished ones carry a ticket.

use arrow::datatypes::Schema;
use arrow_flight::sql::{CommandStatementQuery, ProstMessageExt as _};
use arrow_flight::{FlightDescriptor, FlightInfo};
use prost::Message as _;

use super::gateway::Gateway;
use super::query::{RESULT_RETENTION, endpoint, statement_name};
use crate::auth::Principal;
use crate::dataapi::StatementStatus;
use crate::error::{GatewayError, Result};
use crate::statement::handle_format;
use crate::ticket::StatementHandle;

/// Most statements ListFlights returns.
const MAX_FLIGHTS: i32 = 100;

impl Gateway {
    /// ListFlights: the caller's recent statements (Data API ListStatements
    /// by the StatementName that marks them), newest first. Finished ones
    /// carry a ticket; `app_metadata` is the Data API status.
    pub(crate) async fn list_flights(&self, principal: &Principal) -> Result<Vec<FlightInfo>> {
        let statements = self
            .statements
            .api()
            .list_statements(&statement_name(principal), MAX_FLIGHTS)
            .await?;
        let mut infos = Vec::with_capacity(statements.len());
        for s in statements {
            let descriptor = FlightDescriptor::new_cmd(
                CommandStatementQuery {
                    query: s.query_string.clone(),
                    transaction_id: None,
                }
                .as_any()
                .encode_to_vec(),
            );
            let mut info = FlightInfo::new()
                .try_with_schema(&Schema::empty())
                .map_err(|e| GatewayError::encode("an empty FlightInfo schema", e))?
                .with_descriptor(descriptor)
                .with_app_metadata(format!("{:?}", s.status).to_uppercase());
            if s.status == StatementStatus::Finished {
                let handle = StatementHandle {
                    statement_id: s.id,
                    owner: principal.owner(),
                    result_format: handle_format(s.result_format),
                    expires_at: s.created_at
                        + i64::try_from(RESULT_RETENTION.as_secs()).unwrap_or(0),
                    submitted_at_millis: s.created_at * 1000,
                    has_result_set: true,
                    database: self.default_database().to_owned(),
                    announced_schema: Vec::new(),
                    ..StatementHandle::default()
                };
                info = info.with_endpoint(endpoint(self, &handle));
            }
            infos.push(info);
        }
        Ok(infos)
    }
}
