//! Fuzz targets: each takes arbitrary bytes and must neither panic nor hang,
//! and checks what must hold for any input. `fuzz/` runs them under
//! libFuzzer (cargo-fuzz, nightly); `tests/smoke.rs` runs each over seeded
//! random mutations of valid inputs on stable, in CI.
//!
//! | target | what it feeds |
//! |---|---|
//! | [`ticket`] | signed envelopes: tickets, poll descriptors, handles, cookies |
//! | [`dispatch`] | Flight SQL commands, tickets and actions through the whole service |
//! | [`sqltext`] | the placeholder and statement-kind scanner |
//! | [`convert`] | JSON and CSV result pages through the page converter |
//! | [`emulator_request`] | Data API requests through the emulator's checks |

mod canned;

use std::sync::{Arc, LazyLock};

use arrow_flight::flight_service_server::FlightService as _;
use arrow_flight::{Action, Criteria, FlightDescriptor, Ticket};
use futures::StreamExt as _;
use redshift_flight_sql::config::GatewayConfig;
use redshift_flight_sql::convert::PageConverter;
use redshift_flight_sql::dataapi::{ColumnMetadata, Records, Value};
use redshift_flight_sql::flight::FlightSqlService;
use redshift_flight_sql::ticket::{PayloadKind, StatementHandle, TicketSigner, proto};
use tonic::Request;

/// Signed envelopes: any bytes opened as any kind are refused or decode;
/// never a panic. A valid envelope opened as another kind is refused.
pub fn ticket(data: &[u8]) {
    static SIGNER: LazyLock<TicketSigner> = LazyLock::new(|| TicketSigner::new(Some(b"fuzz")));
    let _ = SIGNER.open::<StatementHandle>(PayloadKind::Ticket, data);
    let _ = SIGNER.open::<StatementHandle>(PayloadKind::Poll, data);
    let _ = SIGNER.open::<proto::PreparedStatement>(PayloadKind::Prepared, data);
    let _ = SIGNER.open::<proto::Transaction>(PayloadKind::Transaction, data);
    let _ = SIGNER.open::<proto::SessionOptions>(PayloadKind::Session, data);
    // Whatever the bytes, a sealed handle opens as itself and nothing else.
    let handle = StatementHandle {
        statement_id: String::from_utf8_lossy(data).into_owned(),
        ..StatementHandle::default()
    };
    let sealed = SIGNER.seal(PayloadKind::Ticket, &handle);
    assert_eq!(
        SIGNER
            .open::<StatementHandle>(PayloadKind::Ticket, &sealed)
            .ok(),
        Some(handle)
    );
    assert!(
        SIGNER
            .open::<StatementHandle>(PayloadKind::Poll, &sealed)
            .is_err()
    );
}

/// A runtime for the async targets.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap_or_else(|e| panic!("a runtime for fuzzing: {e}"))
    });
    &RUNTIME
}

/// The whole Flight service over a Data API that answers every call.
fn service() -> &'static FlightSqlService {
    static SERVICE: LazyLock<FlightSqlService> = LazyLock::new(|| {
        let _guard = runtime().enter();
        redshift_flight_sql::service(
            &GatewayConfig::default(),
            Arc::new(canned::CannedDataApi),
            redshift_flight_sql::dataapi::ResultFormat::Json,
        )
        .unwrap_or_else(|e| panic!("the service: {e}"))
    });
    &SERVICE
}

/// The actions a fuzzed DoAction names (the first byte picks one).
const ACTIONS: [&str; 12] = [
    "CreatePreparedStatement",
    "ClosePreparedStatement",
    "BeginTransaction",
    "EndTransaction",
    "BeginSavepoint",
    "EndSavepoint",
    "SetSessionOptions",
    "GetSessionOptions",
    "CloseSession",
    "CancelFlightInfo",
    "CancelQuery",
    "NoSuchAction",
];

/// Fails on a status that blames the server for what the client sent.
fn check(rpc: &str, status: &tonic::Status) {
    assert_ne!(
        status.code(),
        tonic::Code::Internal,
        "{rpc} answered INTERNAL for client input: {status:?}"
    );
}

/// Any bytes as a descriptor's command, a ticket or an action body, through
/// the service's dispatch (the first byte picks the RPC). Nothing the
/// client sends may panic the server or be answered INTERNAL.
pub fn dispatch(data: &[u8]) {
    let Some((&selector, payload)) = data.split_first() else {
        return;
    };
    let service = service();
    let payload = payload.to_vec();
    runtime().block_on(async move {
        match selector % 6 {
            0 => {
                let r = service
                    .get_flight_info(Request::new(FlightDescriptor::new_cmd(payload)))
                    .await;
                if let Err(s) = r {
                    check("GetFlightInfo", &s);
                }
            }
            1 => {
                let r = service
                    .poll_flight_info(Request::new(FlightDescriptor::new_cmd(payload)))
                    .await;
                if let Err(s) = r {
                    check("PollFlightInfo", &s);
                }
            }
            2 => {
                let r = service
                    .get_schema(Request::new(FlightDescriptor::new_cmd(payload)))
                    .await;
                if let Err(s) = r {
                    check("GetSchema", &s);
                }
            }
            3 => match service.do_get(Request::new(Ticket::new(payload))).await {
                Ok(response) => {
                    let mut stream = response.into_inner();
                    while let Some(item) = stream.next().await {
                        if let Err(s) = item {
                            check("DoGet stream", &s);
                        }
                    }
                }
                Err(s) => check("DoGet", &s),
            },
            4 => {
                let (kind, body) = payload.split_first().map_or((0, &[][..]), |(k, b)| (*k, b));
                let action = Action {
                    r#type: ACTIONS[usize::from(kind) % ACTIONS.len()].to_owned(),
                    body: body.to_vec().into(),
                };
                if let Err(s) = service.do_action(Request::new(action)).await {
                    check("DoAction", &s);
                }
            }
            _ => {
                let criteria = Criteria {
                    expression: payload.into(),
                };
                if let Err(s) = service.list_flights(Request::new(criteria)).await {
                    check("ListFlights", &s);
                }
            }
        }
    });
}

