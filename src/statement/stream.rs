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
use tokio_util::sync::CancellationToken;
use tonic::Status;
use tracing::Instrument as _;

use super::Statements;
use super::drain::StreamGuard;
use super::result_bytes::HeldBytes;
use super::results::{cache_key, result_format};
use crate::cache::{CachedResult, ResultsCache};
use crate::dataapi::{DataApi, ResultFormat, ResultPage};
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
        let principal = super::drain::InFlight::principal();
        self.result_bytes.admit(&principal)?;
        // Counted as open work until the stream is dropped (the drain waits for it).
        let open = self.in_flight.stream();
        if !handle.has_result_set {
            return Ok(batches_stream(Arc::new(Schema::empty()), Vec::new()));
        }
        let key = cache_key(&handle);
        let start = match self.cache.get(&key).await {
            Some(hit) => {
                tracing::debug!(statement_id = %handle.statement_id, "results cache hit");
                if let Some(encoded) = &hit.encoded {
                    let messages = encoded.clone();
                    return Ok(counted(stream::iter(messages.into_iter().map(Ok)), open));
                }
                hit
            }
            None => Arc::new(self.first_page(&handle).await?),
        };
        let schema = start.schema();
        let converter = start.converter.clone();
        let total_rows = start.total_rows;
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Queued, FlightError>>(1);
        let ended = CancellationToken::new();
        let idle = GatewayError::StreamIdle {
            statement_id: handle.statement_id.clone(),
            idle: self.stream_idle_timeout,
        };
        let producer = PageProducer {
            statements: self.clone(),
            handle,
            start,
            ended: ended.clone(),
            principal,
        };
        tokio::spawn(producer.run(tx).instrument(tracing::Span::current()));
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(Arc::clone(&schema))
            .build(batches_until_ended(rx, ended, idle))
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
        let stream = stream.chain(keep);
        let beat = self
            .stream_keepalive
            .and_then(|every| Some((every, empty_batch_message(&schema)?)));
        Ok(match beat {
            Some((every, beat)) => counted(with_keepalive(stream, every, beat), open),
            None => counted(stream, open),
        })
    }
}

/// A DoGet's messages, counted in bytes as they are sent, holding `open`
/// (the drain's count of open streams) until the stream is dropped.
fn counted(
    messages: impl futures::Stream<Item = Result<FlightData, Status>> + Send + 'static,
    open: StreamGuard,
) -> FlightDataStream {
    messages
        .inspect(move |m| {
            let _open = &open;
            if let Ok(message) = m {
                let bytes = message.data_header.len() + message.data_body.len();
                metrics::counter!(crate::telemetry::metrics::BYTES_STREAMED)
                    .increment(u64::try_from(bytes).unwrap_or(0));
            }
        })
        .boxed()
}

/// Counts the rows of one batch handed to a client's stream.
fn count_rows(batch: &RecordBatch) {
    metrics::counter!(crate::telemetry::metrics::ROWS_STREAMED)
        .increment(u64::try_from(batch.num_rows()).unwrap_or(0));
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

/// A batch in a DoGet's queue, with the bytes it counts against its principal.
type Queued = (RecordBatch, HeldBytes);

/// The batches a producer sends, until it ends the stream with an error
/// through `ended` (a batch still queued then is dropped, never sent as if
/// the result were complete). A batch's bytes count against its principal
/// until the client asks for the next one.
fn batches_until_ended(
    rx: tokio::sync::mpsc::Receiver<Result<Queued, FlightError>>,
    ended: CancellationToken,
    error: GatewayError,
) -> impl futures::Stream<Item = Result<RecordBatch, FlightError>> {
    stream::unfold(Some((rx, ended, error, None)), |state| async move {
        // The last batch's bytes are held until the next item is in hand.
        let (mut rx, ended, error, _last): (_, _, _, Option<HeldBytes>) = state?;
        tokio::select! {
            biased;
            () = ended.cancelled() => {
                let status = Status::from(error);
                Some((Err(FlightError::Tonic(Box::new(status))), None))
            }
            item = rx.recv() => item.map(|item| match item {
                Ok((batch, held)) => (Ok(batch), Some((rx, ended, error, Some(held)))),
                Err(e) => (Err(e), Some((rx, ended, error, None))),
            }),
        }
    })
}

/// The message of an empty batch of `schema` (what a keep-alive sends: every
/// Flight client reads it as a batch of no rows).
fn empty_batch_message(schema: &SchemaRef) -> Option<FlightData> {
    let generator = arrow::ipc::writer::IpcDataGenerator::default();
    let mut dictionaries = arrow::ipc::writer::DictionaryTracker::new(false);
    let (_, encoded) = generator
        .encode(
            &RecordBatch::new_empty(Arc::clone(schema)),
            &mut dictionaries,
            &arrow::ipc::writer::IpcWriteOptions::default(),
            &mut arrow::ipc::writer::IpcWriteContext::default(),
        )
        .ok()?;
    Some(FlightData::from(encoded))
}

/// `messages`, with `beat` sent whenever they have been quiet for `every`
/// after the first (the schema): load balancers that cut idle streams see
/// traffic while a slow page is fetched. A client that does not read gets
/// nothing, since the stream is only polled when it reads.
fn with_keepalive(
    messages: impl futures::Stream<Item = Result<FlightData, Status>> + Send + 'static,
    every: std::time::Duration,
    beat: FlightData,
) -> impl futures::Stream<Item = Result<FlightData, Status>> + Send + 'static {
    stream::unfold((messages.boxed(), false), move |(mut inner, started)| {
        let beat = beat.clone();
        async move {
            if !started {
                let first = inner.next().await?;
                return Some((first, (inner, true)));
            }
            tokio::select! {
                item = inner.next() => item.map(|item| (item, (inner, true))),
                () = tokio::time::sleep(every) => {
                    metrics::counter!(crate::telemetry::metrics::STREAM_KEEPALIVES).increment(1);
                    Some((Ok(beat), (inner, true)))
                }
            }
        }
    })
}

