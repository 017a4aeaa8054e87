//! The UNLOAD result path: a query whose result is too large for the Data
//! API (or whose client asks) runs as `UNLOAD ('…') TO 's3://…/<id>/'
//! FORMAT PARQUET MANIFEST VERBOSE`; its files become one Flight endpoint
//! each and are streamed back as Arrow from S3, in the schema the page path
//! gives the same query (taken from the query run with `LIMIT 0`).

mod manifest;
mod read;
mod retention;
mod store;

use std::sync::Arc;
use std::time::Duration;

use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use futures::stream::BoxStream;
use object_store::{ObjectStore, ObjectStoreExt as _};

pub(crate) use manifest::UnloadedFile;

use crate::config::{AwsSettings, S3Uri, UnloadConfig, UnloadMode};
use crate::error::GatewayError;

/// Redshift's smallest and largest MAXFILESIZE, in MB.
const MAX_FILE_SIZE_MB: (u64, u64) = (5, 6200);

/// Why a query cannot run through UNLOAD (it then takes the page path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ineligible {
    /// Not a query.
    NotAQuery,
    /// With bound parameters (the query is a literal inside UNLOAD).
    Parameters,
    /// A top-level LIMIT, which UNLOAD refuses.
    Limit,
}

impl std::fmt::Display for Ineligible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotAQuery => "it is not a query",
            Self::Parameters => "it has bound parameters",
            Self::Limit => "UNLOAD does not allow a LIMIT on the outermost query",
        })
    }
}

/// Why a query went through UNLOAD (the metric's `reason`).
#[derive(Debug, Clone, Copy)]
pub(crate) enum UnloadReason {
    /// The client or the server's default asked for it.
    Asked,
    /// The Data API refused the page path's result as too large.
    TooLarge,
}

impl UnloadReason {
    /// The metric's `reason` label.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::Asked => "asked",
            Self::TooLarge => "too_large",
        }
    }
}

/// The UNLOAD statement of one query and where it writes.
#[derive(Debug, Clone)]
pub(crate) struct UnloadStatement {
    /// The SQL to run.
    pub(crate) sql: String,
    /// The folder (key prefix ending in `/`) the files go to.
    pub(crate) folder: String,
    /// Whether the query orders its rows (then PARALLEL OFF, files in order).
    pub(crate) ordered: bool,
}

/// The configured UNLOAD path.
#[derive(Debug)]
pub(crate) struct Unload {
    location: S3Uri,
    iam_role: String,
    mode: UnloadMode,
    max_file_size_mb: Option<u64>,
    where_files_are: store::Location,
    store: tokio::sync::OnceCell<Arc<dyn ObjectStore>>,
    retention: retention::Retention,
}

impl Unload {
    /// The UNLOAD path of `config`, `None` when it is not configured;
    /// results live for `ttl`.
    pub(crate) fn new(
        config: &UnloadConfig,
        aws: &AwsSettings,
        ttl: Duration,
    ) -> anyhow::Result<Option<Self>> {
        let (Some(location), Some(iam_role)) = (&config.unload_s3_uri, &config.unload_iam_role)
        else {
            anyhow::ensure!(
                config.unload_s3_uri.is_none() && config.unload_iam_role.is_none(),
                "--unload-s3-uri and --unload-iam-role go together"
            );
            return Ok(None);
        };
        anyhow::ensure!(
            !iam_role.contains('\''),
            "--unload-iam-role may not contain a quote"
        );
        let max_file_size_mb = config
            .unload_max_file_size
            .map(|size| size.get().div_ceil(1 << 20))
            .map(|mb| {
                anyhow::ensure!(
                    (MAX_FILE_SIZE_MB.0..=MAX_FILE_SIZE_MB.1).contains(&mb),
                    "--unload-max-file-size is {mb} MB; Redshift allows 5 MB to 6.2 GB"
                );
                Ok(mb)
            })
            .transpose()?;
        let where_files_are = match &config.unload_local_dir {
            Some(dir) => store::Location::Directory(dir.join(&location.bucket)),
            None => store::Location::S3 {
                bucket: location.bucket.clone(),
                region: aws.region.clone(),
                endpoint: config.unload_s3_endpoint.clone(),
            },
        };
        Ok(Some(Self {
            location: location.clone(),
            iam_role: iam_role.clone(),
            mode: config.unload_mode,
            max_file_size_mb,
            where_files_are,
            store: tokio::sync::OnceCell::new(),
            retention: retention::Retention::new(ttl),
        }))
    }

