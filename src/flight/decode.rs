//! Decoding what clients send: Flight SQL commands packed as `Any`, and
//! action bodies. Bytes that do not decode are the client's mistake
//! (INVALID_ARGUMENT), never INTERNAL.

use arrow_flight::sql::{Any, Command, ProstMessageExt};
use prost::Message as _;

use crate::error::{GatewayError, Result};

/// The Flight SQL command in a descriptor's or ticket's bytes.
pub(crate) fn command(bytes: &[u8]) -> Result<Command> {
    let any = Any::decode(bytes).map_err(|e| GatewayError::decode("the command", e))?;
    Command::try_from(any).map_err(|e| GatewayError::InvalidArgument(e.to_string()))
}

/// The short name of a command (`CommandStatementQuery`), for spans and errors.
pub(crate) fn command_name(command: &Command) -> &str {
    command.type_url().rsplit('.').next().unwrap_or_default()
}

/// An action body packed as `Any` holding an `M`.
pub(crate) fn unpack<M: ProstMessageExt>(body: &[u8]) -> Result<M> {
    Any::decode(body)
        .map_err(|e| GatewayError::decode("the action body", e))?
        .unpack()
        .map_err(|e| GatewayError::InvalidArgument(e.to_string()))?
        .ok_or_else(|| GatewayError::InvalidArgument("action body has the wrong type".to_owned()))
}

/// A plain (not `Any`-packed) protobuf message `M` named `what`.
pub(crate) fn message<M: prost::Message + Default>(what: &'static str, body: &[u8]) -> Result<M> {
    M::decode(body).map_err(|e| GatewayError::decode(what, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_an_invalid_argument() {
        let e = command(b"\xff\xff\xff").expect_err("garbage");
        assert!(matches!(e, GatewayError::Decode { .. }));
        let e = unpack::<arrow_flight::sql::ActionCreatePreparedStatementRequest>(b"\x0a\xff")
            .expect_err("garbage");
        assert!(matches!(e, GatewayError::Decode { .. }));
        let e =
            message::<arrow_flight::CancelFlightInfoRequest>("CancelFlightInfoRequest", b"\xff")
                .expect_err("garbage");
        assert_eq!(tonic::Status::from(e).code(), tonic::Code::InvalidArgument);
    }
}