/// The scanner: every placeholder lies inside the text on character
/// boundaries, in order, and the statement kind is decided without a panic.
pub fn sqltext(data: &[u8]) {
    let sql = String::from_utf8_lossy(data);
    let mut end = 0;
    for p in redshift_sqltext::placeholders(&sql) {
        assert!(p.range.start >= end && p.range.end <= sql.len());
        assert!(sql.is_char_boundary(p.range.start) && sql.is_char_boundary(p.range.end));
        end = p.range.end;
    }
    let _ = redshift_sqltext::is_query(&sql);
    let quoted = redshift_sqltext::quote_identifier(&sql);
    assert!(quoted.starts_with('"') && quoted.ends_with('"'));
    assert_eq!(quoted.matches('"').count() % 2, 0);
    let literal = redshift_sqltext::quote_literal(&sql);
    assert!(!literal.contains('\\'));
}

/// Redshift column types a fuzzed page may have (`typeName`, precision, scale).
const COLUMN_TYPES: [(&str, i32, i32); 14] = [
    ("int2", 5, 0),
    ("int4", 10, 0),
    ("int8", 19, 0),
    ("numeric", 10, 2),
    ("numeric", 38, 10),
    ("float8", 17, 0),
    ("bool", 1, 0),
    ("varchar", 256, 0),
    ("date", 13, 0),
    ("timestamp", 29, 6),
    ("timestamptz", 35, 6),
    ("time", 15, 6),
    ("varbyte", 64, 0),
    ("super", 0, 0),
];

/// A page's columns, picked by the first bytes.
fn columns(picks: &[u8]) -> Vec<ColumnMetadata> {
    picks
        .iter()
        .enumerate()
        .map(|(i, pick)| {
            let (type_name, precision, scale) =
                COLUMN_TYPES[usize::from(*pick) % COLUMN_TYPES.len()];
            ColumnMetadata {
                name: format!("c{i}"),
                label: format!("c{i}"),
                type_name: type_name.to_owned(),
                precision,
                scale,
                nullable: 1,
                ..ColumnMetadata::default()
            }
        })
        .collect()
}

/// JSON `Field` rows from any JSON: arrays of arrays of scalars.
fn json_rows(value: &serde_json::Value) -> Vec<Vec<Value>> {
    let field = |v: &serde_json::Value| match v {
        serde_json::Value::Null => Value::Null,
        serde_json::Value::Bool(b) => Value::Bool(*b),
        serde_json::Value::Number(n) => n
            .as_i64()
            .map_or_else(|| Value::Double(n.as_f64().unwrap_or(0.0)), Value::Long),
        serde_json::Value::String(s) => Value::String(s.clone()),
        other => Value::Blob(other.to_string().into_bytes()),
    };
    match value {
        serde_json::Value::Array(rows) => rows
            .iter()
            .map(|row| match row {
                serde_json::Value::Array(values) => values.iter().map(field).collect(),
                other => vec![field(other)],
            })
            .collect(),
        other => vec![vec![field(other)]],
    }
}

/// A result page of fuzzed columns and records, as CSV (first byte even) or
/// JSON: it converts or is refused; a converted batch has the page's schema.
pub fn convert(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let width = usize::from(head >> 4).min(rest.len()) + 1;
    let (picks, body) = rest.split_at(width.min(rest.len()));
    let columns = columns(if picks.is_empty() { &[1] } else { picks });
    let converter = PageConverter::new(columns, Some("dev"));
    let records = if head % 2 == 0 {
        Records::Csv(String::from_utf8_lossy(body).into_owned())
    } else {
        match serde_json::from_slice::<serde_json::Value>(body) {
            Ok(value) => Records::Json(json_rows(&value)),
            Err(_) => return,
        }
    };
    for first in [true, false] {
        if let Ok(batch) = converter.convert(&records, first) {
            assert_eq!(batch.schema(), converter.schema());
        }
    }
}

/// A Data API request (the first byte picks the operation, the rest is its
/// JSON body) through the checks the emulator makes before it runs anything.
pub fn emulator_request(data: &[u8]) {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let operations = redshift_data_emulator::OPERATION_TARGETS;
    let target = operations[usize::from(pick) % operations.len()];
    let _ = redshift_data_emulator::check_request(target, body);
    let _ = redshift_data_emulator::check_request("RedshiftData.Nothing", body);
}
