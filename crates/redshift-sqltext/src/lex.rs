//! The spans of SQL text that are not code: string literals (`'…'`,
//! `E'…'` with backslash escapes, `$tag$…$tag$`), quoted identifiers
//! (`"…"`, `""` inside) and comments (`-- …`, nested `/* … */`). What
//! scans SQL for placeholders or tokens steps over them with [`skip_at`].

/// What a span [`skip_at`] steps over is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skipped {
    /// A string literal, quoted or dollar-quoted.
    StringLiteral,
    /// A quoted identifier.
    QuotedIdentifier,
    /// A comment.
    Comment,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// When a literal, quoted identifier or comment starts at byte `i` of
/// `sql`: what it is, and the byte after its end (the end of the text when
/// it is not closed). `None` for code, and for `$1`, which is no quote.
pub fn skip_at(sql: &str, i: usize) -> Option<(Skipped, usize)> {
    let b = sql.as_bytes();
    match *b.get(i)? {
        b'\'' => {
            // E'…' allows backslash escapes; plain '…' only doubled quotes.
            let escapes =
                i > 0 && matches!(b[i - 1], b'E' | b'e') && (i < 2 || !is_name_byte(b[i - 2]));
            let mut j = i + 1;
            while j < b.len() {
                if escapes && b[j] == b'\\' {
                    j += 2;
                    continue;
                }
                if b[j] == b'\'' {
                    if b.get(j + 1) == Some(&b'\'') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            Some((Skipped::StringLiteral, (j + 1).min(b.len())))
        }
        b'"' => {
            let mut j = i + 1;
            while j < b.len() {
                if b[j] == b'"' {
                    if b.get(j + 1) == Some(&b'"') {
                        j += 2;
                        continue;
                    }
                    break;
                }
                j += 1;
            }
            Some((Skipped::QuotedIdentifier, (j + 1).min(b.len())))
        }
        b'-' if b.get(i + 1) == Some(&b'-') => {
            let end = sql[i..].find('\n').map_or(b.len(), |n| i + n);
            Some((Skipped::Comment, end))
        }
        b'/' if b.get(i + 1) == Some(&b'*') => {
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                if b[j] == b'/' && b.get(j + 1) == Some(&b'*') {
                    depth += 1;
                    j += 2;
                } else if b[j] == b'*' && b.get(j + 1) == Some(&b'/') {
                    depth -= 1;
                    j += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    j += 1;
                }
            }
            Some((Skipped::Comment, j.min(b.len())))
        }
        b'$' => {
            // $$…$$ or $tag$…$tag$ (a tag does not start with a digit: $1 is a placeholder).
            let mut j = i + 1;
            while j < b.len() && is_name_byte(b[j]) {
                j += 1;
            }
            let tagged = j < b.len()
                && b[j] == b'$'
                && (j == i + 1 || !b[i + 1].is_ascii_digit())
                && (i == 0 || !is_name_byte(b[i - 1]));
            if !tagged {
                return None;
            }
            let tag = &sql[i..=j];
            let end = sql[j + 1..]
                .find(tag)
                .map_or(b.len(), |n| j + 1 + n + tag.len());
            Some((Skipped::StringLiteral, end))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(sql: &str, i: usize) -> Option<(Skipped, &str)> {
        skip_at(sql, i).map(|(k, end)| (k, &sql[i..end]))
    }

    #[test]
    fn steps_over_each_kind_to_its_end() {
        assert_eq!(
            span("x 'a''b' y", 2),
            Some((Skipped::StringLiteral, "'a''b'"))
        );
        assert_eq!(
            span("E'a\\'b' y", 1),
            Some((Skipped::StringLiteral, "'a\\'b'"))
        );
        assert_eq!(
            span("'C:\\' y", 0),
            Some((Skipped::StringLiteral, "'C:\\'"))
        );
        assert_eq!(
            span("\"a\"\"b\".c", 0),
            Some((Skipped::QuotedIdentifier, "\"a\"\"b\""))
        );
        assert_eq!(span("-- c\nx", 0), Some((Skipped::Comment, "-- c")));
        assert_eq!(
            span("/* a /* b */ c */x", 0),
            Some((Skipped::Comment, "/* a /* b */ c */"))
        );
        assert_eq!(
            span("$t$ a $t$x", 0),
            Some((Skipped::StringLiteral, "$t$ a $t$"))
        );
        assert_eq!(skip_at("$1", 0), None);
        assert_eq!(skip_at("a$b$", 1), None);
        assert_eq!(skip_at("x", 0), None);
    }

    #[test]
    fn unterminated_spans_end_with_the_text() {
        for sql in ["'abc", "\"abc", "/* x", "$q$ abc", "E'\\", "--"] {
            let i = usize::from(sql.starts_with('E'));
            assert_eq!(
                skip_at(sql, i).map(|(_, end)| end),
                Some(sql.len()),
                "{sql}"
            );
        }
    }
}
