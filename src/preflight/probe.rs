//! The result-format probe: one query whose result holds the values that CSV
//! gets wrong most easily (NULL against the empty string, quotes, commas,
//! newlines, non-ASCII text, wide and negative decimals, timestamps with and
//! without a time zone, booleans, dates, SUPER), fetched as JSON
//! (GetStatementResult) and as CSV (GetStatementResultV2) and compared value
//! by value after the gateway's own converters.

use arrow::array::{Array, ArrayRef, RecordBatch};
use arrow::compute::concat_batches;
use arrow::util::display::array_value_to_string;

use crate::convert::PageConverter;
use crate::dataapi::{
    DataApi, DataApiError, DataApiErrorKind, ExecuteRequest, Operation, ResultFormat,
    StatementStatus, WaitPolicy, wait_for_statement,
};

/// The probe query. It runs on Redshift and on the emulator alike (which
/// provides `JSON_PARSE`); the third row is NULL in every column.
pub const PROBE_SQL: &str = "select n, nul, empty, punctuation, spaced, unicode, dec_wide, dec_negative, \
big, fraction, ts, tstz, flag, day, doc
from (
  select 1 as n,
    cast(null as varchar(20)) as nul,
    cast('' as varchar(20)) as empty,
    cast('say \"hi\", then
go' as varchar(64)) as punctuation,
    cast(' ' as varchar(8)) as spaced,
    cast('Zoë, 東京 ✓' as varchar(64)) as unicode,
    cast('99999999999999999999999999999999.999999' as decimal(38,6)) as dec_wide,
    cast('-12345678901234567890123456789012.000001' as decimal(38,6)) as dec_negative,
    cast(-9223372036854775807 as bigint) as big,
    cast(0.1 as double precision) as fraction,
    cast('2024-02-29 23:59:59.123456' as timestamp) as ts,
    cast('2024-02-29 23:59:59.123456+05:30' as timestamptz) as tstz,
    true as flag,
    cast('1999-12-31' as date) as day,
    json_parse('{\"k\":[1,\"x,y\",null],\"q\":\"it''s\"}') as doc
  union all
  select 2, cast('NULL' as varchar(20)), cast('\"\"' as varchar(20)), cast(',' as varchar(64)),
    cast('' as varchar(8)), cast('\\N' as varchar(64)), cast('0.000001' as decimal(38,6)),
    cast(null as decimal(38,6)), cast(0 as bigint), cast(-1.5e-10 as double precision),
    cast(null as timestamp), cast(null as timestamptz), false, cast(null as date), json_parse('null')
  union all
  select 3, null, null, null, null, null, null, null, null, null, null, null, null, null, null
) as probe
order by n";

/// What the probe found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeReport {
    /// Columns compared.
    pub columns: usize,
    /// Rows compared.
    pub rows: usize,
    /// Each difference between the two formats, readable (empty: identical).
    pub differences: Vec<String>,
}

impl ProbeReport {
    /// Whether JSON and CSV gave identical Arrow.
    pub fn identical(&self) -> bool {
        self.differences.is_empty()
    }

    /// The format `--result-format auto` uses after this probe.
    pub fn chosen(&self) -> ResultFormat {
        if self.identical() {
            ResultFormat::Csv
        } else {
            ResultFormat::Json
        }
    }
}

/// Most differences listed (the rest are counted).
const MAX_LISTED: usize = 20;

/// Runs the probe in `database`: the query once per format, every page
/// converted, the two results compared.
pub async fn probe(
    api: &dyn DataApi,
    database: &str,
    wait: WaitPolicy,
) -> Result<ProbeReport, DataApiError> {
    let json = fetch(api, database, wait, ResultFormat::Json).await?;
    let csv = fetch(api, database, wait, ResultFormat::Csv).await?;
    Ok(compare(json, csv))
}

/// A result read in one format: its batch, or why its pages could not be converted.
type Read = Result<RecordBatch, String>;

