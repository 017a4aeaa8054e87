//! The tokens of an UNLOAD statement: words, string literals (a quote
//! doubled or backslash-escaped inside, as Redshift reads the query of
//! UNLOAD), numbers and symbols; whitespace and comments between them.

/// One token, with the text it was read from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token<'a> {
    /// A keyword or name.
    Word(&'a str),
    /// A `'…'` literal: its value and its text.
    Literal {
        /// The value, quotes and escapes resolved.
        value: String,
        /// The literal as written.
        text: &'a str,
    },
    /// A quoted identifier, as written.
    Quoted(&'a str),
    /// `5`, `6.2`.
    Number(&'a str),
    /// Any other character: `(`, `)`, `;`, `,`, ….
    Symbol(&'a str),
}

impl Token<'_> {
    /// The token as written.
    pub(crate) fn text(&self) -> &str {
        match self {
            Self::Word(t) | Self::Quoted(t) | Self::Number(t) | Self::Symbol(t) => t,
            Self::Literal { text, .. } => text,
        }
    }
}

/// The tokens of `sql`; an unterminated literal is an error.
pub(crate) fn tokens(sql: &str) -> Result<Vec<Token<'_>>, String> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'\'' {
            let (value, end) = literal(sql, i)?;
            out.push(Token::Literal {
                value,
                text: &sql[i..end],
            });
            i = end;
            continue;
        }
        if let Some((kind, end)) = redshift_sqltext::skip_at(sql, i) {
            if kind == redshift_sqltext::Skipped::QuotedIdentifier {
                out.push(Token::Quoted(&sql[i..end]));
            } else if kind == redshift_sqltext::Skipped::StringLiteral {
                // `$$…$$`: no part of UNLOAD's grammar.
                out.push(Token::Symbol(&sql[i..end]));
            }
            i = end;
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' {
            while i < b.len() && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'$')) {
                i += 1;
            }
            out.push(Token::Word(&sql[start..i]));
        } else if c.is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                i += 1;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            out.push(Token::Number(&sql[start..i]));
        } else {
            i += sql[i..].chars().next().map_or(1, char::len_utf8);
            out.push(Token::Symbol(&sql[start..i]));
        }
    }
    Ok(out)
}

/// The literal starting at the quote at `start`: its value and the byte after it.
/// `''` is a quote; a backslash takes the next character as it is (`\'`, `\\`).
fn literal(sql: &str, start: usize) -> Result<(String, usize), String> {
    let mut value = String::new();
    let mut chars = sql[start + 1..].char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            '\'' if chars.peek().map(|&(_, n)| n) == Some('\'') => {
                chars.next();
                value.push('\'');
            }
            '\'' => return Ok((value, start + 1 + at + 1)),
            '\\' => match chars.next() {
                Some((_, n)) => value.push(n),
                None => break,
            },
            _ => value.push(c),
        }
    }
    Err(format!(
        "ERROR: unterminated quoted string at or near \"{}\"",
        &sql[start..]
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_literals_numbers_and_symbols() {
        let t = tokens("unload ('a''b\\'c') /* x */ TO -- y\n 6.2GB;").expect("tokens");
        assert_eq!(
            t,
            [
                Token::Word("unload"),
                Token::Symbol("("),
                Token::Literal {
                    value: "a'b'c".into(),
                    text: "'a''b\\'c'"
                },
                Token::Symbol(")"),
                Token::Word("TO"),
                Token::Number("6.2"),
                Token::Word("GB"),
                Token::Symbol(";"),
            ]
        );
        assert_eq!(tokens("\"a b\" é").expect("tokens")[1], Token::Symbol("é"));
        assert_eq!(
            tokens("'it\\\\'").expect("tokens")[0],
            Token::Literal {
                value: "it\\".into(),
                text: "'it\\\\'"
            }
        );
    }

    #[test]
    fn an_unterminated_literal_is_an_error() {
        assert_eq!(
            tokens("x 'abc\\'"),
            Err("ERROR: unterminated quoted string at or near \"'abc\\'\"".to_owned())
        );
    }
}