    /// The server's default mode.
    pub(crate) fn mode(&self) -> UnloadMode {
        self.mode
    }

    /// How long an UNLOAD result's files are kept.
    pub(crate) fn retention(&self) -> Duration {
        self.retention.ttl()
    }

    /// Whether `sql` (with bound parameters or not) can run through UNLOAD.
    pub(crate) fn eligible(sql: &str, has_parameters: bool) -> Result<(), Ineligible> {
        if !redshift_sqltext::is_query(sql) {
            return Err(Ineligible::NotAQuery);
        }
        if has_parameters {
            return Err(Ineligible::Parameters);
        }
        if redshift_sqltext::top_level(sql).limit {
            return Err(Ineligible::Limit);
        }
        Ok(())
    }

    /// The UNLOAD statement that writes `query`'s result to a new folder.
    pub(crate) fn statement(&self, query: &str) -> UnloadStatement {
        let folder = format!("{}{}/", self.location.prefix, uuid::Uuid::new_v4());
        let ordered = redshift_sqltext::top_level(query).order_by;
        let mut sql = format!(
            "UNLOAD ({}) TO 's3://{}/{folder}' IAM_ROLE {} FORMAT AS PARQUET MANIFEST VERBOSE",
            redshift_sqltext::unload_literal(query),
            self.location.bucket,
            role_clause(&self.iam_role),
        );
        if ordered {
            sql.push_str(" PARALLEL OFF");
        }
        if let Some(mb) = self.max_file_size_mb {
            sql.push_str(&format!(" MAXFILESIZE {mb} MB"));
        }
        UnloadStatement {
            sql,
            folder,
            ordered,
        }
    }

    /// The query that gives `query`'s result schema without its rows.
    pub(crate) fn schema_query(query: &str) -> String {
        format!(
            "select * from (\n{}\n) as rsfs_schema limit 0",
            redshift_sqltext::trim_statement_end(query)
        )
    }

    async fn store(&self) -> Result<Arc<dyn ObjectStore>, GatewayError> {
        self.store
            .get_or_try_init(|| store::build(&self.where_files_are))
            .await
            .map(Arc::clone)
    }

    /// The files UNLOAD wrote to `folder` (its manifest), remembered for deletion.
    pub(crate) async fn files(&self, folder: &str) -> Result<Vec<UnloadedFile>, GatewayError> {
        let store = self.store().await?;
        let path = object_store::path::Path::parse(format!("{folder}manifest"))
            .map_err(|e| GatewayError::Internal(format!("UNLOAD folder {folder:?}: {e}")))?;
        self.retention
            .keep(folder.to_owned(), Arc::clone(&store))
            .await;
        let read = async {
            let got = store
                .get(&path)
                .await
                .map_err(|e| store::storage_error("the UNLOAD manifest", &e))?;
            got.bytes()
                .await
                .map_err(|e| store::storage_error("the UNLOAD manifest", &e))
        };
        let text = read.await?;
        manifest::files(&self.location.bucket, &text).map_err(GatewayError::Storage)
    }

    /// Deletes `folder` now (a result that cannot be served).
    pub(crate) async fn discard(&self, folder: &str) {
        if let Ok(store) = self.store().await {
            self.retention.discard(folder, store).await;
        }
    }

    /// The batches of one file in `schema`.
    pub(crate) async fn batches(
        &self,
        key: &str,
        bytes: i64,
        schema: SchemaRef,
    ) -> Result<BoxStream<'static, Result<RecordBatch, GatewayError>>, GatewayError> {
        if !key.starts_with(&self.location.prefix) {
            return Err(GatewayError::ResultGone(format!(
                "UNLOAD file {key} is not under this gateway's --unload-s3-uri"
            )));
        }
        read::batches(self.store().await?, key, bytes, schema).await
    }
}

