//! PostgreSQL binary values → Redshift Data API values: the `Field` union of
//! GetStatementResult (JSON) and the CSV text of GetStatementResultV2.
//!
//! tokio-postgres always asks for binary results, so every type the emulator
//! supports is decoded here from PostgreSQL's binary wire format and printed the
//! way the Data API prints it (numeric as exact text, timestamps in the service's
//! format, bytes as base64 in JSON and hex in CSV).

use std::borrow::Cow;
use std::fmt::Write as _;

use base64::Engine as _;
use chrono::{Datelike as _, NaiveDate, NaiveDateTime, Timelike as _};
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

/// Decodes one binary column value.
pub(crate) fn decode(kind: Kind, raw: Option<&[u8]>) -> Result<Value<'_>, DecodeError> {
    let Some(raw) = raw else {
        return Ok(Value::Null);
    };
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
            Value::Double(f.to_string().parse::<f64>().unwrap_or(f64::from(f)))
        }
        Kind::Float8 => Value::Double(f64::from_be_bytes(be(kind, raw)?)),
        Kind::Numeric => Value::Str(Cow::Owned(numeric_text(raw).ok_or(DecodeError {
            kind,
            len: raw.len(),
        })?)),
        Kind::Text | Kind::Json => Value::Str(String::from_utf8_lossy(raw)),
        Kind::Jsonb => Value::Str(String::from_utf8_lossy(raw.get(1..).unwrap_or_default())),
        Kind::Bytea => Value::Blob(raw),
        Kind::Date => Value::Str(Cow::Owned(date_text(i32::from_be_bytes(be(kind, raw)?)))),
        Kind::Time => Value::Str(Cow::Owned(time_text(i64::from_be_bytes(be(kind, raw)?)))),
        Kind::TimeTz => {
            let micros = i64::from_be_bytes(be(kind, raw)?);
            let zone = i32::from_be_bytes(be(kind, raw.get(8..).unwrap_or_default())?);
            let mut text = time_text(micros);
            push_offset(&mut text, -zone);
            Value::Str(Cow::Owned(text))
        }
        Kind::Timestamp => Value::Str(Cow::Owned(timestamp_text(
            i64::from_be_bytes(be(kind, raw)?),
            false,
        ))),
        Kind::TimestampTz => Value::Str(Cow::Owned(timestamp_text(
            i64::from_be_bytes(be(kind, raw)?),
            true,
        ))),
        Kind::Interval => {
            let micros = i64::from_be_bytes(be(kind, raw)?);
            let days = i32::from_be_bytes(be(kind, raw.get(8..).unwrap_or_default())?);
            let months = i32::from_be_bytes(be(kind, raw.get(12..).unwrap_or_default())?);
            Value::Str(Cow::Owned(interval_text(months, days, micros)))
        }
        Kind::Uuid => {
            let b: [u8; 16] = be(kind, raw)?;
            Value::Str(Cow::Owned(uuid::Uuid::from_bytes(b).to_string()))
        }
        Kind::Other => match std::str::from_utf8(raw) {
            Ok(s) => Value::Str(Cow::Borrowed(s)),
            Err(_) => Value::Str(Cow::Owned(hex(raw))),
        },
    };
    Ok(value)
}

/// Lower-case hex of some bytes.
pub(crate) fn hex(raw: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len() * 2);
    for b in raw {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// PostgreSQL's binary numeric (base-10000 digits) → exact decimal text with
/// exactly `dscale` fractional digits, as `numeric::text` prints it.
pub(crate) fn numeric_text(raw: &[u8]) -> Option<String> {
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
        0xC000 => return Some("NaN".to_owned()),
        0xD000 => return Some("Infinity".to_owned()),
        0xF000 => return Some("-Infinity".to_owned()),
        _ => {}
    }
    let mut digits = Vec::with_capacity(ndigits);
    for i in 0..ndigits {
        digits.push(word(4 + i)?);
    }
    let digit = |pos: i32| -> i16 {
        // pos: index of the base-10000 group, 0 = the group with weight `weight`.
        usize::try_from(pos)
            .ok()
            .and_then(|p| digits.get(p).copied())
            .unwrap_or(0)
    };
    let mut out =
        String::with_capacity(usize::try_from(weight.max(0) * 4).unwrap_or(0) + dscale + 3);
    if sign == 0x4000 {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        for w in 0..=weight {
            let d = digit(w);
            if w == 0 {
                let _ = write!(out, "{d}");
            } else {
                let _ = write!(out, "{d:04}");
            }
        }
    }
    if dscale > 0 {
        out.push('.');
        let mut written = 0;
        let mut group = weight + 1;
        while written < dscale {
            let d = format!("{:04}", digit(group));
            for ch in d.chars() {
                if written == dscale {
                    break;
                }
                out.push(ch);
                written += 1;
            }
            group += 1;
        }
    }
    Some(out)
}

