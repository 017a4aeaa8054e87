//! Rows → Parquet files under an UNLOAD's prefix, named as Redshift names
//! them: with PARALLEL ON rows are dealt out to the slices in turn and each
//! slice that gets rows writes `<prefix>SSSS_part_PP.parquet`; with PARALLEL
//! OFF one series is written in row order, `<prefix>NNN.parquet`. A file is
//! closed, and the next part begun, once it reaches MAXFILESIZE. Rows are
//! gathered into batches of bounded size and streamed out as row groups
//! (object_store multipart uploads), so no result is ever held whole.

use std::sync::Arc;

use object_store::buffered::BufWriter;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};
use parquet::arrow::AsyncArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::batch::{BatchBuilder, Plan};

/// Rows per record batch.
const BATCH_ROWS: usize = 65_536;
/// Bytes of values per record batch (a file grows by about this much between
/// two checks of its size).
const BATCH_BYTES: usize = 1024 * 1024;
/// Encoded bytes of a row group before it is flushed (Redshift's default
/// ROWGROUPSIZE is 32 MB).
const ROW_GROUP_BYTES: usize = 32 * 1024 * 1024;

/// One file an UNLOAD wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Written {
    /// Its key in the bucket.
    pub(crate) path: Path,
    /// Its size in bytes.
    pub(crate) bytes: u64,
    /// Its rows.
    pub(crate) rows: u64,
}

/// How the files of one series are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Naming {
    /// PARALLEL ON: `SSSS_part_PP.parquet` for slice `SSSS`.
    Slice(usize),
    /// PARALLEL OFF: `NNN.parquet`.
    Serial,
}

impl Naming {
    fn file(self, prefix: &str, part: usize) -> String {
        match self {
            Self::Slice(slice) => format!("{prefix}{slice:04}_part_{part:02}.parquet"),
            Self::Serial => format!("{prefix}{part:03}.parquet"),
        }
    }
}

/// The key of a file, or the statement's error when the prefix makes no valid key.
pub(crate) fn key(name: &str) -> Result<Path, String> {
    Path::parse(name)
        .ok()
        .filter(|path| path.as_ref() == name)
        .ok_or_else(|| format!("ERROR: the emulator cannot write the S3 key \"{name}\""))
}

/// The name of the first file an UNLOAD writes (to check its prefix early).
pub(crate) fn first_file(prefix: &str, parallel: bool) -> String {
    let naming = if parallel {
        Naming::Slice(0)
    } else {
        Naming::Serial
    };
    naming.file(prefix, 0)
}

/// A file being written.
struct Open {
    writer: AsyncArrowWriter<BufWriter>,
    path: Path,
    rows: u64,
}

impl std::fmt::Debug for Open {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Open")
            .field("path", &self.path)
            .field("rows", &self.rows)
            .finish_non_exhaustive()
    }
}

/// The files of one slice (or of the single writer).
#[derive(Debug)]
struct Series {
    naming: Naming,
    part: usize,
    batch: BatchBuilder,
    open: Option<Open>,
}

/// Where the files go and how they are written.
#[derive(Debug)]
struct Target {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    max_file_size: u64,
    properties: WriterProperties,
    plan: Arc<Plan>,
}

/// The files of one UNLOAD, as its rows arrive.
#[derive(Debug)]
pub(crate) struct Files {
    target: Target,
    series: Vec<Series>,
    rows: u64,
    written: Vec<Written>,
    /// Every key a file was (or may have been) written to, for clean-up.
    touched: Vec<Path>,
}

