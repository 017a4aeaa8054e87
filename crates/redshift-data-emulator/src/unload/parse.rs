//! The text of an UNLOAD statement → what it asks for: the query, the S3
//! target and the options, with Redshift's rules on which go together.
//!
//! `UNLOAD ('query') TO 's3://bucket/prefix' IAM_ROLE {'arn…' | default}
//! FORMAT [AS] PARQUET [PARALLEL [ON|OFF|TRUE|FALSE]] [MAXFILESIZE [AS] n [MB|GB]]
//! [ALLOWOVERWRITE] [CLEANPATH] [MANIFEST [VERBOSE]] [;]`, options in any order.
//! The other options Redshift knows are parsed, then refused: the emulator
//! writes Parquet only.

use super::lex::{Token, tokens};

/// Redshift's smallest MAXFILESIZE: 5 MB.
const MIN_FILE_SIZE: u64 = 5 * MB;
/// Redshift's largest (and default) MAXFILESIZE: 6.2 GB.
pub(crate) const MAX_FILE_SIZE: u64 = 62 * GB / 10;
const MB: u64 = 1024 * 1024;
const GB: u64 = 1024 * MB;

/// One UNLOAD, as the emulator runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Unload {
    /// The SELECT whose rows are written (quotes unescaped).
    pub(crate) query: String,
    /// The bucket of the TO path.
    pub(crate) bucket: String,
    /// The key prefix of the TO path: file names are appended to it as is.
    pub(crate) prefix: String,
    /// PARALLEL ON (the default): one file series per slice.
    pub(crate) parallel: bool,
    /// MAXFILESIZE in bytes.
    pub(crate) max_file_size: u64,
    /// What to do with objects already under the prefix.
    pub(crate) existing: Existing,
    /// MANIFEST, and whether VERBOSE.
    pub(crate) manifest: Option<Manifest>,
}

/// Objects already under the target prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    /// The UNLOAD fails (the default).
    Refuse,
    /// ALLOWOVERWRITE: files of the same names are replaced, others stay.
    Overwrite,
    /// CLEANPATH: every object under the prefix is deleted first.
    Clean,
}

/// The MANIFEST option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Manifest {
    /// The URL of each file.
    Plain,
    /// VERBOSE: with the size and row count of each file and of all.
    Verbose,
}

/// The options as written, before Redshift's rules are checked.
#[derive(Debug, Default)]
struct Written {
    iam_role: Option<Option<String>>,
    /// CREDENTIALS, ACCESS_KEY_ID, …: the first such keyword.
    other_authorization: Option<String>,
    format: Option<String>,
    parallel: Option<bool>,
    max_file_size: Option<Size>,
    allow_overwrite: bool,
    clean_path: bool,
    manifest: Option<Manifest>,
    /// The first option Redshift knows that the emulator does not run.
    unsupported: Option<String>,
}

/// A MAXFILESIZE as written: `digits / 10^fraction_digits` units.
#[derive(Debug, Clone, Copy)]
struct Size {
    digits: u128,
    fraction_digits: u32,
    unit: u64,
}

/// Parses an UNLOAD statement; the error is the statement's error text.
pub(crate) fn parse(sql: &str) -> Result<Unload, String> {
    let tokens = tokens(sql)?;
    let mut p = Parser { tokens, at: 0 };
    p.keyword("UNLOAD")?;
    p.symbol("(")?;
    let query = p.literal()?;
    p.symbol(")")?;
    p.keyword("TO")?;
    let target = p.literal()?;
    let written = p.options()?;
    check(query, &target, written)
}

