//! A Data API that answers every call at once with a small, valid answer, so
//! that fuzzed requests reach as deep into the gateway as real ones do.

use redshift_flight_sql::dataapi::{
    BatchExecuteRequest, ColumnMetadata, DataApi, DataApiError, ExecuteRequest, Records,
    ResultFormat, ResultPage, StatementDescription, StatementStatus, StatementSummary, TableMember,
};

/// The statement Id every submission gets.
const STATEMENT_ID: &str = "00000000-0000-4000-8000-000000000001";

/// Answers every call: statements finish at once with one int4 row.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct CannedDataApi;

fn column() -> ColumnMetadata {
    ColumnMetadata {
        name: "n".to_owned(),
        label: "n".to_owned(),
        type_name: "int4".to_owned(),
        precision: 10,
        nullable: 1,
        is_signed: true,
        schema_name: "public".to_owned(),
        table_name: "t".to_owned(),
        ..ColumnMetadata::default()
    }
}

#[async_trait::async_trait]
impl DataApi for CannedDataApi {
    async fn execute_statement(&self, _: ExecuteRequest) -> Result<String, DataApiError> {
        Ok(STATEMENT_ID.to_owned())
    }

    async fn describe_statement(
        &self,
        id: &str,
        _: Option<i32>,
    ) -> Result<StatementDescription, DataApiError> {
        Ok(StatementDescription {
            id: id.to_owned(),
            status: StatementStatus::Finished,
            error: None,
            has_result_set: true,
            result_rows: 1,
            result_size: 2,
            session_id: Some("00000000-0000-4000-8000-000000000002".to_owned()),
            sub_statement_rows: vec![1],
        })
    }

    async fn get_statement_result(
        &self,
        _: &str,
        format: ResultFormat,
        _: Option<String>,
    ) -> Result<ResultPage, DataApiError> {
        Ok(ResultPage {
            columns: vec![column()],
            records: match format {
                ResultFormat::Csv => Records::Csv("1\n".to_owned()),
                ResultFormat::Json => {
                    Records::Json(vec![vec![redshift_flight_sql::dataapi::Value::Long(1)]])
                }
            },
            next_token: None,
            total_rows: Some(1),
        })
    }

    async fn cancel_statement(&self, _: &str) -> Result<bool, DataApiError> {
        Ok(true)
    }

    async fn batch_execute_statement(
        &self,
        _: BatchExecuteRequest,
    ) -> Result<String, DataApiError> {
        Ok(STATEMENT_ID.to_owned())
    }

    async fn list_databases(&self) -> Result<Vec<String>, DataApiError> {
        Ok(vec!["dev".to_owned()])
    }

    async fn list_schemas(&self, _: &str, _: Option<&str>) -> Result<Vec<String>, DataApiError> {
        Ok(vec!["public".to_owned()])
    }

    async fn list_tables(
        &self,
        _: &str,
        _: Option<&str>,
        _: Option<&str>,
    ) -> Result<Vec<TableMember>, DataApiError> {
        Ok(vec![TableMember {
            schema: "public".to_owned(),
            name: "t".to_owned(),
            table_type: "TABLE".to_owned(),
        }])
    }

    async fn describe_table(
        &self,
        _: &str,
        _: Option<&str>,
        _: Option<&str>,
    ) -> Result<Vec<ColumnMetadata>, DataApiError> {
        Ok(vec![column()])
    }

    async fn list_statements(
        &self,
        _: &str,
        _: i32,
    ) -> Result<Vec<StatementSummary>, DataApiError> {
        Ok(Vec::new())
    }
}
