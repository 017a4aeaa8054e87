//! SQL the gateway refuses before Redshift sees it: everything that writes on
//! a `--read-only` gateway (PERMISSION_DENIED; GetSqlInfo says read-only),
//! and two-phase commit, which Redshift does not have (UNIMPLEMENTED).

use std::sync::Arc;

use arrow::array::{Array as _, AsArray as _, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Schema};
use arrow_flight::sql::{CommandStatementIngest, SqlInfo, TableDefinitionOptions};
use redshift_flight_sql::config::QueryConfig;
use tonic::Code;

use super::common::{StackOptions, fetch, stack, stack_with, status_of, unique};

#[tokio::test]
async fn a_read_only_gateway_runs_reads_and_refuses_every_write() {
    let stack = stack_with(StackOptions {
        query: QueryConfig {
            read_only: true,
            ..QueryConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let mut client = stack.client().await;
    let before = stack.data_api_calls().await;
    let table = unique("ro");
    for (sql, first) in [
        (format!("create table {table} (n int)"), "CREATE"),
        (format!("select 1 as n into {table}"), "SELECT"),
        (format!("insert into {table} values (1)"), "INSERT"),
    ] {
        let status = status_of(
            client
                .execute_update(sql.clone(), None)
                .await
                .expect_err("an update is refused"),
        );
        assert_eq!(status.code(), Code::PermissionDenied, "{sql}: {status:?}");
        assert!(
            status.message().contains(&format!(
                "read-only (--read-only): it runs queries that only read, and this {first} statement would write"
            )),
            "{status:?}"
        );
        let status = status_of(client.execute(sql, None).await.expect_err("as a query too"));
        assert_eq!(status.code(), Code::PermissionDenied);
        let status = status_of(
            client
                .prepare(format!("insert into {table} values (1)"), None)
                .await
                .expect_err("prepared writes too"),
        );
        assert_eq!(status.code(), Code::PermissionDenied);
    }
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("n", DataType::Int64, false)])),
        vec![Arc::new(Int64Array::from(vec![1]))],
    )
    .expect("batch");
    let ingest = CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist: 1,
            if_exists: 2,
        }),
        table: table.clone(),
        ..CommandStatementIngest::default()
    };
    let status = status_of(
        client
            .execute_ingest(ingest, futures::stream::iter(vec![Ok(batch)]))
            .await
            .expect_err("ingest is refused"),
    );
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let after = stack.data_api_calls().await;
    assert_eq!(
        after.get("ExecuteStatement"),
        before.get("ExecuteStatement"),
        "nothing reached the Data API"
    );

    // Reads run, and GetSqlInfo says the server is read-only.
    let info = client
        .execute("select 42 as n".to_owned(), None)
        .await
        .expect("a read runs");
    assert_eq!(fetch(&mut client, &info).await[0].num_rows(), 1);
    let info = client
        .get_sql_info(vec![SqlInfo::FlightSqlServerReadOnly])
        .await
        .expect("sql info");
    let batches = fetch(&mut client, &info).await;
    let values = batches[0].column(1).as_union();
    let read_only = values.value(0);
    let read_only = read_only.as_boolean();
    assert!(read_only.is_valid(0) && read_only.value(0));
}

#[tokio::test]
async fn two_phase_commit_is_unimplemented_with_the_reason() {
    let stack = stack().await;
    let mut client = stack.client().await;
    for sql in [
        "PREPARE TRANSACTION 'tpc-1'",
        "COMMIT PREPARED 'tpc-1'",
        "ROLLBACK PREPARED 'tpc-1'",
    ] {
        let status = status_of(
            client
                .execute_update(sql.to_owned(), None)
                .await
                .expect_err("refused"),
        );
        assert_eq!(status.code(), Code::Unimplemented, "{sql}: {status:?}");
        assert!(
            status.message().contains(
                "Redshift has no PREPARE TRANSACTION, COMMIT PREPARED or ROLLBACK PREPARED"
            ),
            "{status:?}"
        );
    }
}
