//! Data API results → Arrow: ColumnMetadata → schema (with the Flight SQL
//! column metadata), and JSON `Field` rows or CSV text → RecordBatch, exact for
//! every Redshift type.

mod csv;
pub mod pages;
mod text;

use std::collections::HashMap;
use std::sync::Arc;

use arrow::array::{
    ArrayBuilder, ArrayRef, BinaryBuilder, BooleanBuilder, Date32Builder, Decimal128Builder,
    Float32Builder, Float64Builder, Int16Builder, Int32Builder, Int64Builder, StringBuilder,
    Time64MicrosecondBuilder, TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use base64::Engine as _;

use crate::dataapi::{ColumnMetadata, Records, Value};

/// A value that does not fit its column's type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column:?} ({type_name}), row {row}: {message}")]
pub struct ConvertError {
    /// Column name.
    pub column: String,
    /// Redshift type name.
    pub type_name: String,
    /// Row within the page.
    pub row: usize,
    /// What was wrong.
    pub message: String,
}

/// How one column is built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Int16,
    Int32,
    Int64,
    Float32,
    Float64,
    Decimal(u8, i8),
    Boolean,
    Utf8,
    Date32,
    Timestamp,
    TimestampTz,
    Time64,
    Binary,
}

/// The Arrow field metadata key of the JSON extension type.
const EXTENSION_NAME: &str = "ARROW:extension:name";

fn kind(c: &ColumnMetadata) -> Kind {
    let name = c.type_name.trim().to_ascii_lowercase();
    match name.as_str() {
        "int2" | "smallint" => Kind::Int16,
        "int4" | "int" | "integer" => Kind::Int32,
        "int8" | "bigint" | "oid" => Kind::Int64,
        "float4" | "real" => Kind::Float32,
        "float8" | "float" | "double precision" => Kind::Float64,
        "numeric" | "decimal" => match (u8::try_from(c.precision), i8::try_from(c.scale)) {
            (Ok(p @ 1..=38), Ok(s)) if s >= 0 && i32::from(s) <= i32::from(p) => {
                Kind::Decimal(p, s)
            }
            // Unconstrained numeric (PostgreSQL only): exact text.
            _ => Kind::Utf8,
        },
        "bool" | "boolean" => Kind::Boolean,
        "date" => Kind::Date32,
        "timestamp" | "timestamp without time zone" => Kind::Timestamp,
        "timestamptz" | "timestamp with time zone" => Kind::TimestampTz,
        "time" | "time without time zone" => Kind::Time64,
        "varbyte" | "bytea" | "binary varying" | "varbinary" | "geometry" | "geography" => {
            Kind::Binary
        }
        // char/bpchar/varchar/text/name, super/json, timetz, interval, anything else.
        _ => Kind::Utf8,
    }
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Int16 => DataType::Int16,
        Kind::Int32 => DataType::Int32,
        Kind::Int64 => DataType::Int64,
        Kind::Float32 => DataType::Float32,
        Kind::Float64 => DataType::Float64,
        Kind::Decimal(p, s) => DataType::Decimal128(p, s),
        Kind::Boolean => DataType::Boolean,
        Kind::Utf8 => DataType::Utf8,
        Kind::Date32 => DataType::Date32,
        Kind::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
        Kind::TimestampTz => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::Time64 => DataType::Time64(TimeUnit::Microsecond),
        Kind::Binary => DataType::Binary,
    }
}

fn flag(b: bool) -> String {
    if b { "1" } else { "0" }.to_owned()
}