/// The IAM_ROLE clause's value: `default` or the quoted ARN(s).
fn role_clause(role: &str) -> String {
    if role.eq_ignore_ascii_case("default") {
        "default".to_owned()
    } else {
        format!("'{role}'")
    }
}

/// Whether a failure is the Data API refusing a result as too large.
pub(crate) fn is_result_too_large(error: &GatewayError) -> bool {
    let text = match error {
        GatewayError::StatementFailed { message, .. } => message.to_ascii_lowercase(),
        GatewayError::DataApi { source } => source.to_string().to_ascii_lowercase(),
        _ => return false,
    };
    text.contains("exceed")
        && (text.contains("result size") || text.contains("result set") || text.contains("limit"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unload() -> Unload {
        Unload::new(
            &UnloadConfig {
                unload_s3_uri: Some("s3://bucket/results".parse().expect("uri")),
                unload_iam_role: Some("arn:aws:iam::123456789012:role/unload".to_owned()),
                ..UnloadConfig::default()
            },
            &AwsSettings::default(),
            Duration::from_secs(60),
        )
        .expect("valid")
        .expect("configured")
    }

    #[test]
    fn the_statement_quotes_the_query_and_orders_only_when_asked() {
        let u = unload();
        let s = u.statement("select 'a''b' as x from t;");
        assert!(s.folder.starts_with("results/") && s.folder.ends_with('/'));
        assert_eq!(
            s.sql,
            format!(
                "UNLOAD ('select ''a''''b'' as x from t\n') TO 's3://bucket/{}' IAM_ROLE 'arn:aws:iam::123456789012:role/unload' FORMAT AS PARQUET MANIFEST VERBOSE",
                s.folder
            )
        );
        assert!(!s.ordered);
        let ordered = u.statement("select x from t order by x");
        assert!(ordered.ordered && ordered.sql.ends_with("PARALLEL OFF"));
        assert_ne!(s.folder, ordered.folder, "a folder of its own each");
    }

    #[test]
    fn what_unload_cannot_run_takes_the_page_path() {
        assert_eq!(Unload::eligible("select 1", false), Ok(()));
        assert_eq!(
            Unload::eligible("insert into t values (1)", false),
            Err(Ineligible::NotAQuery)
        );
        assert_eq!(
            Unload::eligible("select :a", true),
            Err(Ineligible::Parameters)
        );
        assert_eq!(
            Unload::eligible("select * from t limit 5", false),
            Err(Ineligible::Limit)
        );
    }

    #[test]
    fn the_configuration_is_checked() {
        let half = UnloadConfig {
            unload_s3_uri: Some("s3://b/".parse().expect("uri")),
            ..UnloadConfig::default()
        };
        assert!(Unload::new(&half, &AwsSettings::default(), Duration::from_secs(1)).is_err());
        let tiny = UnloadConfig {
            unload_s3_uri: Some("s3://b/".parse().expect("uri")),
            unload_iam_role: Some("default".to_owned()),
            unload_max_file_size: Some(crate::config::ByteSize::mib(1)),
            ..UnloadConfig::default()
        };
        assert!(Unload::new(&tiny, &AwsSettings::default(), Duration::from_secs(1)).is_err());
        assert!(
            Unload::new(
                &UnloadConfig::default(),
                &AwsSettings::default(),
                Duration::from_secs(1)
            )
            .expect("off")
            .is_none()
        );
    }

    #[test]
    fn the_result_cap_is_recognised() {
        let failed = |message: &str| GatewayError::StatementFailed {
            statement_id: "s".to_owned(),
            message: message.to_owned(),
        };
        assert!(is_result_too_large(&failed(
            "ERROR: Query result size exceeds the limit of 1000 bytes"
        )));
        assert!(!is_result_too_large(&failed(
            "ERROR: relation \"t\" does not exist"
        )));
    }
}
