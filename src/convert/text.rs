//! Exact parsers for the Data API's text forms of values: decimals without
//! floating point, dates, timestamps (with zone offsets and BC), times, hex.

use chrono::NaiveDate;

/// Days from 0001-01-01 (CE day 1) to 1970-01-01.
const UNIX_EPOCH_DAYS_FROM_CE: i64 = 719_163;
const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Parses a decimal text into an integer scaled by `10^scale`, exactly.
/// Extra fractional digits are accepted only when they are zeros.
pub(crate) fn decimal(text: &str, scale: u32) -> Option<i128> {
    let s = text.trim();
    let (negative, digits) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, f),
        None => (digits, ""),
    };
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut value: i128 = 0;
    for b in int_part.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    let frac = frac_part.as_bytes();
    for i in 0..scale as usize {
        let d = match frac.get(i) {
            Some(b) if b.is_ascii_digit() => i128::from(b - b'0'),
            Some(_) => return None,
            None => 0,
        };
        value = value.checked_mul(10)?.checked_add(d)?;
    }
    if frac.iter().skip(scale as usize).any(|b| *b != b'0') {
        return None;
    }
    Some(if negative { -value } else { value })
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || s.len() > 18 {
        return None;
    }
    let mut n = 0i64;
    for b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        n = n * 10 + i64::from(b - b'0');
    }
    Some(n)
}

/// Splits a trailing ` BC` off.
fn era(s: &str) -> (&str, bool) {
    match s.strip_suffix(" BC") {
        Some(rest) => (rest, true),
        None => (s, false),
    }
}

/// `YYYY-MM-DD` (with a ` BC` suffix for years before 1) → days since 1970-01-01.
fn days(date: &str, bc: bool) -> Option<i64> {
    let b = date.as_bytes();
    let dash = date.rfind('-').filter(|&i| i >= 3)?;
    let first = date[..dash].rfind('-')?;
    let year = digits(&b[..first])?;
    let month = digits(&b[first + 1..dash])?;
    let day = digits(&b[dash + 1..])?;
    let year = i32::try_from(if bc { 1 - year } else { year }).ok()?;
    let d = NaiveDate::from_ymd_opt(year, u32::try_from(month).ok()?, u32::try_from(day).ok()?)?;
    Some(i64::from(d.num_days_from_ce_checked()?) - UNIX_EPOCH_DAYS_FROM_CE)
}

trait CeDays {
    fn num_days_from_ce_checked(&self) -> Option<i32>;
}

impl CeDays for NaiveDate {
    fn num_days_from_ce_checked(&self) -> Option<i32> {
        Some(chrono::Datelike::num_days_from_ce(self))
    }
}

/// A `date` text → days since the Unix epoch (Arrow Date32).
pub(crate) fn date32(text: &str) -> Option<i32> {
    match text {
        "infinity" => return Some(i32::MAX),
        "-infinity" => return Some(i32::MIN),
        _ => {}
    }
    let (date, bc) = era(text.trim());
    i32::try_from(days(date, bc)?).ok()
}

/// `HH:MM:SS[.ffffff]` → microseconds since midnight.
pub(crate) fn time_micros(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let h = digits(&b[0..2])?;
    let m = digits(&b[3..5])?;
    let s = digits(&b[6..8])?;
    if h > 24 || m > 59 || s > 60 {
        return None;
    }
    let mut micros = ((h * 60 + m) * 60 + s) * 1_000_000;
    let rest = &b[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        if frac.is_empty() || frac.len() > 6 {
            return None;
        }
        let n = digits(frac)?;
        micros += n * 10i64.pow(6 - u32::try_from(frac.len()).ok()?);
    } else if !rest.is_empty() {
        return None;
    }
    Some(micros)
}

/// A zone offset `+HH`, `-HH:MM`, `+HH:MM:SS` → seconds east of UTC.
fn offset_seconds(text: &str) -> Option<i64> {
    let (sign, rest) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    let mut parts = rest.split(':');
    let h = digits(parts.next()?.as_bytes())?;
    let m = parts.next().map_or(Some(0), |p| digits(p.as_bytes()))?;
    let s = parts.next().map_or(Some(0), |p| digits(p.as_bytes()))?;
    if parts.next().is_some() {
        return None;
    }
    Some(sign * (h * 3600 + m * 60 + s))
}