fn date_from_days(days: i32) -> Option<NaiveDate> {
    NaiveDate::from_num_days_from_ce_opt(days.checked_add(POSTGRES_EPOCH_DAYS_FROM_CE)?)
}

fn push_year_date(out: &mut String, date: NaiveDate) -> bool {
    let year = date.year();
    if year <= 0 {
        let _ = write!(out, "{:04}-{:02}-{:02}", 1 - year, date.month(), date.day());
        true
    } else {
        let _ = write!(out, "{:04}-{:02}-{:02}", year, date.month(), date.day());
        false
    }
}

/// `date` text: `2008-01-01`, `0044-03-15 BC`, `infinity`.
pub(crate) fn date_text(days: i32) -> String {
    match days {
        i32::MAX => return "infinity".to_owned(),
        i32::MIN => return "-infinity".to_owned(),
        _ => {}
    }
    let Some(date) = date_from_days(days) else {
        return days.to_string();
    };
    let mut out = String::with_capacity(13);
    if push_year_date(&mut out, date) {
        out.push_str(" BC");
    }
    out
}

fn push_fraction(out: &mut String, micros: u32, at_least_one: bool) {
    if micros == 0 {
        if at_least_one {
            out.push_str(".0");
        }
        return;
    }
    let mut frac = format!("{micros:06}");
    while frac.ends_with('0') {
        frac.pop();
    }
    out.push('.');
    out.push_str(&frac);
}

/// `time` text: `17:33:51`, `17:33:51.887`.
pub(crate) fn time_text(micros: i64) -> String {
    let secs = micros.div_euclid(MICROS_PER_SECOND);
    let frac = u32::try_from(micros.rem_euclid(MICROS_PER_SECOND)).unwrap_or(0);
    let mut out = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    push_fraction(&mut out, frac, false);
    out
}

fn push_offset(out: &mut String, offset_seconds: i32) {
    let sign = if offset_seconds < 0 { '-' } else { '+' };
    let abs = offset_seconds.unsigned_abs();
    let _ = write!(out, "{sign}{:02}", abs / 3600);
    if !abs.is_multiple_of(3600) {
        let _ = write!(out, ":{:02}", (abs / 60) % 60);
    }
    if !abs.is_multiple_of(60) {
        let _ = write!(out, ":{:02}", abs % 60);
    }
}

