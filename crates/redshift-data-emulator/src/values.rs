//! PostgreSQL binary values → Redshift Data API values: the `Field` union of
//! GetStatementResult (JSON) and the CSV text of GetStatementResultV2.
//!
//! tokio-postgres always asks for binary results, so every type the emulator
//! supports is decoded here from PostgreSQL's binary wire format and printed the
//! way the Data API prints it (numeric as exact text, timestamps in the service's
//! format, bytes as base64 in JSON and hex in CSV).

use chrono::{Datelike as _, NaiveDate};
use std::borrow::Cow;
use tokio_postgres::types::{FromSql, Type};

/// How a PostgreSQL column is decoded and which `Field` member carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Bool,
    Int2,
    Int4,
    Int8,
    Oid,
    Float4,
    Float8,
    Numeric,
    Text,
    Bytea,
    Date,
    Time,
    TimeTz,
    Timestamp,
    TimestampTz,
    Interval,
    Json,
    Jsonb,
    Uuid,
    /// Any other type: its binary form is shown as text when it is UTF-8
    /// (enums, unknown), otherwise as hex.
    Other,
}

impl Kind {
    /// The decoding for a PostgreSQL type.
    pub(crate) fn of(ty: &Type) -> Self {
        match *ty {
            Type::BOOL => Self::Bool,
            Type::INT2 => Self::Int2,
            Type::INT4 => Self::Int4,
            Type::INT8 => Self::Int8,
            Type::OID | Type::XID | Type::CID | Type::REGPROC | Type::REGCLASS | Type::REGTYPE => {
                Self::Oid
            }
            Type::FLOAT4 => Self::Float4,
            Type::FLOAT8 => Self::Float8,
            Type::NUMERIC => Self::Numeric,
            Type::TEXT
            | Type::VARCHAR
            | Type::BPCHAR
            | Type::NAME
            | Type::CHAR
            | Type::UNKNOWN
            | Type::XML => Self::Text,
            Type::BYTEA => Self::Bytea,
            Type::DATE => Self::Date,
            Type::TIME => Self::Time,
            Type::TIMETZ => Self::TimeTz,
            Type::TIMESTAMP => Self::Timestamp,
            Type::TIMESTAMPTZ => Self::TimestampTz,
            Type::INTERVAL => Self::Interval,
            Type::JSON => Self::Json,
            Type::JSONB => Self::Jsonb,
            Type::UUID => Self::Uuid,
            _ => Self::Other,
        }
    }

    /// Whether values of this kind are numbers with a sign (ColumnMetadata.isSigned).
    pub(crate) fn is_signed(self) -> bool {
        matches!(
            self,
            Self::Int2 | Self::Int4 | Self::Int8 | Self::Float4 | Self::Float8 | Self::Numeric
        )
    }

    /// Whether comparisons of this kind are case sensitive (ColumnMetadata.isCaseSensitive).
    pub(crate) fn is_case_sensitive(self) -> bool {
        matches!(self, Self::Text | Self::Json | Self::Jsonb | Self::Other)
    }
}

/// One decoded value, borrowing from the row buffer where it can.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value<'a> {
    Null,
    Bool(bool),
    Long(i64),
    Double(f64),
    Str(Cow<'a, str>),
    Blob(&'a [u8]),
}

/// The raw bytes of a column, whatever its type.
#[derive(Debug)]
pub(crate) struct RawValue<'a>(pub(crate) Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawValue<'a> {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(Some(raw)))
    }

    fn from_sql_null(_ty: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(None))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// A value that could not be decoded from its binary form.
#[derive(Debug, thiserror::Error)]
#[error("cannot decode a {kind:?} value of {len} bytes")]
pub(crate) struct DecodeError {
    kind: Kind,
    len: usize,
}

fn be<const N: usize>(kind: Kind, raw: &[u8]) -> Result<[u8; N], DecodeError> {
    raw.get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or(DecodeError {
            kind,
            len: raw.len(),
        })
}

const POSTGRES_EPOCH_DAYS_FROM_CE: i32 = 730_120; // 2000-01-01
const MICROS_PER_SECOND: i64 = 1_000_000;