/// A `timestamp` or `timestamptz` text → microseconds since the Unix epoch (UTC).
pub(crate) fn timestamp_micros(text: &str) -> Option<i64> {
    match text {
        "infinity" => return Some(i64::MAX),
        "-infinity" => return Some(i64::MIN),
        _ => {}
    }
    let (text, bc) = era(text.trim());
    let (date, time) = text.split_once([' ', 'T'])?;
    let day = days(date, bc)?;
    // The zone starts at the first + or - after the seconds.
    let zone_at = time
        .char_indices()
        .skip(8)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map(|(i, _)| i);
    let (clock, offset) = match zone_at {
        Some(i) => (&time[..i], offset_seconds(&time[i..])?),
        None => match time.strip_suffix('Z') {
            Some(clock) => (clock, 0),
            None => (time, 0),
        },
    };
    let micros = time_micros(clock)?;
    day.checked_mul(MICROS_PER_DAY)?
        .checked_add(micros)?
        .checked_sub(offset * 1_000_000)
}

/// Hex text (optionally `\x`-prefixed) → bytes.
pub(crate) fn hex(text: &str) -> Option<Vec<u8>> {
    let t = text.strip_prefix("\\x").unwrap_or(text);
    if !t.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |c: u8| -> Option<u8> {
        match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            b'A'..=b'F' => Some(c - b'A' + 10),
            _ => None,
        }
    };
    t.as_bytes()
        .chunks(2)
        .map(|p| Some(nibble(p[0])? << 4 | nibble(p[1])?))
        .collect()
}

/// `t`/`f`/`true`/`false`/`1`/`0` → bool.
pub(crate) fn boolean(text: &str) -> Option<bool> {
    match text {
        "t" | "true" | "TRUE" | "True" | "1" | "y" | "yes" => Some(true),
        "f" | "false" | "FALSE" | "False" | "0" | "n" | "no" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_exact() {
        assert_eq!(decimal("1.20", 2), Some(120));
        assert_eq!(decimal("-0.5", 3), Some(-500));
        assert_eq!(decimal("12", 2), Some(1200));
        assert_eq!(decimal("1.2300", 2), Some(123));
        assert_eq!(decimal("1.234", 2), None, "would round");
        assert_eq!(
            decimal("-9999999999999999999999999999.9999999999", 10),
            Some(-99_999_999_999_999_999_999_999_999_999_999_999_999)
        );
        assert_eq!(decimal("abc", 0), None);
        assert_eq!(decimal("", 0), None);
        assert_eq!(decimal("1e5", 0), None);
    }

    #[test]
    fn dates_and_timestamps() {
        assert_eq!(date32("1970-01-01"), Some(0));
        assert_eq!(date32("1969-12-31"), Some(-1));
        assert_eq!(date32("2008-01-01"), Some(13_879));
        assert_eq!(date32("0001-01-01 BC"), Some(-719_528));
        assert_eq!(timestamp_micros("1970-01-01 00:00:00.0"), Some(0));
        assert_eq!(timestamp_micros("1970-01-01 00:00:01.5"), Some(1_500_000));
        assert_eq!(timestamp_micros("1969-12-31 23:59:59.999999"), Some(-1));
        assert_eq!(
            timestamp_micros("2021-06-21 10:28:00+00"),
            Some(1_624_271_280_000_000)
        );
        assert_eq!(
            timestamp_micros("2021-06-21 12:28:00+02"),
            timestamp_micros("2021-06-21 10:28:00+00")
        );
        assert_eq!(
            timestamp_micros("2021-06-21 05:58:00-04:30"),
            timestamp_micros("2021-06-21 10:28:00+00")
        );
        assert_eq!(time_micros("23:59:59.5"), Some(86_399_500_000));
        assert_eq!(time_micros("1:2:3"), None);
        assert_eq!(timestamp_micros("garbage"), None);
    }

    #[test]
    fn hex_and_bools() {
        assert_eq!(hex("\\xdeadBEEF"), Some(vec![0xde, 0xad, 0xbe, 0xef]));
        assert_eq!(hex("abc"), None);
        assert_eq!(boolean("t"), Some(true));
        assert_eq!(boolean("maybe"), None);
    }
}
