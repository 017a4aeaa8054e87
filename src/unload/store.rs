//! The object store UNLOAD's files are read from and deleted in: S3 (the
//! AWS credential chain and region, as for the Data API; an endpoint for
//! S3-compatible stores) or, for the emulator, a local directory. Built on
//! first use, since the credential chain is asynchronous.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_credential_types::provider::{ProvideCredentials as _, SharedCredentialsProvider};
use object_store::ObjectStore;
use object_store::aws::{AmazonS3Builder, AwsCredential};

use crate::error::GatewayError;

/// Where the store is.
#[derive(Debug, Clone)]
pub(crate) enum Location {
    /// S3 (or a compatible store at `endpoint`) in `region`.
    S3 {
        /// Bucket.
        bucket: String,
        /// Region, else the AWS chain's, else us-east-1.
        region: Option<String>,
        /// Endpoint URL override.
        endpoint: Option<String>,
    },
    /// `dir/bucket/key` on the local file system.
    Directory(PathBuf),
}

/// The AWS SDK's credential chain as object_store's credential provider,
/// cached until five minutes before the credentials expire (the chain's
/// providers call IMDS, STS or ECS each time they are asked).
#[derive(Debug)]
struct SdkCredentials {
    provider: SharedCredentialsProvider,
    cached: tokio::sync::Mutex<Option<(Arc<AwsCredential>, Option<SystemTime>)>>,
}

#[async_trait::async_trait]
impl object_store::CredentialProvider for SdkCredentials {
    type Credential = AwsCredential;

    async fn get_credential(&self) -> object_store::Result<Arc<AwsCredential>> {
        let mut cached = self.cached.lock().await;
        if let Some((credential, expiry)) = cached.as_ref() {
            let fresh = expiry.is_none_or(|at| {
                at.duration_since(SystemTime::now())
                    .is_ok_and(|left| left > Duration::from_secs(300))
            });
            if fresh {
                return Ok(Arc::clone(credential));
            }
        }
        let c = self.provider.provide_credentials().await.map_err(|e| {
            object_store::Error::Generic {
                store: "S3",
                source: Box::new(e),
            }
        })?;
        let credential = Arc::new(AwsCredential {
            key_id: c.access_key_id().to_owned(),
            secret_key: c.secret_access_key().to_owned(),
            token: c.session_token().map(str::to_owned),
        });
        *cached = Some((Arc::clone(&credential), c.expiry()));
        Ok(credential)
    }
}

/// Builds the store of `location`.
pub(crate) async fn build(location: &Location) -> Result<Arc<dyn ObjectStore>, GatewayError> {
    match location {
        Location::Directory(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| GatewayError::Internal(format!("creating {}: {e}", dir.display())))?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| GatewayError::Internal(format!("{}: {e}", dir.display())))?;
            Ok(Arc::new(store))
        }
        Location::S3 {
            bucket,
            region,
            endpoint,
        } => {
            // reqwest is built without a crypto provider of its own: ring, as everywhere here.
            let _ = rustls::crypto::ring::default_provider().install_default();
            let shared = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .http_client(crate::dataapi::https_client())
                .load()
                .await;
            let region = region
                .clone()
                .or_else(|| shared.region().map(ToString::to_string))
                .unwrap_or_else(|| "us-east-1".to_owned());
            let provider = shared.credentials_provider().ok_or_else(|| {
                GatewayError::Internal("no AWS credentials provider for S3".to_owned())
            })?;
            let mut builder = AmazonS3Builder::new()
                .with_bucket_name(bucket)
                .with_region(region)
                .with_credentials(Arc::new(SdkCredentials {
                    provider,
                    cached: tokio::sync::Mutex::new(None),
                }));
            let endpoint = endpoint
                .clone()
                .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok());
            if let Some(url) = endpoint {
                builder = builder
                    .with_allow_http(url.starts_with("http://"))
                    .with_virtual_hosted_style_request(false)
                    .with_endpoint(url);
            }
            let store = builder
                .build()
                .map_err(|e| GatewayError::Internal(format!("the S3 client: {e}")))?;
            Ok(Arc::new(store))
        }
    }
}

/// The error a client gets for a failed object store call on `what`: a
/// missing object is a result that expired (NOT_FOUND); anything else is
/// the store's trouble, not the client's.
pub(crate) fn storage_error(what: &str, e: &object_store::Error) -> GatewayError {
    match e {
        object_store::Error::NotFound { .. } => GatewayError::ResultGone(format!(
            "{what} is gone: the UNLOAD result expired and its files were deleted; run the query again"
        )),
        other => GatewayError::Storage(format!("{what}: {other}")),
    }
}
