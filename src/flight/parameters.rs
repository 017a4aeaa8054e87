//! Parameters of prepared statements: `?`, `$n` and `:name` placeholders,
//! bound rows read from the RecordBatches a client sends, and the SQL with
//! each placeholder replaced by a Data API parameter.
//!
//! Values travel as Data API parameters. The Data API cannot carry NULL or an
//! empty string, so those two become the constant literals `NULL` and `''`;
//! no value a client sends is ever spliced into SQL.

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use redshift_sqltext::{PlaceholderKind, placeholders};

use crate::dataapi::SqlParameter;
use crate::error::{GatewayError, Result};
use crate::ticket::proto::{ParameterRow, ParameterValue, parameter_value};

/// Most parameters one statement may have: Redshift, like PostgreSQL's wire
/// protocol, counts bind parameters in a signed 16-bit number.
pub(crate) const MAX_PARAMETERS: usize = 32_767;

/// The parameters of a SQL text: how many, and their names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Parameters {
    /// Parameter names in binding order (`1`, `2`, … for `?` and `$n`).
    pub(crate) names: Vec<String>,
    /// Each placeholder: its byte range and the parameter it takes.
    slots: Vec<(std::ops::Range<usize>, usize)>,
}

impl Parameters {
    /// Reads the placeholders of `sql`; one style per statement.
    pub(crate) fn parse(sql: &str) -> Result<Self> {
        let found = placeholders(sql);
        let mut names: Vec<String> = Vec::new();
        let mut slots = Vec::with_capacity(found.len());
        let mut questions = 0usize;
        let mut style: Option<&'static str> = None;
        for p in found {
            let (this, index) = match p.kind {
                PlaceholderKind::Question => {
                    questions += 1;
                    ("?", questions - 1)
                }
                PlaceholderKind::Positional(0) => {
                    return Err(GatewayError::InvalidArgument(
                        "$0 is not a parameter: they start at $1".to_owned(),
                    ));
                }
                PlaceholderKind::Positional(n) if n > MAX_PARAMETERS => {
                    return Err(GatewayError::InvalidArgument(format!(
                        "${n} is beyond the {MAX_PARAMETERS} parameters a statement may have"
                    )));
                }
                PlaceholderKind::Positional(n) => ("$n", n - 1),
                PlaceholderKind::Named(name) => {
                    let index = match names.iter().position(|n| *n == name) {
                        Some(i) => i,
                        None => {
                            names.push(name);
                            names.len() - 1
                        }
                    };
                    (":name", index)
                }
            };
            if style.is_some_and(|s| s != this) {
                return Err(GatewayError::InvalidArgument(
                    "use one placeholder style per statement: ?, $1 or :name".to_owned(),
                ));
            }
            style = Some(this);
            slots.push((p.range, index));
        }
        if questions > MAX_PARAMETERS || names.len() > MAX_PARAMETERS {
            return Err(GatewayError::InvalidArgument(format!(
                "the statement has more than the {MAX_PARAMETERS} parameters a statement may have"
            )));
        }
        if style != Some(":name") {
            let count = slots.iter().map(|(_, i)| i + 1).max().unwrap_or(0);
            names = (1..=count).map(|i| i.to_string()).collect();
        }
        Ok(Self { names, slots })
    }

    /// Each placeholder: its byte range and the parameter it takes.
    pub(crate) fn slots(&self) -> &[(std::ops::Range<usize>, usize)] {
        &self.slots
    }

    /// The parameter schema clients bind against: each parameter's type
    /// (`None`: text, which Redshift casts from its context). Whatever type a
    /// client binds, values travel to the Data API as text.
    pub(crate) fn schema(&self, types: &[Option<DataType>]) -> Schema {
        Schema::new(
            self.names
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let data_type = types.get(i).cloned().flatten().unwrap_or(DataType::Utf8);
                    Field::new(n, data_type, true)
                })
                .collect::<Vec<_>>(),
        )
    }

    /// The SQL with each placeholder replaced: `:{prefix}p{n}` for a value,
    /// `NULL` or `''` for what the Data API cannot carry.
    pub(crate) fn bind(
        &self,
        sql: &str,
        row: &[ParameterValue],
        prefix: &str,
    ) -> Result<(String, Vec<SqlParameter>)> {
        if row.len() < self.names.len() {
            return Err(GatewayError::InvalidArgument(format!(
                "the statement has {} parameters but {} values were bound",
                self.names.len(),
                row.len()
            )));
        }
        let mut out = String::with_capacity(sql.len() + 16);
        let mut parameters: Vec<SqlParameter> = Vec::new();
        let mut copied = 0;
        for (range, index) in &self.slots {
            out.push_str(&sql[copied..range.start]);
            match &row[*index].value {
                None | Some(parameter_value::Value::Null(_)) => out.push_str("NULL"),
                Some(parameter_value::Value::Text(t)) if t.is_empty() => out.push_str("''"),
                Some(parameter_value::Value::Text(t)) => {
                    let name = format!("{prefix}p{}", index + 1);
                    out.push(':');
                    out.push_str(&name);
                    if !parameters.iter().any(|p| p.name == name) {
                        parameters.push(SqlParameter {
                            name,
                            value: t.clone(),
                        });
                    }
                }
            }
            copied = range.end;
        }
        out.push_str(&sql[copied..]);
        Ok((out, parameters))
    }

    /// The SQL with every placeholder replaced by NULL (for schema discovery).
    pub(crate) fn nulled(&self, sql: &str) -> String {
        let row = vec![ParameterValue::default(); self.names.len()];
        self.bind(sql, &row, "")
            .map(|(s, _)| s)
            .unwrap_or_else(|_| sql.to_owned())
    }
}

