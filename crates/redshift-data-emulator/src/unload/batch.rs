//! PostgreSQL result columns → Arrow: the Arrow type of each column, as
//! Redshift's UNLOAD writes it to Parquet, and record batches built from
//! the binary values of rows.
//!
//! bool → Boolean, int2/int4/int8 → Int16/Int32/Int64, oid → Int64,
//! float4/float8 → Float32/Float64, numeric(p,s) → Decimal128(p,s) (an
//! unconstrained numeric → its exact text), date → Date32, time →
//! Time64(µs), timestamp → Timestamp(µs), timestamptz → Timestamp(µs, UTC),
//! anything else → the text the result pages print; bytea (VARBYTE) is refused.

use std::sync::Arc;

use arrow::array::{
    ArrayRef, BooleanBuilder, Date32Builder, Decimal128Builder, Float32Builder, Float64Builder,
    Int16Builder, Int32Builder, Int64Builder, StringBuilder, Time64MicrosecondBuilder,
    TimestampMicrosecondBuilder,
};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use arrow::record_batch::RecordBatch;
use tokio_postgres::types::Type;

use crate::values::{self, Kind, Value};

/// Days from 1970-01-01 to PostgreSQL's epoch, 2000-01-01.
const UNIX_DAYS_TO_POSTGRES_EPOCH: i32 = 10_957;
/// Microseconds from 1970-01-01 to 2000-01-01.
const UNIX_MICROS_TO_POSTGRES_EPOCH: i64 = 946_684_800_000_000;
/// Redshift's (and Decimal128's) largest precision.
const MAX_DECIMAL_PRECISION: i32 = 38;

/// How one column's values become Arrow values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Conversion {
    Bool,
    Int16,
    Int32,
    Int64,
    /// An unsigned 4-byte oid, widened.
    Oid,
    Float32,
    Float64,
    /// numeric(precision, scale), exact.
    Decimal {
        precision: u8,
        scale: i8,
    },
    /// The value's text, as the result pages print it.
    Text(Kind),
    Date,
    Time,
    Timestamp,
    TimestampUtc,
}

impl Conversion {
    /// The conversion of a column of type `ty` with type modifier `typmod`;
    /// `None` for bytea (Redshift's VARBYTE), which UNLOAD cannot write to Parquet.
    pub(crate) fn of(ty: &Type, typmod: i32) -> Option<Self> {
        let kind = Kind::of(ty);
        Some(match kind {
            Kind::Bool => Self::Bool,
            Kind::Int2 => Self::Int16,
            Kind::Int4 => Self::Int32,
            Kind::Int8 => Self::Int64,
            Kind::Oid => Self::Oid,
            Kind::Float4 => Self::Float32,
            Kind::Float8 => Self::Float64,
            Kind::Numeric => decimal(typmod).unwrap_or(Self::Text(kind)),
            Kind::Bytea => return None,
            Kind::Date => Self::Date,
            Kind::Time => Self::Time,
            Kind::Timestamp => Self::Timestamp,
            Kind::TimestampTz => Self::TimestampUtc,
            Kind::Text
            | Kind::TimeTz
            | Kind::Interval
            | Kind::Json
            | Kind::Jsonb
            | Kind::Uuid
            | Kind::Other => Self::Text(kind),
        })
    }

    /// The Arrow type of the column.
    pub(crate) fn data_type(self) -> DataType {
        match self {
            Self::Bool => DataType::Boolean,
            Self::Int16 => DataType::Int16,
            Self::Int32 => DataType::Int32,
            Self::Int64 | Self::Oid => DataType::Int64,
            Self::Float32 => DataType::Float32,
            Self::Float64 => DataType::Float64,
            Self::Decimal { precision, scale } => DataType::Decimal128(precision, scale),
            Self::Text(_) => DataType::Utf8,
            Self::Date => DataType::Date32,
            Self::Time => DataType::Time64(TimeUnit::Microsecond),
            Self::Timestamp => DataType::Timestamp(TimeUnit::Microsecond, None),
            Self::TimestampUtc => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        }
    }
}

