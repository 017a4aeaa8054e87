//! Named Data API parameters (`:name`) → PostgreSQL positional parameters (`$n`).

use std::collections::HashMap;

use redshift_sqltext::{PlaceholderKind, placeholders};

/// SQL rewritten for PostgreSQL and the parameter name behind each `$n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rewritten {
    /// The SQL with `$1`, `$2`, … in place of `:name`.
    pub(crate) sql: String,
    /// `names[i]` is bound to `$(i+1)`.
    pub(crate) names: Vec<String>,
}

/// Finds the `:name` placeholders of `sql` and replaces them with `$n`.
pub(crate) fn rewrite(sql: &str) -> Rewritten {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut names: Vec<String> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut copied = 0;
    for p in placeholders(sql) {
        let PlaceholderKind::Named(name) = p.kind else {
            continue;
        };
        let n = *index.entry(name.clone()).or_insert_with(|| {
            names.push(name);
            names.len()
        });
        out.push_str(&sql[copied..p.range.start]);
        out.push('$');
        out.push_str(&n.to_string());
        copied = p.range.end;
    }
    out.push_str(&sql[copied..]);
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
