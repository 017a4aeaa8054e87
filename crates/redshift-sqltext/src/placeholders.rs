//! Parameter placeholders: finds them (`?`, `$1`, `:name`)
//! outside string literals (`'…'`, `E'…'`, `$tag$…$tag$`), quoted
//! identifiers, comments and `::` casts.

use std::ops::Range;

use crate::lex::skip_at;

/// What a placeholder looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceholderKind {
    /// `?` (JDBC, ADBC).
    Question,
    /// `$n` (PostgreSQL style), 1-based.
    Positional(usize),
    /// `:name` (the Data API's style).
    Named(String),
}

/// One placeholder and where it stands in the SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder {
    /// Byte range of the placeholder.
    pub range: Range<usize>,
    /// Its kind.
    pub kind: PlaceholderKind,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The placeholders of `sql`, in order.
pub fn placeholders(sql: &str) -> Vec<Placeholder> {
    let b = sql.as_bytes();
    let mut found = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if let Some((_, end)) = skip_at(sql, i) {
            i = end;
            continue;
        }
        match b[i] {
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit)
                && (i == 0 || !is_name_byte(b[i - 1])) =>
            {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_digit() {
                    j += 1;
                }
                // A number too large for usize is still a placeholder (one no
                // statement can have): callers refuse it by its number.
                let n = sql[i + 1..j].parse::<usize>().unwrap_or(usize::MAX);
                found.push(Placeholder {
                    range: i..j,
                    kind: PlaceholderKind::Positional(n),
                });
                i = j;
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b.get(i + 1).is_some_and(|&c| is_name_byte(c)) => {
                let mut j = i + 1;
                while j < b.len() && is_name_byte(b[j]) {
                    j += 1;
                }
                found.push(Placeholder {
                    range: i..j,
                    kind: PlaceholderKind::Named(sql[i + 1..j].to_owned()),
                });
                i = j;
            }
            b'?' => {
                found.push(Placeholder {
                    range: i..i + 1,
                    kind: PlaceholderKind::Question,
                });
                i += 1;
            }
            _ => i += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<PlaceholderKind> {
        placeholders(sql).into_iter().map(|p| p.kind).collect()
    }

    #[test]
    fn finds_every_style_outside_literals() {
        assert_eq!(
            kinds("select ?, $2, :n, '?', \"$1\", x::int, $$ ? $$, $t$ :m $t$ -- ?\n /* ? */ a$1"),
            vec![
                PlaceholderKind::Question,
                PlaceholderKind::Positional(2),
                PlaceholderKind::Named("n".into())
            ]
        );
        let sql = "insert into t values (?, ?)";
        let p = placeholders(sql);
        assert_eq!(&sql[p[1].range.clone()], "?");
    }

    #[test]
    fn huge_positions_are_kept_for_the_caller_to_refuse() {
        assert_eq!(
            kinds("select $18446744073709551615, $99999999999999999999999"),
            vec![
                PlaceholderKind::Positional(usize::MAX),
                PlaceholderKind::Positional(usize::MAX)
            ]
        );
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for sql in [
            "'abc", "\"abc", "/* x", "$q$ abc", ":", "a:", "E'\\", "$", "$1", "?",
        ] {
            let _ = placeholders(sql);
        }
    }
}