/// Decodes one binary column value; printed kinds (numeric, dates, times,
/// intervals, uuid) are returned as owned text.
pub(crate) fn decode(kind: Kind, raw: Option<&[u8]>) -> Result<Value<'_>, DecodeError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    let mut text = String::new();
    if print(kind, raw, &mut text)? {
        return Ok(Value::Str(Cow::Owned(text)));
    }
    decode_unprinted(kind, raw)
}

/// Decodes one binary column value like [`decode`], printing the kinds that
/// need printing into `scratch` (cleared first) instead of a new `String`:
/// a result's rows reuse one buffer for all their values.
pub(crate) fn decode_into<'a>(
    kind: Kind,
    raw: Option<&'a [u8]>,
    scratch: &'a mut String,
) -> Result<Value<'a>, DecodeError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
    scratch.clear();
    if print(kind, raw, scratch)? {
        let text: &'a String = scratch;
        return Ok(Value::Str(Cow::Borrowed(text.as_str())));
    }
    decode_unprinted(kind, raw)
}

/// The values that are not printed: numbers, booleans, bytes and text.
fn decode_unprinted(kind: Kind, raw: &[u8]) -> Result<Value<'_>, DecodeError> {
    let value = match kind {
        Kind::Bool => Value::Bool(be::<1>(kind, raw)?[0] != 0),
        Kind::Int2 => Value::Long(i16::from_be_bytes(be(kind, raw)?).into()),
        Kind::Int4 => Value::Long(i32::from_be_bytes(be(kind, raw)?).into()),
        Kind::Oid => Value::Long(u32::from_be_bytes(be(kind, raw)?).into()),
        Kind::Int8 => Value::Long(i64::from_be_bytes(be(kind, raw)?)),
        Kind::Float4 => {
            // Print the shortest float4 text and read it back as float8, so 0.1::float4
            // arrives as 0.1 rather than 0.10000000149011612 (what PostgreSQL's text does).
            let f = f32::from_be_bytes(be(kind, raw)?);
            let mut buffer = ryu::Buffer::new();
            Value::Double(
                buffer
                    .format(f)
                    .parse::<f64>()
                    .unwrap_or_else(|_| f64::from(f)),
            )
        }
        Kind::Float8 => Value::Double(f64::from_be_bytes(be(kind, raw)?)),
        Kind::Text | Kind::Json => Value::Str(String::from_utf8_lossy(raw)),
        Kind::Jsonb => Value::Str(String::from_utf8_lossy(raw.get(1..).unwrap_or_default())),
        Kind::Bytea => Value::Blob(raw),
        Kind::Other => match std::str::from_utf8(raw) {
            Ok(s) => Value::Str(Cow::Borrowed(s)),
            Err(_) => Value::Str(Cow::Owned(hex(raw))),
        },
        Kind::Numeric
        | Kind::Date
        | Kind::Time
        | Kind::TimeTz
        | Kind::Timestamp
        | Kind::TimestampTz
        | Kind::Interval
        | Kind::Uuid => {
            return Err(DecodeError {
                kind,
                len: raw.len(),
            });
        }
    };
    Ok(value)
}

