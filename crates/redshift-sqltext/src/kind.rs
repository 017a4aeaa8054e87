//! What kind of statement a SQL text is, by its first keyword.

/// Whether a statement returns rows (by its first keyword, after comments
/// and opening parentheses).
pub fn is_query(sql: &str) -> bool {
    let keyword: String = strip_leading_comments(sql)
        .trim_start_matches('(')
        .trim_start()
        .chars()
        .take_while(char::is_ascii_alphabetic)
        .collect::<String>()
        .to_ascii_lowercase();
    matches!(
        keyword.as_str(),
        "select" | "with" | "values" | "table" | "show" | "explain"
    )
}

/// The text after any leading white space and `--` or `/* */` comments.
pub fn strip_leading_comments(sql: &str) -> &str {
    let mut s = sql.trim_start();
    loop {
        if let Some(rest) = s.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i + 1..]).trim_start();
        } else if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]).trim_start();
        } else {
            return s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_or_update() {
        assert!(is_query("  -- hi\n /* x */ SELECT 1"));
        assert!(is_query("(select 1)"));
        assert!(is_query("with a as (select 1) select * from a"));
        assert!(!is_query("insert into t values (1)"));
        assert!(!is_query("create table t (a int)"));
        assert!(!is_query("-- only a comment"));
        assert!(!is_query("/* unterminated"));
    }
}
