//! The UNLOAD result path: where Redshift writes large results as Parquet,
//! the role it writes them with, and when queries take that path.

use std::path::PathBuf;

use super::units::ByteSize;

/// When a query's result is read through `UNLOAD … FORMAT PARQUET` rather
/// than the Data API's pages (the default of the `unload` session option and
/// the `rsfs-unload` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum UnloadMode {
    /// Only when the Data API refuses a result as too large: the query is
    /// run again through UNLOAD, once.
    #[default]
    Auto,
    /// Every query that UNLOAD can run (no bound parameters, no top-level
    /// LIMIT), in a transaction too.
    On,
    /// Never, not even past the Data API's result cap.
    Off,
}

impl std::str::FromStr for UnloadMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "on" | "true" | "1" | "yes" => Ok(Self::On),
            "off" | "false" | "0" | "no" => Ok(Self::Off),
            other => Err(format!("`{other}` is not an unload mode (auto, on or off)")),
        }
    }
}

/// A validated `s3://bucket/prefix/` location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, empty or ending in `/`.
    pub prefix: String,
}

impl std::str::FromStr for S3Uri {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s
            .strip_prefix("s3://")
            .ok_or_else(|| format!("`{s}` is not an s3:// URI"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(format!("`{s}` names no bucket"));
        }
        if prefix.contains('\'') || bucket.contains('\'') {
            return Err(format!(
                "`{s}` has a quote, which S3 keys of UNLOAD may not"
            ));
        }
        let mut prefix = prefix.to_owned();
        if !prefix.is_empty() && !prefix.ends_with('/') {
            prefix.push('/');
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix,
        })
    }
}

impl std::fmt::Display for S3Uri {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

/// UNLOAD settings (flags and `RSFS_UNLOAD_*` variables). Without
/// `--unload-s3-uri` and `--unload-iam-role` the UNLOAD path is off.
#[derive(Debug, Clone, Default, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Unload")]
pub struct UnloadConfig {
    /// Where Redshift writes UNLOAD results (`s3://bucket/prefix/`); each
    /// result gets a folder of its own under it, deleted when the result
    /// leaves the cache (`--cache-ttl`).
    #[arg(long, env = "RSFS_UNLOAD_S3_URI", value_parser = clap::value_parser!(S3Uri))]
    pub unload_s3_uri: Option<S3Uri>,
    /// The IAM role Redshift assumes to write to that location (its
    /// `IAM_ROLE`; `default` for the cluster's default role).
    #[arg(long, env = "RSFS_UNLOAD_IAM_ROLE")]
    pub unload_iam_role: Option<String>,
    /// When queries read their results through UNLOAD: auto (past the Data
    /// API's result cap), on (always), off. A client chooses per session
    /// (session option `unload`) or per call (header `rsfs-unload`).
    #[arg(long, env = "RSFS_UNLOAD_MODE", value_enum, default_value_t = UnloadMode::Auto)]
    pub unload_mode: UnloadMode,
    /// Largest Parquet file UNLOAD writes (its MAXFILESIZE, 5MiB to 6.2GB;
    /// default Redshift's own): smaller files, more endpoints read in parallel.
    #[arg(long, env = "RSFS_UNLOAD_MAX_FILE_SIZE")]
    pub unload_max_file_size: Option<ByteSize>,
    /// S3 endpoint URL for an S3-compatible store (also read from
    /// AWS_ENDPOINT_URL_S3); path-style requests.
    #[arg(long, env = "RSFS_UNLOAD_S3_ENDPOINT")]
    pub unload_s3_endpoint: Option<String>,
    /// Read `s3://bucket/key` as the file `DIR/bucket/key` (the emulator's
    /// `--s3-local-dir`; `local` sets both).
    #[arg(long, env = "RSFS_UNLOAD_LOCAL_DIR")]
    pub unload_local_dir: Option<PathBuf>,
}

impl UnloadConfig {
    /// Whether the UNLOAD path is configured.
    pub fn enabled(&self) -> bool {
        self.unload_s3_uri.is_some() && self.unload_iam_role.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_uris_are_checked_and_end_in_a_slash() {
        let uri: S3Uri = "s3://bucket/a/b".parse().expect("uri");
        assert_eq!(uri.bucket, "bucket");
        assert_eq!(uri.prefix, "a/b/");
        assert_eq!(uri.to_string(), "s3://bucket/a/b/");
        let bare: S3Uri = "s3://bucket".parse().expect("bucket only");
        assert_eq!(bare.prefix, "");
        for bad in ["bucket/a", "s3:///a", "s3://b/it's/"] {
            assert!(bad.parse::<S3Uri>().is_err(), "{bad}");
        }
    }

    #[test]
    fn modes_parse_from_headers_and_options() {
        assert_eq!("ON".parse::<UnloadMode>(), Ok(UnloadMode::On));
        assert_eq!("false".parse::<UnloadMode>(), Ok(UnloadMode::Off));
        assert_eq!(" auto ".parse::<UnloadMode>(), Ok(UnloadMode::Auto));
        assert!("sometimes".parse::<UnloadMode>().is_err());
    }
}