/// Appends the text of a printed kind to `out`; `false` when `kind` is not
/// printed (its value is decoded as it is).
fn print(kind: Kind, raw: &[u8], out: &mut String) -> Result<bool, DecodeError> {
    let error = || DecodeError {
        kind,
        len: raw.len(),
    };
    match kind {
        Kind::Numeric => push_numeric(out, raw).ok_or_else(error)?,
        Kind::Date => push_date(out, i32::from_be_bytes(be(kind, raw)?)),
        Kind::Time => push_time(out, i64::from_be_bytes(be(kind, raw)?)),
        Kind::TimeTz => {
            let micros = i64::from_be_bytes(be(kind, raw)?);
            let zone = i32::from_be_bytes(be(kind, raw.get(8..).unwrap_or_default())?);
            push_time(out, micros);
            push_offset(out, -zone);
        }
        Kind::Timestamp => push_timestamp(out, i64::from_be_bytes(be(kind, raw)?), false),
        Kind::TimestampTz => push_timestamp(out, i64::from_be_bytes(be(kind, raw)?), true),
        Kind::Interval => {
            let micros = i64::from_be_bytes(be(kind, raw)?);
            let days = i32::from_be_bytes(be(kind, raw.get(8..).unwrap_or_default())?);
            let months = i32::from_be_bytes(be(kind, raw.get(12..).unwrap_or_default())?);
            out.push_str(&interval_text(months, days, micros));
        }
        Kind::Uuid => {
            let b: [u8; 16] = be(kind, raw)?;
            let mut buffer = uuid::Uuid::encode_buffer();
            out.push_str(
                uuid::Uuid::from_bytes(b)
                    .hyphenated()
                    .encode_lower(&mut buffer),
            );
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Lower-case hex digits by value.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// Lower-case hex of some bytes.
pub(crate) fn hex(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    for &b in raw {
        out.push(char::from(HEX_DIGITS[usize::from(b >> 4)]));
        out.push(char::from(HEX_DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// Appends the decimal digits of `n`.
fn push_int(out: &mut String, n: impl itoa::Integer) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Appends `n` with at least `width` digits, zero-padded (`{n:0width$}`).
fn push_padded(out: &mut String, n: u32, width: usize) {
    let mut buffer = itoa::Buffer::new();
    let digits = buffer.format(n);
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(digits);
}

/// Appends one base-10000 group as exactly four digits.
fn push_group(out: &mut String, group: i16) {
    push_group_digits(out, group, 4);
}

/// Appends the first `digits` (at most four) of a base-10000 group written
/// as four digits.
fn push_group_digits(out: &mut String, group: i16, digits: usize) {
    let g = u32::from(group.unsigned_abs()).min(9999);
    for divisor in [1000, 100, 10, 1].into_iter().take(digits) {
        out.push(char::from(
            b'0' + u8::try_from(g / divisor % 10).unwrap_or(0),
        ));
    }
}

/// PostgreSQL's binary numeric (base-10000 digits) → exact decimal text with
/// exactly `dscale` fractional digits, as `numeric::text` prints it.
pub(crate) fn numeric_text(raw: &[u8]) -> Option<String> {
    let mut out = String::new();
    push_numeric(&mut out, raw)?;
    Some(out)
}

fn push_numeric(out: &mut String, raw: &[u8]) -> Option<()> {
    let word = |i: usize| -> Option<i16> {
        Some(i16::from_be_bytes(
            raw.get(i * 2..i * 2 + 2)?.try_into().ok()?,
        ))
    };
    let ndigits = usize::try_from(word(0)?).ok()?;
    let weight = i32::from(word(1)?);
    let sign = u16::from_be_bytes(raw.get(4..6)?.try_into().ok()?);
    let dscale = usize::try_from(word(3)?).ok()?;
    match sign {
        0xC000 => out.push_str("NaN"),
        0xD000 => out.push_str("Infinity"),
        0xF000 => out.push_str("-Infinity"),
        _ => {
            if raw.len() < 8 + ndigits * 2 {
                return None;
            }
            // pos: index of the base-10000 group, 0 = the group with weight `weight`.
            let digit = |pos: i32| -> i16 {
                usize::try_from(pos)
                    .ok()
                    .filter(|&p| p < ndigits)
                    .and_then(|p| word(4 + p))
                    .unwrap_or(0)
            };
            if sign == 0x4000 {
                out.push('-');
            }
            if weight < 0 {
                out.push('0');
            } else {
                push_int(out, digit(0));
                for w in 1..=weight {
                    push_group(out, digit(w));
                }
            }
            if dscale > 0 {
                out.push('.');
                let mut group = weight + 1;
                let mut left = dscale;
                while left >= 4 {
                    push_group(out, digit(group));
                    group += 1;
                    left -= 4;
                }
                if left > 0 {
                    push_group_digits(out, digit(group), left);
                }
            }
        }
    }
    Some(())
}

fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(POSTGRES_EPOCH_DAYS_FROM_CE)?)
}

/// Appends `YYYY-MM-DD` (the year of a BC date counted from 1 BC); `true`
/// when the date is BC.
fn push_year_date(out: &mut String, date: NaiveDate) -> bool {
    let year = date.year();
    let bc = year <= 0;
    let shown = if bc { 1 - year } else { year };
    push_padded(out, shown.unsigned_abs(), 4);
    out.push('-');
    push_padded(out, date.month(), 2);
    out.push('-');
    push_padded(out, date.day(), 2);
    bc
}

/// `date` text: `2008-01-01`, `0044-03-15 BC`, `infinity`.
pub(crate) fn date_text(days: i32) -> String {
    let mut out = String::with_capacity(13);
    push_date(&mut out, days);
    out
}

fn push_date(out: &mut String, days: i32) {
    match days {
        i32::MAX => return out.push_str("infinity"),
        i32::MIN => return out.push_str("-infinity"),
        _ => {}
    }
    let Some(date) = date_from_days(days) else {
        return push_int(out, days);
    };
    if push_year_date(out, date) {
        out.push_str(" BC");
    }
}

fn push_fraction(out: &mut String, micros: u32, at_least_one: bool) {
    if micros == 0 {
        if at_least_one {
            out.push_str(".0");
        }
        return;
    }
    let mut frac = micros;
    let mut width = 6;
    while frac.is_multiple_of(10) {
        frac /= 10;
        width -= 1;
    }
    out.push('.');
    push_padded(out, frac, width);
}

/// Appends `HH:MM:SS` of a count of seconds (hours not wrapped).
fn push_clock(out: &mut String, secs: u64) {
    let hours = secs / 3600;
    match u32::try_from(hours) {
        Ok(h) => push_padded(out, h, 2),
        Err(_) => push_int(out, hours),
    }
    out.push(':');
    push_padded(out, u32::try_from(secs / 60 % 60).unwrap_or(0), 2);
    out.push(':');
    push_padded(out, u32::try_from(secs % 60).unwrap_or(0), 2);
}

/// `time` text: `17:33:51`, `17:33:51.887`.
#[cfg(test)]
fn time_text(micros: i64) -> String {
    let mut out = String::with_capacity(15);
    push_time(&mut out, micros);
    out
}

fn push_time(out: &mut String, micros: i64) {
    let secs = micros.div_euclid(MICROS_PER_SECOND);
    let frac = u32::try_from(micros.rem_euclid(MICROS_PER_SECOND)).unwrap_or(0);
    match u64::try_from(secs) {
        Ok(secs) => push_clock(out, secs),
        // Not a time PostgreSQL sends; printed as its count of seconds.
        Err(_) => push_int(out, secs),
    }
    push_fraction(out, frac, false);
}

fn push_offset(out: &mut String, offset_seconds: i32) {
    out.push(if offset_seconds < 0 { '-' } else { '+' });
    let abs = offset_seconds.unsigned_abs();
    push_padded(out, abs / 3600, 2);
    if !abs.is_multiple_of(3600) {
        out.push(':');
        push_padded(out, (abs / 60) % 60, 2);
    }
    if !abs.is_multiple_of(60) {
        out.push(':');
        push_padded(out, abs % 60, 2);
    }
}

/// `timestamp` text `2020-08-21 17:33:51.88712` (at least one fractional digit,
/// as the Data API prints it) or `timestamptz` text `2021-06-21 10:28:00+00` (UTC).
pub(crate) fn timestamp_text(micros: i64, with_zone: bool) -> String {
    let mut out = String::with_capacity(32);
    push_timestamp(&mut out, micros, with_zone);
    out
}

const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

fn push_timestamp(out: &mut String, micros: i64, with_zone: bool) {
    match micros {
        i64::MAX => return out.push_str("infinity"),
        i64::MIN => return out.push_str("-infinity"),
        _ => {}
    }
    let day = i32::try_from(micros.div_euclid(MICROS_PER_DAY)).ok();
    let Some(date) = day.and_then(date_from_days) else {
        return push_int(out, micros);
    };
    let of_day = micros.rem_euclid(MICROS_PER_DAY);
    let bc = push_year_date(out, date);
    out.push(' ');
    push_clock(
        out,
        u64::try_from(of_day / MICROS_PER_SECOND).unwrap_or_default(),
    );
    push_fraction(
        out,
        u32::try_from(of_day % MICROS_PER_SECOND).unwrap_or_default(),
        !with_zone,
    );
    if with_zone {
        out.push_str("+00");
    }
    if bc {
        out.push_str(" BC");
    }
}

/// `interval` text in PostgreSQL's default style: `1 year 2 mons 3 days 04:05:06.5`.
pub(crate) fn interval_text(months: i32, days: i32, micros: i64) -> String {
    let mut parts: Vec<String> = Vec::new();
    let (years, mons) = (months / 12, months % 12);
    let plural = |n: i64, unit: &str| {
        if n == 1 {
            format!("{n} {unit}")
        } else {
            format!("{n} {unit}s")
        }
    };
    if years != 0 {
        parts.push(plural(years.into(), "year"));
    }
    if mons != 0 {
        parts.push(plural(mons.into(), "mon"));
    }
    if days != 0 {
        parts.push(plural(days.into(), "day"));
    }
    if micros != 0 || parts.is_empty() {
        let mut t = String::new();
        if micros < 0 {
            t.push('-');
        }
        let abs = micros.unsigned_abs();
        push_clock(&mut t, abs / 1_000_000);
        push_fraction(&mut t, u32::try_from(abs % 1_000_000).unwrap_or(0), false);
        parts.push(t);
    }
    parts.join(" ")
}

#[cfg(test)]
mod tests {
    use chrono::Timelike as _;

    use super::*;

    fn numeric(ndigits: i16, weight: i16, sign: u16, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&ndigits.to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn numeric_text_is_exact() {
        // 1.20 = digits [1, 2000], weight 0, dscale 2
        assert_eq!(
            numeric_text(&numeric(2, 0, 0, 2, &[1, 2000])).unwrap(),
            "1.20"
        );
        // -12345678.9 = [1234, 5678, 9000], weight 1, dscale 1
        assert_eq!(
            numeric_text(&numeric(3, 1, 0x4000, 1, &[1234, 5678, 9000])).unwrap(),
            "-12345678.9"
        );
        // 0.0001 = [1], weight -1, dscale 4
        assert_eq!(numeric_text(&numeric(1, -1, 0, 4, &[1])).unwrap(), "0.0001");
        // 0.00000001 = [1], weight -2, dscale 8
        assert_eq!(
            numeric_text(&numeric(1, -2, 0, 8, &[1])).unwrap(),
            "0.00000001"
        );
        // 100 = [100], weight 0, dscale 0 ; 10000 = [1], weight 1
        assert_eq!(numeric_text(&numeric(1, 0, 0, 0, &[100])).unwrap(), "100");
        assert_eq!(numeric_text(&numeric(1, 1, 0, 0, &[1])).unwrap(), "10000");
        assert_eq!(numeric_text(&numeric(0, 0, 0, 3, &[])).unwrap(), "0.000");
        assert_eq!(numeric_text(&numeric(0, 0, 0xC000, 0, &[])).unwrap(), "NaN");
    }

    #[test]
    fn timestamps_print_like_the_data_api() {
        assert_eq!(timestamp_text(0, false), "2000-01-01 00:00:00.0");
        assert_eq!(timestamp_text(0, true), "2000-01-01 00:00:00+00");
        assert_eq!(timestamp_text(1_500_000, false), "2000-01-01 00:00:01.5");
        assert_eq!(
            timestamp_text(-946_684_800_000_000 - 1, false),
            "1969-12-31 23:59:59.999999"
        );
        assert_eq!(date_text(0), "2000-01-01");
        assert_eq!(date_text(-730_120 - 365), "0001-01-01 BC");
        assert_eq!(time_text(3_723_000_100), "01:02:03.0001");
        assert_eq!(
            interval_text(14, 3, 14_706_500_000),
            "1 year 2 mons 3 days 04:05:06.5"
        );
        assert_eq!(interval_text(0, 0, 0), "00:00:00");
        assert_eq!(interval_text(0, -1, -1_000_000), "-1 days -00:00:01");
    }

    /// The printed texts, checked against chrono's own formatting over a wide
    /// sweep of values (the writers print digits by hand).
    #[test]
    fn printed_texts_agree_with_chrono() {
        let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap();
        let mut micros: i64 = -63_000_000_000_000_000; // about 1996 BC
        while micros < 250_000_000_000_000_000 {
            let ts = epoch + chrono::TimeDelta::microseconds(micros);
            let year = ts.year();
            let (shown, bc) = if year <= 0 {
                (1 - year, " BC")
            } else {
                (year, "")
            };
            let frac = ts.nanosecond() / 1000;
            let frac_text = if frac == 0 {
                String::new()
            } else {
                format!(".{frac:06}").trim_end_matches('0').to_owned()
            };
            let clock = format!(
                "{shown:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                ts.month(),
                ts.day(),
                ts.hour(),
                ts.minute(),
                ts.second()
            );
            let plain_frac = if frac == 0 {
                ".0".to_owned()
            } else {
                frac_text.clone()
            };
            assert_eq!(
                timestamp_text(micros, false),
                format!("{clock}{plain_frac}{bc}")
            );
            assert_eq!(
                timestamp_text(micros, true),
                format!("{clock}{frac_text}+00{bc}")
            );
            let days = i32::try_from(micros.div_euclid(86_400_000_000)).unwrap();
            assert_eq!(
                date_text(days),
                format!("{shown:04}-{:02}-{:02}{bc}", ts.month(), ts.day())
            );
            let of_day = micros.rem_euclid(86_400_000_000);
            assert_eq!(
                time_text(of_day),
                format!(
                    "{:02}:{:02}:{:02}{frac_text}",
                    ts.hour(),
                    ts.minute(),
                    ts.second()
                )
            );
            micros += 7_777_777_777_777 + micros.rem_euclid(999_983);
        }
        assert_eq!(timestamp_text(i64::MAX, false), "infinity");
        assert_eq!(date_text(i32::MIN), "-infinity");
    }

    /// Numeric text against the value it encodes, for every scale and weight
    /// of a sweep of digit groups.
    #[test]
    fn numeric_text_agrees_with_its_digits() {
        for groups in [&[1i16][..], &[9999, 1], &[12, 3456, 7890], &[5000]] {
            for weight in -3i16..4 {
                for dscale in 0i16..13 {
                    let n = i16::try_from(groups.len()).unwrap();
                    let raw = numeric(n, weight, 0, dscale, groups);
                    let text = numeric_text(&raw).unwrap();
                    // The same value from its groups, as a string of base-10 digits.
                    let all: String = groups.iter().map(|g| format!("{g:04}")).collect();
                    let point = 4 * (i32::from(weight) + 1);
                    let int: String = if point <= 0 {
                        "0".to_owned()
                    } else {
                        let p = usize::try_from(point).unwrap();
                        let padded = format!("{all:0<p$}");
                        let digits = padded[..p].trim_start_matches('0');
                        if digits.is_empty() {
                            "0".to_owned()
                        } else {
                            digits.to_owned()
                        }
                    };
                    let frac_digits: String = if point >= 0 {
                        all.get(usize::try_from(point).unwrap()..)
                            .unwrap_or("")
                            .to_owned()
                    } else {
                        "0".repeat(usize::try_from(-point).unwrap()) + &all
                    };
                    let scale = usize::try_from(dscale).unwrap();
                    let frac = format!("{frac_digits:0<scale$}");
                    let expected = if scale == 0 {
                        int
                    } else {
                        format!("{int}.{}", &frac[..scale])
                    };
                    assert_eq!(text, expected, "{groups:?} weight {weight} dscale {dscale}");
                }
            }
        }
        assert!(
            numeric_text(&numeric(3, 0, 0, 0, &[1])).is_none(),
            "too short"
        );
    }

    #[test]
    fn float4_reads_back_short() {
        let bytes = 0.1f32.to_be_bytes();
        let v = decode(Kind::Float4, Some(&bytes)).unwrap();
        assert_eq!(v, Value::Double(0.1));
    }
}