/// Feeds one DoGet: the batches it starts from, then the following pages.
///
/// Nothing shared is held while it waits for its client: a page permit is
/// taken only to fetch or to convert, and each step first waits for room in
/// the stream's own one-item queues. A client that does not read for the idle
/// limit ends the stream with an error, which frees everything it held.
struct PageProducer {
    statements: Statements,
    handle: StatementHandle,
    start: Arc<CachedResult>,
    /// Cancelled when the stream ends with an error the client may not be
    /// reading yet.
    ended: CancellationToken,
    /// Whose result bytes the queued batches count as.
    principal: String,
}

/// The producer's side of a DoGet.
type BatchSender = tokio::sync::mpsc::Sender<Result<Queued, FlightError>>;

/// Room for one more item in a DoGet's queue.
type BatchSlot<'a> = tokio::sync::mpsc::Permit<'a, Result<Queued, FlightError>>;

impl PageProducer {
    /// Waits for room for one more batch, up to the idle limit; `None` when
    /// the client went away.
    async fn room<'a>(&self, tx: &'a BatchSender) -> Result<Option<BatchSlot<'a>>, GatewayError> {
        let idle = self.statements.stream_idle_timeout;
        match tokio::time::timeout(idle, tx.reserve()).await {
            Ok(Ok(slot)) => Ok(Some(slot)),
            Ok(Err(_)) => Ok(None),
            Err(_) => Err(GatewayError::StreamIdle {
                statement_id: self.handle.statement_id.clone(),
                idle,
            }),
        }
    }

    /// Ends the stream with `error`: in order when the client reads on, else
    /// (an idle client) through `ended`.
    async fn fail(&self, tx: &BatchSender, error: GatewayError) {
        if !matches!(error, GatewayError::StreamIdle { .. }) {
            if let Ok(Some(slot)) = self.room(tx).await {
                slot.send(Err(FlightError::Tonic(Box::new(Status::from(error)))));
                return;
            }
        } else {
            tracing::info!(error = %error, "ending a stream its client does not read");
        }
        self.ended.cancel();
    }

    /// `batch`, counted against the principal while it waits for its client.
    fn queued(&self, batch: RecordBatch) -> Queued {
        let bytes = batch.get_array_memory_size();
        let held = self.statements.result_bytes.hold(&self.principal, bytes);
        (batch, held)
    }

    async fn run(self, tx: BatchSender) {
        if let Err(e) = self.produce(&tx).await {
            self.fail(&tx, e).await;
        }
    }

    async fn produce(&self, tx: &BatchSender) -> Result<(), GatewayError> {
        for batch in &self.start.batches {
            let Some(slot) = self.room(tx).await? else {
                return Ok(());
            };
            count_rows(batch);
            slot.send(Ok(self.queued(batch.clone())));
        }
        // Pages are fetched one ahead by their own task while the current one
        // is converted on a blocking thread and sent: fetching, SDK parsing and
        // conversion use both cores.
        let (pages_tx, mut pages) = tokio::sync::mpsc::channel(1);
        let fetcher = fetch_pages(
            Arc::clone(&self.statements.api),
            Arc::clone(&self.statements.page_permits),
            self.handle.statement_id.clone(),
            result_format(&self.handle),
            self.start.next_token.clone(),
            pages_tx,
        );
        let _stop_fetching =
            AbortOnDrop(tokio::spawn(fetcher.instrument(tracing::Span::current())));
        loop {
            // Room for the batch first: a converted page waiting for a client
            // that does not read would hold memory for nothing.
            let Some(slot) = self.room(tx).await? else {
                return Ok(());
            };
            let Some(page) = pages.recv().await else {
                return Ok(());
            };
            let page = page?;
            let permit = Arc::clone(&self.statements.page_permits)
                .acquire_owned()
                .await
                .map_err(|e| GatewayError::Internal(format!("page budget closed: {e}")))?;
            let converting = Arc::clone(&self.start);
            let converted = tokio::task::spawn_blocking(move || {
                converting.converter.convert(&page.records, false)
            })
            .await;
            drop(permit);
            let batch = converted
                .map_err(|join| GatewayError::Internal(format!("conversion task: {join}")))?
                .map_err(|source| {
                    self.statements.convert_failed(
                        &self.handle.statement_id,
                        result_format(&self.handle),
                        source,
                    )
                })?;
            if batch.num_rows() > 0 {
                count_rows(&batch);
                slot.send(Ok(self.queued(batch)));
            }
        }
    }
}

/// Aborts a task when dropped (the fetcher of a stream that ended).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Fetches the pages after `token`, each once there is room for it in the
/// stream's queue, holding a page permit only while the fetch runs.
async fn fetch_pages(
    api: Arc<dyn DataApi>,
    permits: Arc<tokio::sync::Semaphore>,
    id: String,
    format: ResultFormat,
    mut token: Option<String>,
    pages: tokio::sync::mpsc::Sender<Result<ResultPage, GatewayError>>,
) {
    while let Some(next) = token.take() {
        let Ok(slot) = pages.reserve().await else {
            return;
        };
        let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
            return;
        };
        let page = api.get_statement_result(&id, format, Some(next)).await;
        drop(permit);
        match page {
            Ok(page) => {
                token.clone_from(&page.next_token);
                slot.send(Ok(page));
            }
            Err(e) => {
                slot.send(Err(e.into()));
                return;
            }
        }
    }
}
