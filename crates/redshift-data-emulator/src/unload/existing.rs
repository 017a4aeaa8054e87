//! The objects already under an UNLOAD's prefix: Redshift refuses a
//! destination that has any (without ALLOWOVERWRITE), and CLEANPATH
//! deletes them first.

use futures::TryStreamExt as _;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt as _};

use super::parse::Existing;

/// Redshift's error for objects under the prefix without ALLOWOVERWRITE.
pub(crate) const NOT_EMPTY: &str = "ERROR: Specified unload destination on S3 is not empty. \
     Consider using a different bucket / prefix, manually removing the target files in S3, \
     or using the ALLOWOVERWRITE option.";

/// The keys that begin with `prefix` (a plain string prefix, as S3 lists:
/// `out/x_` matches `out/x_0000_part_00.parquet`).
pub(crate) async fn under(store: &dyn ObjectStore, prefix: &str) -> Result<Vec<Path>, String> {
    let directory = prefix.rsplit_once('/').map(|(d, _)| d).unwrap_or_default();
    let directory = match directory {
        "" => None,
        d => Some(Path::parse(d).map_err(|_| {
            format!("ERROR: the emulator cannot write under the S3 prefix \"{prefix}\"")
        })?),
    };
    let objects: Vec<_> = store
        .list(directory.as_ref())
        .try_collect()
        .await
        .map_err(|e| format!("ERROR: UNLOAD could not list the S3 prefix \"{prefix}\": {e}"))?;
    let mut keys: Vec<Path> = objects
        .into_iter()
        .map(|o| o.location)
        .filter(|key| key.as_ref().starts_with(prefix))
        .collect();
    keys.sort_by(|a, b| a.as_ref().cmp(b.as_ref()));
    Ok(keys)
}

/// Applies the UNLOAD's rule for what is already under `prefix`.
pub(crate) async fn prepare(
    store: &dyn ObjectStore,
    prefix: &str,
    existing: Existing,
) -> Result<(), String> {
    if existing == Existing::Overwrite {
        return Ok(());
    }
    let keys = under(store, prefix).await?;
    match existing {
        Existing::Refuse if !keys.is_empty() => Err(NOT_EMPTY.to_owned()),
        Existing::Clean => {
            for key in keys {
                match store.delete(&key).await {
                    Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                    Err(e) => {
                        return Err(format!("ERROR: CLEANPATH could not delete {key}: {e}"));
                    }
                }
            }
            Ok(())
        }
        Existing::Refuse | Existing::Overwrite => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use object_store::memory::InMemory;

    use super::*;

    async fn store_with(keys: &[&str]) -> InMemory {
        let store = InMemory::new();
        for key in keys {
            store.put(&Path::from(*key), "x".into()).await.unwrap();
        }
        store
    }

    #[tokio::test]
    async fn a_prefix_is_a_string_prefix() {
        let store = store_with(&["out/x_1", "out/y_1", "out/x_/deep", "other"]).await;
        let keys = under(&store, "out/x_").await.unwrap();
        let keys: Vec<&str> = keys.iter().map(AsRef::as_ref).collect();
        assert_eq!(keys, ["out/x_/deep", "out/x_1"]);
        assert_eq!(under(&store, "").await.unwrap().len(), 4);
        assert_eq!(under(&store, "o").await.unwrap().len(), 4);
        assert!(under(&store, "none/").await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn refuse_clean_or_overwrite() {
        let store = store_with(&["out/a", "keep/b"]).await;
        assert_eq!(
            prepare(&store, "out/", Existing::Refuse).await,
            Err(NOT_EMPTY.to_owned())
        );
        assert_eq!(prepare(&store, "new/", Existing::Refuse).await, Ok(()));
        assert_eq!(prepare(&store, "out/", Existing::Overwrite).await, Ok(()));
        assert_eq!(under(&store, "out/").await.unwrap().len(), 1);
        assert_eq!(prepare(&store, "out/", Existing::Clean).await, Ok(()));
        assert!(under(&store, "out/").await.unwrap().is_empty());
        assert_eq!(under(&store, "keep/").await.unwrap().len(), 1);
    }
}