/// The Arrow field of a column, with the `ARROW:FLIGHT:SQL:*` metadata that
/// JDBC's getColumns and ResultSetMetaData read.
pub fn field(c: &ColumnMetadata, catalog: Option<&str>) -> Field {
    let k = kind(c);
    let mut metadata = HashMap::from([
        ("ARROW:FLIGHT:SQL:TYPE_NAME".to_owned(), c.type_name.clone()),
        (
            "ARROW:FLIGHT:SQL:PRECISION".to_owned(),
            c.precision.to_string(),
        ),
        ("ARROW:FLIGHT:SQL:SCALE".to_owned(), c.scale.to_string()),
        (
            "ARROW:FLIGHT:SQL:IS_NULLABLE".to_owned(),
            flag(c.nullable != 0),
        ),
        (
            "ARROW:FLIGHT:SQL:IS_CASE_SENSITIVE".to_owned(),
            flag(c.is_case_sensitive),
        ),
        ("ARROW:FLIGHT:SQL:IS_SIGNED".to_owned(), flag(c.is_signed)),
        ("ARROW:FLIGHT:SQL:IS_AUTO_INCREMENT".to_owned(), flag(false)),
        (
            "ARROW:FLIGHT:SQL:IS_READ_ONLY".to_owned(),
            flag(c.table_name.is_empty()),
        ),
        ("ARROW:FLIGHT:SQL:IS_SEARCHABLE".to_owned(), flag(true)),
    ]);
    if !c.schema_name.is_empty() {
        metadata.insert(
            "ARROW:FLIGHT:SQL:SCHEMA_NAME".to_owned(),
            c.schema_name.clone(),
        );
    }
    if !c.table_name.is_empty() {
        metadata.insert(
            "ARROW:FLIGHT:SQL:TABLE_NAME".to_owned(),
            c.table_name.clone(),
        );
        if let Some(catalog) = catalog {
            metadata.insert(
                "ARROW:FLIGHT:SQL:CATALOG_NAME".to_owned(),
                catalog.to_owned(),
            );
        }
    }
    if matches!(c.type_name.as_str(), "super" | "json" | "jsonb") {
        metadata.insert(EXTENSION_NAME.to_owned(), "arrow.json".to_owned());
        metadata.insert("ARROW:extension:metadata".to_owned(), "{}".to_owned());
    }
    let name = if c.label.is_empty() {
        &c.name
    } else {
        &c.label
    };
    Field::new(name, data_type(k), c.nullable != 0).with_metadata(metadata)
}

/// The Arrow schema of a result.
pub fn schema(columns: &[ColumnMetadata], catalog: Option<&str>) -> SchemaRef {
    Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| field(c, catalog))
            .collect::<Vec<_>>(),
    ))
}

