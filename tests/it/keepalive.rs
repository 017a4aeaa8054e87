//! Keep-alive: a DoGet waiting for a slow page sends empty batches, and the
//! server pings an HTTP/2 connection whose call is blocked, so that load
//! balancers that cut idle streams keep them open.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::TryStreamExt as _;
use redshift_data_emulator::EmulatorConfig;
use redshift_flight_sql::config::{HumanDuration, LimitsConfig, ServerConfig};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::common::{StackOptions, stack_with};

/// Every Data API call takes 600 ms; each row is a page of its own.
fn slow_pages() -> EmulatorConfig {
    EmulatorConfig {
        latency_ms: 600,
        page_bytes: 1,
        ..EmulatorConfig::default()
    }
}

/// Reads a three-page result: (rows, empty batches).
async fn read_slow_result(stream_keepalive: HumanDuration) -> (usize, usize) {
    let stack = stack_with(StackOptions {
        emulator: slow_pages(),
        limits: LimitsConfig {
            stream_keepalive,
            ..LimitsConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let mut client = stack.client().await;
    let info = client
        .execute("select g from generate_series(1, 3) g".to_owned(), None)
        .await
        .expect("query");
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let batches: Vec<arrow::array::RecordBatch> = client
        .do_get(ticket)
        .await
        .expect("do_get")
        .try_collect()
        .await
        .expect("the stream ends well");
    let rows = batches.iter().map(|b| b.num_rows()).sum();
    let empty = batches.iter().filter(|b| b.num_rows() == 0).count();
    (rows, empty)
}

#[tokio::test]
async fn a_stream_waiting_for_a_slow_page_sends_empty_batches() {
    // Each of the two following pages takes at least 600 ms to fetch: at
    // least one 200 ms keep-alive goes out while each is awaited.
    let (rows, empty) = read_slow_result(HumanDuration(Duration::from_millis(200))).await;
    assert_eq!(rows, 3, "the keep-alives add no rows");
    assert!(empty >= 2, "{empty} keep-alive batches");
}

#[tokio::test]
async fn without_the_stream_keepalive_no_empty_batch_is_sent() {
    let (rows, empty) = read_slow_result(HumanDuration::secs(0)).await;
    assert_eq!((rows, empty), (3, 0));
}

/// Forwards one connection to `upstream`, counting the PING frames (not
/// their acknowledgements) that the server sends to the client.
async fn counting_proxy(upstream: String) -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let pings = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&pings);
    tokio::spawn(async move {
        let (client, _) = listener.accept().await.expect("accept");
        let server = tokio::net::TcpStream::connect(upstream.trim_start_matches("http://"))
            .await
            .expect("connect upstream");
        let (mut client_read, mut client_write) = client.into_split();
        let (mut server_read, mut server_write) = server.into_split();
        tokio::spawn(async move {
            let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
        });
        let mut pending: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let n = match server_read.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => n,
            };
            if client_write.write_all(&chunk[..n]).await.is_err() {
                return;
            }
            pending.extend_from_slice(&chunk[..n]);
            // HTTP/2 frames: 3 bytes length, type, flags, 4 bytes stream id.
            while pending.len() >= 9 {
                let length = usize::from(pending[0]) << 16
                    | usize::from(pending[1]) << 8
                    | usize::from(pending[2]);
                if pending.len() < 9 + length {
                    break;
                }
                let (kind, flags) = (pending[3], pending[4]);
                if kind == 0x6 && flags & 0x1 == 0 {
                    counted.fetch_add(1, Ordering::SeqCst);
                }
                pending.drain(..9 + length);
            }
        }
    });
    (url, pings)
}

#[tokio::test]
async fn the_server_pings_a_connection_whose_call_is_blocked() {
    let stack = stack_with(StackOptions {
        server: ServerConfig {
            keepalive_interval: HumanDuration(Duration::from_millis(300)),
            ..ServerConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let (url, pings) = counting_proxy(stack.flight_url.clone()).await;
    let channel = tonic::transport::Endpoint::from_shared(url)
        .expect("endpoint")
        .connect()
        .await
        .expect("connect through the proxy");
    let mut client = arrow_flight::sql::client::FlightSqlServiceClient::new(channel);
    // GetFlightInfo blocks for the 1.5 s the statement runs; nothing else
    // crosses the connection meanwhile.
    let info = client
        .execute("select pg_sleep(1.5), 1 as n".to_owned(), None)
        .await
        .expect("query");
    assert_eq!(info.endpoint.len(), 1);
    let seen = pings.load(Ordering::SeqCst);
    assert!(
        seen >= 2,
        "{seen} pings in 1.5 s at a 300 ms interval ({:?})",
        Duration::from_millis(300)
    );
}
