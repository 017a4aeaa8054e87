//! Retained statement results: rows are encoded once, as they stream from
//! PostgreSQL, into the format the statement asked for (JSON `Field` arrays or
//! CSV lines), and pages are cut from that buffer by a byte budget.

use std::fmt::Write as _;

use serde::Serialize;
use tokio_postgres::Column;
use tokio_postgres::types::Type;

use crate::config::CsvNull;
use crate::encode::{end_csv_line, write_csv_field, write_json_field, write_json_str};
use crate::error::ApiError;
use crate::model::ResultFormat;
use crate::paging::{decode_token, encode_token};
use crate::values::{self, Kind, RawValue, Value};

/// `ColumnMetadata` of one result column (members in the order the service
/// sends them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ColumnMetadata {
    pub(crate) is_case_sensitive: bool,
    pub(crate) is_currency: bool,
    pub(crate) is_signed: bool,
    /// The column's name again: the service sends both.
    pub(crate) label: String,
    pub(crate) length: i32,
    pub(crate) name: String,
    pub(crate) nullable: i32,
    pub(crate) precision: i32,
    pub(crate) scale: i32,
    pub(crate) schema_name: String,
    pub(crate) table_name: String,
    pub(crate) type_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) column_default: Option<String>,
}

impl ColumnMetadata {
    /// Metadata of a column of type `ty` with PostgreSQL type modifier `typmod`.
    pub(crate) fn new(name: &str, ty: &Type, typmod: i32) -> Self {
        let kind = Kind::of(ty);
        let (precision, scale, length) = precision_scale_length(ty, typmod);
        Self {
            label: name.to_owned(),
            name: name.to_owned(),
            type_name: ty.name().to_owned(),
            precision,
            scale,
            length,
            nullable: 1,
            is_signed: kind.is_signed(),
            is_case_sensitive: kind.is_case_sensitive(),
            is_currency: *ty == Type::MONEY,
            schema_name: String::new(),
            table_name: String::new(),
            column_default: None,
        }
    }
}

/// Precision, scale and length as the Data API reports them.
fn precision_scale_length(ty: &Type, typmod: i32) -> (i32, i32, i32) {
    match *ty {
        Type::BOOL => (1, 0, 0),
        Type::INT2 => (5, 0, 0),
        Type::INT4 | Type::OID => (10, 0, 0),
        Type::INT8 => (19, 0, 0),
        Type::FLOAT4 => (8, 8, 0),
        Type::FLOAT8 => (17, 17, 0),
        Type::NUMERIC if typmod >= 4 => {
            let t = typmod - 4;
            ((t >> 16) & 0xffff, t & 0xffff, 0)
        }
        // Unconstrained numeric: no declared precision (results fix it in finish()).
        Type::NUMERIC => (0, 0, 0),
        Type::VARCHAR | Type::BPCHAR if typmod >= 4 => (typmod - 4, 0, typmod - 4),
        Type::VARCHAR | Type::TEXT => (65535, 0, 65535),
        Type::BPCHAR => (1, 0, 1),
        Type::DATE => (13, 0, 0),
        Type::TIME => (15, 6, 0),
        Type::TIMETZ => (21, 6, 0),
        Type::TIMESTAMP => (29, 6, 0),
        Type::TIMESTAMPTZ => (35, 6, 0),
        _ => (0, 0, 0),
    }
}

/// The JSON array of a result's ColumnMetadata.
pub(crate) fn column_metadata_json(columns: &[ColumnMetadata]) -> Vec<u8> {
    serde_json::to_vec(columns).unwrap_or_else(|_| b"[]".to_vec())
}

/// A retained result: encoded rows and where each ends.
#[derive(Debug)]
pub(crate) struct ResultSet {
    pub(crate) format: ResultFormat,
    pub(crate) columns_json: Vec<u8>,
    metadata: Vec<ColumnMetadata>,
    kinds: Vec<Kind>,
    /// For numeric columns without a declared precision: the widest value seen.
    shapes: Vec<Option<NumericShape>>,
    data: Vec<u8>,
    ends: Vec<usize>,
    /// Where printed values (numeric, dates, times) are written, reused.
    scratch: String,
    /// How CSV lines write NULL.
    csv_null: CsvNull,
}

impl ResultSet {
    pub(crate) fn new(
        format: ResultFormat,
        columns: &[Column],
        metadata: &[ColumnMetadata],
        csv_null: CsvNull,
    ) -> Self {
        let shapes = columns
            .iter()
            .map(|c| {
                (*c.type_() == Type::NUMERIC && c.type_modifier() < 4).then(NumericShape::default)
            })
            .collect();
        Self {
            format,
            columns_json: Vec::new(),
            metadata: metadata.to_vec(),
            kinds: columns.iter().map(|c| Kind::of(c.type_())).collect(),
            shapes,
            data: Vec::new(),
            ends: Vec::new(),
            scratch: String::new(),
            csv_null,
        }
    }

    /// Encodes one row, each value written straight into the retained buffer.
    pub(crate) fn push_row(&mut self, row: &tokio_postgres::Row) -> Result<(), String> {
        let json = self.format == ResultFormat::Json;
        let quoted_null = self.csv_null == CsvNull::Quoted;
        if json {
            self.data.push(b'[');
        }
        for (i, kind) in self.kinds.iter().enumerate() {
            if i > 0 {
                self.data.push(b',');
            }
            let raw: RawValue<'_> = row.try_get(i).map_err(|e| e.to_string())?;
            let value =
                values::decode_into(*kind, raw.0, &mut self.scratch).map_err(|e| e.to_string())?;
            if let Some(shape) = &mut self.shapes[i] {
                shape.observe(&value);
            }
            if json {
                write_json_field(&mut self.data, &value);
            } else {
                write_csv_field(&mut self.data, &value, quoted_null);
            }
        }
        if json {
            self.data.push(b']');
        } else {
            end_csv_line(&mut self.data);
        }
        self.ends.push(self.data.len());
        Ok(())
    }

