//! The types of a prepared statement's parameters, read from the SQL around
//! each placeholder: JDBC binds a value only into the Arrow type the
//! parameter schema declares (`setInt` into Int32, `setTimestamp` as epoch
//! milliseconds, `setDate` as days), so a schema of text would refuse them.
//!
//! The Data API cannot describe parameters, so the gateway looks at where a
//! placeholder stands: `?::type` and `cast(? as type)`; a comparison with a
//! column (`col = ?`, `? < t.col`, `col between ? and ?`, `col in (?, ?)`,
//! `col like ?`, `set col = ?`); a value of `insert into t (cols) values
//! (…)`. Columns are typed by one probe, `select <columns> from <the
//! statement's FROM> limit 0`. Any other placeholder, and any the probe
//! cannot type, stays text, which Redshift casts from its context.

use arrow::datatypes::{DataType, TimeUnit};

use redshift_sqltext::{Skipped, skip_at};

use super::parameters::Parameters;

/// What types the parameters of a statement: explicit casts, and the
/// columns a probe query must type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParameterProbe {
    /// Per parameter: the type of an explicit cast, if it has one.
    pub(crate) casts: Vec<Option<DataType>>,
    /// Per parameter: the probe column that types it, if any.
    pub(crate) columns: Vec<Option<usize>>,
    /// The probe query (`None` when no parameter needs a column's type).
    pub(crate) sql: Option<String>,
}

/// One token of SQL text.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// An unquoted word, lower-cased.
    Word(String),
    /// A quoted identifier, as written (with its quotes).
    Quoted(String),
    /// A parameter placeholder and the parameter it takes.
    Parameter(usize),
    /// `::`.
    Cast,
    /// An operator or punctuation (`=`, `<=`, `(`, `,`, `.` …).
    Symbol(String),
    /// A literal or anything else.
    Other,
}

/// The tokens of `sql` with each one's nesting depth in parentheses
/// (literals, quoted identifiers and comments stepped over as the
/// placeholders' scan does).
fn tokens(sql: &str, parameters: &Parameters) -> Vec<(Token, usize)> {
    let b = sql.as_bytes();
    let slots = parameters.slots();
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    // The slots, in the order they stand in the text.
    let mut next_slot = slots.iter().peekable();
    while i < b.len() {
        // (A slot inside a token already read is no placeholder of it.)
        while next_slot.next_if(|(r, _)| r.start < i).is_some() {}
        if let Some((range, index)) = next_slot.next_if(|(r, _)| r.start == i) {
            out.push((Token::Parameter(*index), depth));
            i = range.end;
            continue;
        }
        if let Some((skipped, end)) = skip_at(sql, i) {
            match skipped {
                Skipped::StringLiteral => out.push((Token::Other, depth)),
                Skipped::QuotedIdentifier => {
                    out.push((Token::Quoted(sql[i..end].to_owned()), depth));
                }
                Skipped::Comment => {}
            }
            i = end;
            continue;
        }
        let c = b[i];
        match c {
            _ if c.is_ascii_whitespace() => i += 1,
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric()
                        || b[i] == b'_'
                        || b[i] == b'$'
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                out.push((Token::Word(sql[start..i].to_ascii_lowercase()), depth));
            }
            _ if c.is_ascii_digit() => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.') {
                    i += 1;
                }
                out.push((Token::Other, depth));
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                out.push((Token::Cast, depth));
                i += 2;
            }
            b'(' => {
                out.push((Token::Symbol("(".to_owned()), depth));
                depth += 1;
                i += 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                out.push((Token::Symbol(")".to_owned()), depth));
                i += 1;
            }
            b'<' | b'>' | b'!' | b'=' => {
                let two = matches!(
                    (c, b.get(i + 1)),
                    (b'<', Some(b'=' | b'>')) | (b'>', Some(b'=')) | (b'!', Some(b'='))
                );
                let len = if two { 2 } else { 1 };
                out.push((Token::Symbol(sql[i..i + len].to_owned()), depth));
                i += len;
            }
            _ => {
                // One character (a UTF-8 sequence is a word above).
                out.push((Token::Symbol((c as char).to_string()), depth));
                i += 1;
            }
        }
    }
    out
}

