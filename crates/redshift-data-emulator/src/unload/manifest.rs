//! The manifest UNLOAD writes with MANIFEST: `<prefix>manifest`, listing
//! each file's URL in file-name order; with VERBOSE also each file's size
//! and rows, and the totals.

use serde_json::{Value, json};

use super::write::Written;

/// The manifest of `files` (in the order given) in `bucket`.
pub(crate) fn manifest(bucket: &str, files: &[Written], verbose: bool) -> Vec<u8> {
    let entries: Vec<Value> = files
        .iter()
        .map(|file| {
            let url = format!("s3://{bucket}/{}", file.path);
            if verbose {
                json!({
                    "url": url,
                    "meta": {"content_length": file.bytes, "record_count": file.rows},
                })
            } else {
                json!({"url": url})
            }
        })
        .collect();
    let document = if verbose {
        json!({
            "entries": entries,
            "meta": {
                "content_length": files.iter().map(|f| f.bytes).sum::<u64>(),
                "record_count": files.iter().map(|f| f.rows).sum::<u64>(),
            },
        })
    } else {
        json!({"entries": entries})
    };
    serde_json::to_vec(&document).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use object_store::path::Path;

    use super::*;

    fn files() -> Vec<Written> {
        vec![
            Written {
                path: Path::from("out/x_0000_part_00.parquet"),
                bytes: 100,
                rows: 3,
            },
            Written {
                path: Path::from("out/x_0001_part_00.parquet"),
                bytes: 50,
                rows: 2,
            },
        ]
    }

    #[test]
    fn plain_lists_the_urls() {
        let m: Value = serde_json::from_slice(&manifest("b", &files(), false)).unwrap();
        assert_eq!(
            m,
            json!({"entries": [
                {"url": "s3://b/out/x_0000_part_00.parquet"},
                {"url": "s3://b/out/x_0001_part_00.parquet"},
            ]})
        );
    }

    #[test]
    fn verbose_adds_sizes_and_rows() {
        let m: Value = serde_json::from_slice(&manifest("b", &files(), true)).unwrap();
        assert_eq!(
            m,
            json!({
                "entries": [
                    {"url": "s3://b/out/x_0000_part_00.parquet",
                     "meta": {"content_length": 100, "record_count": 3}},
                    {"url": "s3://b/out/x_0001_part_00.parquet",
                     "meta": {"content_length": 50, "record_count": 2}},
                ],
                "meta": {"content_length": 150, "record_count": 5},
            })
        );
    }
}
