//! Quoting of identifiers and string literals so that a name or value can
//! never end the token it stands in.

/// A quoted identifier: `"name"`, with embedded quotes doubled.
pub fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A string literal that reads the same on Redshift and PostgreSQL: quotes
/// are doubled, and a backslash (an escape on Redshift, plain text on
/// PostgreSQL with standard strings) is written as `chr(92)`.
pub fn quote_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    let mut first = true;
    for part in value.split('\\') {
        if !first {
            out.push_str("' || chr(92) || '");
        }
        first = false;
        out.push_str(&part.replace('\'', "''"));
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_double_their_quotes() {
        assert_eq!(quote_identifier("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(quote_identifier("plain"), "\"plain\"");
    }

    #[test]
    fn literals_double_quotes_and_spell_out_backslashes() {
        assert_eq!(quote_literal("it's"), "'it''s'");
        assert_eq!(quote_literal("a\\b"), "'a' || chr(92) || 'b'");
        assert_eq!(
            quote_literal("a\\'); drop table t; --"),
            "'a' || chr(92) || '''); drop table t; --'"
        );
    }
}
