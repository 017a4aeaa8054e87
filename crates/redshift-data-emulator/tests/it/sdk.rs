//! Calls through the SDK that most tests make: run a statement and wait for
//! it, read every record, check an error's code.

use aws_sdk_redshiftdata::Client;
use aws_sdk_redshiftdata::error::ProvideErrorMetadata;
use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::operation::get_statement_result::GetStatementResultOutput;
use aws_sdk_redshiftdata::types::{Field, SqlParameter, StatusString};

/// The cluster most tests name.
pub(crate) const CLUSTER: &str = "redshift-cluster-1";
/// The database user with CLUSTER.
pub(crate) const USER: &str = "awsuser";

/// A named parameter.
pub(crate) fn param(name: &str, value: &str) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(value)
        .build()
        .expect("parameter")
}

/// Long-polls DescribeStatement until the statement has ended.
pub(crate) async fn finish(client: &Client, id: &str) -> DescribeStatementOutput {
    for _ in 0..20 {
        let d = client
            .describe_statement()
            .id(id)
            .wait_time_seconds(30)
            .send()
            .await
            .expect("describe");
        if matches!(
            d.status(),
            Some(StatusString::Finished | StatusString::Failed | StatusString::Aborted)
        ) {
            return d;
        }
    }
    panic!("statement {id} did not end");
}

/// Runs `sql` on the cluster identity and waits for it.
pub(crate) async fn run(client: &Client, sql: &str) -> DescribeStatementOutput {
    let out = client
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .database("dev")
        .sql(sql)
        .send()
        .await
        .expect("execute");
    finish(client, out.id().expect("id")).await
}

/// The first page of a JSON result.
pub(crate) async fn first_page(client: &Client, id: &str) -> GetStatementResultOutput {
    client
        .get_statement_result()
        .id(id)
        .send()
        .await
        .expect("result")
}

/// Every record of a JSON result, through the SDK's paginator.
pub(crate) async fn records(client: &Client, id: &str) -> Vec<Vec<Field>> {
    let pages: Vec<_> = client
        .get_statement_result()
        .id(id)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut out = Vec::new();
    for page in pages {
        out.extend(page.expect("page").records().iter().cloned());
    }
    out
}

/// The text of a `stringValue` field.
pub(crate) fn text(f: &Field) -> String {
    match f {
        Field::StringValue(s) => s.clone(),
        other => panic!("expected stringValue, got {other:?}"),
    }
}

/// Asserts that `result` is an error with the Data API error code `code`
/// (`why` says which call, for the failure message); returns the error.
#[track_caller]
pub(crate) fn assert_error<T: std::fmt::Debug, E: ProvideErrorMetadata + std::fmt::Debug>(
    result: Result<T, E>,
    code: &str,
    why: &str,
) -> E {
    let err = result.expect_err(why);
    assert_eq!(err.code(), Some(code), "{why}: {err:?}");
    err
}
