//! How queries run: the Data API result format, how statements are waited
//! for, and reuse of finished statements.

use super::units::HumanDuration;
use crate::dataapi::ResultFormat;

/// Which Data API result format the gateway reads results in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ResultFormatSetting {
    /// Probe at start-up: CSV when a query of the values CSV gets wrong most
    /// easily converts to identical Arrow from JSON and from CSV, JSON
    /// otherwise; JSON for good after the first CSV page that cannot be read.
    #[default]
    Auto,
    /// GetStatementResultV2 (CSV): measured 2× faster end to end than JSON.
    Csv,
    /// GetStatementResult (JSON): one typed value per field.
    Json,
}

impl ResultFormatSetting {
    /// The fixed format, `None` for `auto`.
    pub fn fixed(self) -> Option<ResultFormat> {
        match self {
            Self::Auto => None,
            Self::Csv => Some(ResultFormat::Csv),
            Self::Json => Some(ResultFormat::Json),
        }
    }
}

impl From<ResultFormat> for ResultFormatSetting {
    fn from(format: ResultFormat) -> Self {
        match format {
            ResultFormat::Csv => Self::Csv,
            ResultFormat::Json => Self::Json,
        }
    }
}

/// Default WaitTimeSeconds of each DescribeStatement long poll.
pub(super) const DEFAULT_LONG_POLL: HumanDuration = HumanDuration::secs(20);
/// Default reuse window (zero: off).
pub(super) const DEFAULT_REUSE: HumanDuration = HumanDuration::secs(0);
/// Default finished statements remembered for reuse.
pub(super) const DEFAULT_REUSE_ENTRIES: u64 = 10_000;

/// Parses a long-poll wait: whole seconds from 0 (off) to 30 (the Data API's most).
fn long_poll(s: &str) -> Result<HumanDuration, String> {
    let d: HumanDuration = s.parse().map_err(|e| format!("{e}"))?;
    if d.get().subsec_nanos() != 0 || d.get().as_secs() > 30 {
        return Err("the long poll is whole seconds from 0 (off) to 30".to_owned());
    }
    Ok(d)
}

/// How queries run (flags and `RSFS_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Query")]
pub struct QueryConfig {
    /// Data API result format: auto (probe CSV against JSON at start-up and
    /// use CSV only if they agree), csv (GetStatementResultV2) or json
    /// (GetStatementResult).
    #[arg(long, env = "RSFS_RESULT_FORMAT", value_enum, default_value_t = ResultFormatSetting::Auto)]
    pub result_format: ResultFormatSetting,
    /// WaitTimeSeconds of each DescribeStatement long poll, up to 30s (0 polls with backoff instead).
    #[arg(long, alias = "long-poll-seconds", env = "RSFS_LONG_POLL", default_value_t = DEFAULT_LONG_POLL, value_parser = long_poll)]
    pub long_poll: HumanDuration,
    /// Reuse a finished statement for the same SQL, parameters, database and
    /// principal for this long, and run identical concurrent queries once
    /// (0 = off: every query runs).
    #[arg(long, alias = "reuse-seconds", env = "RSFS_REUSE", default_value_t = DEFAULT_REUSE)]
    pub reuse: HumanDuration,
    /// Finished statements remembered for reuse.
    #[arg(long, env = "RSFS_REUSE_ENTRIES", default_value_t = DEFAULT_REUSE_ENTRIES)]
    pub reuse_entries: u64,
    /// Run only statements that read: updates, DDL, ingest and queries with a
    /// writing keyword (`SELECT … INTO`) get PERMISSION_DENIED, and GetSqlInfo
    /// says read-only. (A read-only Redshift user is the stronger guarantee.)
    #[arg(long, env = "RSFS_READ_ONLY")]
    pub read_only: bool,
}

impl Default for QueryConfig {
    fn default() -> Self {
        Self {
            result_format: ResultFormatSetting::Auto,
            long_poll: DEFAULT_LONG_POLL,
            reuse: DEFAULT_REUSE,
            reuse_entries: DEFAULT_REUSE_ENTRIES,
            read_only: false,
        }
    }
}

impl QueryConfig {
    /// WaitTimeSeconds for DescribeStatement, `None` when long polling is off.
    pub fn long_poll_seconds(&self) -> Option<i32> {
        let seconds = self.long_poll.get().as_secs();
        (seconds > 0).then(|| i32::try_from(seconds).unwrap_or(30))
    }
}
