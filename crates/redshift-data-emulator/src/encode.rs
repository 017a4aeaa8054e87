//! How retained rows are written: a Data API `Field` as JSON, and a CSV field
//! already JSON-escaped (a CSV page is one JSON string, so rows are stored in
//! their escaped form and a page is a concatenation of rows).
//!
//! Every writer appends to the result's one buffer; none allocates per value.

use base64::Engine as _;

use crate::values::{HEX_DIGITS, Value};

/// For each byte: 0 when it stands as it is inside a JSON string, otherwise
/// the letter of its escape (`u` for `\u00XX`).
static ESCAPES: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Appends `text` JSON-escaped, without the enclosing quotes; with
/// `double_quotes` each `"` is written twice first (CSV's quoting).
fn write_escaped(out: &mut Vec<u8>, text: &str, double_quotes: bool) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape = ESCAPES[usize::from(b)];
        if escape == 0 {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match escape {
            b'u' => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX_DIGITS[usize::from(b >> 4)]);
                out.push(HEX_DIGITS[usize::from(b & 0xf)]);
            }
            b'"' if double_quotes => out.extend_from_slice(b"\\\"\\\""),
            letter => out.extend_from_slice(&[b'\\', letter]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends `text` as a JSON string literal.
pub(crate) fn write_json_str(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    write_escaped(out, text, false);
    out.push(b'"');
}

fn write_long(out: &mut Vec<u8>, n: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// The text of a finite double: the shortest that reads back to the same
/// value (what serde_json prints).
fn write_finite(out: &mut Vec<u8>, f: f64) {
    out.extend_from_slice(ryu::Buffer::new().format_finite(f).as_bytes());
}

fn non_finite(f: f64) -> Option<&'static [u8]> {
    if f.is_nan() {
        Some(b"NaN")
    } else if f.is_infinite() {
        Some(if f > 0.0 { b"Infinity" } else { b"-Infinity" })
    } else {
        None
    }
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
            write_long(out, *n);
            out.push(b'}');
        }
        Value::Double(f) => {
            out.extend_from_slice(b"{\"doubleValue\":");
            match non_finite(*f) {
                Some(text) => {
                    out.push(b'"');
                    out.extend_from_slice(text);
                    out.push(b'"');
                }
                None => write_finite(out, *f),
            }
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

/// A CSV field's quote, JSON-escaped.
const QUOTE: &[u8] = b"\\\"";

/// Appends one CSV field, JSON-escaped (PostgreSQL's CSV convention: NULL is
/// an unquoted empty field, or `""` when `quoted_null`; the empty string is
/// `""`; booleans `t`/`f`; bytes as hex).
pub(crate) fn write_csv_field(out: &mut Vec<u8>, value: &Value<'_>, quoted_null: bool) {
    match value {
        Value::Null if quoted_null => {
            out.extend_from_slice(QUOTE);
            out.extend_from_slice(QUOTE);
        }
        Value::Null => {}
        Value::Bool(b) => out.push(if *b { b't' } else { b'f' }),
        Value::Long(n) => write_long(out, *n),
        Value::Double(f) => match non_finite(*f) {
            Some(text) => out.extend_from_slice(text),
            None => write_finite(out, *f),
        },
        Value::Str(s) => {
            let quoted =
                s.is_empty() || s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
            if quoted {
                out.extend_from_slice(QUOTE);
                write_escaped(out, s, true);
                out.extend_from_slice(QUOTE);
            } else {
                write_escaped(out, s, false);
            }
        }
        // An empty value is quoted, or it would read as NULL.
        Value::Blob([]) => {
            out.extend_from_slice(QUOTE);
            out.extend_from_slice(QUOTE);
        }
        Value::Blob(b) => {
            for &byte in *b {
                out.push(HEX_DIGITS[usize::from(byte >> 4)]);
                out.push(HEX_DIGITS[usize::from(byte & 0xf)]);
            }
        }
    }
}

/// Ends a CSV line, JSON-escaped.
pub(crate) fn end_csv_line(out: &mut Vec<u8>) {
    out.extend_from_slice(b"\\n");
}

#[cfg(test)]
mod tests {
    use std::borrow::Cow;

    use super::*;

    /// The CSV field as plain text, read back from its JSON-escaped form.
    fn csv_text(value: &Value<'_>, quoted_null: bool) -> String {
        let mut escaped = b"\"".to_vec();
        write_csv_field(&mut escaped, value, quoted_null);
        escaped.push(b'"');
        serde_json::from_slice(&escaped).unwrap()
    }

    #[test]
    fn json_fields() {
        let mut out = Vec::new();
        write_json_field(&mut out, &Value::Str(Cow::Borrowed("a\"b\n\u{1}é\\\t")));
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"stringValue":"a\"b\n\u0001é\\\t"}"#
        );
        for (f, text) in [
            (f64::NAN, r#"{"doubleValue":"NaN"}"#),
            (f64::NEG_INFINITY, r#"{"doubleValue":"-Infinity"}"#),
            (0.1, r#"{"doubleValue":0.1}"#),
            (1e300, r#"{"doubleValue":1e300}"#),
        ] {
            let mut out = Vec::new();
            write_json_field(&mut out, &Value::Double(f));
            assert_eq!(String::from_utf8(out).unwrap(), text);
        }
        let mut out = Vec::new();
        write_json_field(&mut out, &Value::Long(i64::MIN));
        assert_eq!(out, br#"{"longValue":-9223372036854775808}"#);
    }

    #[test]
    fn csv_fields_quote_as_postgresql_does() {
        assert_eq!(csv_text(&Value::Str(Cow::Borrowed("")), false), "\"\"");
        assert_eq!(csv_text(&Value::Null, false), "");
        assert_eq!(csv_text(&Value::Null, true), "\"\"");
        assert_eq!(
            csv_text(&Value::Str(Cow::Borrowed("x,\"y\"")), false),
            "\"x,\"\"y\"\"\""
        );
        assert_eq!(
            csv_text(&Value::Str(Cow::Borrowed("line\r\nnext")), false),
            "\"line\r\nnext\""
        );
        assert_eq!(
            csv_text(&Value::Str(Cow::Borrowed("tab\there\\")), false),
            "tab\there\\"
        );
        assert_eq!(csv_text(&Value::Blob(&[]), false), "\"\"");
        assert_eq!(csv_text(&Value::Blob(&[0, 0xab]), false), "00ab");
        assert_eq!(csv_text(&Value::Bool(false), false), "f");
        assert_eq!(csv_text(&Value::Double(f64::INFINITY), false), "Infinity");
        assert_eq!(csv_text(&Value::Double(-2.5), false), "-2.5");
    }

    /// Every control character and the characters CSV quotes, in every
    /// position: the JSON-escaped field reads back to the CSV text it stands for.
    #[test]
    fn csv_fields_escape_every_control_character() {
        for b in 0u8..0x80 {
            let c = char::from(b);
            let text = format!("a{c}b{c}");
            let field = csv_text(&Value::Str(Cow::Borrowed(&text)), false);
            let expected = if matches!(c, ',' | '"' | '\n' | '\r') {
                format!("\"{}\"", text.replace('"', "\"\""))
            } else {
                text.clone()
            };
            assert_eq!(field, expected, "byte {b:#x}");
        }
    }
}
