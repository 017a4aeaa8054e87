//! Where UNLOAD writes: the object store of an S3 bucket — a directory
//! (`--s3-local-dir`), an S3-compatible server (`--s3-endpoint`)
//! or S3 itself — one store per bucket, kept for the next UNLOAD.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;

use crate::config::EmulatorConfig;
use crate::records::lock;

/// The stores of the buckets UNLOAD writes to.
#[derive(Debug)]
pub(crate) struct Stores {
    local_dir: Option<PathBuf>,
    s3_endpoint: Option<String>,
    buckets: Mutex<HashMap<String, Arc<dyn ObjectStore>>>,
}

impl Stores {
    /// The stores the emulator's settings name.
    pub(crate) fn new(config: &EmulatorConfig) -> Self {
        Self {
            local_dir: config.unload_local_dir.clone(),
            s3_endpoint: config.unload_s3_endpoint.clone(),
            buckets: Mutex::default(),
        }
    }

    /// The store of `bucket`; the error is the statement's error text.
    pub(crate) fn bucket(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
        if !is_bucket_name(bucket) {
            return Err(format!("ERROR: \"{bucket}\" is not a valid S3 bucket name"));
        }
        if let Some(store) = lock(&self.buckets).get(bucket) {
            return Ok(Arc::clone(store));
        }
        let store = self.open(bucket)?;
        lock(&self.buckets).insert(bucket.to_owned(), Arc::clone(&store));
        Ok(store)
    }

    fn open(&self, bucket: &str) -> Result<Arc<dyn ObjectStore>, String> {
        if let Some(dir) = &self.local_dir {
            let root = dir.join(bucket);
            std::fs::create_dir_all(&root).map_err(|e| {
                format!(
                    "ERROR: cannot create the directory {} of bucket \"{bucket}\": {e}",
                    root.display()
                )
            })?;
            let store = LocalFileSystem::new_with_prefix(&root).map_err(|e| {
                format!(
                    "ERROR: cannot open the directory {} of bucket \"{bucket}\": {e}",
                    root.display()
                )
            })?;
            return Ok(Arc::new(store));
        }
        // reqwest is built without a crypto provider of its own: rustls uses ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
        if let Some(endpoint) = &self.s3_endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(true)
                .with_virtual_hosted_style_request(false);
        }
        let store = builder
            .build()
            .map_err(|e| format!("ERROR: cannot open S3 bucket \"{bucket}\": {e}"))?;
        Ok(Arc::new(store))
    }
}

/// Whether `name` follows S3's rules for bucket names: 3 to 63 lower-case
/// letters, digits, dots and hyphens, starting and ending with a letter or
/// digit (so it is also one plain directory name).
fn is_bucket_name(name: &str) -> bool {
    let alphanumeric = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = name.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| alphanumeric(c) || matches!(c, b'.' | b'-'))
        && b.first().is_some_and(alphanumeric)
        && b.last().is_some_and(alphanumeric)
        && !name.contains("..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        for good in ["abc", "my-bucket.2", "a1b"] {
            assert!(is_bucket_name(good), "{good}");
        }
        for bad in [
            "ab",
            "Upper",
            "-a-",
            "a..b",
            "a/b",
            "..",
            "a_b",
            &"a".repeat(64),
        ] {
            assert!(!is_bucket_name(bad), "{bad}");
        }
    }

    #[tokio::test]
    async fn a_local_bucket_is_a_directory_created_on_use() {
        let dir = tempfile::tempdir().unwrap();
        let stores = Stores::new(&EmulatorConfig {
            unload_local_dir: Some(dir.path().to_owned()),
            ..EmulatorConfig::default()
        });
        let store = stores.bucket("my-bucket").unwrap();
        assert!(dir.path().join("my-bucket").is_dir());
        let again = stores.bucket("my-bucket").unwrap();
        assert!(Arc::ptr_eq(&store, &again), "kept for the next UNLOAD");
        assert_eq!(
            stores.bucket("../etc").unwrap_err(),
            "ERROR: \"../etc\" is not a valid S3 bucket name"
        );
    }

    #[test]
    fn an_endpoint_store_builds_without_a_network() {
        let stores = Stores::new(&EmulatorConfig {
            unload_s3_endpoint: Some("http://127.0.0.1:1".into()),
            ..EmulatorConfig::default()
        });
        assert!(stores.bucket("some-bucket").is_ok());
    }
}