async fn fetch(
    api: &dyn DataApi,
    database: &str,
    wait: WaitPolicy,
    format: ResultFormat,
) -> Result<Read, DataApiError> {
    let id = api
        .execute_statement(ExecuteRequest {
            sql: PROBE_SQL.to_owned(),
            database: Some(database.to_owned()),
            result_format: format,
            statement_name: Some("rsfs:probe".to_owned()),
            ..ExecuteRequest::default()
        })
        .await?;
    let description = wait_for_statement(api, &id, wait).await?;
    if description.status != StatementStatus::Finished {
        return Err(DataApiError::new(
            DataApiErrorKind::Validation,
            Operation::DescribeStatement,
            format!(
                "the probe query ended {:?}: {}",
                description.status,
                description.error.unwrap_or_default()
            ),
        )
        .for_statement(&id));
    }
    let mut page = api.get_statement_result(&id, format, None).await?;
    let converter = PageConverter::new(std::mem::take(&mut page.columns), Some(database));
    let mut batches = Vec::new();
    let mut first = true;
    loop {
        match converter.convert(&page.records, std::mem::take(&mut first)) {
            Ok(batch) => batches.push(batch),
            Err(e) => {
                let name = match format {
                    ResultFormat::Json => "JSON",
                    ResultFormat::Csv => "CSV",
                };
                return Ok(Err(format!("a {name} page could not be read: {e}")));
            }
        }
        match page.next_token.take() {
            Some(token) => page = api.get_statement_result(&id, format, Some(token)).await?,
            None => break,
        }
    }
    Ok(concat_batches(&converter.schema(), &batches).map_err(|e| e.to_string()))
}

/// Compares the JSON and the CSV reading of the probe, value by value.
fn compare(json: Read, csv: Read) -> ProbeReport {
    let (json, csv) = match (json, csv) {
        (Ok(json), Ok(csv)) => (json, csv),
        (json, csv) => {
            let differences = [json.err(), csv.err()].into_iter().flatten().collect();
            return ProbeReport {
                columns: 0,
                rows: 0,
                differences,
            };
        }
    };
    let mut differences = Vec::new();
    if json.schema() != csv.schema() {
        differences.push(format!(
            "the schemas differ: JSON {:?}, CSV {:?}",
            json.schema().fields(),
            csv.schema().fields()
        ));
    }
    if json.num_rows() != csv.num_rows() {
        differences.push(format!(
            "JSON has {} rows, CSV {}",
            json.num_rows(),
            csv.num_rows()
        ));
    }
    let mut more = 0usize;
    if differences.is_empty() {
        for (i, field) in json.schema().fields().iter().enumerate() {
            let (a, b) = (json.column(i), csv.column(i));
            for row in 0..json.num_rows() {
                if value_differs(a, b, row) {
                    if differences.len() < MAX_LISTED {
                        differences.push(format!(
                            "column {:?}, row {}: JSON {}, CSV {}",
                            field.name(),
                            row + 1,
                            shown(a, row),
                            shown(b, row)
                        ));
                    } else {
                        more += 1;
                    }
                }
            }
        }
    }
    if more > 0 {
        differences.push(format!("and {more} more differences"));
    }
    ProbeReport {
        columns: json.num_columns(),
        rows: json.num_rows(),
        differences,
    }
}

fn value_differs(a: &ArrayRef, b: &ArrayRef, row: usize) -> bool {
    a.slice(row, 1).to_data() != b.slice(row, 1).to_data()
}

/// A value as the report shows it: NULL, or its text quoted.
fn shown(array: &ArrayRef, row: usize) -> String {
    if array.is_null(row) {
        return "NULL".to_owned();
    }
    array_value_to_string(array, row).map_or_else(|e| format!("<{e}>"), |v| format!("{v:?}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int32Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn batch(values: Vec<Option<&str>>) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("n", DataType::Int32, false),
            Field::new("s", DataType::Utf8, true),
        ]));
        let n = Int32Array::from_iter_values(1..=i32::try_from(values.len()).unwrap_or(0));
        RecordBatch::try_new(
            schema,
            vec![Arc::new(n), Arc::new(StringArray::from(values))],
        )
        .expect("batch")
    }

    #[test]
    fn identical_readings_choose_csv() {
        let report = compare(
            Ok(batch(vec![None, Some("")])),
            Ok(batch(vec![None, Some("")])),
        );
        assert!(report.identical());
        assert_eq!((report.columns, report.rows), (2, 2));
        assert_eq!(report.chosen(), ResultFormat::Csv);
    }

    #[test]
    fn a_null_read_as_an_empty_string_is_named() {
        let report = compare(
            Ok(batch(vec![None, Some("")])),
            Ok(batch(vec![Some(""), Some("")])),
        );
        assert_eq!(
            report.differences,
            ["column \"s\", row 1: JSON NULL, CSV \"\""]
        );
        assert_eq!(report.chosen(), ResultFormat::Json);
    }

    #[test]
    fn an_unreadable_page_is_a_difference() {
        let report = compare(
            Ok(batch(vec![None])),
            Err("a CSV page could not be read".into()),
        );
        assert_eq!(report.differences, ["a CSV page could not be read"]);
    }
}
