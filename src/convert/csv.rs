//! A CSV reader for GetStatementResultV2 pages (RFC 4180 with PostgreSQL's NULL
//! convention: an unquoted empty field is NULL, `""` is the empty string).

use std::borrow::Cow;

/// Reads records out of one page of CSV text without copying unquoted fields.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Self { text, pos: 0 }
    }

    /// Reads the next record into `fields`; false at the end of the text.
    pub(crate) fn next_record(
        &mut self,
        fields: &mut Vec<Option<Cow<'a, str>>>,
    ) -> Result<bool, String> {
        fields.clear();
        let bytes = self.text.as_bytes();
        if self.pos >= bytes.len() {
            return Ok(false);
        }
        loop {
            if bytes.get(self.pos) == Some(&b'"') {
                // Quoted field: "" is an escaped quote.
                let mut value = String::new();
                let mut start = self.pos + 1;
                let mut i = start;
                loop {
                    match bytes.get(i) {
                        None => return Err("unterminated quoted CSV field".to_owned()),
                        Some(b'"') if bytes.get(i + 1) == Some(&b'"') => {
                            value.push_str(&self.text[start..=i]);
                            i += 2;
                            start = i;
                        }
                        Some(b'"') => {
                            value.push_str(&self.text[start..i]);
                            i += 1;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                fields.push(Some(Cow::Owned(value)));
                self.pos = i;
            } else {
                let start = self.pos;
                let mut i = start;
                while let Some(&b) = bytes.get(i) {
                    if b == b',' || b == b'\n' || b == b'\r' {
                        break;
                    }
                    i += 1;
                }
                fields.push((i > start).then(|| Cow::Borrowed(&self.text[start..i])));
                self.pos = i;
            }
            match bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    return Ok(true);
                }
                Some(b'\n') => {
                    self.pos += 1;
                    return Ok(true);
                }
                None => return Ok(true),
                Some(_) => return Err("text after a closing quote in a CSV field".to_owned()),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Vec<Option<String>>> {
        let mut r = Reader::new(text);
        let mut fields = Vec::new();
        let mut out = Vec::new();
        while r.next_record(&mut fields).expect("csv") {
            out.push(
                fields
                    .iter()
                    .map(|f| f.as_deref().map(str::to_owned))
                    .collect(),
            );
        }
        out
    }

    #[test]
    fn nulls_empties_quotes_and_newlines() {
        assert_eq!(
            all("1,,\"\",\"a,\"\"b\"\"\nc\"\r\n2,x,y,z"),
            vec![
                vec![
                    Some("1".into()),
                    None,
                    Some(String::new()),
                    Some("a,\"b\"\nc".into())
                ],
                vec![
                    Some("2".into()),
                    Some("x".into()),
                    Some("y".into()),
                    Some("z".into())
                ],
            ]
        );
        assert_eq!(all(""), Vec::<Vec<Option<String>>>::new());
        assert!(Reader::new("\"abc").next_record(&mut Vec::new()).is_err());
    }
}
