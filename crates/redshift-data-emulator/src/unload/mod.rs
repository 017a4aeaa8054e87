//! Redshift's `UNLOAD ('select …') TO 's3://bucket/prefix' … FORMAT PARQUET`:
//! the query runs on the statement's connection (its role's privileges,
//! its cancellation), and its rows stream into Parquet files in a bucket
//! of S3, of an S3-compatible server or of a local directory.
//!
//! The statement finishes with no result set; its ResultRows are the rows
//! unloaded. When it fails after files were written, they are deleted.

mod batch;
mod existing;
mod lex;
mod manifest;
mod parse;
mod store;
mod write;

use std::sync::Arc;

use futures::{StreamExt as _, pin_mut};
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use tokio_postgres::Client;

use crate::error::redshift_error;
use crate::values::RawValue;
pub(crate) use store::Stores;

/// Why an UNLOAD failed: the statement's error text, and whether the query
/// was cancelled.
#[derive(Debug)]
pub(crate) struct Failed {
    pub(crate) message: String,
    pub(crate) cancelled: bool,
}

impl From<String> for Failed {
    fn from(message: String) -> Self {
        Self {
            message,
            cancelled: false,
        }
    }
}

impl From<tokio_postgres::Error> for Failed {
    fn from(e: tokio_postgres::Error) -> Self {
        Self {
            cancelled: e.code() == Some(&tokio_postgres::error::SqlState::QUERY_CANCELED),
            message: redshift_error(&e),
        }
    }
}

/// Whether a statement is an UNLOAD (its first keyword, after comments).
pub(crate) fn is_unload(sql: &str) -> bool {
    let text = redshift_sqltext::strip_leading_comments(sql).trim_start();
    text.get(..6)
        .is_some_and(|word| word.eq_ignore_ascii_case("unload"))
        && !text
            .as_bytes()
            .get(6)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
}

/// Runs an UNLOAD on `client` (already switched to the statement's role)
/// with the stores and slices of the emulator; returns the rows unloaded.
pub(crate) async fn run(
    client: &Client,
    sql: &str,
    stores: &Stores,
    slices: usize,
) -> Result<u64, Failed> {
    let unload = parse::parse(sql)?;
    write::key(&write::first_file(&unload.prefix, unload.parallel))?;
    let store = stores.bucket(&unload.bucket)?;
    let prepared = client.prepare(&unload.query).await?;
    if !prepared.params().is_empty() {
        return Err(Failed::from(
            "ERROR: the emulator runs UNLOAD queries without parameters".to_owned(),
        ));
    }
    if prepared.columns().is_empty() {
        return Err(Failed::from(
            "ERROR: UNLOAD needs a query that returns rows (a SELECT)".to_owned(),
        ));
    }
    let plan = Arc::new(batch::Plan::new(
        prepared
            .columns()
            .iter()
            .map(|c| (c.name(), c.type_(), c.type_modifier())),
    )?);
    existing::prepare(store.as_ref(), &unload.prefix, unload.existing).await?;
    let mut files = write::Files::new(
        Arc::clone(&store),
        &unload.prefix,
        plan,
        unload.parallel,
        slices,
        unload.max_file_size,
    );
    let outcome = write_all(client, &prepared, &mut files, store.as_ref(), &unload).await;
    if outcome.is_err() {
        files.discard().await;
    }
    outcome
}

/// Streams the query's rows into `files`, then the manifest.
async fn write_all(
    client: &Client,
    prepared: &tokio_postgres::Statement,
    files: &mut write::Files,
    store: &dyn ObjectStore,
    unload: &parse::Unload,
) -> Result<u64, Failed> {
    let no_parameters: [&str; 0] = [];
    let stream = client.query_raw(prepared, no_parameters).await?;
    pin_mut!(stream);
    let width = prepared.columns().len();
    while let Some(row) = stream.next().await {
        let row = row?;
        let mut values: Vec<Option<&[u8]>> = Vec::with_capacity(width);
        for i in 0..width {
            let raw: RawValue<'_> = row.try_get(i)?;
            values.push(raw.0);
        }
        files.push(&values).await?;
    }
    let written = files.finish().await?;
    if let Some(kind) = unload.manifest {
        let name = format!("{}manifest", unload.prefix);
        let path = write::key(&name)?;
        let body = manifest::manifest(&unload.bucket, &written, kind == parse::Manifest::Verbose);
        store
            .put(&path, PutPayload::from(body))
            .await
            .map_err(|e| Failed::from(format!("ERROR: UNLOAD could not write {name}: {e}")))?;
    }
    Ok(files.rows())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unload_by_its_first_keyword() {
        assert!(is_unload("UNLOAD ('select 1') TO 's3://b/k'"));
        assert!(is_unload("-- c\n /* d */ unload('select 1')"));
        assert!(!is_unload("unloaded"));
        assert!(!is_unload("select 'unload'"));
        assert!(!is_unload("unlo"));
    }
}