/// `timestamp` text `2020-08-21 17:33:51.88712` (at least one fractional digit,
/// as the Data API prints it) or `timestamptz` text `2021-06-21 10:28:00+00` (UTC).
pub(crate) fn timestamp_text(micros: i64, with_zone: bool) -> String {
    match micros {
        i64::MAX => return "infinity".to_owned(),
        i64::MIN => return "-infinity".to_owned(),
        _ => {}
    }
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .unwrap_or(NaiveDateTime::MIN);
    let Some(ts) = epoch.checked_add_signed(chrono::TimeDelta::microseconds(micros)) else {
        return micros.to_string();
    };
    let mut out = String::with_capacity(32);
    let bc = push_year_date(&mut out, ts.date());
    let _ = write!(
        out,
        " {:02}:{:02}:{:02}",
        ts.hour(),
        ts.minute(),
        ts.second()
    );
    push_fraction(&mut out, ts.nanosecond() / 1000, !with_zone);
    if with_zone {
        out.push_str("+00");
    }
    if bc {
        out.push_str(" BC");
    }
    out
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
        let sign = if micros < 0 { "-" } else { "" };
        let abs = micros.unsigned_abs();
        let secs = abs / 1_000_000;
        let mut t = format!(
            "{sign}{:02}:{:02}:{:02}",
            secs / 3600,
            (secs / 60) % 60,
            secs % 60
        );
        push_fraction(&mut t, u32::try_from(abs % 1_000_000).unwrap_or(0), false);
        parts.push(t);
    }
    parts.join(" ")
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: Option<&[u8]> = match b {
            b'"' => Some(b"\\\""),
            b'\\' => Some(b"\\\\"),
            b'\n' => Some(b"\\n"),
            b'\r' => Some(b"\\r"),
            b'\t' => Some(b"\\t"),
            0..=0x1f => None,
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            Some(e) => out.extend_from_slice(e),
            None => {
                let _ = std::io::Write::write_fmt(out, format_args!("\\u{b:04x}"));
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

fn write_double(out: &mut Vec<u8>, f: f64) {
    if f.is_nan() {
        out.extend_from_slice(b"\"NaN\"");
    } else if f.is_infinite() {
        out.extend_from_slice(if f > 0.0 {
            b"\"Infinity\""
        } else {
            b"\"-Infinity\""
        });
    } else {
        let mut b = ryu_like(f);
        out.append(&mut b);
    }
}

fn ryu_like(f: f64) -> Vec<u8> {
    // serde_json prints the shortest text that reads back to the same double.
    serde_json::to_vec(&f).unwrap_or_else(|_| b"0".to_vec())
}

/// Appends one Data API `Field` (exactly one member set) as JSON.
pub(crate) fn write_json_field(out: &mut Vec<u8>, value: &Value<'_>) {
    match value {
        Value::Null => out.extend_from_slice(b"{\"isNull\":true}"),
        Value::Bool(b) => out.extend_from_slice(if *b {
            b"{\"booleanValue\":true}"
        } else {
            b"{\"booleanValue\":false}"
        }),
        Value::Long(n) => {
            out.extend_from_slice(b"{\"longValue\":");
            let _ = std::io::Write::write_fmt(out, format_args!("{n}"));
            out.push(b'}');
        }
        Value::Double(f) => {
            out.extend_from_slice(b"{\"doubleValue\":");
            write_double(out, *f);
            out.push(b'}');
        }
        Value::Str(s) => {
            out.extend_from_slice(b"{\"stringValue\":");
            write_json_str(out, s);
            out.push(b'}');
        }
        Value::Blob(b) => {
            out.extend_from_slice(b"{\"blobValue\":\"");
            out.extend_from_slice(
                base64::engine::general_purpose::STANDARD
                    .encode(b)
                    .as_bytes(),
            );
            out.extend_from_slice(b"\"}");
        }
    }
}

/// Appends one CSV field (PostgreSQL's CSV convention: NULL is an unquoted empty
/// field, the empty string is `""`; booleans `t`/`f`; bytes as hex).
pub(crate) fn write_csv_field(out: &mut String, value: &Value<'_>) {
    match value {
        Value::Null => {}
        Value::Bool(b) => out.push(if *b { 't' } else { 'f' }),
        Value::Long(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Double(f) => {
            if f.is_nan() {
                out.push_str("NaN");
            } else if f.is_infinite() {
                out.push_str(if *f > 0.0 { "Infinity" } else { "-Infinity" });
            } else {
                out.push_str(&String::from_utf8_lossy(&ryu_like(*f)));
            }
        }
        Value::Str(s) => {
            if s.is_empty() || s.contains([',', '"', '\n', '\r']) {
                out.push('"');
                out.push_str(&s.replace('"', "\"\""));
                out.push('"');
            } else {
                out.push_str(s);
            }
        }
        // An empty value is quoted, or it would read as NULL.
        Value::Blob([]) => out.push_str("\"\""),
        Value::Blob(b) => out.push_str(&hex(b)),
    }
}

#[cfg(test)]
mod tests {
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

    #[test]
    fn json_and_csv_fields() {
        let mut out = Vec::new();
        write_json_field(&mut out, &Value::Str(Cow::Borrowed("a\"b\n\u{1}é")));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"stringValue":"a\"b\n\u0001é"}"#
        );
        let mut out = Vec::new();
        write_json_field(&mut out, &Value::Double(f64::NAN));
        assert_eq!(out, br#"{"doubleValue":"NaN"}"#);
        let mut csv = String::new();
        write_csv_field(&mut csv, &Value::Str(Cow::Borrowed("")));
        csv.push(',');
        write_csv_field(&mut csv, &Value::Null);
        csv.push(',');
        write_csv_field(&mut csv, &Value::Str(Cow::Borrowed("x,\"y\"")));
        assert_eq!(csv, "\"\",,\"x,\"\"y\"\"\"");
    }

    #[test]
    fn float4_reads_back_short() {
        let bytes = 0.1f32.to_be_bytes();
        let v = decode(Kind::Float4, Some(&bytes)).unwrap();
        assert_eq!(v, Value::Double(0.1));
    }
}