/// Redshift's rules on the options, in the order it reports them.
fn check(query: String, target: &str, w: Written) -> Result<Unload, String> {
    if let Some(keyword) = w.other_authorization {
        return Err(format!(
            "ERROR: the emulator runs UNLOAD with IAM_ROLE authorization only, not {keyword}"
        ));
    }
    match &w.iam_role {
        None => {
            return Err("ERROR: UNLOAD needs authorization: IAM_ROLE default or \
                 IAM_ROLE 'arn:aws:iam::<account-id>:role/<role-name>'"
                .to_owned());
        }
        Some(Some(arns)) => {
            if let Some(bad) = arns.split(',').find(|arn| !is_role_arn(arn)) {
                return Err(format!(
                    "ERROR: IAM_ROLE '{bad}' is not an IAM role ARN of the form \
                     arn:aws:iam::<account-id>:role/<role-name>"
                ));
            }
        }
        Some(None) => {}
    }
    let (bucket, prefix) = split_target(target)?;
    match w.format.as_deref() {
        Some("PARQUET") => {}
        Some(other) => {
            return Err(format!(
                "ERROR: the emulator runs UNLOAD only as FORMAT PARQUET, not FORMAT {other}"
            ));
        }
        None => {
            return Err("ERROR: the emulator runs UNLOAD only as FORMAT PARQUET, \
                 not as pipe-delimited text (no FORMAT)"
                .to_owned());
        }
    }
    if let Some(option) = w.unsupported {
        return Err(format!(
            "ERROR: the emulator runs UNLOAD only as FORMAT PARQUET with PARALLEL, \
             MAXFILESIZE, ALLOWOVERWRITE, CLEANPATH and MANIFEST; {option} is not supported"
        ));
    }
    let existing = match (w.allow_overwrite, w.clean_path) {
        (true, true) => {
            return Err("ERROR: ALLOWOVERWRITE and CLEANPATH cannot be used together".to_owned());
        }
        (true, false) => Existing::Overwrite,
        (false, true) => Existing::Clean,
        (false, false) => Existing::Refuse,
    };
    let max_file_size = match w.max_file_size {
        None => MAX_FILE_SIZE,
        Some(size) => size
            .bytes()
            .ok_or_else(|| "ERROR: MAXFILESIZE must be between 5 MB and 6.2 GB".to_owned())?,
    };
    if has_top_level_limit(&query) {
        return Err("ERROR: Limit clause is not supported.".to_owned());
    }
    Ok(Unload {
        query,
        bucket,
        prefix,
        parallel: w.parallel.unwrap_or(true),
        max_file_size,
        existing,
        manifest: w.manifest,
    })
}

impl Size {
    /// The size in bytes when it is within Redshift's range (5 MB – 6.2 GB).
    fn bytes(self) -> Option<u64> {
        let scale = 10u128.checked_pow(self.fraction_digits)?;
        let written = self.digits.checked_mul(u128::from(self.unit))?;
        let at_least = u128::from(MIN_FILE_SIZE).checked_mul(scale)?;
        // 6.2 GB exactly: written / scale <= 62 GB / 10.
        let at_most = u128::from(62 * GB).checked_mul(scale)?;
        if written < at_least || written.checked_mul(10)? > at_most {
            return None;
        }
        u64::try_from(written / scale).ok()
    }
}

/// Whether `arn` is `arn:<partition>:iam::<12 digits>:role/<name>`.
fn is_role_arn(arn: &str) -> bool {
    let arn = arn.trim();
    let mut parts = arn.splitn(6, ':');
    let (Some("arn"), Some(partition), Some("iam"), Some(""), Some(account), Some(resource)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let name = resource.strip_prefix("role/").unwrap_or_default();
    partition.starts_with("aws")
        && account.len() == 12
        && account.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && !name.contains(char::is_whitespace)
}

/// `s3://bucket/prefix` → the bucket and the key prefix (possibly empty).
fn split_target(target: &str) -> Result<(String, String), String> {
    let rest = target
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("s3://"))
        .and_then(|_| target.get(5..))
        .ok_or_else(|| {
            format!(
                "ERROR: the UNLOAD destination '{target}' is not an S3 path (s3://bucket/prefix)"
            )
        })?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(format!(
            "ERROR: the UNLOAD destination '{target}' names no S3 bucket"
        ));
    }
    Ok((bucket.to_owned(), prefix.to_owned()))
}

