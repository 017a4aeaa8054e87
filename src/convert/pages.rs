//! A result's pages converted on several cores at once, in page order.
//!
//! Pages are fetched one after another (each needs the NextToken of the one
//! before), but each converts on its own: so the next page's conversion
//! starts on a blocking thread while the one before it is still converting,
//! and batches come out in the order their pages went in.

use std::sync::Arc;

use arrow::record_batch::RecordBatch;
use futures::{Stream, StreamExt as _};
use tokio::sync::Semaphore;

use super::{ConvertError, PageConverter};
use crate::dataapi::Records;

/// Why a page did not become a batch.
#[derive(Debug, thiserror::Error)]
pub enum PageError<E> {
    /// The page could not be had (the Data API's error).
    #[error("{0}")]
    Page(E),
    /// A value of the page does not fit its column.
    #[error("{0}")]
    Convert(ConvertError),
    /// The conversion thread or the page budget went away (shutdown).
    #[error("page conversion ended: {0}")]
    Ended(String),
}

/// How many pages of one result convert at once: the cores available, at
/// most four (beyond that a single result would crowd out the others).
pub fn parallel_conversions() -> usize {
    std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 4)
}

/// Converts each page of `pages` on a blocking thread, up to `parallel` at
/// once, and yields their batches in page order. `first_page` says whether
/// the first item is the result's first page (a CSV header may lead it).
///
/// With `permits`, each conversion holds one while it runs, so conversions of
/// all results together stay within the gateway's page budget. A page is
/// taken from `pages` only when the stream is polled with fewer than
/// `parallel` conversions under way: a reader that stops reading stops the
/// conversions after the ones already started.
pub fn convert_in_order<E, S>(
    converter: Arc<PageConverter>,
    pages: S,
    first_page: bool,
    parallel: usize,
    permits: Option<Arc<Semaphore>>,
) -> impl Stream<Item = Result<RecordBatch, PageError<E>>> + Send
where
    E: Send + 'static,
    S: Stream<Item = Result<Records, E>> + Send,
{
    pages
        .enumerate()
        .map(move |(index, page)| {
            let converter = Arc::clone(&converter);
            let permits = permits.clone();
            async move {
                let records = page.map_err(PageError::Page)?;
                let permit = match permits {
                    Some(permits) => Some(
                        permits
                            .acquire_owned()
                            .await
                            .map_err(|e| PageError::Ended(e.to_string()))?,
                    ),
                    None => None,
                };
                let first = first_page && index == 0;
                tokio::task::spawn_blocking(move || {
                    let batch = converter.convert(&records, first);
                    drop(permit);
                    batch
                })
                .await
                .map_err(|e| PageError::Ended(e.to_string()))?
                .map_err(PageError::Convert)
            }
        })
        .buffered(parallel.max(1))
}

#[cfg(test)]
mod tests {
    use futures::{TryStreamExt as _, stream};

    use super::*;
    use crate::dataapi::ColumnMetadata;

    fn converter() -> Arc<PageConverter> {
        let column = ColumnMetadata {
            name: "n".into(),
            type_name: "int4".into(),
            ..ColumnMetadata::default()
        };
        Arc::new(PageConverter::new(vec![column], None))
    }

    fn page(from: usize, rows: usize) -> Records {
        Records::Csv((from..from + rows).map(|n| format!("{n}\n")).collect())
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batches_keep_page_order_whatever_finishes_first() {
        // Large pages and small ones alternate, so later pages finish first.
        let mut pages = Vec::new();
        let mut next = 0;
        for i in 0..24 {
            let rows = if i % 2 == 0 { 20_000 } else { 3 };
            pages.push(Ok::<_, String>(page(next, rows)));
            next += rows;
        }
        let batches: Vec<RecordBatch> =
            convert_in_order(converter(), stream::iter(pages), true, 4, None)
                .try_collect()
                .await
                .expect("converted");
        let values: Vec<i32> = batches
            .iter()
            .flat_map(|b| {
                let column = b
                    .column(0)
                    .as_any()
                    .downcast_ref::<arrow::array::Int32Array>();
                column.expect("int4").values().to_vec()
            })
            .collect();
        let expected: Vec<i32> = (0..i32::try_from(next).expect("rows")).collect();
        assert_eq!(values, expected);
    }

    #[tokio::test]
    async fn a_bad_page_ends_the_stream_with_its_error_in_place() {
        let pages = vec![
            Ok(page(0, 2)),
            Ok(Records::Csv("x\n".into())),
            Err("not reached".to_owned()),
        ];
        let mut out = Box::pin(convert_in_order(
            converter(),
            stream::iter(pages),
            false,
            2,
            Some(Arc::new(Semaphore::new(1))),
        ));
        let first = out.next().await.expect("a batch").expect("converts");
        assert_eq!(first.num_rows(), 2);
        let second = out.next().await.expect("an item");
        assert!(
            matches!(&second, Err(PageError::Convert(e)) if e.column == "n"),
            "{second:?}"
        );
        let third = out.next().await.expect("an item");
        assert!(matches!(third, Err(PageError::Page(ref e)) if e == "not reached"));
    }
}
