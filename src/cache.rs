//! The results cache: converted record batches keyed by statement Id and
//! principal, weighted by their Arrow bytes, bounded, with a TTL below the
//! Data API's 24 h retention. A cached, complete result is re-read with no
//! Data API call at all.

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;

use crate::config::CacheConfig;
use crate::convert::PageConverter;
use crate::telemetry::metrics as metrics_names;

/// Who may read a cached result: the statement and the owner (principal and
/// Data API identity) that ran it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CacheKey {
    /// Data API statement Id.
    pub statement_id: String,
    /// The owner, as [`crate::dataapi::identity::owner`] gives it.
    pub owner: String,
}

/// A cached result: its first batches and where the Data API pages continue.
#[derive(Debug)]
pub struct CachedResult {
    /// Converter (and schema) of the result.
    pub converter: PageConverter,
    /// Batches held.
    pub batches: Vec<RecordBatch>,
    /// Next Data API page after `batches`, `None` when the result is complete.
    pub next_token: Option<String>,
    /// Rows in the whole result, as the Data API reported.
    pub total_rows: Option<i64>,
    /// The complete result as encoded Flight messages (schema first), once a
    /// DoGet has streamed it all: re-reads send these without re-encoding.
    pub encoded: Option<Vec<arrow_flight::FlightData>>,
}

impl CachedResult {
    /// The result's schema.
    pub fn schema(&self) -> SchemaRef {
        self.converter.schema()
    }

    /// Bytes held: the Arrow batches and the encoded messages.
    pub fn bytes(&self) -> usize {
        let batches: usize = self
            .batches
            .iter()
            .map(RecordBatch::get_array_memory_size)
            .sum();
        let encoded: usize = self.encoded.iter().flatten().map(message_bytes).sum();
        batches + encoded
    }
}

/// The bytes of one encoded Flight message (what it weighs in the cache,
/// and what sending it counts).
pub(crate) fn message_bytes(message: &arrow_flight::FlightData) -> usize {
    message.data_header.len() + message.data_body.len() + message.app_metadata.len()
}

/// The bounded cache.
#[derive(Debug, Clone)]
pub struct ResultsCache {
    inner: moka::future::Cache<CacheKey, Arc<CachedResult>>,
    capacity: u64,
    /// Bytes held by DoGets recording their messages for the cache, which
    /// are not in the cache yet; bounded so that many concurrent readers do
    /// not hold a second copy of everything.
    recording: Arc<std::sync::atomic::AtomicUsize>,
}

impl ResultsCache {
    /// A cache of `config.capacity()` bytes.
    pub fn new(config: &CacheConfig) -> Self {
        let capacity = config.capacity();
        let inner = moka::future::Cache::builder()
            .max_capacity(capacity)
            .weigher(|_k: &CacheKey, v: &Arc<CachedResult>| {
                u32::try_from(v.bytes()).unwrap_or(u32::MAX)
            })
            .time_to_live(config.cache_ttl.get().max(Duration::from_secs(1)))
            .eviction_listener(|_key, _value, cause| {
                let cause = match cause {
                    moka::notification::RemovalCause::Expired => "expired",
                    moka::notification::RemovalCause::Size => "size",
                    moka::notification::RemovalCause::Explicit => "explicit",
                    moka::notification::RemovalCause::Replaced => "replaced",
                };
                metrics::counter!(metrics_names::CACHE_EVICTIONS, "cause" => cause).increment(1);
            })
            .build();
        Self {
            inner,
            capacity,
            recording: Arc::default(),
        }
    }

    /// Reserves `bytes` of the in-flight recording budget (an eighth of the
    /// capacity); false when it is spent.
    pub fn reserve_recording(&self, bytes: usize) -> bool {
        use std::sync::atomic::Ordering;
        let budget = usize::try_from(self.capacity / 8).unwrap_or(usize::MAX);
        let mut current = self.recording.load(Ordering::Relaxed);
        loop {
            if current + bytes > budget {
                return false;
            }
            match self.recording.compare_exchange_weak(
                current,
                current + bytes,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => current = now,
            }
        }
    }

    /// Returns `bytes` to the in-flight recording budget.
    pub fn release_recording(&self, bytes: usize) {
        self.recording
            .fetch_sub(bytes, std::sync::atomic::Ordering::AcqRel);
    }

    /// The largest result worth caching: a quarter of the capacity, so one
    /// result cannot flush everything else.
    pub fn max_entry_bytes(&self) -> usize {
        usize::try_from(self.capacity / 4).unwrap_or(usize::MAX)
    }

    /// A cached result.
    pub async fn get(&self, key: &CacheKey) -> Option<Arc<CachedResult>> {
        let hit = self.inner.get(key).await;
        let outcome = if hit.is_some() { "hit" } else { "miss" };
        metrics::counter!(metrics_names::CACHE_LOOKUPS, "outcome" => outcome).increment(1);
        hit
    }

    /// Caches a result unless it is too large.
    pub async fn insert(&self, key: CacheKey, value: CachedResult) {
        if value.bytes() <= self.max_entry_bytes() {
            self.inner.insert(key, Arc::new(value)).await;
            // Evict at once rather than in moka's next maintenance round
            // (under many concurrent readers the cache would otherwise run
            // over its byte budget for a while), but off the caller's path:
            // a FlightInfo or a stream's end does not wait for it.
            let inner = self.inner.clone();
            tokio::spawn(async move {
                inner.run_pending_tasks().await;
                #[allow(clippy::cast_precision_loss)]
                metrics::gauge!(metrics_names::CACHE_BYTES).set(inner.weighted_size() as f64);
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recording_budget_is_an_eighth_of_the_capacity() {
        let cache = ResultsCache::new(&CacheConfig {
            cache_bytes: Some(crate::config::ByteSize(800)),
            cache_ttl: crate::config::HumanDuration::secs(60),
        });
        assert!(cache.reserve_recording(60));
        assert!(cache.reserve_recording(40));
        assert!(!cache.reserve_recording(1), "the budget is 100 bytes");
        cache.release_recording(40);
        assert!(cache.reserve_recording(40));
        assert_eq!(cache.max_entry_bytes(), 200);
    }

    #[test]
    fn encoded_messages_weigh_what_they_hold() {
        let message = arrow_flight::FlightData {
            data_header: vec![0u8; 100].into(),
            data_body: vec![0u8; 1000].into(),
            ..arrow_flight::FlightData::default()
        };
        let result = CachedResult {
            converter: PageConverter::new(Vec::new(), None),
            batches: Vec::new(),
            next_token: None,
            total_rows: Some(0),
            encoded: Some(vec![message.clone(), message]),
        };
        assert_eq!(result.bytes(), 2200);
    }
}
