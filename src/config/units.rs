//! Parsed values for flags: durations (`30s`, `5m`, `1h`, `500ms`; a bare
//! number is seconds) and byte sizes (`512MiB`, `4GiB`, `64KB`; a bare number
//! is bytes). Both print the way they parse, so `--help` shows defaults in
//! the form a user would type.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// A duration given as `500ms`, `30s`, `5m`, `2h` or `1d` (a bare number is seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct HumanDuration(pub Duration);

impl HumanDuration {
    /// `n` seconds.
    pub const fn secs(n: u64) -> Self {
        Self(Duration::from_secs(n))
    }

    /// The duration.
    pub const fn get(self) -> Duration {
        self.0
    }
}

/// Why a flag value did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UnitError(String);

/// Splits `42unit` into its number and unit (the unit may be empty).
fn number_and_unit(s: &str) -> Result<(u64, &str), UnitError> {
    let s = s.trim();
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(end);
    let n = digits
        .parse::<u64>()
        .map_err(|_| UnitError(format!("`{s}` does not start with a whole number")))?;
    Ok((n, unit.trim()))
}

impl FromStr for HumanDuration {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (n, unit) = number_and_unit(s)?;
        let seconds = |factor: u64| {
            n.checked_mul(factor)
                .map(Duration::from_secs)
                .ok_or_else(|| UnitError(format!("`{s}` is too long")))
        };
        let duration = match unit {
            "ms" => Duration::from_millis(n),
            "" | "s" => Duration::from_secs(n),
            "m" | "min" => seconds(60)?,
            "h" => seconds(3600)?,
            "d" => seconds(86_400)?,
            other => {
                return Err(UnitError(format!(
                    "unknown unit `{other}` in `{s}`: use ms, s, m, h or d"
                )));
            }
        };
        Ok(Self(duration))
    }
}

impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = self.0;
        if d.subsec_millis() != 0 || d.is_zero() {
            return write!(f, "{}ms", d.as_millis());
        }
        let s = d.as_secs();
        for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60)] {
            if s.is_multiple_of(size) {
                return write!(f, "{}{unit}", s / size);
            }
        }
        write!(f, "{s}s")
    }
}

/// A size in bytes given as `512MiB`, `4GiB`, `64KB` or a bare number of bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// `n` KiB.
    pub const fn kib(n: u64) -> Self {
        Self(n << 10)
    }

    /// `n` MiB.
    pub const fn mib(n: u64) -> Self {
        Self(n << 20)
    }

    /// `n` GiB.
    pub const fn gib(n: u64) -> Self {
        Self(n << 30)
    }

    /// The number of bytes.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The number of bytes as a `usize` (saturating).
    pub fn as_usize(self) -> usize {
        usize::try_from(self.0).unwrap_or(usize::MAX)
    }
}

impl FromStr for ByteSize {
    type Err = UnitError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (n, unit) = number_and_unit(s)?;
        let factor: u64 = match unit.to_ascii_lowercase().as_str() {
            "" | "b" => 1,
            "kb" => 1000,
            "kib" | "k" => 1 << 10,
            "mb" => 1_000_000,
            "mib" | "m" => 1 << 20,
            "gb" => 1_000_000_000,
            "gib" | "g" => 1 << 30,
            "tb" => 1_000_000_000_000,
            "tib" | "t" => 1 << 40,
            other => {
                return Err(UnitError(format!(
                    "unknown unit `{other}` in `{s}`: use B, KiB, MiB, GiB, TiB (or KB, MB, GB, TB)"
                )));
            }
        };
        n.checked_mul(factor)
            .map(Self)
            .ok_or_else(|| UnitError(format!("`{s}` is too large")))
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        for (unit, shift) in [("TiB", 40), ("GiB", 30), ("MiB", 20), ("KiB", 10)] {
            if n != 0 && n.is_multiple_of(1 << shift) {
                return write!(f, "{}{unit}", n >> shift);
            }
        }
        write!(f, "{n}B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_and_print_alike() {
        for (text, secs) in [("30s", 30), ("5m", 300), ("1h", 3600), ("2d", 172_800)] {
            let d: HumanDuration = text.parse().expect(text);
            assert_eq!(d.get(), Duration::from_secs(secs));
            assert_eq!(d.to_string(), text);
        }
        assert_eq!(
            "3600".parse::<HumanDuration>().expect("bare"),
            HumanDuration::secs(3600)
        );
        assert_eq!(HumanDuration::secs(3600).to_string(), "1h");
        assert_eq!(
            "250ms".parse::<HumanDuration>().expect("ms").get(),
            Duration::from_millis(250)
        );
        assert_eq!(HumanDuration::secs(90).to_string(), "90s");
        assert_eq!(HumanDuration::secs(0).to_string(), "0ms");
        assert_eq!(
            "0".parse::<HumanDuration>().expect("zero").get(),
            Duration::ZERO
        );
    }

    #[test]
    fn bad_durations_say_why() {
        for bad in ["", "s", "5 weeks", "-1s", "1.5h", "99999999999999999999d"] {
            assert!(bad.parse::<HumanDuration>().is_err(), "{bad}");
        }
        assert!(
            "5y".parse::<HumanDuration>()
                .expect_err("unit")
                .to_string()
                .contains("unknown unit")
        );
    }

    #[test]
    fn sizes_parse_and_print_alike() {
        assert_eq!(
            "512MiB".parse::<ByteSize>().expect("MiB"),
            ByteSize::mib(512)
        );
        assert_eq!("4GiB".parse::<ByteSize>().expect("GiB"), ByteSize::gib(4));
        assert_eq!("64KB".parse::<ByteSize>().expect("KB").get(), 64_000);
        assert_eq!(
            "1073741824".parse::<ByteSize>().expect("bare"),
            ByteSize::gib(1)
        );
        assert_eq!(ByteSize::mib(64).to_string(), "64MiB");
        assert_eq!(ByteSize(1000).to_string(), "1000B");
        assert_eq!(ByteSize::kib(1536).to_string(), "1536KiB");
        assert!("12 parsecs".parse::<ByteSize>().is_err());
        assert!("99999999999TiB".parse::<ByteSize>().is_err());
    }
}