fn is_comparison(token: &Token) -> bool {
    match token {
        Token::Symbol(s) => matches!(s.as_str(), "=" | "<>" | "!=" | "<" | ">" | "<=" | ">="),
        Token::Word(w) => matches!(w.as_str(), "like" | "ilike"),
        _ => false,
    }
}

fn is_name(token: &Token) -> bool {
    match token {
        Token::Quoted(_) => true,
        Token::Word(w) => !is_reserved(w),
        _ => false,
    }
}

/// Words that end or join clauses: never a column name here.
fn is_reserved(word: &str) -> bool {
    matches!(
        word,
        "select"
            | "from"
            | "where"
            | "and"
            | "or"
            | "not"
            | "in"
            | "between"
            | "like"
            | "ilike"
            | "is"
            | "null"
            | "set"
            | "values"
            | "on"
            | "as"
            | "case"
            | "when"
            | "then"
            | "else"
            | "end"
            | "having"
            | "limit"
            | "offset"
            | "true"
            | "false"
    )
}

fn text(token: &Token) -> &str {
    match token {
        Token::Word(w) => w,
        Token::Quoted(q) => q,
        Token::Symbol(s) => s,
        _ => "",
    }
}

/// The column reference (`a`, `t.a`, `"T"."a"`) that ends at `tokens[end]`
/// (inclusive), as SQL text, or `None`.
fn column_ending_at(tokens: &[(Token, usize)], end: usize) -> Option<String> {
    if !is_name(&tokens[end].0) {
        return None;
    }
    let mut start = end;
    while start >= 2
        && tokens[start - 1].0 == Token::Symbol(".".to_owned())
        && is_name(&tokens[start - 2].0)
    {
        start -= 2;
    }
    if start >= 1 && tokens[start - 1].0 == Token::Symbol(".".to_owned()) {
        return None;
    }
    // A function call (`lower(x) = ?`) or a cast target is not a column.
    if start >= 1 && matches!(tokens[start - 1].0, Token::Cast) {
        return None;
    }
    Some(tokens[start..=end].iter().map(|(t, _)| text(t)).collect())
}

/// The column reference that starts at `tokens[start]`, as SQL text.
fn column_starting_at(tokens: &[(Token, usize)], start: usize) -> Option<String> {
    let mut end = start;
    if !is_name(&tokens.get(start)?.0) {
        return None;
    }
    while end + 2 < tokens.len()
        && tokens[end + 1].0 == Token::Symbol(".".to_owned())
        && is_name(&tokens[end + 2].0)
    {
        end += 2;
    }
    if matches!(tokens.get(end + 1).map(|t| &t.0), Some(Token::Symbol(s)) if s == "(" || s == ".") {
        return None;
    }
    Some(tokens[start..=end].iter().map(|(t, _)| text(t)).collect())
}

/// The Arrow type JDBC binds for a Redshift type name after `::` or `as`
/// (`int`, `timestamp`, …); `None` for types that stay text.
fn cast_type(tokens: &[(Token, usize)], at: usize) -> Option<DataType> {
    let Token::Word(name) = &tokens.get(at)?.0 else {
        return None;
    };
    let next = |k: usize| tokens.get(at + k).map(|t| &t.0);
    Some(match name.as_str() {
        "smallint" | "int2" => DataType::Int16,
        "int" | "integer" | "int4" => DataType::Int32,
        "bigint" | "int8" => DataType::Int64,
        "real" | "float4" => DataType::Float32,
        "float" | "float8" => DataType::Float64,
        "double" if matches!(next(1), Some(Token::Word(w)) if w == "precision") => {
            DataType::Float64
        }
        "bool" | "boolean" => DataType::Boolean,
        "date" => DataType::Date32,
        "timestamp" => DataType::Timestamp(TimeUnit::Millisecond, None),
        "timestamptz" => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        // numeric(p,s): its scale matters to JDBC (BigDecimal scales must match);
        // the probe's exact type is not known here, so it stays text.
        _ => return None,
    })
}