/// Decimal128(p, s) for a numeric type modifier with 1 ≤ p ≤ 38 and 0 ≤ s ≤ p.
fn decimal(typmod: i32) -> Option<Conversion> {
    if typmod < 4 {
        return None;
    }
    let t = typmod - 4;
    let precision = (t >> 16) & 0xffff;
    // The scale is an 11-bit signed number since PostgreSQL 15.
    let scale = t & 0x7ff;
    let scale = if scale > 0x3ff { scale - 0x800 } else { scale };
    if !(1..=MAX_DECIMAL_PRECISION).contains(&precision) || !(0..=precision).contains(&scale) {
        return None;
    }
    Some(Conversion::Decimal {
        precision: u8::try_from(precision).ok()?,
        scale: i8::try_from(scale).ok()?,
    })
}

/// The Arrow schema and the conversion of each result column.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) schema: SchemaRef,
    conversions: Vec<Conversion>,
}

impl Plan {
    /// The plan for result columns (name, type, type modifier); a VARBYTE
    /// column is the statement's error.
    pub(crate) fn new<'a>(
        columns: impl IntoIterator<Item = (&'a str, &'a Type, i32)>,
    ) -> Result<Self, String> {
        let mut fields = Vec::new();
        let mut conversions = Vec::new();
        for (name, ty, typmod) in columns {
            let conversion = Conversion::of(ty, typmod).ok_or_else(|| {
                format!("ERROR: UNLOAD to Parquet does not support the VARBYTE type of column \"{name}\"")
            })?;
            fields.push(Field::new(name, conversion.data_type(), true));
            conversions.push(conversion);
        }
        Ok(Self {
            schema: Arc::new(Schema::new(fields)),
            conversions,
        })
    }
}

