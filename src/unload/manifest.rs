//! The MANIFEST that `UNLOAD … MANIFEST VERBOSE` writes last: the URL, size
//! and rows of every file, so its presence says the result is complete.

use serde::Deserialize;

/// One Parquet file of an UNLOAD result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnloadedFile {
    /// Object key in the bucket.
    pub(crate) key: String,
    /// Bytes (0 when the manifest does not say).
    pub(crate) bytes: i64,
    /// Rows (`None` when the manifest does not say).
    pub(crate) rows: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    entries: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
struct Entry {
    url: String,
    #[serde(default)]
    meta: Option<Meta>,
}

#[derive(Debug, Deserialize)]
struct Meta {
    content_length: Option<i64>,
    record_count: Option<i64>,
}

/// The files a manifest of `bucket` lists, by key (the order UNLOAD with
/// PARALLEL OFF writes them in).
pub(crate) fn files(bucket: &str, manifest: &[u8]) -> Result<Vec<UnloadedFile>, String> {
    let manifest: Manifest =
        serde_json::from_slice(manifest).map_err(|e| format!("the UNLOAD manifest: {e}"))?;
    let in_bucket = format!("s3://{bucket}/");
    let mut files = manifest
        .entries
        .into_iter()
        .map(|entry| {
            let key = entry
                .url
                .strip_prefix(&in_bucket)
                .ok_or_else(|| {
                    format!(
                        "the UNLOAD manifest lists {} outside {in_bucket}",
                        entry.url
                    )
                })?
                .to_owned();
            let meta = entry.meta.as_ref();
            Ok(UnloadedFile {
                key,
                bytes: meta.and_then(|m| m.content_length).unwrap_or(0),
                rows: meta.and_then(|m| m.record_count),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    files.sort_by(|a, b| a.key.cmp(&b.key));
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verbose_manifest_gives_keys_sizes_and_rows_in_order() {
        let text = br#"{"entries":[
            {"url":"s3://b/r/1/0001_part_00.parquet","meta":{"content_length":20,"record_count":2}},
            {"url":"s3://b/r/1/0000_part_00.parquet","meta":{"content_length":10,"record_count":1}}],
            "meta":{"content_length":30,"record_count":3}}"#;
        let got = files("b", text).expect("manifest");
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].key, "r/1/0000_part_00.parquet");
        assert_eq!((got[0].bytes, got[0].rows), (10, Some(1)));
        let plain = br#"{"entries":[{"url":"s3://b/x.parquet"}]}"#;
        assert_eq!(files("b", plain).expect("plain")[0].rows, None);
        assert!(files("other", text).is_err(), "a file outside the bucket");
        assert!(files("b", b"not json").is_err());
    }
}