/// What it takes to type `parameters` of `sql`.
pub(crate) fn probe(sql: &str, parameters: &Parameters) -> ParameterProbe {
    let n = parameters.names.len();
    let mut casts: Vec<Option<DataType>> = vec![None; n];
    let mut wanted: Vec<Option<String>> = vec![None; n];
    let mut positional: Vec<Option<usize>> = vec![None; n];
    let toks = tokens(sql, parameters);
    let word = |i: usize, w: &str| matches!(toks.get(i), Some((Token::Word(x), _)) if x == w);
    let symbol = |i: usize, s: &str| matches!(toks.get(i), Some((Token::Symbol(x), _)) if x == s);

    // insert into t [(cols)] values (…), (…)
    let insert = insert_target(&toks);

    for (i, (token, _)) in toks.iter().enumerate() {
        let Token::Parameter(p) = token else { continue };
        let p = *p;
        if casts[p].is_some() || wanted[p].is_some() {
            continue;
        }
        // ?::type
        if matches!(toks.get(i + 1), Some((Token::Cast, _))) {
            casts[p] = cast_type(&toks, i + 2);
            continue;
        }
        // cast(? as type)
        if i >= 2 && symbol(i - 1, "(") && word(i - 2, "cast") && word(i + 1, "as") {
            casts[p] = cast_type(&toks, i + 2);
            continue;
        }
        // col op ?
        if i >= 2 && is_comparison(&toks[i - 1].0) {
            wanted[p] = column_ending_at(&toks, i - 2);
            if wanted[p].is_some() {
                continue;
            }
        }
        // ? op col
        if toks.get(i + 1).is_some_and(|(t, _)| is_comparison(t)) {
            wanted[p] = column_starting_at(&toks, i + 2);
            if wanted[p].is_some() {
                continue;
            }
        }
        // col [not] between ? and ?
        if i >= 2 && word(i - 1, "between") {
            wanted[p] = column_ending_at(&toks, i - 2).or_else(|| {
                (i >= 3 && word(i - 2, "not"))
                    .then(|| column_ending_at(&toks, i - 3))
                    .flatten()
            });
            if let (Some(column), true, Some((Token::Parameter(q), _))) =
                (&wanted[p], word(i + 1, "and"), toks.get(i + 2))
            {
                wanted[*q] = Some(column.clone());
            }
            continue;
        }
        // col [not] in (?, ?, …)
        let mut k = i;
        while k >= 1 && (symbol(k - 1, ",") || matches!(toks[k - 1].0, Token::Parameter(_))) {
            k -= 1;
        }
        if k >= 3 && symbol(k - 1, "(") && word(k - 2, "in") {
            let column = column_ending_at(&toks, k - 3).or_else(|| {
                (k >= 4 && word(k - 3, "not"))
                    .then(|| column_ending_at(&toks, k - 4))
                    .flatten()
            });
            wanted[p] = column;
            continue;
        }
        // insert … values (?, …): the column at the same position.
        if let Some((_, columns)) = &insert {
            let position = values_position(&toks, i);
            if columns.is_empty() {
                positional[p] = position;
            } else {
                wanted[p] = position.and_then(|pos| columns.get(pos).cloned());
            }
        }
    }
    if let Some((table, columns)) = &insert
        && columns.is_empty()
    {
        // No column list: the probe reads every column, in order.
        let sql = positional
            .iter()
            .any(Option::is_some)
            .then(|| format!("select * from {table} limit 0"));
        return ParameterProbe {
            casts,
            columns: positional,
            sql,
        };
    }

    let mut probe_columns: Vec<String> = Vec::new();
    let mut columns: Vec<Option<usize>> = vec![None; n];
    for (p, column) in wanted.iter().enumerate() {
        if let Some(column) = column {
            let at = probe_columns
                .iter()
                .position(|c| c == column)
                .unwrap_or_else(|| {
                    probe_columns.push(column.clone());
                    probe_columns.len() - 1
                });
            columns[p] = Some(at);
        }
    }
    let relation = match &insert {
        Some((table, _)) => Some(table.clone()),
        None => relation_of(&toks),
    };
    let sql = match (probe_columns.is_empty(), relation) {
        (false, Some(relation)) => Some(format!(
            "select {} from {relation} limit 0",
            probe_columns.join(", ")
        )),
        _ => {
            columns = vec![None; n];
            None
        }
    };
    ParameterProbe {
        casts,
        columns,
        sql,
    }
}