/// Whether the query has a LIMIT outside parentheses, literals, quoted
/// identifiers and comments (Redshift refuses it in UNLOAD).
fn has_top_level_limit(query: &str) -> bool {
    let bytes = query.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        if let Some((_, end)) = redshift_sqltext::skip_at(query, i) {
            i = end;
            continue;
        }
        let b = bytes[i];
        if b.is_ascii_alphabetic() || b == b'_' {
            let start = i;
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric() || matches!(bytes[i], b'_' | b'$'))
            {
                i += 1;
            }
            if depth == 0 && query[start..i].eq_ignore_ascii_case("limit") {
                return true;
            }
            continue;
        }
        match b {
            b'(' => depth += 1,
            b')' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    false
}

/// A cursor over the statement's tokens.
#[derive(Debug)]
struct Parser<'a> {
    tokens: Vec<Token<'a>>,
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<&Token<'a>> {
        self.tokens.get(self.at)
    }

    fn next(&mut self) -> Option<Token<'a>> {
        let token = self.tokens.get(self.at).cloned();
        self.at += 1;
        token
    }

    /// The syntax error at the current token (or at the end).
    fn error(&self) -> String {
        match self.peek() {
            Some(token) => format!("ERROR: syntax error at or near \"{}\"", token.text()),
            None => "ERROR: syntax error at end of input".to_owned(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
    }

    /// Consumes `keyword` when it is next.
    fn optional(&mut self, keyword: &str) -> bool {
        let found = self.is_keyword(keyword);
        if found {
            self.at += 1;
        }
        found
    }

    fn keyword(&mut self, keyword: &str) -> Result<(), String> {
        if self.optional(keyword) {
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn symbol(&mut self, symbol: &str) -> Result<(), String> {
        if matches!(self.peek(), Some(Token::Symbol(s)) if *s == symbol) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn literal(&mut self) -> Result<String, String> {
        match self.peek() {
            Some(Token::Literal { value, .. }) => {
                let value = value.clone();
                self.at += 1;
                Ok(value)
            }
            _ => Err(self.error()),
        }
    }

    /// `[AS] 'literal'`.
    fn as_literal(&mut self) -> Result<String, String> {
        self.optional("AS");
        self.literal()
    }

    /// `[AS] n [MB|GB]`.
    fn size(&mut self) -> Result<Size, String> {
        self.optional("AS");
        let Some(Token::Number(text)) = self.peek() else {
            return Err(self.error());
        };
        let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
        let digits = format!("{whole}{fraction}").parse::<u128>();
        let fraction_digits = u32::try_from(fraction.len());
        let (Ok(digits), Ok(fraction_digits)) = (digits, fraction_digits) else {
            return Err(self.error());
        };
        self.at += 1;
        let unit = if self.optional("GB") {
            GB
        } else {
            self.optional("MB");
            MB
        };
        Ok(Size {
            digits,
            fraction_digits,
            unit,
        })
    }

    /// The options after `TO '…'`, up to the end (or a final `;`).
    fn options(&mut self) -> Result<Written, String> {
        let mut w = Written::default();
        loop {
            let at = self.at;
            let Some(token) = self.next() else {
                return Ok(w);
            };
            let keyword = match token {
                Token::Symbol(";") => {
                    if self.peek().is_some() {
                        return Err(self.error());
                    }
                    return Ok(w);
                }
                Token::Word(word) => word.to_ascii_uppercase(),
                _ => {
                    self.at = at;
                    return Err(self.error());
                }
            };
            let once = |seen: bool| {
                if seen {
                    Err("ERROR: conflicting or redundant options".to_owned())
                } else {
                    Ok(())
                }
            };
            match keyword.as_str() {
                "IAM_ROLE" => {
                    once(w.iam_role.is_some())?;
                    w.iam_role = Some(if self.optional("DEFAULT") {
                        None
                    } else {
                        Some(self.literal()?)
                    });
                }
                "WITH" => {
                    self.keyword("CREDENTIALS")?;
                    self.as_literal()?;
                    w.other_authorization
                        .get_or_insert("CREDENTIALS".to_owned());
                }
                "CREDENTIALS" | "ACCESS_KEY_ID" | "SECRET_ACCESS_KEY" | "SESSION_TOKEN" => {
                    self.as_literal()?;
                    w.other_authorization.get_or_insert(keyword);
                }
                "FORMAT" => {
                    once(w.format.is_some())?;
                    self.optional("AS");
                    let format = match self.peek() {
                        Some(Token::Word(f))
                            if ["PARQUET", "CSV", "JSON"]
                                .iter()
                                .any(|k| f.eq_ignore_ascii_case(k)) =>
                        {
                            f.to_ascii_uppercase()
                        }
                        _ => return Err(self.error()),
                    };
                    self.at += 1;
                    w.format = Some(format);
                }
                "PARQUET" | "CSV" | "JSON" => {
                    once(w.format.is_some())?;
                    w.format = Some(keyword);
                }
                "PARALLEL" => {
                    once(w.parallel.is_some())?;
                    let off = self.optional("OFF") || self.optional("FALSE");
                    if !off && !self.optional("ON") {
                        self.optional("TRUE");
                    }
                    w.parallel = Some(!off);
                }
                "MAXFILESIZE" => {
                    once(w.max_file_size.is_some())?;
                    w.max_file_size = Some(self.size()?);
                }
                "ALLOWOVERWRITE" => {
                    once(w.allow_overwrite)?;
                    w.allow_overwrite = true;
                }
                "CLEANPATH" => {
                    once(w.clean_path)?;
                    w.clean_path = true;
                }
                "MANIFEST" => {
                    once(w.manifest.is_some())?;
                    w.manifest = Some(if self.optional("VERBOSE") {
                        Manifest::Verbose
                    } else {
                        Manifest::Plain
                    });
                }
                "HEADER" | "BZIP2" | "GZIP" | "ZSTD" | "ADDQUOTES" | "ESCAPE" => {
                    w.unsupported.get_or_insert(keyword);
                }
                "DELIMITER" | "FIXEDWIDTH" | "NULL" | "REGION" | "KMS_KEY_ID" | "EXTENSION" => {
                    self.as_literal()?;
                    w.unsupported.get_or_insert(keyword);
                }
                "ENCRYPTED" => {
                    self.optional("AUTO");
                    w.unsupported.get_or_insert(keyword);
                }
                "ROWGROUPSIZE" => {
                    self.size()?;
                    w.unsupported.get_or_insert(keyword);
                }
                "PARTITION" => {
                    self.partition_by()?;
                    w.unsupported.get_or_insert("PARTITION BY".to_owned());
                }
                _ => {
                    self.at = at;
                    return Err(self.error());
                }
            }
        }
    }

    /// `BY ( column [, …] ) [INCLUDE]` after PARTITION.
    fn partition_by(&mut self) -> Result<(), String> {
        self.keyword("BY")?;
        self.symbol("(")?;
        loop {
            match self.peek() {
                Some(Token::Word(_) | Token::Quoted(_)) => self.at += 1,
                _ => return Err(self.error()),
            }
            if self.symbol(",").is_err() {
                break;
            }
        }
        self.symbol(")")?;
        self.optional("INCLUDE");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLE: &str = "IAM_ROLE 'arn:aws:iam::123456789012:role/unload'";

    fn unload(options: &str) -> Result<Unload, String> {
        parse(&format!(
            "UNLOAD ('select 1') TO 's3://bucket/out/x_' {ROLE} {options}"
        ))
    }

    #[test]
    fn a_minimal_unload_takes_redshift_defaults() {
        let u = unload("FORMAT PARQUET").expect("parses");
        assert_eq!(u.query, "select 1");
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("bucket", "out/x_"));
        assert!(u.parallel);
        assert_eq!(u.max_file_size, MAX_FILE_SIZE);
        assert_eq!(u.existing, Existing::Refuse);
        assert_eq!(u.manifest, None);
    }

    #[test]
    fn quotes_are_doubled_or_backslash_escaped() {
        let u = parse(
            "unload ('select ''it''''s'' a, \\'x\\' b, ''a\\\\b'' c')\n to 's3://b/p/'\n\
             iam_role default format as parquet;",
        )
        .expect("parses");
        assert_eq!(u.query, "select 'it''s' a, 'x' b, 'a\\b' c");
        assert_eq!(u.prefix, "p/");
    }

    #[test]
    fn options_in_any_order_and_case() {
        let u = parse(
            "/* c */ Unload ('select 1') TO 's3://b/k' -- note\n manifest verbose \
             Parallel Off cleanpath maxfilesize as 100 mb parquet iam_role default ;",
        )
        .expect("parses");
        assert!(!u.parallel);
        assert_eq!(u.existing, Existing::Clean);
        assert_eq!(u.manifest, Some(Manifest::Verbose));
        assert_eq!(u.max_file_size, 100 * MB);
        let u =
            unload("PARQUET PARALLEL MANIFEST ALLOWOVERWRITE MAXFILESIZE 1 GB").expect("parses");
        assert!(u.parallel);
        assert_eq!(u.existing, Existing::Overwrite);
        assert_eq!(u.manifest, Some(Manifest::Plain));
        assert_eq!(u.max_file_size, GB);
        for (words, parallel) in [
            ("ON", true),
            ("TRUE", true),
            ("FALSE", false),
            ("off", false),
        ] {
            let u = unload(&format!("PARQUET PARALLEL {words}")).expect("parses");
            assert_eq!(u.parallel, parallel, "{words}");
        }
    }

    #[test]
    fn maxfilesize_is_within_5_mb_and_6_2_gb() {
        assert_eq!(
            unload("PARQUET MAXFILESIZE 5").expect("5 MB").max_file_size,
            5 * MB
        );
        assert_eq!(
            unload("PARQUET MAXFILESIZE 6.2 GB")
                .expect("6.2 GB")
                .max_file_size,
            MAX_FILE_SIZE
        );
        assert_eq!(
            unload("PARQUET MAXFILESIZE 6348.8 MB")
                .expect("6.2 GB in MB")
                .max_file_size,
            MAX_FILE_SIZE
        );
        for size in [
            "4.9 MB",
            "6.21 GB",
            "7 GB",
            "0",
            "99999999999999999999999 GB",
        ] {
            assert_eq!(
                unload(&format!("PARQUET MAXFILESIZE {size}")),
                Err("ERROR: MAXFILESIZE must be between 5 MB and 6.2 GB".to_owned()),
                "{size}"
            );
        }
    }

    #[test]
    fn syntax_errors_name_the_token() {
        let cases = [
            ("UNLOAD 'select 1' TO 's3://b/k'", "\"'select 1'\""),
            ("UNLOAD ('select 1') INTO 's3://b/k'", "\"INTO\""),
            (
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE default PARQUET BOGUS",
                "\"BOGUS\"",
            ),
            (
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE default FORMAT AS XML",
                "\"XML\"",
            ),
            (
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE default PARQUET MAXFILESIZE MB",
                "\"MB\"",
            ),
            (
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE default PARQUET; select 2",
                "\"select\"",
            ),
            (
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE default PARQUET, PARALLEL",
                "\",\"",
            ),
        ];
        for (sql, near) in cases {
            assert_eq!(
                parse(sql),
                Err(format!("ERROR: syntax error at or near {near}")),
                "{sql}"
            );
        }
        assert_eq!(
            parse("UNLOAD ('select 1') TO"),
            Err("ERROR: syntax error at end of input".to_owned())
        );
        assert_eq!(
            parse("UNLOAD ('select 1) TO s3"),
            Err("ERROR: unterminated quoted string at or near \"'select 1) TO s3\"".to_owned())
        );
    }

    #[test]
    fn only_iam_role_authorization() {
        for auth in [
            "CREDENTIALS 'aws_access_key_id=a;aws_secret_access_key=b'",
            "ACCESS_KEY_ID 'a' SECRET_ACCESS_KEY 'b'",
            "WITH CREDENTIALS AS 'aws_iam_role=arn:aws:iam::123456789012:role/r'",
        ] {
            let error = parse(&format!("UNLOAD ('select 1') TO 's3://b/k' {auth} PARQUET"))
                .expect_err(auth);
            assert!(
                error.starts_with(
                    "ERROR: the emulator runs UNLOAD with IAM_ROLE authorization only, not "
                ),
                "{error}"
            );
        }
        let error = parse("UNLOAD ('select 1') TO 's3://b/k' PARQUET").expect_err("none");
        assert!(
            error.starts_with("ERROR: UNLOAD needs authorization"),
            "{error}"
        );
        for arn in [
            "arn:aws:iam::12345:role/r",
            "arn:aws:iam::123456789012:user/u",
            "role",
        ] {
            let error = parse(&format!(
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE '{arn}' PARQUET"
            ))
            .expect_err(arn);
            assert!(error.contains("is not an IAM role ARN"), "{error}");
        }
        let chained = "arn:aws:iam::123456789012:role/a,arn:aws:iam::210987654321:role/b";
        assert!(
            parse(&format!(
                "UNLOAD ('select 1') TO 's3://b/k' IAM_ROLE '{chained}' PARQUET"
            ))
            .is_ok()
        );
    }

    #[test]
    fn the_target_is_an_s3_path_with_a_bucket() {
        assert_eq!(
            parse(&format!("UNLOAD ('select 1') TO '/tmp/x' {ROLE} PARQUET")),
            Err(
                "ERROR: the UNLOAD destination '/tmp/x' is not an S3 path (s3://bucket/prefix)"
                    .to_owned()
            )
        );
        assert_eq!(
            parse(&format!("UNLOAD ('select 1') TO 's3:///k' {ROLE} PARQUET")),
            Err("ERROR: the UNLOAD destination 's3:///k' names no S3 bucket".to_owned())
        );
        let u =
            parse(&format!("UNLOAD ('select 1') TO 'S3://b' {ROLE} PARQUET")).expect("bucket only");
        assert_eq!((u.bucket.as_str(), u.prefix.as_str()), ("b", ""));
    }

    #[test]
    fn other_formats_and_options_are_refused() {
        assert_eq!(
            unload("FORMAT AS CSV"),
            Err(
                "ERROR: the emulator runs UNLOAD only as FORMAT PARQUET, not FORMAT CSV".to_owned()
            )
        );
        assert_eq!(
            unload("JSON"),
            Err(
                "ERROR: the emulator runs UNLOAD only as FORMAT PARQUET, not FORMAT JSON"
                    .to_owned()
            )
        );
        let error = unload("").expect_err("text");
        assert!(error.contains("not as pipe-delimited text"), "{error}");
        for (option, name) in [
            ("DELIMITER AS ','", "DELIMITER"),
            ("HEADER", "HEADER"),
            ("PARTITION BY (a, \"b\") INCLUDE", "PARTITION BY"),
            ("ENCRYPTED AUTO", "ENCRYPTED"),
            ("KMS_KEY_ID 'k'", "KMS_KEY_ID"),
            ("REGION AS 'us-west-2'", "REGION"),
            ("GZIP", "GZIP"),
            ("NULL AS 'x'", "NULL"),
            ("ROWGROUPSIZE 64 MB", "ROWGROUPSIZE"),
        ] {
            let error = unload(&format!("PARQUET {option}")).expect_err(option);
            assert!(
                error.starts_with("ERROR: the emulator runs UNLOAD only as FORMAT PARQUET"),
                "{error}"
            );
            assert!(
                error.ends_with(&format!("{name} is not supported")),
                "{error}"
            );
        }
    }

    #[test]
    fn redshift_rules_on_the_options() {
        assert_eq!(
            unload("PARQUET ALLOWOVERWRITE CLEANPATH"),
            Err("ERROR: ALLOWOVERWRITE and CLEANPATH cannot be used together".to_owned())
        );
        assert_eq!(
            unload("PARQUET PARALLEL OFF PARALLEL ON"),
            Err("ERROR: conflicting or redundant options".to_owned())
        );
        assert_eq!(
            parse(&format!(
                "UNLOAD ('select * from t order by 1 limit 10') TO 's3://b/k' {ROLE} PARQUET"
            )),
            Err("ERROR: Limit clause is not supported.".to_owned())
        );
        // LIMIT in a subquery, a literal, an identifier or a comment is no LIMIT of the query.
        let fine = "select * from (select a from t limit 5) s where b <> ''limit'' \
                    and \"limit\" = 1 /* limit */ -- limit\n";
        let u = parse(&format!("UNLOAD ('{fine}') TO 's3://b/k' {ROLE} PARQUET"))
            .expect("no top-level LIMIT");
        assert!(u.query.contains("limit 5"));
    }
}
