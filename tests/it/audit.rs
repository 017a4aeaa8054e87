//! The audit log: one event per statement on the `rsfs::audit` target, with
//! the principal, the Data API identity, the statement Id, the SQL and its
//! hash, rows, bytes, duration and outcome; refused submissions too.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::layer::SubscriberExt as _;

use super::common::{StackOptions, stack_with, unique};

type Event = BTreeMap<String, String>;

/// Every audit event of this test binary.
static EVENTS: Mutex<Vec<Event>> = Mutex::new(Vec::new());

/// Collects the fields of `rsfs::audit` events.
struct AuditLayer;

struct Fields<'a>(&'a mut Event);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_owned(),
            format!("{value:?}").trim_matches('"').to_owned(),
        );
    }

    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for AuditLayer {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target() != redshift_flight_sql::telemetry::audit::TARGET {
            return;
        }
        let mut fields = Event::new();
        event.record(&mut Fields(&mut fields));
        EVENTS
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(fields);
    }
}

fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let subscriber = tracing_subscriber::registry().with(AuditLayer);
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
    });
}

/// The audit events whose SQL contains `tag`.
fn events_with(tag: &str) -> Vec<Event> {
    EVENTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .iter()
        .filter(|e| e.get("sql").is_some_and(|s| s.contains(tag)))
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_statement_leaves_one_audit_event() {
    install();
    let stack = stack_with(StackOptions {
        users: vec![("alice", "wonderland")],
        ..StackOptions::default()
    })
    .await;
    let mut client = stack.client().await;
    client
        .handshake("alice", "wonderland")
        .await
        .expect("handshake");
    let tag = unique("audited");
    client
        .execute(
            format!("select g, '{tag}' as tag from generate_series(1, 3) g"),
            None,
        )
        .await
        .expect("query");
    let events = events_with(&tag);
    assert_eq!(events.len(), 1, "{events:?}");
    let e = &events[0];
    assert_eq!(e["principal"], "alice");
    assert_eq!(
        e["identity"],
        r#"cluster "test-cluster" as DbUser "awsuser""#
    );
    assert_eq!(e["outcome"], "finished");
    assert_eq!(e["rows"], "3");
    assert!(e["bytes"].parse::<i64>().expect("bytes") > 0);
    assert!(!e["statement_id"].is_empty());
    assert_eq!(e["sql_sha256"].len(), 64);
    assert!(e.contains_key("duration_ms"));

    let failing = unique("audited_missing");
    client
        .execute(format!("select * from {failing}"), None)
        .await
        .expect_err("no such table");
    let events = events_with(&failing);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["outcome"], "failed");
    assert!(events[0]["error"].contains("does not exist"), "{events:?}");
}
