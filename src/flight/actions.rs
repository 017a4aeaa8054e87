//! DoAction: one function per Flight SQL action, and ListActions. Session
//! actions may answer a new session cookie, which the dispatcher sends back
//! as `set-cookie`.

use arrow_flight::sql::{
    ActionBeginTransactionRequest, ActionCancelQueryRequest, ActionCancelQueryResult,
    ActionClosePreparedStatementRequest, ActionCreatePreparedStatementRequest,
    ActionEndTransactionRequest, ProstMessageExt as _,
};
use arrow_flight::{
    Action, ActionType, CancelFlightInfoRequest, CancelFlightInfoResult, CancelStatus, FlightInfo,
};
use prost::Message as _;

use super::decode;
use super::gateway::Gateway;
use super::session::SessionTarget;
use super::transaction::savepoints_unsupported;
use crate::auth::Principal;
use crate::error::{GatewayError, Result};
use crate::ticket::proto::SessionOptions;

const CREATE_PREPARED_STATEMENT: &str = "CreatePreparedStatement";
const CLOSE_PREPARED_STATEMENT: &str = "ClosePreparedStatement";
const BEGIN_TRANSACTION: &str = "BeginTransaction";
const END_TRANSACTION: &str = "EndTransaction";
const BEGIN_SAVEPOINT: &str = "BeginSavepoint";
const END_SAVEPOINT: &str = "EndSavepoint";
const SET_SESSION_OPTIONS: &str = "SetSessionOptions";
const GET_SESSION_OPTIONS: &str = "GetSessionOptions";
const CLOSE_SESSION: &str = "CloseSession";
const CANCEL_FLIGHT_INFO: &str = "CancelFlightInfo";
const CANCEL_QUERY: &str = "CancelQuery";

/// `ActionCancelQueryResult.result` values (CANCEL_RESULT_CANCELLED, …_NOT_CANCELLABLE).
const CANCEL_RESULT_CANCELLED: i32 = 1;
const CANCEL_RESULT_NOT_CANCELLABLE: i32 = 3;

/// The actions this server implements, with their descriptions.
pub(crate) const ACTIONS: [(&str, &str); 9] = [
    (
        CREATE_PREPARED_STATEMENT,
        "Prepare a statement (returns its schemas)",
    ),
    (CLOSE_PREPARED_STATEMENT, "Close a prepared statement"),
    (
        BEGIN_TRANSACTION,
        "Begin a transaction (a Data API session)",
    ),
    (END_TRANSACTION, "Commit or roll back a transaction"),
    (SET_SESSION_OPTIONS, "Set session options: catalog, schema"),
    (GET_SESSION_OPTIONS, "Get session options"),
    (CLOSE_SESSION, "Close the session"),
    (
        CANCEL_FLIGHT_INFO,
        "Cancel the statement behind a FlightInfo",
    ),
    (
        CANCEL_QUERY,
        "Cancel the statement behind a FlightInfo (Flight SQL, deprecated)",
    ),
];

/// ListActions: the implemented actions.
pub(crate) fn action_types() -> Vec<ActionType> {
    ACTIONS
        .iter()
        .map(|(t, d)| ActionType {
            r#type: (*t).to_owned(),
            description: (*d).to_owned(),
        })
        .collect()
}

/// What an action answers: its result bodies, and a new session cookie.
#[derive(Debug, Default)]
pub(crate) struct ActionOutcome {
    /// Result bodies, in order.
    pub(crate) bodies: Vec<Vec<u8>>,
    /// A `set-cookie` value carrying new session options.
    pub(crate) cookie: Option<String>,
}

impl ActionOutcome {
    fn body(body: Vec<u8>) -> Self {
        Self {
            bodies: vec![body],
            cookie: None,
        }
    }
}

/// The caller of an action: who, where its statements run, and its session options.
#[derive(Debug)]
pub(crate) struct ActionCaller {
    /// The authenticated principal.
    pub(crate) principal: Principal,
    /// Where its statements run.
    pub(crate) target: SessionTarget,
    /// Its session options (from its cookie).
    pub(crate) session: SessionOptions,
}

impl Gateway {
    /// DoAction: runs `action` for `caller`.
    pub(crate) async fn do_action(
        &self,
        action: Action,
        caller: ActionCaller,
    ) -> Result<ActionOutcome> {
        let principal = &caller.principal;
        let body = action.body.as_ref();
        match action.r#type.as_str() {
            CANCEL_FLIGHT_INFO => {
                let request: CancelFlightInfoRequest =
                    decode::message("CancelFlightInfoRequest", body)?;
                let info = request.info.ok_or_else(|| {
                    GatewayError::InvalidArgument("CancelFlightInfoRequest without info".to_owned())
                })?;
                let status = if self.cancel(&info, principal).await? {
                    CancelStatus::Cancelled
                } else {
                    CancelStatus::NotCancellable
                };
                Ok(ActionOutcome::body(
                    CancelFlightInfoResult::new(status).encode_to_vec(),
                ))
            }
            CANCEL_QUERY => {
                let request: ActionCancelQueryRequest = decode::unpack(body)?;
                let info: FlightInfo = decode::message("FlightInfo", &request.info)?;
                let result = if self.cancel(&info, principal).await? {
                    CANCEL_RESULT_CANCELLED
                } else {
                    CANCEL_RESULT_NOT_CANCELLABLE
                };
                Ok(ActionOutcome::body(
                    ActionCancelQueryResult { result }.as_any().encode_to_vec(),
                ))
            }
            CREATE_PREPARED_STATEMENT => {
                let request: ActionCreatePreparedStatementRequest = decode::unpack(body)?;
                let target = self.execution(
                    String::new(),
                    request.transaction_id.as_deref(),
                    principal,
                    &caller.target,
                )?;
                let result = self
                    .create_prepared_statement(request, target, principal)
                    .await?;
                Ok(ActionOutcome::body(result.as_any().encode_to_vec()))
            }
            CLOSE_PREPARED_STATEMENT => {
                let request: ActionClosePreparedStatementRequest = decode::unpack(body)?;
                self.close_prepared_statement(&request, principal)?;
                Ok(ActionOutcome::default())
            }
            BEGIN_TRANSACTION => {
                let request: ActionBeginTransactionRequest = decode::unpack(body)?;
                let result = self
                    .begin_transaction(request, principal, &caller.target)
                    .await?;
                Ok(ActionOutcome::body(result.as_any().encode_to_vec()))
            }
            END_TRANSACTION => {
                let request: ActionEndTransactionRequest = decode::unpack(body)?;
                self.end_transaction(request, principal, &caller.target)
                    .await?;
                Ok(ActionOutcome::default())
            }
            BEGIN_SAVEPOINT | END_SAVEPOINT => Err(savepoints_unsupported()),
            SET_SESSION_OPTIONS => {
                let (result, options) = self.set_session_options(body, caller.session).await?;
                Ok(ActionOutcome {
                    bodies: vec![result.encode_to_vec()],
                    cookie: Some(self.session_cookie(&options)),
                })
            }
            GET_SESSION_OPTIONS => Ok(ActionOutcome::body(
                self.get_session_options(&caller.session).encode_to_vec(),
            )),
            CLOSE_SESSION => {
                let cleared = SessionOptions {
                    owner: principal.owner(),
                    ..Default::default()
                };
                Ok(ActionOutcome {
                    bodies: vec![self.close_session().encode_to_vec()],
                    cookie: Some(self.session_cookie(&cleared)),
                })
            }
            other => Err(GatewayError::Unimplemented(format!("action {other}"))),
        }
    }
}