/// `batch` in the schema `to` (its names, nullability and metadata), each
/// column whose type differs from its field's passed through `cast`;
/// `columns_differ` is the error when the column counts differ. The one
/// way a stream is reshaped to a schema it promised (a prepared query's,
/// an UNLOAD result's).
pub(crate) fn conform_with(
    batch: &RecordBatch,
    to: &SchemaRef,
    columns_differ: impl FnOnce(usize) -> String,
    cast: impl Fn(&ArrayRef, &Field) -> Result<ArrayRef, arrow::error::ArrowError>,
) -> Result<RecordBatch, arrow::error::ArrowError> {
    if batch.num_columns() != to.fields().len() {
        return Err(arrow::error::ArrowError::SchemaError(columns_differ(
            batch.num_columns(),
        )));
    }
    let columns = batch
        .columns()
        .iter()
        .zip(to.fields())
        .map(|(column, field)| {
            if column.data_type() == field.data_type() {
                Ok(Arc::clone(column))
            } else {
                cast(column, field)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    RecordBatch::try_new_with_options(
        Arc::clone(to),
        columns,
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
}

/// Converts the pages of one result: built once from its ColumnMetadata.
#[derive(Debug, Clone)]
pub struct PageConverter {
    schema: SchemaRef,
    columns: Vec<ColumnMetadata>,
    kinds: Vec<Kind>,
}

enum Column {
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder, u32),
    Boolean(BooleanBuilder),
    Utf8(StringBuilder),
    Date32(Date32Builder),
    Timestamp(TimestampMicrosecondBuilder),
    Time64(Time64MicrosecondBuilder),
    Binary(BinaryBuilder),
}

fn bad(what: &str, text: &str) -> String {
    let shown: String = text.chars().take(64).collect();
    format!("cannot read {shown:?} as {what}")
}

impl Column {
    fn new(kind: Kind, rows: usize) -> Self {
        match kind {
            Kind::Int16 => Self::Int16(Int16Builder::with_capacity(rows)),
            Kind::Int32 => Self::Int32(Int32Builder::with_capacity(rows)),
            Kind::Int64 => Self::Int64(Int64Builder::with_capacity(rows)),
            Kind::Float32 => Self::Float32(Float32Builder::with_capacity(rows)),
            Kind::Float64 => Self::Float64(Float64Builder::with_capacity(rows)),
            Kind::Decimal(p, s) => Self::Decimal(
                Decimal128Builder::with_capacity(rows).with_data_type(DataType::Decimal128(p, s)),
                u32::try_from(s).unwrap_or(0),
            ),
            Kind::Boolean => Self::Boolean(BooleanBuilder::with_capacity(rows)),
            Kind::Utf8 => Self::Utf8(StringBuilder::with_capacity(rows, rows * 16)),
            Kind::Date32 => Self::Date32(Date32Builder::with_capacity(rows)),
            Kind::Timestamp => Self::Timestamp(TimestampMicrosecondBuilder::with_capacity(rows)),
            Kind::TimestampTz => Self::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(rows).with_timezone("UTC"),
            ),
            Kind::Time64 => Self::Time64(Time64MicrosecondBuilder::with_capacity(rows)),
            Kind::Binary => Self::Binary(BinaryBuilder::with_capacity(rows, rows * 16)),
        }
    }

    fn append_null(&mut self) {
        match self {
            Self::Int16(b) => b.append_null(),
            Self::Int32(b) => b.append_null(),
            Self::Int64(b) => b.append_null(),
            Self::Float32(b) => b.append_null(),
            Self::Float64(b) => b.append_null(),
            Self::Decimal(b, _) => b.append_null(),
            Self::Boolean(b) => b.append_null(),
            Self::Utf8(b) => b.append_null(),
            Self::Date32(b) => b.append_null(),
            Self::Timestamp(b) => b.append_null(),
            Self::Time64(b) => b.append_null(),
            Self::Binary(b) => b.append_null(),
        }
    }

    /// Appends a value given as text (CSV, or a JSON `stringValue`).
    fn append_text(&mut self, t: &str) -> Result<(), String> {
        match self {
            Self::Int16(b) => b.append_value(t.parse().map_err(|_| bad("int2", t))?),
            Self::Int32(b) => b.append_value(t.parse().map_err(|_| bad("int4", t))?),
            Self::Int64(b) => b.append_value(t.parse().map_err(|_| bad("int8", t))?),
            Self::Float32(b) => b.append_value(t.parse().map_err(|_| bad("float4", t))?),
            Self::Float64(b) => b.append_value(t.parse().map_err(|_| bad("float8", t))?),
            Self::Decimal(b, scale) => {
                b.append_value(text::decimal(t, *scale).ok_or_else(|| bad("numeric", t))?);
            }
            Self::Boolean(b) => b.append_value(text::boolean(t).ok_or_else(|| bad("bool", t))?),
            Self::Utf8(b) => b.append_value(t),
            Self::Date32(b) => b.append_value(text::date32(t).ok_or_else(|| bad("date", t))?),
            Self::Timestamp(b) => {
                b.append_value(text::timestamp_micros(t).ok_or_else(|| bad("timestamp", t))?);
            }
            Self::Time64(b) => b.append_value(text::time_micros(t).ok_or_else(|| bad("time", t))?),
            Self::Binary(b) => b.append_value(text::hex(t).ok_or_else(|| bad("hex bytes", t))?),
        }
        Ok(())
    }

    /// Appends one JSON `Field`.
    fn append_value(&mut self, v: &Value) -> Result<(), String> {
        match (self, v) {
            (c, Value::Null) => c.append_null(),
            (c, Value::String(s)) => c.append_text(s)?,
            (Self::Int16(b), Value::Long(n)) => {
                b.append_value(i16::try_from(*n).map_err(|_| format!("{n} does not fit int2"))?);
            }
            (Self::Int32(b), Value::Long(n)) => {
                b.append_value(i32::try_from(*n).map_err(|_| format!("{n} does not fit int4"))?);
            }
            (Self::Int64(b), Value::Long(n)) => b.append_value(*n),
            #[allow(clippy::cast_possible_truncation)]
            (Self::Float32(b), Value::Double(d)) => b.append_value(*d as f32),
            #[allow(clippy::cast_precision_loss)]
            (Self::Float32(b), Value::Long(n)) => b.append_value(*n as f32),
            (Self::Float64(b), Value::Double(d)) => b.append_value(*d),
            #[allow(clippy::cast_precision_loss)]
            (Self::Float64(b), Value::Long(n)) => b.append_value(*n as f64),
            (Self::Decimal(b, scale), Value::Long(n)) => b.append_value(
                i128::from(*n)
                    .checked_mul(10i128.pow(*scale))
                    .ok_or_else(|| format!("{n} does not fit numeric"))?,
            ),
            (Self::Boolean(b), Value::Bool(x)) => b.append_value(*x),
            (Self::Boolean(b), Value::Long(n)) => b.append_value(*n != 0),
            (Self::Binary(b), Value::Blob(bytes)) => b.append_value(bytes),
            (Self::Utf8(b), Value::Long(n)) => b.append_value(n.to_string()),
            (Self::Utf8(b), Value::Double(d)) => b.append_value(d.to_string()),
            (Self::Utf8(b), Value::Bool(x)) => b.append_value(x.to_string()),
            (Self::Utf8(b), Value::Blob(bytes)) => {
                b.append_value(base64::engine::general_purpose::STANDARD.encode(bytes));
            }
            (_, other) => return Err(format!("unexpected value {other:?}")),
        }
        Ok(())
    }

    fn finish(self) -> ArrayRef {
        match self {
            Self::Int16(mut b) => Arc::new(b.finish()),
            Self::Int32(mut b) => Arc::new(b.finish()),
            Self::Int64(mut b) => Arc::new(b.finish()),
            Self::Float32(mut b) => Arc::new(b.finish()),
            Self::Float64(mut b) => Arc::new(b.finish()),
            Self::Decimal(mut b, _) => Arc::new(b.finish()),
            Self::Boolean(mut b) => Arc::new(b.finish()),
            Self::Utf8(mut b) => Arc::new(b.finish()),
            Self::Date32(mut b) => Arc::new(b.finish()),
            Self::Timestamp(mut b) => Arc::new(b.finish()),
            Self::Time64(mut b) => Arc::new(b.finish()),
            Self::Binary(mut b) => ArrayBuilder::finish(&mut b),
        }
    }
}

impl PageConverter {
    /// A converter for a result with these columns; `catalog` is the database.
    pub fn new(columns: Vec<ColumnMetadata>, catalog: Option<&str>) -> Self {
        Self {
            schema: schema(&columns, catalog),
            kinds: columns.iter().map(kind).collect(),
            columns,
        }
    }

    /// The Arrow schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn error(&self, column: usize, row: usize, message: String) -> ConvertError {
        let c = &self.columns[column];
        ConvertError {
            column: c.name.clone(),
            type_name: c.type_name.clone(),
            row,
            message,
        }
    }

    /// Converts one page. `first_page` lets a CSV header line (equal to the
    /// column names) be recognised and skipped.
    pub fn convert(
        &self,
        records: &Records,
        first_page: bool,
    ) -> Result<RecordBatch, ConvertError> {
        match records {
            Records::Json(rows) => self.convert_json(rows),
            Records::Csv(text) => self.convert_csv(text, first_page),
        }
    }

    fn finish(&self, columns: Vec<Column>, rows: usize) -> Result<RecordBatch, ConvertError> {
        let arrays: Vec<ArrayRef> = columns.into_iter().map(Column::finish).collect();
        RecordBatch::try_new_with_options(
            self.schema(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
        .map_err(|e| ConvertError {
            column: String::new(),
            type_name: String::new(),
            row: 0,
            message: e.to_string(),
        })
    }

    fn convert_json(&self, rows: &[Vec<Value>]) -> Result<RecordBatch, ConvertError> {
        let mut columns: Vec<Column> = self
            .kinds
            .iter()
            .map(|k| Column::new(*k, rows.len()))
            .collect();
        for (r, row) in rows.iter().enumerate() {
            if row.len() != columns.len() {
                return Err(self.error(
                    0,
                    r,
                    format!("row has {} values for {} columns", row.len(), columns.len()),
                ));
            }
            for (i, (column, value)) in columns.iter_mut().zip(row).enumerate() {
                column
                    .append_value(value)
                    .map_err(|m| self.error(i, r, m))?;
            }
        }
        self.finish(columns, rows.len())
    }

    fn convert_csv(&self, text: &str, first_page: bool) -> Result<RecordBatch, ConvertError> {
        let mut reader = csv::Reader::new(text);
        let estimate = text.bytes().filter(|b| *b == b'\n').count();
        let mut columns: Vec<Column> = self
            .kinds
            .iter()
            .map(|k| Column::new(*k, estimate))
            .collect();
        let mut fields: Vec<Option<std::borrow::Cow<'_, str>>> = Vec::with_capacity(columns.len());
        let mut rows = 0usize;
        let mut first = first_page;
        while reader
            .next_record(&mut fields)
            .map_err(|m| self.error(0, rows, m))?
        {
            if std::mem::take(&mut first)
                && fields.len() == self.columns.len()
                && fields
                    .iter()
                    .zip(&self.columns)
                    .all(|(f, c)| f.as_deref() == Some(c.name.as_str()))
            {
                continue;
            }
            if fields.len() != columns.len() {
                return Err(self.error(
                    0,
                    rows,
                    format!(
                        "CSV record has {} fields for {} columns",
                        fields.len(),
                        columns.len()
                    ),
                ));
            }
            for (i, (column, value)) in columns.iter_mut().zip(&fields).enumerate() {
                match value {
                    None => column.append_null(),
                    Some(t) => column.append_text(t).map_err(|m| self.error(i, rows, m))?,
                }
            }
            rows += 1;
        }
        self.finish(columns, rows)
    }
}

#[cfg(test)]
mod tests {
    use arrow::util::pretty::pretty_format_batches;

    use super::*;

    fn col(name: &str, type_name: &str, precision: i32, scale: i32) -> ColumnMetadata {
        ColumnMetadata {
            name: name.into(),
            label: name.into(),
            type_name: type_name.into(),
            precision,
            scale,
            nullable: 1,
            ..ColumnMetadata::default()
        }
    }

    fn columns() -> Vec<ColumnMetadata> {
        vec![
            col("i", "int4", 10, 0),
            col("n", "numeric", 38, 10),
            col("t", "timestamptz", 35, 6),
            col("d", "date", 13, 0),
            col("s", "varchar", 10, 0),
            col("b", "bytea", 0, 0),
            col("j", "super", 0, 0),
        ]
    }

    #[test]
    fn json_and_csv_pages_give_the_same_batch() {
        let conv = PageConverter::new(columns(), Some("dev"));
        let json = Records::Json(vec![
            vec![
                Value::Long(-7),
                Value::String("-1234567890123456789012345678.0123456789".into()),
                Value::String("1901-01-01 00:00:00.5+00".into()),
                Value::String("1969-12-31".into()),
                Value::String("é,\"x\"".into()),
                Value::Blob(vec![0xde, 0xad]),
                Value::String("{\"a\":1}".into()),
            ],
            vec![Value::Null; 7],
        ]);
        let csv = Records::Csv(
            "-7,-1234567890123456789012345678.0123456789,1901-01-01 00:00:00.5+00,1969-12-31,\"é,\"\"x\"\"\",dead,\"{\"\"a\"\":1}\"\n,,,,,,\n"
                .into(),
        );
        let a = conv.convert(&json, true).expect("json");
        let b = conv.convert(&csv, true).expect("csv");
        assert_eq!(a, b);
        use arrow::array::{Array as _, AsArray as _};
        use arrow::datatypes::{Decimal128Type, TimestampMicrosecondType};
        assert_eq!(
            a.column(1).as_primitive::<Decimal128Type>().value(0),
            -12_345_678_901_234_567_890_123_456_780_123_456_789
        );
        assert_eq!(
            a.column(2)
                .as_primitive::<TimestampMicrosecondType>()
                .value(0),
            -2_177_452_799_500_000
        );
        assert_eq!(a.column(4).as_string::<i32>().value(0), "é,\"x\"");
        assert_eq!(a.column(5).as_binary::<i32>().value(0), [0xde, 0xad]);
        assert!((0..7).all(|c| a.column(c).is_null(1)));
        let shown = pretty_format_batches(&[a.project(&[0, 1, 3]).expect("project")])
            .expect("format")
            .to_string();
        assert!(
            shown.contains("| -7 | -1234567890123456789012345678.0123456789 | 1969-12-31 |"),
            "{shown}"
        );
    }

    #[test]
    fn schema_carries_flight_sql_metadata_and_json_extension() {
        let s = schema(&columns(), Some("dev"));
        let n = s.field(1);
        assert_eq!(n.data_type(), &DataType::Decimal128(38, 10));
        assert_eq!(n.metadata()["ARROW:FLIGHT:SQL:TYPE_NAME"], "numeric");
        assert_eq!(n.metadata()["ARROW:FLIGHT:SQL:PRECISION"], "38");
        assert_eq!(
            s.field(2).data_type(),
            &DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
        );
        assert_eq!(s.field(6).metadata()[EXTENSION_NAME], "arrow.json");
        assert!(
            s.fields()
                .iter()
                .all(|f| !matches!(f.data_type(), DataType::Utf8View | DataType::BinaryView))
        );
    }

    #[test]
    fn csv_header_equal_to_the_names_is_skipped_on_the_first_page_only() {
        let conv = PageConverter::new(vec![col("a", "int4", 10, 0)], None);
        let batch = conv
            .convert(&Records::Csv("a\n1\n".into()), true)
            .expect("csv");
        assert_eq!(batch.num_rows(), 1);
        assert!(conv.convert(&Records::Csv("a\n1\n".into()), false).is_err());
    }

    #[test]
    fn values_that_do_not_fit_are_errors_not_garbage() {
        let conv = PageConverter::new(
            vec![col("a", "int2", 5, 0), col("n", "numeric", 5, 2)],
            None,
        );
        let err = conv
            .convert(
                &Records::Json(vec![vec![Value::Long(70_000), Value::Null]]),
                true,
            )
            .expect_err("overflow");
        assert_eq!(err.column, "a");
        let err = conv
            .convert(
                &Records::Json(vec![vec![Value::Null, Value::String("1.234".into())]]),
                true,
            )
            .expect_err("rounding");
        assert_eq!(err.column, "n");
    }
}
