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

/// The memory this process may use: the cgroup limit of its container
/// (v2 `memory.max`, or v1 `memory.limit_in_bytes`) when there is one, else
/// the machine's total (`/proc/meminfo` shows the node's memory inside a
/// container, not the pod's limit).
fn total_memory() -> Option<u64> {
    let machine = machine_memory();
    let limit = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .find_map(|path| cgroup_limit(&std::fs::read_to_string(path).ok()?));
    match (limit, machine) {
        (Some(l), Some(m)) => Some(l.min(m)),
        (l, m) => l.or(m),
    }
}

/// A cgroup memory limit file's value; `None` for `max` (no limit).
fn cgroup_limit(text: &str) -> Option<u64> {
    text.trim().parse().ok()
}

fn machine_memory() -> Option<u64> {
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
    /// The capacity in bytes: `--cache-bytes`, else a quarter of the
    /// memory the process may use (its container's limit), at most 4 GiB.
    pub fn capacity(&self) -> u64 {
        self.cache_bytes.map_or_else(
            || total_memory().map_or(512 << 20, |m| (m / 4).min(4 << 30)),
            ByteSize::get,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cgroup_limit_is_read_and_max_is_none() {
        assert_eq!(cgroup_limit("1610612736\n"), Some(1_610_612_736));
        assert_eq!(cgroup_limit("max\n"), None);
    }
}