impl Files {
    /// Files under `prefix` in `store`: `slices` series with PARALLEL ON,
    /// one with PARALLEL OFF.
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        prefix: &str,
        plan: Arc<Plan>,
        parallel: bool,
        slices: usize,
        max_file_size: u64,
    ) -> Self {
        let namings: Vec<Naming> = if parallel {
            (0..slices.max(1)).map(Naming::Slice).collect()
        } else {
            vec![Naming::Serial]
        };
        let series = namings
            .into_iter()
            .map(|naming| Series {
                naming,
                part: 0,
                batch: BatchBuilder::new(Arc::clone(&plan)),
                open: None,
            })
            .collect();
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_bytes(Some(ROW_GROUP_BYTES))
            .build();
        Self {
            target: Target {
                store,
                prefix: prefix.to_owned(),
                max_file_size,
                properties,
                plan,
            },
            series,
            rows: 0,
            written: Vec::new(),
            touched: Vec::new(),
        }
    }

    /// Rows taken so far.
    pub(crate) fn rows(&self) -> u64 {
        self.rows
    }

    /// Takes one row (binary values, `None` for NULL) for the next slice.
    pub(crate) async fn push(&mut self, row: &[Option<&[u8]>]) -> Result<(), String> {
        let count = u64::try_from(self.series.len()).unwrap_or(1);
        let index = usize::try_from(self.rows % count).unwrap_or(0);
        let Some(series) = self.series.get_mut(index) else {
            return Ok(());
        };
        series.batch.push(row)?;
        self.rows += 1;
        if series.batch.rows() >= BATCH_ROWS || series.batch.bytes() >= BATCH_BYTES {
            write_batch(&self.target, series, &mut self.written, &mut self.touched).await?;
        }
        Ok(())
    }

    /// Writes what is left and closes every file; with no rows at all, one
    /// file with the schema and no rows. Returns the files in name order.
    pub(crate) async fn finish(&mut self) -> Result<Vec<Written>, String> {
        for series in &mut self.series {
            if series.batch.rows() > 0 {
                write_batch(&self.target, series, &mut self.written, &mut self.touched).await?;
            }
            close(series, &mut self.written).await?;
        }
        if self.written.is_empty()
            && let Some(series) = self.series.first_mut()
        {
            open(&self.target, series, &mut self.touched)?;
            close(series, &mut self.written).await?;
        }
        let mut written = self.written.clone();
        written.sort_by(|a, b| a.path.as_ref().cmp(b.path.as_ref()));
        Ok(written)
    }

    /// Removes what this UNLOAD wrote (best effort): files still open are
    /// abandoned, finished ones deleted.
    pub(crate) async fn discard(&mut self) {
        for series in &mut self.series {
            if let Some(open) = series.open.take() {
                let mut upload = open.writer.into_inner();
                if let Err(e) = upload.abort().await {
                    tracing::debug!(error = %e, "aborting an UNLOAD upload");
                }
            }
        }
        for path in self.touched.drain(..) {
            if let Err(e) = self.target.store.delete(&path).await
                && !matches!(e, object_store::Error::NotFound { .. })
            {
                tracing::warn!(error = %e, %path, "deleting a file of a failed UNLOAD");
            }
        }
        self.written.clear();
    }
}

/// Opens the series' next file.
fn open(target: &Target, series: &mut Series, touched: &mut Vec<Path>) -> Result<(), String> {
    let path = key(&series.naming.file(&target.prefix, series.part))?;
    let upload = BufWriter::new(Arc::clone(&target.store), path.clone());
    let writer = AsyncArrowWriter::try_new(
        upload,
        Arc::clone(&target.plan.schema),
        Some(target.properties.clone()),
    )
    .map_err(|e| format!("ERROR: UNLOAD could not start the Parquet file {path}: {e}"))?;
    touched.push(path.clone());
    series.open = Some(Open {
        writer,
        path,
        rows: 0,
    });
    series.part += 1;
    Ok(())
}

/// Writes the series' batch to its file (opening one), and closes the file
/// once it has reached MAXFILESIZE.
async fn write_batch(
    target: &Target,
    series: &mut Series,
    written: &mut Vec<Written>,
    touched: &mut Vec<Path>,
) -> Result<(), String> {
    let batch = series.batch.finish()?;
    if series.open.is_none() {
        open(target, series, touched)?;
    }
    let Some(file) = series.open.as_mut() else {
        return Ok(());
    };
    file.writer
        .write(&batch)
        .await
        .map_err(|e| format!("ERROR: UNLOAD could not write {}: {e}", file.path))?;
    file.rows += u64::try_from(batch.num_rows()).unwrap_or(0);
    let size = file.writer.bytes_written() + file.writer.in_progress_size();
    if u64::try_from(size).unwrap_or(u64::MAX) >= target.max_file_size {
        close(series, written).await?;
    }
    Ok(())
}

