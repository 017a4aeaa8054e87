//! The clauses of a query's outermost level (outside parentheses, literals,
//! quoted identifiers and comments), what makes a query fit for `UNLOAD`:
//! a top-level `ORDER BY` asks for ordered output, a top-level `LIMIT` is
//! refused by UNLOAD. And the text of a query as a literal inside `UNLOAD`.

use crate::lex::skip_at;

/// What the outermost level of a query has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TopLevel {
    /// `ORDER BY` outside any parentheses.
    pub order_by: bool,
    /// `LIMIT`, `OFFSET`, `FETCH FIRST` or `TOP` outside any parentheses.
    pub limit: bool,
}

/// The clauses of `sql`'s outermost level.
pub fn top_level(sql: &str) -> TopLevel {
    let b = sql.as_bytes();
    let mut found = TopLevel::default();
    let mut depth = 0usize;
    let mut last_word = String::new();
    let mut i = 0;
    while i < b.len() {
        if let Some((_, end)) = skip_at(sql, i) {
            i = end.max(i + 1);
            continue;
        }
        match b[i] {
            b'(' => depth += 1,
            b')' => depth = depth.saturating_sub(1),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                    i += 1;
                }
                let word = sql[start..i].to_ascii_lowercase();
                if depth == 0 {
                    match (last_word.as_str(), word.as_str()) {
                        ("order", "by") => found.order_by = true,
                        (_, "limit" | "offset" | "top") | ("fetch", "first" | "next") => {
                            found.limit = true;
                        }
                        _ => {}
                    }
                }
                last_word = word;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// `sql` without a final `;` and the white space and comments around it.
pub fn trim_statement_end(sql: &str) -> &str {
    let b = sql.as_bytes();
    // The end of the last code byte that is neither white space nor `;`.
    let mut end = 0;
    let mut i = 0;
    while i < b.len() {
        match skip_at(sql, i) {
            Some((crate::Skipped::Comment, after)) => i = after.max(i + 1),
            Some((_, after)) => {
                end = after;
                i = after.max(i + 1);
            }
            None => {
                if !b[i].is_ascii_whitespace() && b[i] != b';' {
                    end = i + 1;
                }
                i += 1;
            }
        }
    }
    &sql[..end]
}

/// `query` as the string literal of `UNLOAD ('…')`: quotes doubled and
/// backslashes (escapes in a Redshift literal) doubled, so the query runs
/// exactly as written. A final `;` is dropped, and the literal ends on a
/// new line so that a trailing `--` comment cannot swallow its quote.
pub fn unload_literal(query: &str) -> String {
    let query = trim_statement_end(query);
    let mut out = String::with_capacity(query.len() + 4);
    out.push('\'');
    for c in query.chars() {
        match c {
            '\'' => out.push_str("''"),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push_str("\n'");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_outermost_level_counts() {
        let t = top_level("select a from t order by a");
        assert!(t.order_by && !t.limit);
        let t = top_level("select * from (select a from t order by a limit 3) s");
        assert_eq!(t, TopLevel::default());
        let t = top_level("select 'order by', \"limit\" from t -- order by x\n");
        assert_eq!(t, TopLevel::default());
        assert!(top_level("select a from t limit 10").limit);
        assert!(top_level("select top 5 a from t").limit);
        assert!(top_level("select a from t order by a fetch first 3 rows only").limit);
        assert!(top_level("with w as (select 1 a) select a from w ORDER\n BY a").order_by);
        // A column named like a keyword is not the clause.
        assert!(!top_level("select ordered, by_x from t").order_by);
    }

    #[test]
    fn the_end_of_a_statement_is_trimmed() {
        assert_eq!(trim_statement_end("select 1 ; "), "select 1");
        assert_eq!(trim_statement_end("select 1; -- done\n"), "select 1");
        assert_eq!(trim_statement_end("select ';' /* ; */;"), "select ';'");
        assert_eq!(trim_statement_end("select 1 -- note"), "select 1");
    }

    #[test]
    fn the_unload_literal_keeps_the_query_exact() {
        assert_eq!(
            unload_literal("select 'it''s', '\\n' from t;"),
            "'select ''it''''s'', ''\\\\n'' from t\n'"
        );
    }
}
