//! The DoGet stream of a finished statement: from the cache when a complete
//! result is there (its encoded messages, re-sent as they are), else from the
//! first page, then the following pages, each fetched while the one before it
//! is converted and sent. The messages of a complete read are recorded and
//! kept in the cache for the next reader.

use std::sync::Arc;

use arrow::datatypes::{DataType, Schema, SchemaRef};
use arrow::error::ArrowError;
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
use crate::cache::{CachedResult, ResultsCache, message_bytes};
use crate::convert::pages::{PageError, convert_in_order, parallel_conversions};
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
    /// Streams the result of the finished statement `handle` names; with
    /// `announced`, the schema a FlightInfo promised before the statement
    /// ran, in exactly that schema (see [`conform`]).
    pub(crate) async fn stream_result(
        &self,
        handle: StatementHandle,
        announced: Option<SchemaRef>,
    ) -> Result<FlightDataStream, GatewayError> {
        let principal = super::drain::InFlight::principal();
        self.result_bytes.admit(&principal)?;
        // Counted as open work until the stream is dropped (the drain waits for it).
        let open = self.in_flight.stream();
        if !handle.has_result_set {
            let schema = announced.unwrap_or_else(|| Arc::new(Schema::empty()));
            return Ok(batches_stream(schema, Vec::new()));
        }
        let key = cache_key(&handle);
        let start = match self.cache.get(&key).await {
            // Encoded messages are re-sent as they are: only in their own schema.
            Some(hit) if announced.as_ref().is_some_and(|a| *a != hit.schema()) => hit,
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
        // The converted schema, unless another was announced: then the
        // batches are conformed to it and the stream is not recorded (the
        // cache holds a statement's result in its own schema).
        let reshape = announced.filter(|a| *a != start.schema());
        let schema = reshape.clone().unwrap_or_else(|| start.schema());
        let converter = start.converter.clone();
        let total_rows = start.total_rows;
        let batches = if start.next_token.is_none() {
            // The whole result is in hand (a one-page result): sent as it is,
            // with no producer task or queue between it and the client.
            start.batches.iter().for_each(count_rows);
            stream::iter(start.batches.clone().into_iter().map(Ok)).boxed()
        } else {
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
            batches_until_ended(rx, ended, idle).boxed()
        };
        let batches = match reshape.clone() {
            Some(to) => batches
                .map(move |b| b.and_then(|b| conform(&b, &to).map_err(FlightError::from)))
                .boxed(),
            None => batches,
        };
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(Arc::clone(&schema))
            .build(batches)
            .map_err(Status::from);
        // Record the encoded messages; when the client has read them all, the
        // cache keeps them so a re-read streams them without re-encoding.
        let limit = self.cache.max_entry_bytes();
        let recorded: Recording =
            Arc::new(std::sync::Mutex::new(reshape.is_none().then(|| Recorder {
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
        Ok(self.sent(&schema, stream, open))
    }
}

impl Statements {
    /// Streams `batches` (read from elsewhere than the Data API's pages: an
    /// UNLOAD file) in `schema`, counted as an open stream of its principal
    /// like any result. The batches are pulled as the client reads, so a
    /// client that does not read holds nothing shared; the keep-alive runs
    /// while a slow read from the store is pending.
    pub(crate) fn stream_batches(
        &self,
        schema: SchemaRef,
        batches: BoxStream<'static, Result<RecordBatch, GatewayError>>,
    ) -> Result<FlightDataStream, GatewayError> {
        let principal = super::drain::InFlight::principal();
        self.result_bytes.admit(&principal)?;
        let open = self.in_flight.stream();
        let batches = batches
            .inspect_ok(count_rows)
            .map_err(|e| FlightError::Tonic(Box::new(Status::from(e))));
        let stream = FlightDataEncoderBuilder::new()
            .with_schema(Arc::clone(&schema))
            .build(batches)
            .map_err(Status::from);
        Ok(self.sent(&schema, stream, open))
    }
}

impl Statements {
    /// A DoGet's messages as sent: with keep-alive batches of `schema` when
    /// they are on, counted, holding `open` until dropped.
    fn sent(
        &self,
        schema: &SchemaRef,
        messages: impl futures::Stream<Item = Result<FlightData, Status>> + Send + 'static,
        open: StreamGuard,
    ) -> FlightDataStream {
        let beat = self
            .stream_keepalive
            .and_then(|every| Some((every, empty_batch_message(schema)?)));
        match beat {
            Some((every, beat)) => counted(with_keepalive(messages, every, beat), open),
            None => counted(messages, open),
        }
    }
}

/// Whether every value of type `from` is exactly a value of type `to`:
/// text of anything, wider integers and floats, decimals with room for
/// every digit. Anything else would round or truncate.
fn lossless(from: &DataType, to: &DataType) -> bool {
    use DataType::{Decimal128, Float32, Float64, Int16, Int32, Int64, LargeUtf8, Utf8};
    match (from, to) {
        _ if from == to => true,
        (_, Utf8 | LargeUtf8) => true,
        (Int16, Int32 | Int64) | (Int32, Int64) | (Float32, Float64) => true,
        (Int16 | Int32, Float64) => true,
        (Decimal128(p1, s1), Decimal128(p2, s2)) => {
            s2 >= s1 && i16::from(*p2) - i16::from(*s2) >= i16::from(*p1) - i16::from(*s1)
        }
        _ => false,
    }
}

/// `batch` in the schema `to` announced before the statement ran: columns
/// cast where that loses nothing (see [`lossless`]), `to`'s names,
/// nullability and metadata. Any other difference ends the stream with an
/// error rather than a rounded value or a schema other than the announced.
fn conform(batch: &RecordBatch, to: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let columns_differ = |got| {
        format!(
            "the statement returned {got} columns where its prepared schema has {}; prepare it again",
            to.fields().len()
        )
    };
    crate::convert::conform_with(batch, to, columns_differ, |column, field| {
        let from = column.data_type();
        if lossless(from, field.data_type()) {
            arrow::compute::cast(column, field.data_type())
        } else {
            Err(ArrowError::CastError(format!(
                "column \"{}\" returned {from} where the prepared statement announced {}; prepare it again",
                field.name(),
                field.data_type()
            )))
        }
    })
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
                let bytes = message_bytes(message);
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
        let size = message_bytes(message);
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
        // Pages are fetched one ahead by their own task, and converted on
        // blocking threads several at once (in page order): fetching, SDK
        // parsing and conversion use every core.
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
        let records = stream::poll_fn(move |cx| pages.poll_recv(cx))
            .map(|page: Result<ResultPage, GatewayError>| page.map(|p| p.records));
        let batches = convert_in_order(
            Arc::new(self.start.converter.clone()),
            records,
            false,
            parallel_conversions(),
            Some(Arc::clone(&self.statements.page_permits)),
        );
        let mut batches = std::pin::pin!(batches);
        loop {
            // Room for the batch first: conversions run only while the client
            // reads, so one that does not read holds no more than the pages
            // already converting.
            let Some(slot) = self.room(tx).await? else {
                return Ok(());
            };
            let Some(batch) = batches.next().await else {
                return Ok(());
            };
            let batch = batch.map_err(|e| match e {
                PageError::Page(e) => e,
                PageError::Convert(source) => self.statements.convert_failed(
                    &self.handle.statement_id,
                    result_format(&self.handle),
                    source,
                ),
                PageError::Ended(why) => GatewayError::Internal(why),
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

#[cfg(test)]
mod tests {
    use arrow::array::{Array as _, AsArray as _, Decimal128Array, Int32Array};
    use arrow::datatypes::Field;

    use super::*;

    fn one_column(field: Field) -> SchemaRef {
        Arc::new(Schema::new(vec![field]))
    }

    #[test]
    fn only_lossless_casts_conform() {
        assert!(lossless(&DataType::Int32, &DataType::Int64));
        assert!(lossless(
            &DataType::Decimal128(10, 2),
            &DataType::Decimal128(38, 2)
        ));
        assert!(lossless(&DataType::Decimal128(38, 2), &DataType::Utf8));
        assert!(!lossless(
            &DataType::Decimal128(38, 2),
            &DataType::Decimal128(38, 0)
        ));
        assert!(!lossless(
            &DataType::Decimal128(38, 2),
            &DataType::Decimal128(38, 4)
        ));
        assert!(!lossless(&DataType::Int64, &DataType::Int32));
        assert!(!lossless(&DataType::Utf8, &DataType::Int32));
    }

    #[test]
    fn conform_widens_and_refuses_rounding() {
        let got = RecordBatch::try_new(
            one_column(Field::new("n", DataType::Decimal128(38, 2), true)),
            vec![Arc::new(
                Decimal128Array::from(vec![Some(125), None])
                    .with_precision_and_scale(38, 2)
                    .expect("decimal"),
            )],
        )
        .expect("batch");
        let as_text = one_column(Field::new("n", DataType::Utf8, true));
        let text = conform(&got, &as_text).expect("to text");
        assert_eq!(text.schema(), as_text);
        assert_eq!(text.column(0).as_string::<i32>().value(0), "1.25");
        assert!(text.column(0).is_null(1));
        let rounded = one_column(Field::new("n", DataType::Decimal128(38, 0), true));
        let err = conform(&got, &rounded).expect_err("1.25 is not a decimal(38,0)");
        assert!(err.to_string().contains("column \"n\""), "{err}");
        let wider = one_column(Field::new("n", DataType::Decimal128(38, 4), true));
        assert!(
            conform(&got, &wider).is_err(),
            "38 digits do not fit with scale 4"
        );
        let ints = RecordBatch::try_new(
            one_column(Field::new("i", DataType::Int32, false)),
            vec![Arc::new(Int32Array::from(vec![7]))],
        )
        .expect("batch");
        let decimal = one_column(Field::new("i", DataType::Decimal128(12, 0), false));
        assert!(
            conform(&ints, &decimal).is_err(),
            "not among the lossless casts"
        );
    }
}