/// `insert into <table> [(<columns>)] values`: the table and the columns
/// named (none: every column, in order).
fn insert_target(toks: &[(Token, usize)]) -> Option<(String, Vec<String>)> {
    let mut i = 0;
    if !matches!(toks.first(), Some((Token::Word(w), _)) if w == "insert") {
        return None;
    }
    i += 1;
    if !matches!(toks.get(i), Some((Token::Word(w), _)) if w == "into") {
        return None;
    }
    i += 1;
    let mut table = String::new();
    while let Some((t, 0)) = toks.get(i) {
        if is_name(t) || *t == Token::Symbol(".".to_owned()) {
            table.push_str(text(t));
            i += 1;
        } else {
            break;
        }
    }
    if table.is_empty() {
        return None;
    }
    let mut columns = Vec::new();
    if matches!(toks.get(i), Some((Token::Symbol(s), 0)) if s == "(") {
        i += 1;
        while let Some((t, _)) = toks.get(i) {
            match t {
                Token::Symbol(s) if s == ")" => break,
                Token::Symbol(s) if s == "," => {}
                t if is_name(t) || matches!(t, Token::Word(_)) => columns.push(text(t).to_owned()),
                _ => return None,
            }
            i += 1;
        }
        i += 1;
    }
    if !matches!(toks.get(i), Some((Token::Word(w), 0)) if w == "values") {
        return None;
    }
    Some((table, columns))
}

/// The position of the value at `toks[at]` within its `values (…)` tuple
/// (top-level commas inside the tuple), if it is a whole value.
fn values_position(toks: &[(Token, usize)], at: usize) -> Option<usize> {
    let depth = toks[at].1;
    if depth != 1 {
        return None;
    }
    let mut position = 0;
    let mut k = at;
    while k > 0 {
        k -= 1;
        match &toks[k] {
            (Token::Symbol(s), d) if s == "," && *d == depth => position += 1,
            (Token::Symbol(s), d) if s == "(" && *d == depth - 1 => break,
            _ => {}
        }
    }
    let before = toks.get(at.checked_sub(1)?)?;
    let after = toks.get(at + 1)?;
    let whole = matches!(&before.0, Token::Symbol(s) if s == "(" || s == ",")
        && matches!(&after.0, Token::Symbol(s) if s == ")" || s == ",");
    whole.then_some(position)
}

/// The relations a statement's columns come from, as SQL text: the FROM
/// clause of a query or DELETE, the table of an UPDATE.
fn relation_of(toks: &[(Token, usize)]) -> Option<String> {
    let first = match toks.first() {
        Some((Token::Word(w), _)) => w.as_str(),
        _ => return None,
    };
    let stop = |t: &Token| {
        matches!(t, Token::Word(w) if matches!(w.as_str(),
            "where" | "group" | "having" | "order" | "limit" | "offset" | "union"
            | "intersect" | "except" | "window" | "qualify" | "set" | "returning"))
            || matches!(t, Token::Symbol(s) if s == ";")
    };
    let start = match first {
        "update" => 1,
        "select" | "delete" | "with" => {
            toks.iter()
                .position(|(t, d)| *d == 0 && *t == Token::Word("from".to_owned()))?
                + 1
        }
        _ => return None,
    };
    if first == "with" {
        return None;
    }
    let end = (start..toks.len())
        .find(|&k| toks[k].1 == 0 && stop(&toks[k].0))
        .unwrap_or(toks.len());
    if end <= start
        || toks[start..end]
            .iter()
            .any(|(t, _)| matches!(t, Token::Parameter(_)))
    {
        return None;
    }
    // Words, names and symbols joined by spaces are the same FROM clause.
    let mut out = String::new();
    for (t, _) in &toks[start..end] {
        let piece = match t {
            Token::Word(_) | Token::Quoted(_) | Token::Symbol(_) => text(t),
            // Literals in a FROM clause (join conditions) cannot be rebuilt.
            _ => return None,
        };
        if !out.is_empty() && piece != "." && !out.ends_with('.') {
            out.push(' ');
        }
        out.push_str(piece);
    }
    Some(out)
}

