//! One UNLOAD file as Arrow: the Parquet file streamed from the object store
//! with the `parquet` crate's async reader (row group by row group, ranged
//! GETs, nothing held beyond the batch being sent), each batch conformed to
//! the schema the page path would give the same query.

use std::sync::Arc;

use arrow::compute::{CastOptions, cast_with_options};
use arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use futures::{FutureExt as _, StreamExt as _, TryStreamExt as _};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use parquet::arrow::ParquetRecordBatchStreamBuilder;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::store::storage_error;
use crate::error::GatewayError;

/// Rows per batch sent.
const BATCH_ROWS: usize = 64 * 1024;

/// Whether a Parquet column of type `from` reads exactly as `to` (the page
/// path's type of the same Redshift column). Casts run unsafe-checked: a
/// value that does not fit is an error, never NULL or a rounded value.
fn castable(from: &DataType, to: &DataType) -> bool {
    use DataType as T;
    let integer = |t: &T| t.is_integer();
    let decimal_scale = |t: &T| match t {
        T::Decimal32(_, s) | T::Decimal64(_, s) | T::Decimal128(_, s) | T::Decimal256(_, s) => {
            Some(*s)
        }
        _ => None,
    };
    match (from, to) {
        _ if from == to => true,
        (f, t) if integer(f) && integer(t) => true,
        (T::Float32 | T::Float16, T::Float32 | T::Float64) => true,
        (f, T::Decimal128(_, s)) if decimal_scale(f) == Some(*s) => true,
        (T::Utf8View | T::LargeUtf8 | T::Utf8, T::Utf8) => true,
        (T::BinaryView | T::LargeBinary | T::Binary, T::Binary) => true,
        (T::Timestamp(..), T::Timestamp(TimeUnit::Microsecond, _)) => true,
        (T::Date32 | T::Date64, T::Date32) => true,
        (T::Time32(_) | T::Time64(_), T::Time64(TimeUnit::Microsecond)) => true,
        // Anything as text is exact (a SUPER's JSON, a timetz's text).
        (_, T::Utf8) => !from.is_nested(),
        _ => false,
    }
}

/// `column` as `to`. Timestamps are instants in UTC (Parquet's
/// isAdjustedToUTC, or Redshift's TIMESTAMPTZ written without it): only the
/// unit changes and the zone is set, the instant never moves.
fn cast_column(
    column: &arrow::array::ArrayRef,
    to: &DataType,
    options: &CastOptions<'_>,
) -> Result<arrow::array::ArrayRef, ArrowError> {
    if let (
        DataType::Timestamp(unit, from_zone),
        DataType::Timestamp(TimeUnit::Microsecond, zone),
    ) = (column.data_type(), to)
    {
        // The same values without their zone: the unit change below then
        // needs no time zone database.
        let column = if from_zone.is_some() {
            arrow::array::make_array(
                column
                    .to_data()
                    .into_builder()
                    .data_type(DataType::Timestamp(*unit, None))
                    .build()?,
            )
        } else {
            Arc::clone(column)
        };
        let naive = cast_with_options(
            &column,
            &DataType::Timestamp(TimeUnit::Microsecond, None),
            options,
        )?;
        let micros = naive
            .as_any()
            .downcast_ref::<arrow::array::TimestampMicrosecondArray>()
            .ok_or_else(|| ArrowError::CastError("not a timestamp".to_owned()))?
            .clone()
            .with_timezone_opt(zone.clone());
        return Ok(Arc::new(micros));
    }
    cast_with_options(column, to, options)
}

/// `batch` (as the Parquet reader gives it) in `to`'s types, names and
/// metadata.
pub(crate) fn conform(batch: &RecordBatch, to: &SchemaRef) -> Result<RecordBatch, ArrowError> {
    let options = CastOptions {
        safe: false,
        ..CastOptions::default()
    };
    let columns_differ = |got| {
        format!(
            "UNLOAD wrote {got} columns where the query's result has {}",
            to.fields().len()
        )
    };
    crate::convert::conform_with(batch, to, columns_differ, |column, field| {
        let from = column.data_type();
        if castable(from, field.data_type()) {
            cast_column(column, field.data_type(), &options)
                .map_err(|e| ArrowError::CastError(format!("column \"{}\": {e}", field.name())))
        } else {
            Err(ArrowError::CastError(format!(
                "column \"{}\": UNLOAD wrote {from} where the result has {}",
                field.name(),
                field.data_type()
            )))
        }
    })
}

/// Bytes read with the footer, so that most footers take one GET.
const FOOTER_PREFETCH: usize = 64 * 1024;

/// A Parquet file in an object store, read by ranges.
#[derive(Debug)]
struct ObjectReader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    size: u64,
}

