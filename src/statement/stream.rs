//! The DoGet stream of a finished statement: from the cache when a complete
//! result is there (its encoded messages, re-sent as they are), else from the
//! first page, then the following pages, each fetched while the one before it
//! is converted and sent. The messages of a complete read are recorded and
//! kept in the cache for the next reader.

use std::sync::Arc;

use arrow::datatypes::{Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use arrow_flight::FlightData;
use arrow_flight::encode::FlightDataEncoderBuilder;
use arrow_flight::error::FlightError;
use futures::stream::BoxStream;
use futures::{StreamExt as _, TryStreamExt as _, stream};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;
use tracing::Instrument as _;

use super::Statements;
use super::results::{cache_key, result_format};
use crate::cache::{CachedResult, ResultsCache};
use crate::error::GatewayError;
use crate::ticket::StatementHandle;

/// A stream of Flight messages as tonic sends them.
pub(crate) type FlightDataStream = BoxStream<'static, Result<FlightData, Status>>;

/// Encodes batches as a FlightData stream (the schema is sent even with no batch).
pub(crate) fn batches_stream(schema: SchemaRef, batches: Vec<RecordBatch>) -> FlightDataStream {
    FlightDataEncoderBuilder::new()
        .with_schema(schema)
        .build(stream::iter(batches.into_iter().map(Ok)))
        .map_err(Status::from)
        .boxed()
}

impl Statements {
    /// Streams the result of the finished statement `handle` names.
    pub(crate) async fn stream_result(
        &self,
        handle: StatementHandle,
    ) -> Result<FlightDataStream, GatewayError> {
        if !handle.has_result_set {
            return Ok(batches_stream(Arc::new(Schema::empty()), Vec::new()));
        }
        let key = cache_key(&handle);
        let start = match self.cache.get(&key).await {
            Some(hit) => {
                tracing::debug!(statement_id = %handle.statement_id, "results cache hit");
                if let Some(encoded) = &hit.encoded {
                    let messages = encoded.clone();
                    return Ok(stream::iter(messages.into_iter().map(Ok)).boxed());
                }
                hit
            }
            None => Arc::new(self.first_page(&handle).await?),
        };
        let schema = start.schema();
        let converter = start.converter.clone();
        let total_rows = start.total_rows;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<RecordBatch, FlightError>>(1);
        let producer = PageProducer {
            statements: self.clone(),
            handle,
            start,
        };
        tokio::spawn(producer.run(tx).instrument(tracing::Span::current()));
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(schema)
            .build(ReceiverStream::new(rx))
            .map_err(Status::from);
        // Record the encoded messages; when the client has read them all, the
        // cache keeps them so a re-read streams them without re-encoding.
        let limit = self.cache.max_entry_bytes();
        let recorded: Recording = Arc::new(std::sync::Mutex::new(Some(Recorder {
            cache: self.cache.clone(),
            messages: Vec::new(),
            bytes: 0,
        })));
        let tap = Arc::clone(&recorded);
        let stream = stream.inspect(move |item| {
            let mut guard = tap
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let keep = match (guard.as_mut(), item) {
                (Some(recorder), Ok(message)) => recorder.record(message, limit),
                _ => false,
            };
            if !keep {
                *guard = None;
            }
        });
        let cache = self.cache.clone();
        let keep = stream::once(async move {
            let recorder = recorded
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .take();
            if let Some(mut recorder) = recorder {
                let messages = std::mem::take(&mut recorder.messages);
                cache
                    .insert(
                        key,
                        CachedResult {
                            converter,
                            batches: Vec::new(),
                            next_token: None,
                            total_rows,
                            encoded: Some(messages),
                        },
                    )
                    .await;
            }
        })
        .filter_map(|()| std::future::ready(None));
        Ok(stream.chain(keep).boxed())
    }
}

/// The encoded messages of a DoGet, until it ends (or they outgrow one cache
/// entry or the recording budget, or an error ends the stream: then `None`).
type Recording = Arc<std::sync::Mutex<Option<Recorder>>>;

/// Messages recorded for the cache; gives its budget back when dropped
/// (also when the client goes away mid-stream).
struct Recorder {
    cache: ResultsCache,
    messages: Vec<FlightData>,
    bytes: usize,
}

impl Recorder {
    /// Keeps a copy of `message`; false when it no longer fits.
    fn record(&mut self, message: &FlightData, limit: usize) -> bool {
        let size = message.data_header.len() + message.data_body.len();
        if self.bytes + size > limit || !self.cache.reserve_recording(size) {
            return false;
        }
        self.bytes += size;
        self.messages.push(message.clone());
        true
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.cache.release_recording(self.bytes);
    }
}

/// Feeds one DoGet: the batches it starts from, then the following pages.
struct PageProducer {
    statements: Statements,
    handle: StatementHandle,
    start: Arc<CachedResult>,
}

/// Sends `error` as the stream's end.
async fn fail(
    tx: &tokio::sync::mpsc::Sender<Result<RecordBatch, FlightError>>,
    error: GatewayError,
) {
    let status = Status::from(error);
    let _ = tx.send(Err(FlightError::Tonic(Box::new(status)))).await;
}

impl PageProducer {
    async fn run(self, tx: tokio::sync::mpsc::Sender<Result<RecordBatch, FlightError>>) {
        let Self {
            statements,
            handle,
            start,
        } = self;
        for batch in &start.batches {
            if tx.send(Ok(batch.clone())).await.is_err() {
                return;
            }
        }
        // Pages are fetched one ahead by their own task while the current one is
        // converted on a blocking thread and sent: fetching, SDK parsing and
        // conversion use both cores.
        let (pages_tx, mut pages) = tokio::sync::mpsc::channel(1);
        let fetcher = {
            let api = Arc::clone(&statements.api);
            let permits = Arc::clone(&statements.page_permits);
            let id = handle.statement_id.clone();
            let format = result_format(&handle);
            let mut token = start.next_token.clone();
            async move {
                while let Some(next) = token.take() {
                    // Bounds the pages held by all DoGets at once (fetched,
                    // converting or queued), whatever the number of clients.
                    let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                        return;
                    };
                    let page = api.get_statement_result(&id, format, Some(next)).await;
                    if let Ok(p) = &page {
                        token.clone_from(&p.next_token);
                    }
                    if pages_tx.send((page, permit)).await.is_err() {
                        return;
                    }
                }
            }
        };
        tokio::spawn(fetcher.instrument(tracing::Span::current()));
        while let Some((page, permit)) = pages.recv().await {
            let page = match page {
                Ok(page) => page,
                Err(e) => return fail(&tx, e.into()).await,
            };
            let converting = Arc::clone(&start);
            let converted = tokio::task::spawn_blocking(move || {
                converting.converter.convert(&page.records, false)
            })
            .await;
            let batch = match converted {
                Ok(Ok(batch)) => batch,
                Ok(Err(source)) => {
                    let error = GatewayError::Convert {
                        statement_id: handle.statement_id.clone(),
                        source,
                    };
                    return fail(&tx, error).await;
                }
                Err(join) => {
                    let error = GatewayError::Internal(format!("conversion task: {join}"));
                    return fail(&tx, error).await;
                }
            };
            if batch.num_rows() == 0 {
                continue;
            }
            let sent = tx.send(Ok(batch)).await;
            drop(permit);
            if sent.is_err() {
                return;
            }
        }
    }
}