/// The parameter type JDBC binds into, for a column's Arrow type: integers,
/// floats, booleans and dates as they are, timestamps in milliseconds (what
/// `setTimestamp` writes), decimals with their precision and scale; anything
/// else as text.
pub(crate) fn parameter_type(column: &DataType) -> DataType {
    match column {
        DataType::Int16 | DataType::Int32 | DataType::Int64 => column.clone(),
        DataType::Float32 | DataType::Float64 => column.clone(),
        DataType::Boolean => DataType::Boolean,
        DataType::Date32 => DataType::Date32,
        DataType::Decimal128(p, s) => DataType::Decimal128(*p, *s),
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Millisecond, tz.clone()),
        _ => DataType::Utf8,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe_of(sql: &str) -> ParameterProbe {
        probe(sql, &Parameters::parse(sql).expect("parses"))
    }

    #[test]
    fn a_join_using_keeps_its_parenthesis() {
        let p = probe_of(
            "select s.salesid from sales s join event e using (eventid) \
             where s.salesid between ? and ? order by 1",
        );
        assert_eq!(
            p.sql.as_deref(),
            Some("select s.salesid from sales s join event e using ( eventid ) limit 0")
        );
        assert_eq!(p.columns, [Some(0), Some(0)]);
    }

    #[test]
    fn comparisons_name_their_columns_and_the_from_clause() {
        let p = probe_of(
            "select a from t join u on t.id = u.id where t.a = ? and ? < b and c between ? and ? and d in (?, ?) and e like ?",
        );
        assert_eq!(
            p.sql.as_deref(),
            Some("select t.a, b, c, d, e from t join u on t.id = u.id limit 0")
        );
        assert_eq!(
            p.columns,
            vec![
                Some(0),
                Some(1),
                Some(2),
                Some(2),
                Some(3),
                Some(3),
                Some(4)
            ]
        );
    }

    #[test]
    fn casts_type_a_parameter_without_a_probe() {
        let p = probe_of("select ?::int, cast(? as timestamp), ?::date, ?::numeric(10,2)");
        assert_eq!(
            p.casts,
            vec![
                Some(DataType::Int32),
                Some(DataType::Timestamp(TimeUnit::Millisecond, None)),
                Some(DataType::Date32),
                None
            ]
        );
        assert_eq!(p.sql, None);
    }

    #[test]
    fn insert_values_take_their_columns_types() {
        let p = probe_of("insert into s.t (id, name, at) values (?, ?, ?), (?, lower(?), ?)");
        assert_eq!(
            p.sql.as_deref(),
            Some("select id, name, at from s.t limit 0")
        );
        assert_eq!(
            p.columns,
            vec![Some(0), Some(1), Some(2), Some(0), None, Some(2)]
        );
    }

    #[test]
    fn insert_without_columns_reads_every_column() {
        let p = probe_of("insert into t values (?, 'x', ?)");
        assert_eq!(p.sql.as_deref(), Some("select * from t limit 0"));
        assert_eq!(p.columns, vec![Some(0), Some(2)]);
    }

    #[test]
    fn update_and_delete_read_their_table() {
        let p = probe_of("update t set name = ? where id >= ?");
        assert_eq!(p.sql.as_deref(), Some("select name, id from t limit 0"));
        let p = probe_of("delete from t where name = ?");
        assert_eq!(p.sql.as_deref(), Some("select name from t limit 0"));
    }

    #[test]
    fn what_cannot_be_typed_stays_text() {
        for sql in [
            "select ?",
            "select lower(?) from t",
            "select a from t where f(a) = ?",
            "with x as (select 1) select * from x where a = ?",
            "select a from t where a = ? and b = 'x''y'",
        ] {
            let p = probe_of(sql);
            assert!(p.casts.iter().all(Option::is_none), "{sql}");
            if sql.contains("'x''y'") {
                assert_eq!(p.sql.as_deref(), Some("select a from t limit 0"), "{sql}");
            } else {
                assert_eq!(p.sql, None, "{sql}");
            }
        }
    }

    #[test]
    fn column_types_map_to_what_jdbc_binds() {
        assert_eq!(
            parameter_type(&DataType::Timestamp(
                TimeUnit::Microsecond,
                Some("UTC".into())
            )),
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
        );
        assert_eq!(
            parameter_type(&DataType::Decimal128(8, 2)),
            DataType::Decimal128(8, 2)
        );
        assert_eq!(parameter_type(&DataType::Utf8View), DataType::Utf8);
    }
}
