//! The non-blocking path of long queries: PollFlightInfo submits a query and
//! returns at once with a signed retry descriptor; each retry waits briefly
//! for the end and reports an estimated progress. CancelFlightInfo and
//! CancelQuery cancel the statement behind a FlightInfo's ticket or retry
//! descriptor.

use std::time::Duration;

use arrow::datatypes::Schema;
use arrow_flight::sql::{Any, TicketStatementQuery};
use arrow_flight::{FlightDescriptor, FlightInfo, PollInfo};
use prost::Message as _;

use super::gateway::Gateway;
use super::query::{timestamp, unix_now};
use crate::auth::Principal;
use crate::dataapi::StatementStatus;
use crate::error::{GatewayError, Result};
use crate::statement::Execution;
use crate::ticket::{PayloadKind, StatementHandle};

/// Type URL of the retry descriptor PollFlightInfo hands out.
pub(crate) const POLL_TYPE_URL: &str = "type.googleapis.com/redshift_flight_sql.v1.SignedEnvelope";

/// A retried PollFlightInfo waits this long for the statement to end: clients
/// that poll in a loop are paced, and learn of the end at once.
const RETRY_WAIT_SECONDS: Option<i32> = Some(1);

impl Gateway {
    /// PollFlightInfo(CommandStatementQuery): submits and returns at once.
    pub(crate) async fn poll_new_statement(
        &self,
        execution: Execution,
        descriptor: FlightDescriptor,
        principal: &Principal,
    ) -> Result<PollInfo> {
        let handle = self.submit_query(execution, principal).await?;
        self.poll_statement(handle, descriptor, None).await
    }

    /// PollFlightInfo with the retry descriptor of an earlier poll.
    pub(crate) async fn poll_retry(
        &self,
        envelope: &[u8],
        principal: &Principal,
    ) -> Result<PollInfo> {
        let handle = self
            .signer
            .open::<StatementHandle>(PayloadKind::Poll, envelope)?;
        if handle.owner != principal.owner() {
            return Err(GatewayError::ForeignTicket);
        }
        tracing::Span::current().record("statement_id", handle.statement_id.as_str());
        self.poll_statement(handle, FlightDescriptor::default(), RETRY_WAIT_SECONDS)
            .await
    }

    fn poll_descriptor(&self, handle: &StatementHandle) -> FlightDescriptor {
        let any = Any {
            type_url: POLL_TYPE_URL.to_owned(),
            value: self.signer.seal(PayloadKind::Poll, handle),
        };
        FlightDescriptor::new_cmd(any.encode_to_vec())
    }

    async fn poll_statement(
        &self,
        handle: StatementHandle,
        descriptor: FlightDescriptor,
        wait_seconds: Option<i32>,
    ) -> Result<PollInfo> {
        let description = self
            .statements
            .describe(&handle.statement_id, wait_seconds)
            .await?;
        let expiration = timestamp(handle.expires_at);
        if description.status.is_terminal() {
            let descriptor = if descriptor.cmd.is_empty() {
                self.poll_descriptor(&handle)
            } else {
                descriptor
            };
            let info = self
                .finished_flight_info(handle, &description, descriptor)
                .await?;
            return PollInfo::new()
                .with_info(info)
                .try_with_progress(1.0)
                .map(|p| p.with_expiration_time(expiration))
                .map_err(|e| GatewayError::encode("PollInfo", e));
        }
        let retry = self.poll_descriptor(&handle);
        let elapsed_ms =
            i64::try_from(unix_now().as_millis()).unwrap_or(0) - handle.submitted_at_millis;
        let progress = progress(
            description.status,
            Duration::from_millis(elapsed_ms.max(0).unsigned_abs()),
        );
        let info = FlightInfo::new()
            .try_with_schema(&Schema::empty())
            .map_err(|e| GatewayError::encode("an empty FlightInfo schema", e))?
            .with_descriptor(retry.clone());
        PollInfo::new()
            .with_info(info)
            .with_descriptor(retry)
            .try_with_progress(progress)
            .map(|p| p.with_expiration_time(expiration))
            .map_err(|e| GatewayError::encode("PollInfo", e))
    }

    /// CancelFlightInfo / CancelQuery: cancels the statement named by the
    /// FlightInfo's ticket or retry descriptor. Returns false when it had ended.
    pub(crate) async fn cancel(&self, info: &FlightInfo, principal: &Principal) -> Result<bool> {
        let handle = self.handle_of(info)?;
        if handle.owner != principal.owner() {
            return Err(GatewayError::ForeignTicket);
        }
        tracing::Span::current().record("statement_id", handle.statement_id.as_str());
        self.statements.cancel(&handle.statement_id).await
    }

    fn handle_of(&self, info: &FlightInfo) -> Result<StatementHandle> {
        for endpoint in &info.endpoint {
            if let Some(ticket) = &endpoint.ticket {
                let any = Any::decode(ticket.ticket.as_ref())
                    .map_err(|e| GatewayError::decode("the ticket", e))?;
                if let Ok(Some(t)) = any.unpack::<TicketStatementQuery>() {
                    return Ok(self
                        .signer
                        .open::<StatementHandle>(PayloadKind::Ticket, &t.statement_handle)?);
                }
            }
        }
        if let Some(descriptor) = &info.flight_descriptor
            && let Ok(any) = Any::decode(descriptor.cmd.as_ref())
            && any.type_url == POLL_TYPE_URL
        {
            return Ok(self
                .signer
                .open::<StatementHandle>(PayloadKind::Poll, &any.value)?);
        }
        Err(GatewayError::InvalidArgument(
            "the FlightInfo names no statement of this server".to_owned(),
        ))
    }
}

/// An estimate for PollInfo.progress: the Data API reports no progress, so
/// it grows with the status and the time spent, and never reaches 1 early.
fn progress(status: StatementStatus, elapsed: Duration) -> f64 {
    match status {
        StatementStatus::Submitted => 0.05,
        StatementStatus::Picked => 0.1,
        StatementStatus::Started => 0.15 + 0.8 * (1.0 - (-elapsed.as_secs_f64() / 10.0).exp()),
        StatementStatus::Finished | StatementStatus::Aborted | StatementStatus::Failed => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn progress_stays_below_one_until_the_end() {
        let long = progress(StatementStatus::Started, Duration::from_secs(3600));
        assert!(long < 1.0 && long > 0.9);
        assert!(
            progress(StatementStatus::Started, Duration::ZERO)
                < progress(StatementStatus::Started, Duration::from_secs(5))
        );
        assert!((progress(StatementStatus::Finished, Duration::ZERO) - 1.0).abs() < f64::EPSILON);
    }
}