/// The builder of one Arrow column.
#[derive(Debug)]
enum Column {
    Bool(BooleanBuilder),
    Int16(Int16Builder),
    Int32(Int32Builder),
    Int64(Int64Builder),
    Float32(Float32Builder),
    Float64(Float64Builder),
    Decimal(Decimal128Builder),
    Text(StringBuilder),
    Date(Date32Builder),
    Time(Time64MicrosecondBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

/// Rows gathered into the columns of one record batch.
#[derive(Debug)]
pub(crate) struct BatchBuilder {
    plan: Arc<Plan>,
    columns: Vec<Column>,
    rows: usize,
    bytes: usize,
}

impl BatchBuilder {
    /// An empty batch of `plan`'s columns.
    pub(crate) fn new(plan: Arc<Plan>) -> Self {
        let columns = plan
            .conversions
            .iter()
            .map(|c| match *c {
                Conversion::Bool => Column::Bool(BooleanBuilder::new()),
                Conversion::Int16 => Column::Int16(Int16Builder::new()),
                Conversion::Int32 => Column::Int32(Int32Builder::new()),
                Conversion::Int64 | Conversion::Oid => Column::Int64(Int64Builder::new()),
                Conversion::Float32 => Column::Float32(Float32Builder::new()),
                Conversion::Float64 => Column::Float64(Float64Builder::new()),
                Conversion::Decimal { .. } => {
                    Column::Decimal(Decimal128Builder::new().with_data_type(c.data_type()))
                }
                Conversion::Text(_) => Column::Text(StringBuilder::new()),
                Conversion::Date => Column::Date(Date32Builder::new()),
                Conversion::Time => Column::Time(Time64MicrosecondBuilder::new()),
                Conversion::Timestamp | Conversion::TimestampUtc => Column::Timestamp(
                    TimestampMicrosecondBuilder::new().with_data_type(c.data_type()),
                ),
            })
            .collect();
        Self {
            plan,
            columns,
            rows: 0,
            bytes: 0,
        }
    }

    /// Rows gathered.
    pub(crate) fn rows(&self) -> usize {
        self.rows
    }

    /// Bytes of the binary values gathered (the batch's size, roughly).
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// Appends one row of binary values (`None` is NULL); an error is the
    /// statement's error text.
    pub(crate) fn push(&mut self, row: &[Option<&[u8]>]) -> Result<(), String> {
        if row.len() != self.columns.len() {
            return Err(format!(
                "ERROR: a row of {} values for {} columns",
                row.len(),
                self.columns.len()
            ));
        }
        let columns = self.columns.iter_mut().zip(&self.plan.conversions);
        for (i, ((column, conversion), raw)) in columns.zip(row).enumerate() {
            if let Err(what) = append(column, *conversion, *raw) {
                let name = self.plan.schema.field(i).name();
                return Err(format!(
                    "ERROR: UNLOAD to Parquet cannot write {what} of column \"{name}\""
                ));
            }
            self.bytes += raw.map_or(1, <[u8]>::len);
        }
        self.rows += 1;
        Ok(())
    }

    /// The rows gathered as a record batch; the builder is empty again.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, String> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|column| -> ArrayRef {
                match column {
                    Column::Bool(b) => Arc::new(b.finish()),
                    Column::Int16(b) => Arc::new(b.finish()),
                    Column::Int32(b) => Arc::new(b.finish()),
                    Column::Int64(b) => Arc::new(b.finish()),
                    Column::Float32(b) => Arc::new(b.finish()),
                    Column::Float64(b) => Arc::new(b.finish()),
                    Column::Decimal(b) => Arc::new(b.finish()),
                    Column::Text(b) => Arc::new(b.finish()),
                    Column::Date(b) => Arc::new(b.finish()),
                    Column::Time(b) => Arc::new(b.finish()),
                    Column::Timestamp(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        self.rows = 0;
        self.bytes = 0;
        RecordBatch::try_new(Arc::clone(&self.plan.schema), arrays)
            .map_err(|e| format!("ERROR: UNLOAD could not build a record batch: {e}"))
    }
}

/// The first `N` bytes of a binary value.
fn fixed<const N: usize>(raw: &[u8]) -> Result<[u8; N], String> {
    raw.get(..N)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| format!("a value of {} bytes", raw.len()))
}

/// Appends one binary value (`None`: NULL); the error says what the value is.
fn append(column: &mut Column, conversion: Conversion, raw: Option<&[u8]>) -> Result<(), String> {
    let Some(raw) = raw else {
        match column {
            Column::Bool(b) => b.append_null(),
            Column::Int16(b) => b.append_null(),
            Column::Int32(b) => b.append_null(),
            Column::Int64(b) => b.append_null(),
            Column::Float32(b) => b.append_null(),
            Column::Float64(b) => b.append_null(),
            Column::Decimal(b) => b.append_null(),
            Column::Text(b) => b.append_null(),
            Column::Date(b) => b.append_null(),
            Column::Time(b) => b.append_null(),
            Column::Timestamp(b) => b.append_null(),
        }
        return Ok(());
    };
    match (column, conversion) {
        (Column::Bool(b), _) => b.append_value(fixed::<1>(raw)?[0] != 0),
        (Column::Int16(b), _) => b.append_value(i16::from_be_bytes(fixed(raw)?)),
        (Column::Int32(b), _) => b.append_value(i32::from_be_bytes(fixed(raw)?)),
        (Column::Int64(b), Conversion::Oid) => {
            b.append_value(u32::from_be_bytes(fixed(raw)?).into());
        }
        (Column::Int64(b), _) => b.append_value(i64::from_be_bytes(fixed(raw)?)),
        (Column::Float32(b), _) => b.append_value(f32::from_be_bytes(fixed(raw)?)),
        (Column::Float64(b), _) => b.append_value(f64::from_be_bytes(fixed(raw)?)),
        (Column::Decimal(b), Conversion::Decimal { precision, scale }) => {
            let text = values::numeric_text(raw)
                .ok_or_else(|| format!("a numeric value of {} bytes", raw.len()))?;
            let units = decimal_units(&text, precision, scale).ok_or_else(|| {
                format!("the numeric value {text} as DECIMAL({precision},{scale})")
            })?;
            b.append_value(units);
        }
        (Column::Text(b), Conversion::Text(kind)) => {
            match values::decode(kind, Some(raw)).map_err(|e| e.to_string())? {
                Value::Str(s) => b.append_value(s),
                other => b.append_value(format!("{other:?}")),
            }
        }
        (Column::Date(b), _) => {
            let days = i32::from_be_bytes(fixed(raw)?);
            let unix = (days != i32::MAX && days != i32::MIN)
                .then(|| days.checked_add(UNIX_DAYS_TO_POSTGRES_EPOCH))
                .flatten()
                .ok_or_else(|| format!("the date value {}", values::date_text(days)))?;
            b.append_value(unix);
        }
        (Column::Time(b), _) => b.append_value(i64::from_be_bytes(fixed(raw)?)),
        (Column::Timestamp(b), _) => {
            let micros = i64::from_be_bytes(fixed(raw)?);
            let unix = (micros != i64::MAX && micros != i64::MIN)
                .then(|| micros.checked_add(UNIX_MICROS_TO_POSTGRES_EPOCH))
                .flatten()
                .ok_or_else(|| {
                    let text =
                        values::timestamp_text(micros, conversion == Conversion::TimestampUtc);
                    format!("the timestamp value {text}")
                })?;
            b.append_value(unix);
        }
        (_, conversion) => return Err(format!("a value converted as {conversion:?}")),
    }
    Ok(())
}

/// Exact decimal text (`-12.5`) → its value in units of 10^-scale, when it
/// fits `precision` digits (fractional digits beyond the scale round half
/// away from zero); `None` for NaN, infinities and values too wide.
fn decimal_units(text: &str, precision: u8, scale: i8) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let scale = usize::try_from(scale).ok()?;
    let mut units: i128 = 0;
    for b in whole
        .bytes()
        .chain(fraction.bytes().chain(std::iter::repeat(b'0')).take(scale))
    {
        units = units.checked_mul(10)?.checked_add(i128::from(b - b'0'))?;
    }
    if fraction.as_bytes().get(scale).is_some_and(|&b| b >= b'5') {
        units = units.checked_add(1)?;
    }
    if units >= 10i128.checked_pow(u32::from(precision))? {
        return None;
    }
    Some(if negative { -units } else { units })
}

#[cfg(test)]
mod tests {
    use arrow::array::{
        Array as _, AsArray as _, BooleanArray, Date32Array, Decimal128Array, Float32Array,
        Float64Array, Int16Array, Int32Array, Int64Array, StringArray, Time64MicrosecondArray,
        TimestampMicrosecondArray,
    };
    use arrow::datatypes::{Decimal128Type, TimestampMicrosecondType};