/// Finishes the series' open file, if any.
async fn close(series: &mut Series, written: &mut Vec<Written>) -> Result<(), String> {
    let Some(mut file) = series.open.take() else {
        return Ok(());
    };
    file.writer
        .finish()
        .await
        .map_err(|e| format!("ERROR: UNLOAD could not write {}: {e}", file.path))?;
    written.push(Written {
        bytes: u64::try_from(file.writer.bytes_written()).unwrap_or(u64::MAX),
        path: file.path,
        rows: file.rows,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use futures::TryStreamExt as _;
    use object_store::memory::InMemory;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use tokio_postgres::types::Type;

    use super::*;

    fn plan() -> Arc<Plan> {
        Arc::new(Plan::new([("n", &Type::INT8, -1), ("s", &Type::TEXT, -1)]).unwrap())
    }

    async fn rows_of(store: &InMemory, path: &Path) -> Vec<i64> {
        let bytes = store.get(path).await.unwrap().bytes().await.unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes)
            .unwrap()
            .build()
            .unwrap();
        let mut out = Vec::new();
        for batch in reader {
            let batch = batch.unwrap();
            let column = batch
                .column(0)
                .as_any()
                .downcast_ref::<arrow::array::Int64Array>()
                .unwrap()
                .clone();
            out.extend(column.values().iter().copied());
        }
        out
    }

    #[test]
    fn files_are_named_as_redshift_names_them() {
        assert_eq!(
            Naming::Slice(1).file("out/x_", 0),
            "out/x_0001_part_00.parquet"
        );
        assert_eq!(Naming::Slice(12).file("", 3), "0012_part_03.parquet");
        assert_eq!(Naming::Serial.file("out/", 2), "out/002.parquet");
        assert_eq!(first_file("p/", true), "p/0000_part_00.parquet");
        assert_eq!(first_file("p/", false), "p/000.parquet");
        assert!(key("out/x_000.parquet").is_ok());
        assert_eq!(
            key("out//000.parquet").unwrap_err(),
            "ERROR: the emulator cannot write the S3 key \"out//000.parquet\""
        );
        assert!(key("/abs/000.parquet").is_err());
    }

    #[tokio::test]
    async fn rows_are_dealt_to_the_slices_in_turn() {
        let store = Arc::new(InMemory::new());
        let mut files = Files::new(store.clone(), "out/", plan(), true, 4, 5 * 1024 * 1024);
        for n in 0..6i64 {
            files
                .push(&[Some(&n.to_be_bytes()), Some(b"x")])
                .await
                .unwrap();
        }
        let written = files.finish().await.unwrap();
        let names: Vec<&str> = written.iter().map(|w| w.path.as_ref()).collect();
        assert_eq!(
            names,
            [
                "out/0000_part_00.parquet",
                "out/0001_part_00.parquet",
                "out/0002_part_00.parquet",
                "out/0003_part_00.parquet"
            ]
        );
        assert_eq!(
            written.iter().map(|w| w.rows).collect::<Vec<_>>(),
            [2, 2, 1, 1]
        );
        assert_eq!(rows_of(&store, &written[0].path).await, [0, 4]);
        assert_eq!(rows_of(&store, &written[1].path).await, [1, 5]);
        let stored = store.head(&written[0].path).await.unwrap();
        assert_eq!(stored.size, written[0].bytes);
    }

    #[tokio::test]
    async fn no_rows_is_one_empty_file_with_the_schema() {
        let store = Arc::new(InMemory::new());
        let mut files = Files::new(store.clone(), "e_", plan(), false, 4, 5 * 1024 * 1024);
        let written = files.finish().await.unwrap();
        assert_eq!(written.len(), 1);
        assert_eq!(written[0].path.as_ref(), "e_000.parquet");
        assert_eq!(written[0].rows, 0);
        assert!(rows_of(&store, &written[0].path).await.is_empty());
        let mut files = Files::new(store.clone(), "p_", plan(), true, 4, 5 * 1024 * 1024);
        let written = files.finish().await.unwrap();
        assert_eq!(written[0].path.as_ref(), "p_0000_part_00.parquet");
    }

    #[tokio::test]
    async fn a_full_file_is_followed_by_the_next_part_in_row_order() {
        let store = Arc::new(InMemory::new());
        // 3 MB per 1 MB file: parts begin once a file has reached MAXFILESIZE.
        let mut files = Files::new(store.clone(), "s/", plan(), false, 4, 1024 * 1024);
        let mut noise = 0u64;
        for n in 0..3000i64 {
            let mut s = vec![0u8; 1000];
            for b in &mut s {
                noise = noise
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                *b = b'a' + u8::try_from(noise >> 59).unwrap();
            }
            files
                .push(&[Some(&n.to_be_bytes()), Some(&s)])
                .await
                .unwrap();
        }
        let written = files.finish().await.unwrap();
        assert!(written.len() >= 2, "{written:?}");
        let mut all = Vec::new();
        for (i, w) in written.iter().enumerate() {
            assert_eq!(w.path.as_ref(), format!("s/{i:03}.parquet"));
            all.extend(rows_of(&store, &w.path).await);
        }
        assert_eq!(all, (0..3000).collect::<Vec<_>>());
    }

    #[tokio::test]
    async fn discard_removes_every_file_written() {
        let store = Arc::new(InMemory::new());
        let mut files = Files::new(store.clone(), "d/", plan(), true, 2, 5 * 1024 * 1024);
        for n in 0..4i64 {
            files.push(&[Some(&n.to_be_bytes()), None]).await.unwrap();
        }
        files.finish().await.unwrap();
        files.discard().await;
        let left: Vec<_> = store.list(None).try_collect().await.unwrap();
        assert!(left.is_empty(), "{left:?}");
    }
}
