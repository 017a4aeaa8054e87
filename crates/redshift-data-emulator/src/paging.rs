//! Pagination as the Data API does it: `MaxResults` checked against each
//! operation's limit, and opaque `NextToken`s that name the next item or row.

use base64::Engine as _;

use crate::error::ApiError;

/// The MaxResults of a list operation: 0 or absent means the default.
pub(crate) fn page_size(max_results: Option<i64>, limit: i64) -> Result<usize, ApiError> {
    match max_results {
        None | Some(0) => Ok(usize::try_from(limit).unwrap_or(100)),
        Some(n) if (1..=limit).contains(&n) => Ok(usize::try_from(n).unwrap_or(100)),
        Some(n) => Err(ApiError::validation(format!(
            "1 validation error detected: Value '{n}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to {limit}"
        ))),
    }
}

/// Cuts one page out of a full listing: the page and the NextToken of the rest.
pub(crate) fn paginate<T>(
    items: Vec<T>,
    next_token: Option<&str>,
    max: usize,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(t) => decode_token(t)
            .filter(|s| *s <= items.len())
            .ok_or_else(|| ApiError::validation("Invalid NextToken"))?,
    };
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(start).take(max).collect();
    let end = start + page.len();
    let next = (end < total).then(|| encode_token(end));
    Ok((page, next))
}

/// A pagination token naming the next item or row (opaque to callers).
pub(crate) fn encode_token(row: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("v1:{row}"))
}

/// Reads a token made by [`encode_token`].
pub(crate) fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    std::str::from_utf8(&bytes)
        .ok()?
        .strip_prefix("v1:")?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_token(&encode_token(42)), Some(42));
        assert_eq!(decode_token("nope"), None);
        assert_eq!(decode_token(""), None);
    }

    #[test]
    fn pages_follow_their_tokens() {
        let (first, next) = paginate(vec![1, 2, 3], None, 2).expect("first");
        assert_eq!(first, [1, 2]);
        let (rest, next) = paginate(vec![1, 2, 3], next.as_deref(), 2).expect("rest");
        assert_eq!((rest, next), (vec![3], None));
        assert!(paginate(vec![1], Some("nope"), 2).is_err());
        assert_eq!(page_size(None, 100).ok(), Some(100));
        assert!(page_size(Some(101), 100).is_err());
    }
}