/// One bound value as text, `None` for NULL. Unions (what flightsql-dbapi
/// binds) give the value of their selected child.
fn parameter_text(column: &dyn arrow::array::Array, row: usize) -> Result<Option<String>> {
    // A NullArray (what ADBC binds for None) has no validity buffer.
    if column.is_null(row) || column.data_type() == &DataType::Null {
        return Ok(None);
    }
    if let Some(union) = column.as_any().downcast_ref::<arrow::array::UnionArray>() {
        let value = union.value(row);
        return parameter_text(value.as_ref(), 0);
    }
    let formatter = ArrayFormatter::try_new(column, &FormatOptions::default())
        .map_err(|e| GatewayError::InvalidArgument(format!("cannot read a parameter: {e}")))?;
    let text = formatter.value(row).to_string();
    Ok(Some(match column.data_type() {
        // bytea/varbyte input form.
        DataType::Binary
        | DataType::LargeBinary
        | DataType::BinaryView
        | DataType::FixedSizeBinary(_) => {
            format!("\\x{text}")
        }
        _ => text,
    }))
}

/// Bound rows from the RecordBatches a client sent: every value as text.
pub(crate) fn rows_of(batches: &[RecordBatch]) -> Result<Vec<ParameterRow>> {
    let mut rows = Vec::new();
    for batch in batches {
        for r in 0..batch.num_rows() {
            let values = batch
                .columns()
                .iter()
                .map(|column| {
                    let value = match parameter_text(column.as_ref(), r)? {
                        None => parameter_value::Value::Null(true),
                        Some(text) => parameter_value::Value::Text(text),
                    };
                    Ok(ParameterValue { value: Some(value) })
                })
                .collect::<Result<Vec<_>>>()?;
            rows.push(ParameterRow { values });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn text(s: &str) -> ParameterValue {
        ParameterValue {
            value: Some(parameter_value::Value::Text(s.to_owned())),
        }
    }

    fn null() -> ParameterValue {
        ParameterValue {
            value: Some(parameter_value::Value::Null(true)),
        }
    }

    #[test]
    fn binds_values_as_parameters_and_null_and_empty_as_constants() {
        let p = Parameters::parse("select * from t where a = ? and b = ? and c = ? and d = '?'")
            .expect("parse");
        assert_eq!(p.names, ["1", "2", "3"]);
        let (sql, params) = p
            .bind(
                "select * from t where a = ? and b = ? and c = ? and d = '?'",
                &[text("x'; drop table t; --"), null(), text("")],
                "",
            )
            .expect("bind");
        assert_eq!(
            sql,
            "select * from t where a = :p1 and b = NULL and c = '' and d = '?'"
        );
        assert_eq!(
            params,
            [SqlParameter {
                name: "p1".into(),
                value: "x'; drop table t; --".into()
            }]
        );
    }

    #[test]
    fn dollar_and_named_styles() {
        let p = Parameters::parse("select $2, $1, $2").expect("parse");
        assert_eq!(p.names, ["1", "2"]);
        let (sql, params) = p
            .bind("select $2, $1, $2", &[text("a"), text("b")], "r0_")
            .expect("bind");
        assert_eq!(sql, "select :r0_p2, :r0_p1, :r0_p2");
        assert_eq!(params.len(), 2);
        let p = Parameters::parse("select :b, :a, :b").expect("parse");
        assert_eq!(p.names, ["b", "a"]);
        assert!(Parameters::parse("select ?, :a").is_err());
        assert!(p.bind("select :b, :a, :b", &[text("1")], "").is_err());
    }

    #[test]
    fn placeholder_numbers_are_capped() {
        for sql in [
            "select $18446744073709551615",
            "select $1000000",
            "select $32768",
        ] {
            let e = Parameters::parse(sql).expect_err(sql);
            assert!(e.to_string().contains("32767 parameters"), "{e}");
        }
        assert_eq!(
            Parameters::parse("select $32767")
                .expect("at the cap")
                .names
                .len(),
            32_767
        );
        let many = vec!["?"; 32_768].join(", ");
        assert!(Parameters::parse(&format!("select {many}")).is_err());
    }

    #[test]
    fn null_arrays_and_unions_bind_as_values() {
        use arrow::array::{ArrayRef, Int64Array, NullArray, UnionArray};
        use arrow::buffer::ScalarBuffer;
        use arrow::datatypes::UnionFields;
        let fields = UnionFields::try_new(vec![0], vec![Field::new("i", DataType::Int64, true)])
            .expect("fields");
        let union = UnionArray::try_new(
            fields,
            ScalarBuffer::from(vec![0i8]),
            Some(ScalarBuffer::from(vec![0i32])),
            vec![Arc::new(Int64Array::from(vec![5])) as ArrayRef],
        )
        .expect("union");
        let batch = RecordBatch::try_from_iter(vec![
            ("a", Arc::new(NullArray::new(1)) as ArrayRef),
            ("b", Arc::new(union) as ArrayRef),
        ])
        .expect("batch");
        let rows = rows_of(&[batch]).expect("rows");
        assert_eq!(rows[0].values[0], null());
        assert_eq!(rows[0].values[1], text("5"));
    }
}
