//! Named Data API parameters (`:name`) → PostgreSQL positional parameters (`$n`).
//!
//! The scanner skips string literals (`'…'`, `E'…'`, `$tag$…$tag$`), quoted
//! identifiers, comments and `::` casts, so only real placeholders are replaced.

use std::collections::HashMap;

/// SQL rewritten for PostgreSQL and the parameter name behind each `$n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// The SQL with `$1`, `$2`, … in place of `:name`.
    pub(crate) sql: String,
    /// `names[i]` is bound to `$(i+1)`.
    pub(crate) names: Vec<String>,
}

fn is_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Finds the `:name` placeholders of `sql` and replaces them with `$n`.
pub(crate) fn rewrite(sql: &str) -> Rewritten {
    let b = sql.as_bytes();
    let mut out = String::with_capacity(sql.len() + 8);
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut i = 0;
    let mut copied = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                // E'…' allows backslash escapes; plain '…' only doubled quotes.
                let escapes =
                    i > 0 && matches!(b[i - 1], b'E' | b'e') && (i < 2 || !is_name_byte(b[i - 2]));
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if b[i] == b'\'' {
                        if b.get(i + 1) == Some(&b'\'') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'"' => {
                i += 1;
                while i < b.len() {
                    if b[i] == b'"' {
                        if b.get(i + 1) == Some(&b'"') {
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    i += 1;
                }
                i += 1;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            b'$' => {
                // Dollar quoting: $$…$$ or $tag$…$tag$ (a tag does not start with a digit).
                let start = i;
                let mut j = i + 1;
                while j < b.len() && is_name_byte(b[j]) {
                    j += 1;
                }
                let tagged = j < b.len()
                    && b[j] == b'$'
                    && (j == i + 1 || !b[i + 1].is_ascii_digit())
                    && (start == 0 || !is_name_byte(b[start - 1]));
                if tagged {
                    let tag = &sql[start..=j];
                    match sql[j + 1..].find(tag) {
                        Some(end) => i = j + 1 + end + tag.len(),
                        None => i = b.len(),
                    }
                } else {
                    i += 1;
                }
            }
            b':' if b.get(i + 1) == Some(&b':') => i += 2,
            b':' if b.get(i + 1).is_some_and(|&c| is_name_byte(c)) => {
                let mut j = i + 1;
                while j < b.len() && is_name_byte(b[j]) {
                    j += 1;
                }
                let name = &sql[i + 1..j];
                let n = *index.entry(name.to_owned()).or_insert_with(|| {
                    names.push(name.to_owned());
                    names.len()
                });
                out.push_str(&sql[copied..i]);
                out.push('$');
                out.push_str(&n.to_string());
                copied = j;
                i = j;
            }
            _ => i += 1,
        }
    }
    out.push_str(&sql[copied.min(sql.len())..]);
    Rewritten { sql: out, names }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_only_real_placeholders() {
        let r = rewrite(
            "select :a, ':b', \":c\", x::int, E'\\':d', $$ :e $$, $t$:f$t$ -- :g\n /* :h /* :i */ */ :a, :j_2",
        );
        assert_eq!(r.names, vec!["a", "j_2"]);
        assert_eq!(
            r.sql,
            "select $1, ':b', \":c\", x::int, E'\\':d', $$ :e $$, $t$:f$t$ -- :g\n /* :h /* :i */ */ $1, $2"
        );
    }

    #[test]
    fn casts_after_placeholders() {
        let r = rewrite("select :x::numeric(10,2), 'it''s :y'");
        assert_eq!(r.sql, "select $1::numeric(10,2), 'it''s :y'");
        assert_eq!(r.names, vec!["x"]);
    }

    #[test]
    fn unterminated_input_does_not_panic() {
        for sql in ["'abc", "\"abc", "/* x", "$q$ abc", ":", "a:", "E'\\"] {
            let _ = rewrite(sql);
        }
    }
}
