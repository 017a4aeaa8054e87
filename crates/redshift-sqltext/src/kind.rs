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

/// The keywords of a SQL text outside string literals, quoted identifiers
/// and comments, lowercased.
pub fn keywords(sql: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = sql.chars().peekable();
    let mut word = String::new();
    while let Some(c) = chars.next() {
        if c.is_ascii_alphanumeric() || c == '_' {
            word.push(c.to_ascii_lowercase());
            continue;
        }
        if !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        match c {
            '\'' | '"' => {
                // '' and "" inside stay inside.
                while let Some(d) = chars.next() {
                    if d == c {
                        if chars.peek() == Some(&c) {
                            chars.next();
                        } else {
                            break;
                        }
                    }
                }
            }
            '-' if chars.peek() == Some(&'-') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut last = ' ';
                for d in chars.by_ref() {
                    if last == '*' && d == '/' {
                        break;
                    }
                    last = d;
                }
            }
            _ => {}
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Keywords that write or change something (or run a statement, as
/// `EXPLAIN ANALYZE` does), wherever they stand in a statement.
const WRITING: [&str; 17] = [
    "into", "insert", "update", "delete", "merge", "create", "drop", "alter", "truncate", "grant",
    "revoke", "copy", "unload", "call", "vacuum", "analyze", "lock",
];

/// Whether a statement only reads: a query (by its first keyword) with no
/// keyword anywhere that writes (`SELECT … INTO`, a data-changing CTE,
/// `EXPLAIN ANALYZE`). Errs on the side of refusing.
pub fn is_read_only(sql: &str) -> bool {
    is_query(sql) && !keywords(sql).iter().any(|k| WRITING.contains(&k.as_str()))
}

/// Whether a statement is a step of two-phase commit (`PREPARE TRANSACTION`,
/// `COMMIT PREPARED`, `ROLLBACK PREPARED`), which Redshift does not have.
pub fn is_two_phase_commit(sql: &str) -> bool {
    // Only the first two words matter: no scan of the whole text.
    let mut words = strip_leading_comments(sql)
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase);
    let (first, second) = (words.next(), words.next());
    matches!(
        (first.as_deref(), second.as_deref()),
        (Some("prepare"), Some("transaction")) | (Some("commit" | "rollback"), Some("prepared"))
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

    #[test]
    fn keywords_skip_literals_identifiers_and_comments() {
        assert_eq!(
            keywords("select 'it''s an insert', \"drop\" -- delete\n from t /* update */ where x"),
            ["select", "from", "t", "where", "x"]
        );
    }

    #[test]
    fn read_only_refuses_anything_that_writes() {
        assert!(is_read_only("select * from t where note = 'insert into x'"));
        assert!(is_read_only("with a as (select 1) select * from a"));
        assert!(!is_read_only("select * into new_table from t"));
        assert!(!is_read_only(
            "with d as (delete from t returning *) select * from d"
        ));
        assert!(!is_read_only("explain analyze select 1"));
        assert!(!is_read_only("insert into t values (1)"));
        assert!(is_read_only("explain select 1"));
    }

    #[test]
    fn two_phase_commit_is_recognised() {
        assert!(is_two_phase_commit("PREPARE TRANSACTION 'x1'"));
        assert!(is_two_phase_commit("  commit prepared 'x1'"));
        assert!(is_two_phase_commit("/* tpc */ ROLLBACK PREPARED 'x1'"));
        assert!(!is_two_phase_commit("prepare plan1 as select 1"));
        assert!(!is_two_phase_commit("commit"));
    }
}
