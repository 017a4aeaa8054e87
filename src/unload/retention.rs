//! How long an UNLOAD result's files live: as long as a cached result
//! (`--cache-ttl`). Each folder is remembered on the replica that wrote it
//! and deleted when its time is up (a sweep runs every minute, or every TTL when shorter, so an idle
//! gateway deletes too); an S3 lifecycle rule is the backstop for folders
//! of a replica that stopped first.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use object_store::ObjectStore;
use object_store::path::Path;

/// Folders of UNLOAD results and when they go.
#[derive(Debug, Clone)]
pub(crate) struct Retention {
    folders: moka::future::Cache<String, Arc<dyn ObjectStore>>,
    ttl: Duration,
    sweeping: Arc<std::sync::Once>,
}

/// Deletes every object under `folder`.
pub(crate) async fn delete_folder(store: Arc<dyn ObjectStore>, folder: String) {
    let prefix = Path::from(folder.trim_end_matches('/'));
    let locations = store
        .list(Some(&prefix))
        .map_ok(|meta| meta.location)
        .boxed();
    let deleted = store
        .delete_stream(locations)
        .try_fold(0usize, |n, _| async move { Ok(n + 1) })
        .await;
    match deleted {
        Ok(files) => tracing::info!(%folder, files, "deleted an expired UNLOAD result"),
        Err(e) => tracing::warn!(%folder, error = %e, "could not delete an UNLOAD result"),
    }
    metrics::counter!(crate::telemetry::metrics::UNLOAD_RESULTS_DELETED).increment(1);
}

impl Retention {
    /// Folders kept for `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        let folders = moka::future::Cache::builder()
            .time_to_live(ttl.max(Duration::from_secs(1)))
            .async_eviction_listener(|folder: Arc<String>, store: Arc<dyn ObjectStore>, _| {
                let folder = (*folder).clone();
                Box::pin(async move {
                    tokio::spawn(delete_folder(store, folder));
                })
            })
            .build();
        Self {
            folders,
            ttl,
            sweeping: Arc::new(std::sync::Once::new()),
        }
    }

    /// How long a folder is kept.
    pub(crate) fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Remembers `folder` of `store`, to be deleted after the TTL.
    pub(crate) async fn keep(&self, folder: String, store: Arc<dyn ObjectStore>) {
        self.folders.insert(folder, store).await;
        let folders = self.folders.clone();
        let ttl = self.ttl;
        self.sweeping.call_once(|| {
            tokio::spawn(async move {
                let mut every = tokio::time::interval(
                    ttl.clamp(Duration::from_secs(1), Duration::from_secs(60)),
                );
                loop {
                    every.tick().await;
                    folders.run_pending_tasks().await;
                }
            });
        });
    }

    /// Deletes `folder` now (a result that could not be served).
    pub(crate) async fn discard(&self, folder: &str, store: Arc<dyn ObjectStore>) {
        self.folders.invalidate(folder).await;
        delete_folder(store, folder.to_owned()).await;
    }
}