    use super::*;

    /// PostgreSQL's binary numeric: base-10000 digits.
    fn numeric(weight: i16, negative: bool, dscale: i16, digits: &[i16]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&i16::try_from(digits.len()).unwrap().to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in digits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    fn numeric_typmod(precision: i32, scale: i32) -> i32 {
        ((precision << 16) | scale) + 4
    }

    /// One column of `ty`, with `values` pushed, as an Arrow array.
    fn column(ty: &Type, typmod: i32, values: &[Option<&[u8]>]) -> ArrayRef {
        let plan = Arc::new(Plan::new([("c", ty, typmod)]).unwrap());
        let mut batch = BatchBuilder::new(plan);
        for v in values {
            batch.push(&[*v]).unwrap();
        }
        assert_eq!(batch.rows(), values.len());
        let out = batch.finish().unwrap();
        assert_eq!(batch.rows(), 0);
        Arc::clone(out.column(0))
    }

    #[test]
    fn each_type_has_the_arrow_type_redshift_writes() {
        let cases = [
            (Type::BOOL, -1, DataType::Boolean),
            (Type::INT2, -1, DataType::Int16),
            (Type::INT4, -1, DataType::Int32),
            (Type::INT8, -1, DataType::Int64),
            (Type::OID, -1, DataType::Int64),
            (Type::FLOAT4, -1, DataType::Float32),
            (Type::FLOAT8, -1, DataType::Float64),
            (
                Type::NUMERIC,
                numeric_typmod(22, 2),
                DataType::Decimal128(22, 2),
            ),
            (Type::NUMERIC, -1, DataType::Utf8),
            (Type::NUMERIC, numeric_typmod(50, 2), DataType::Utf8),
            (Type::TEXT, -1, DataType::Utf8),
            (Type::VARCHAR, 36, DataType::Utf8),
            (Type::BPCHAR, 8, DataType::Utf8),
            (Type::NAME, -1, DataType::Utf8),
            (Type::DATE, -1, DataType::Date32),
            (Type::TIME, -1, DataType::Time64(TimeUnit::Microsecond)),
            (
                Type::TIMESTAMP,
                -1,
                DataType::Timestamp(TimeUnit::Microsecond, None),
            ),
            (
                Type::TIMESTAMPTZ,
                -1,
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            ),
            (Type::JSON, -1, DataType::Utf8),
            (Type::JSONB, -1, DataType::Utf8),
            (Type::INTERVAL, -1, DataType::Utf8),
            (Type::TIMETZ, -1, DataType::Utf8),
            (Type::UUID, -1, DataType::Utf8),
        ];
        for (ty, typmod, expected) in cases {
            let plan = Plan::new([("c", &ty, typmod)]).unwrap();
            assert_eq!(plan.schema.field(0).data_type(), &expected, "{ty}");
            assert!(plan.schema.field(0).is_nullable());
        }
    }

    #[test]
    fn varbyte_is_refused_by_name() {
        let error = Plan::new([("a", &Type::INT4, -1), ("blob", &Type::BYTEA, -1)]).unwrap_err();
        assert_eq!(
            error,
            "ERROR: UNLOAD to Parquet does not support the VARBYTE type of column \"blob\""
        );
    }

    #[test]
    fn integers_floats_and_booleans() {
        let a = column(&Type::BOOL, -1, &[Some(&[1]), None, Some(&[0])]);
        let a: &BooleanArray = a.as_boolean();
        assert_eq!((a.value(0), a.is_null(1), a.value(2)), (true, true, false));
        let a = column(&Type::INT2, -1, &[Some(&(-7i16).to_be_bytes())]);
        assert_eq!(
            a.as_any().downcast_ref::<Int16Array>().unwrap().value(0),
            -7
        );
        let a = column(&Type::INT4, -1, &[Some(&i32::MIN.to_be_bytes()), None]);
        let a = a.as_any().downcast_ref::<Int32Array>().unwrap();
        assert_eq!((a.value(0), a.null_count()), (i32::MIN, 1));
        let a = column(&Type::INT8, -1, &[Some(&i64::MAX.to_be_bytes())]);
        assert_eq!(
            a.as_any().downcast_ref::<Int64Array>().unwrap().value(0),
            i64::MAX
        );
        let a = column(&Type::OID, -1, &[Some(&u32::MAX.to_be_bytes())]);
        assert_eq!(
            a.as_any().downcast_ref::<Int64Array>().unwrap().value(0),
            i64::from(u32::MAX)
        );
        let a = column(&Type::FLOAT4, -1, &[Some(&0.1f32.to_be_bytes())]);
        assert_eq!(
            a.as_any().downcast_ref::<Float32Array>().unwrap().value(0),
            0.1f32
        );
        let a = column(&Type::FLOAT8, -1, &[Some(&f64::NEG_INFINITY.to_be_bytes())]);
        assert_eq!(
            a.as_any().downcast_ref::<Float64Array>().unwrap().value(0),
            f64::NEG_INFINITY
        );
    }

    #[test]
    fn decimals_are_exact() {
        // 12345678901234567890.12 = 1234 5678 9012 3456 7890 . 1200
        let big = numeric(4, false, 2, &[1234, 5678, 9012, 3456, 7890, 1200]);
        let small = numeric(0, true, 2, &[1, 500]);
        let a = column(
            &Type::NUMERIC,
            numeric_typmod(22, 2),
            &[Some(&big), Some(&small), None],
        );
        let a: &Decimal128Array = a.as_primitive::<Decimal128Type>();
        assert_eq!(a.value(0), 1_234_567_890_123_456_789_012);
        assert_eq!(a.value_as_string(0), "12345678901234567890.12");
        assert_eq!(a.value_as_string(1), "-1.05");
        assert!(a.is_null(2));
        // Unconstrained: the exact text.
        let a = column(&Type::NUMERIC, -1, &[Some(&big)]);
        assert_eq!(
            a.as_any().downcast_ref::<StringArray>().unwrap().value(0),
            "12345678901234567890.12"
        );
        assert_eq!(decimal_units("1.005", 5, 2), Some(101));
        assert_eq!(decimal_units("-0.004", 5, 2), Some(0));
        assert_eq!(decimal_units("123", 3, 0), Some(123));
        assert_eq!(decimal_units("1234", 3, 0), None);
        assert_eq!(decimal_units("NaN", 3, 0), None);
        assert_eq!(
            decimal_units("99999999999999999999999999999999999999", 38, 0),
            Some(10i128.pow(38) - 1)
        );
    }

    #[test]
    fn a_nan_in_a_decimal_column_is_an_error() {
        let plan =
            Arc::new(Plan::new([("amount", &Type::NUMERIC, numeric_typmod(10, 2))]).unwrap());
        let mut batch = BatchBuilder::new(plan);
        let nan = [0u8, 0, 0, 0, 0xC0, 0, 0, 0];
        assert_eq!(
            batch.push(&[Some(&nan)]),
            Err("ERROR: UNLOAD to Parquet cannot write the numeric value NaN as DECIMAL(10,2) of column \"amount\"".to_owned())
        );
    }

    #[test]
    fn dates_times_and_timestamps_move_to_the_unix_epoch() {
        let a = column(
            &Type::DATE,
            -1,
            &[Some(&0i32.to_be_bytes()), Some(&(-10_957i32).to_be_bytes())],
        );
        let a = a.as_any().downcast_ref::<Date32Array>().unwrap();
        assert_eq!((a.value(0), a.value(1)), (10_957, 0));
        let a = column(&Type::TIME, -1, &[Some(&3_723_000_100i64.to_be_bytes())]);
        assert_eq!(
            a.as_any()
                .downcast_ref::<Time64MicrosecondArray>()
                .unwrap()
                .value(0),
            3_723_000_100
        );
        let a = column(&Type::TIMESTAMP, -1, &[Some(&1_500_000i64.to_be_bytes())]);
        let a: &TimestampMicrosecondArray = a.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(a.value(0), 946_684_801_500_000);
        assert_eq!(a.timezone(), None);
        let a = column(&Type::TIMESTAMPTZ, -1, &[Some(&0i64.to_be_bytes()), None]);
        let a: &TimestampMicrosecondArray = a.as_primitive::<TimestampMicrosecondType>();
        assert_eq!(a.value(0), 946_684_800_000_000);
        assert_eq!(a.timezone(), Some("UTC"));
        assert!(a.is_null(1));
        let plan = Arc::new(Plan::new([("d", &Type::DATE, -1)]).unwrap());
        assert_eq!(
            BatchBuilder::new(plan).push(&[Some(&i32::MAX.to_be_bytes())]),
            Err(
                "ERROR: UNLOAD to Parquet cannot write the date value infinity of column \"d\""
                    .to_owned()
            )
        );
    }

    #[test]
    fn other_types_are_the_text_the_pages_print() {
        let mut interval = Vec::new();
        interval.extend_from_slice(&14_706_500_000i64.to_be_bytes());
        interval.extend_from_slice(&3i32.to_be_bytes());
        interval.extend_from_slice(&14i32.to_be_bytes());
        let uuid = [0x12u8; 16];
        let mut jsonb = vec![1u8];
        jsonb.extend_from_slice(br#"{"a": 1}"#);
        let cases: [(Type, &[u8], &str); 5] = [
            (Type::TEXT, "héllo".as_bytes(), "héllo"),
            (Type::INTERVAL, &interval, "1 year 2 mons 3 days 04:05:06.5"),
            (Type::UUID, &uuid, "12121212-1212-1212-1212-121212121212"),
            (Type::JSONB, &jsonb, r#"{"a": 1}"#),
            (Type::JSON, br#"[1,2]"#, "[1,2]"),
        ];
        for (ty, raw, text) in cases {
            let a = column(&ty, -1, &[Some(raw), None]);
            let a = a.as_any().downcast_ref::<StringArray>().unwrap();
            assert_eq!(a.value(0), text, "{ty}");
            assert!(a.is_null(1));
        }
    }

    #[test]
    fn bytes_and_rows_are_counted() {
        let plan = Arc::new(Plan::new([("a", &Type::INT4, -1), ("b", &Type::TEXT, -1)]).unwrap());
        let mut batch = BatchBuilder::new(plan);
        batch
            .push(&[Some(&1i32.to_be_bytes()), Some(b"abc")])
            .unwrap();
        batch.push(&[None, None]).unwrap();
        assert_eq!((batch.rows(), batch.bytes()), (2, 9));
        assert_eq!(
            batch.push(&[None]),
            Err("ERROR: a row of 1 values for 2 columns".to_owned())
        );
        let error = BatchBuilder::new(Arc::new(Plan::new([("a", &Type::INT4, -1)]).unwrap()))
            .push(&[Some(&[0, 1])])
            .unwrap_err();
        assert_eq!(
            error,
            "ERROR: UNLOAD to Parquet cannot write a value of 2 bytes of column \"a\""
        );
    }
}