impl AsyncFileReader for ObjectReader {
    fn get_bytes(
        &mut self,
        range: std::ops::Range<u64>,
    ) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.path, range)
                .await
                .map_err(ParquetError::from)
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<std::ops::Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.path, &ranges)
                .await
                .map_err(ParquetError::from)
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        _options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                // Whole files are read: no page index is needed.
                .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Skip)
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

/// The batches of the Parquet object `key` (`bytes` long, when known) in `schema`.
pub(crate) async fn batches(
    store: Arc<dyn ObjectStore>,
    key: &str,
    bytes: i64,
    schema: SchemaRef,
) -> Result<BoxStream<'static, Result<RecordBatch, GatewayError>>, GatewayError> {
    let path = Path::parse(key)
        .map_err(|e| GatewayError::Internal(format!("UNLOAD file key {key:?}: {e}")))?;
    let what = format!("UNLOAD file {key}");
    let size = match u64::try_from(bytes) {
        Ok(size) if size > 0 => size,
        _ => {
            store
                .head(&path)
                .await
                .map_err(|e| storage_error(&what, &e))?
                .size
        }
    };
    let reader = ObjectReader { store, path, size };
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|e| parquet_error(&what, e))?;
    let stream = builder
        .with_batch_size(BATCH_ROWS)
        .build()
        .map_err(|e| parquet_error(&what, e))?;
    Ok(stream
        .map_err(move |e| parquet_error(&what, e))
        .and_then(move |batch| {
            let conformed =
                conform(&batch, &schema).map_err(|e| GatewayError::encode("an UNLOAD batch", e));
            std::future::ready(conformed)
        })
        .boxed())
}

/// A Parquet reader's error: the object store's (a missing file is a result
/// that expired) or the file's.
fn parquet_error(what: &str, e: ParquetError) -> GatewayError {
    match e {
        ParquetError::External(source) => match source.downcast::<object_store::Error>() {
            Ok(store) => storage_error(what, &store),
            Err(other) => GatewayError::Storage(format!("{what}: {other}")),
        },
        other => GatewayError::Storage(format!("{what}: {other}")),
    }
}

#[cfg(test)]
mod tests {
    use arrow::array::{Array as _, AsArray as _, Int32Array, TimestampMicrosecondArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn parquet_types_read_as_the_page_path_types() {
        let from = Arc::new(Schema::new(vec![
            Field::new("small", DataType::Int32, true),
            Field::new("at", DataType::Timestamp(TimeUnit::Microsecond, None), true),
        ]));
        let batch = RecordBatch::try_new(
            from,
            vec![
                Arc::new(Int32Array::from(vec![Some(7), None])),
                Arc::new(TimestampMicrosecondArray::from(vec![Some(1_000_000), None])),
            ],
        )
        .expect("batch");
        let to = Arc::new(Schema::new(vec![
            Field::new("small", DataType::Int16, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]));
        let got = conform(&batch, &to).expect("conformed");
        assert_eq!(got.schema(), to);
        assert_eq!(
            got.column(0)
                .as_primitive::<arrow::datatypes::Int16Type>()
                .value(0),
            7
        );
        assert_eq!(
            got.column(1)
                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0),
            1_000_000,
            "UTC instants keep their value"
        );
        assert!(got.column(1).is_null(1));
        // Milliseconds in another spelling of UTC: the same instant in microseconds.
        let millis = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Millisecond, Some("+00:00".into())),
                true,
            )])),
            vec![Arc::new(
                arrow::array::TimestampMillisecondArray::from(vec![Some(1_500)])
                    .with_timezone("+00:00"),
            )],
        )
        .expect("batch");
        let to_one = Arc::new(Schema::new(vec![to.field(1).clone()]));
        let got = conform(&millis, &to_one).expect("conformed");
        assert_eq!(
            got.column(0)
                .as_primitive::<arrow::datatypes::TimestampMicrosecondType>()
                .value(0),
            1_500_000
        );
    }

    #[test]
    fn values_that_do_not_fit_are_errors() {
        let batch = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)])),
            vec![Arc::new(Int32Array::from(vec![70_000]))],
        )
        .expect("batch");
        let to = Arc::new(Schema::new(vec![Field::new("n", DataType::Int16, false)]));
        assert!(conform(&batch, &to).is_err(), "70000 is no smallint");
        let float = Arc::new(Schema::new(vec![Field::new("n", DataType::Float64, false)]));
        assert!(
            castable(&DataType::Int32, &DataType::Utf8)
                && !castable(&DataType::Float64, &DataType::Int32)
        );
        assert!(conform(&batch, &float).is_err(), "not a cast UNLOAD needs");
    }
}