    /// Rows held.
    pub(crate) fn rows(&self) -> usize {
        self.ends.len()
    }

    /// Bytes held (the statement's ResultSize).
    pub(crate) fn size(&self) -> usize {
        self.data.len()
    }

    /// Ends the result: fixes the ColumnMetadata of numeric columns without a
    /// declared precision, and frees what the buffers reserved beyond their length.
    ///
    /// Redshift always reports a precision and scale for numeric results
    /// (`sum(numeric(8,2))` is `numeric(38,2)`), PostgreSQL often has none; the
    /// emulator reports the scale of the widest value, or precision 0 when the
    /// values do not fit 38 digits or there is none (no rows, only NULLs):
    /// a guess from no values would differ from the same query's with rows.
    pub(crate) fn finish(&mut self) {
        for (meta, shape) in self.metadata.iter_mut().zip(&self.shapes) {
            if let Some(shape) = shape {
                (meta.precision, meta.scale) = shape.precision_scale();
            }
        }
        self.columns_json = column_metadata_json(&self.metadata);
        self.data.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.scratch = String::new();
    }

    fn row_bytes(&self, row: usize) -> &[u8] {
        let start = if row == 0 { 0 } else { self.ends[row - 1] };
        &self.data[start..self.ends[row]]
    }

    /// Serialises the page that starts at the row named by `next_token`.
    pub(crate) fn page(
        &self,
        next_token: Option<&str>,
        page_bytes: usize,
    ) -> Result<Vec<u8>, ApiError> {
        let first = match next_token {
            None => 0,
            Some(token) => decode_token(token)
                .filter(|&row| row < self.rows())
                .ok_or_else(|| ApiError::validation("Invalid NextToken"))?,
        };
        let mut out =
            Vec::with_capacity(page_bytes.min(self.size()) + self.columns_json.len() + 128);
        out.extend_from_slice(b"{\"Records\":[");
        if self.format == ResultFormat::Csv {
            out.extend_from_slice(b"{\"CSVRecords\":\"");
        }
        let mut row = first;
        let mut used = 0usize;
        while row < self.rows() {
            let bytes = self.row_bytes(row);
            if row > first && used + bytes.len() > page_bytes {
                break;
            }
            if row > first && self.format == ResultFormat::Json {
                out.push(b',');
            }
            out.extend_from_slice(bytes);
            used += bytes.len();
            row += 1;
        }
        if self.format == ResultFormat::Csv {
            out.extend_from_slice(b"\"}");
        }
        out.extend_from_slice(b"],\"ColumnMetadata\":");
        out.extend_from_slice(&self.columns_json);
        let _ = write!(ByteWriter(&mut out), ",\"TotalNumRows\":{}", self.rows());
        if self.format == ResultFormat::Csv {
            out.extend_from_slice(b",\"ResultFormat\":\"CSV\"");
        }
        if row < self.rows() {
            out.extend_from_slice(b",\"NextToken\":");
            write_json_str(&mut out, &encode_token(row));
        }
        out.push(b'}');
        Ok(out)
    }
}

/// Digits seen in the values of an unconstrained numeric column.
#[derive(Debug, Clone, Copy, Default)]
struct NumericShape {
    integer_digits: u32,
    scale: u32,
    not_decimal: bool,
    /// Whether any value was seen.
    seen: bool,
}

impl NumericShape {
    fn observe(&mut self, value: &Value<'_>) {
        let Value::Str(text) = value else { return };
        self.seen = true;
        let digits = text.trim_start_matches('-');
        if !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
            self.not_decimal = true; // NaN, Infinity
            return;
        }
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let int = int.trim_start_matches('0');
        self.integer_digits = self
            .integer_digits
            .max(u32::try_from(int.len()).unwrap_or(u32::MAX));
        self.scale = self
            .scale
            .max(u32::try_from(frac.len()).unwrap_or(u32::MAX));
    }

    fn precision_scale(self) -> (i32, i32) {
        if !self.seen || self.not_decimal || self.integer_digits + self.scale > 38 {
            (0, 0)
        } else {
            (38, i32::try_from(self.scale).unwrap_or(0))
        }
    }
}

struct ByteWriter<'a>(&'a mut Vec<u8>);

impl std::fmt::Write for ByteWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_precision_from_typmod() {
        let typmod = ((38 << 16) | 10) + 4;
        assert_eq!(precision_scale_length(&Type::NUMERIC, typmod), (38, 10, 0));
        assert_eq!(precision_scale_length(&Type::VARCHAR, 36), (32, 0, 32));
    }

    #[test]
    fn an_unconstrained_numeric_takes_its_shape_from_values_or_none() {
        let mut shape = NumericShape::default();
        assert_eq!(shape.precision_scale(), (0, 0), "no value: unknown");
        shape.observe(&Value::Null);
        assert_eq!(shape.precision_scale(), (0, 0), "only NULLs: unknown");
        shape.observe(&Value::Str("-12.25".into()));
        shape.observe(&Value::Str("3.5".into()));
        assert_eq!(shape.precision_scale(), (38, 2));
        shape.observe(&Value::Str("NaN".into()));
        assert_eq!(shape.precision_scale(), (0, 0));
    }
}
