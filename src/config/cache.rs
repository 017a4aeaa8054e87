//! The results cache: its capacity and how long a result stays.

use super::units::{ByteSize, HumanDuration};

/// Default time a result stays cached.
pub(super) const DEFAULT_CACHE_TTL: HumanDuration = HumanDuration::secs(3600);

/// Cache settings (flags and `RSFS_CACHE_*` variables).
#[derive(Debug, Clone, PartialEq, Eq, clap::Args)]
#[command(next_help_heading = "Cache")]
pub struct CacheConfig {
    /// Bytes of Arrow data the cache may hold (default: a quarter of memory, at most 4 GiB).
    #[arg(long = "cache-bytes", env = "RSFS_CACHE_BYTES")]
    pub cache_bytes: Option<ByteSize>,
    /// How long a result stays cached (the Data API keeps results 24 h).
    #[arg(long = "cache-ttl", alias = "cache-ttl-seconds", env = "RSFS_CACHE_TTL", default_value_t = DEFAULT_CACHE_TTL)]
    pub cache_ttl: HumanDuration,
}

impl Default for CacheConfig {
    fn default() -> Self {
        Self {
            cache_bytes: None,
            cache_ttl: DEFAULT_CACHE_TTL,
        }
    }
}

/// Total memory of this machine (or container limit, as `/proc/meminfo` reports it).
fn total_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

impl CacheConfig {
    /// The capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.cache_bytes.map_or_else(
            || total_memory().map_or(512 << 20, |m| (m / 4).min(4 << 30)),
            ByteSize::get,
        )
    }
}
