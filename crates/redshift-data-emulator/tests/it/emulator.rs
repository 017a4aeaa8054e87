//! The Data API emulator through the real aws-sdk-redshiftdata client: every
//! operation and paginator, the statement lifecycle, value encodings, errors.

use aws_sdk_redshiftdata::Client;
use aws_sdk_redshiftdata::error::ProvideErrorMetadata as _;
use aws_sdk_redshiftdata::operation::describe_statement::DescribeStatementOutput;
use aws_sdk_redshiftdata::types::{
    ExecutionMode, Field, QueryRecords, ResultFormatString, SqlParameter, StatementStatusString,
    StatusString,
};
use redshift_data_emulator::EmulatorConfig;

use crate::fixture::{body_of, emulator, emulator_with, get_stats, raw_http, sdk_client, unique};

const CLUSTER: &str = "redshift-cluster-1";
const USER: &str = "awsuser";

fn param(name: &str, value: &str) -> SqlParameter {
    SqlParameter::builder()
        .name(name)
        .value(value)
        .build()
        .expect("parameter")
}

/// Long-polls DescribeStatement until the statement has ended.
async fn finish(client: &Client, id: &str) -> DescribeStatementOutput {
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
async fn run(client: &Client, sql: &str) -> DescribeStatementOutput {
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

/// Every record of a JSON result, through the SDK's paginator.
async fn records(client: &Client, id: &str) -> Vec<Vec<Field>> {
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

fn text(f: &Field) -> String {
    match f {
        Field::StringValue(s) => s.clone(),
        other => panic!("expected stringValue, got {other:?}"),
    }
}

#[tokio::test]
async fn every_type_is_encoded_as_the_data_api_does() {
    let emu = emulator().await;
    let c = &emu.client;
    let d = run(
        c,
        "select 1::int2 a, (-2147483648)::int4 b, 9223372036854775807::int8 c, 0.1::float4 d, \
         -1.5e300::float8 e, (-1234567890123456789012345678.0123456789)::numeric(38,10) f, \
         true g, 'x'::char(3) h, 'héllo ✓'::varchar(20) i, 'line\nbreak \"q\"'::text j, \
         '1969-07-20'::date k, '1900-01-01 00:00:00.000001'::timestamp l, \
         '2021-06-21 10:28:00+02'::timestamptz m, '23:59:59.5'::time n, '\\xdeadbeef'::bytea o, \
         '{\"a\": [1, 2]}'::json p, '2262-04-11 23:47:16'::timestamp q, 1.20::numeric(5,2) r",
    )
    .await;
    assert_eq!(d.status(), Some(&StatusString::Finished), "{:?}", d.error());
    assert_eq!(d.result_rows(), 1);
    assert_eq!(d.has_result_set(), Some(true));
    let id = d.id();
    let page = c
        .get_statement_result()
        .id(id)
        .send()
        .await
        .expect("result");
    assert_eq!(page.total_num_rows(), 1);
    let meta = page.column_metadata();
    let types: Vec<&str> = meta
        .iter()
        .map(|m| m.type_name().unwrap_or_default())
        .collect();
    assert_eq!(
        types,
        [
            "int2",
            "int4",
            "int8",
            "float4",
            "float8",
            "numeric",
            "bool",
            "bpchar",
            "varchar",
            "text",
            "date",
            "timestamp",
            "timestamptz",
            "time",
            "bytea",
            "json",
            "timestamp",
            "numeric"
        ]
    );
    assert_eq!((meta[5].precision(), meta[5].scale()), (38, 10));
    assert_eq!(meta[8].length(), 20);
    assert!(meta[0].is_signed() && !meta[8].is_signed() && meta[8].is_case_sensitive());
    let row = &page.records()[0];
    assert_eq!(row[0], Field::LongValue(1));
    assert_eq!(row[1], Field::LongValue(-2_147_483_648));
    assert_eq!(row[2], Field::LongValue(i64::MAX));
    assert_eq!(row[3], Field::DoubleValue(0.1));
    assert_eq!(row[4], Field::DoubleValue(-1.5e300));
    assert_eq!(text(&row[5]), "-1234567890123456789012345678.0123456789");
    assert_eq!(row[6], Field::BooleanValue(true));
    assert_eq!(text(&row[7]), "x  ");
    assert_eq!(text(&row[8]), "héllo ✓");
    assert_eq!(text(&row[9]), "line\nbreak \"q\"");
    assert_eq!(text(&row[10]), "1969-07-20");
    assert_eq!(text(&row[11]), "1900-01-01 00:00:00.000001");
    assert_eq!(text(&row[12]), "2021-06-21 08:28:00+00");
    assert_eq!(text(&row[13]), "23:59:59.5");
    match &row[14] {
        Field::BlobValue(b) => assert_eq!(b.as_ref(), [0xde, 0xad, 0xbe, 0xef]),
        other => panic!("bytea: {other:?}"),
    }
    assert_eq!(text(&row[15]), "{\"a\": [1, 2]}");
    assert_eq!(text(&row[16]), "2262-04-11 23:47:16.0");
    assert_eq!(text(&row[17]), "1.20");
}

#[tokio::test]
async fn nulls_of_every_type_are_is_null() {
    let emu = emulator().await;
    let types = [
        "int2",
        "int4",
        "int8",
        "float4",
        "float8",
        "numeric(38,10)",
        "bool",
        "char(2)",
        "varchar(5)",
        "text",
        "date",
        "timestamp",
        "timestamptz",
        "time",
        "bytea",
        "json",
    ];
    let sql = format!(
        "select {}",
        types
            .iter()
            .enumerate()
            .map(|(i, t)| format!("null::{t} c{i}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let d = run(&emu.client, &sql).await;
    let rows = records(&emu.client, d.id()).await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].len(), types.len());
    for f in &rows[0] {
        assert_eq!(f, &Field::IsNull(true));
    }
}

#[tokio::test]
async fn large_results_page_through_next_token() {
    let config = EmulatorConfig {
        page_bytes: 64 * 1024,
        ..EmulatorConfig::default()
    };
    let emu = emulator_with(config).await;
    let d = run(
        &emu.client,
        "select g, repeat('x', g % 50) s from generate_series(1, 20000) g",
    )
    .await;
    assert_eq!(d.result_rows(), 20_000);
    assert!(d.result_size() > 64 * 1024);
    let pages: Vec<_> = emu
        .client
        .get_statement_result()
        .id(d.id())
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert!(pages.len() > 5, "only {} pages", pages.len());
    let mut sum = 0i64;
    let mut count = 0;
    for page in pages {
        let page = page.expect("page");
        assert_eq!(page.total_num_rows(), 20_000);
        for r in page.records() {
            let Field::LongValue(g) = r[0] else {
                panic!("{r:?}")
            };
            assert_eq!(text(&r[1]).len(), usize::try_from(g % 50).expect("len"));
            sum += g;
            count += 1;
        }
    }
    assert_eq!(count, 20_000);
    assert_eq!(sum, 20_000 * 20_001 / 2);
}

#[tokio::test]
async fn csv_results_come_from_get_statement_result_v2() {
    let emu = emulator().await;
    let c = &emu.client;
    let out = c
        .execute_statement()
        .workgroup_name("default-wg")
        .database("dev")
        .result_format(ResultFormatString::Csv)
        .sql("select g, case when g = 2 then null else 'a,\"b\"' end s, ''::text e, true b from generate_series(1, 3) g")
        .send()
        .await
        .expect("execute");
    let id = out.id().expect("id");
    let d = finish(c, id).await;
    assert_eq!(d.result_format(), Some(&ResultFormatString::Csv));
    let pages: Vec<_> = c
        .get_statement_result_v2()
        .id(id)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    let mut csv = String::new();
    for p in pages {
        let p = p.expect("page");
        assert_eq!(p.result_format(), Some(&ResultFormatString::Csv));
        for r in p.records() {
            let QueryRecords::CsvRecords(text) = r else {
                panic!("{r:?}")
            };
            csv.push_str(text);
        }
    }
    assert_eq!(
        csv,
        "1,\"a,\"\"b\"\"\",\"\",t\n2,,\"\",t\n3,\"a,\"\"b\"\"\",\"\",t\n"
    );
    // The JSON operation refuses a CSV statement, and the reverse.
    let err = c
        .get_statement_result()
        .id(id)
        .send()
        .await
        .expect_err("v1 on csv");
    assert_eq!(err.code(), Some("ValidationException"));
    let json = run(c, "select 1").await;
    let err = c
        .get_statement_result_v2()
        .id(json.id())
        .send()
        .await
        .expect_err("v2 on json");
    assert_eq!(err.code(), Some("ValidationException"));
}

#[tokio::test]
async fn named_parameters_skip_literals_casts_and_comments() {
    let emu = emulator().await;
    let c = &emu.client;
    let out = c
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .sql("select :n::int + 1 a, ':n' b, \":n\" c, :s d, :n e /* :zz */ -- :yy\n from (select 1 \":n\") t")
        .parameters(param("n", "41"))
        .parameters(param("s", "it's"))
        .send()
        .await
        .expect("execute");
    let d = finish(c, out.id().expect("id")).await;
    assert_eq!(d.status(), Some(&StatusString::Finished), "{:?}", d.error());
    assert_eq!(d.query_parameters().len(), 2);
    let rows = records(c, d.id()).await;
    assert_eq!(rows[0][0], Field::LongValue(42));
    assert_eq!(text(&rows[0][1]), ":n");
    assert_eq!(rows[0][2], Field::LongValue(1));
    assert_eq!(text(&rows[0][3]), "it's");
    // The same name is the same parameter: its type was inferred from `::int`.
    assert_eq!(rows[0][4], Field::LongValue(41));

    for (sql, params, why) in [
        ("select :a, :b", vec![param("a", "1")], "missing"),
        (
            "select :a",
            vec![param("a", "1"), param("b", "2")],
            "unused",
        ),
        ("select ':a'", vec![param("a", "1")], "only in a literal"),
    ] {
        let err = c
            .execute_statement()
            .cluster_identifier(CLUSTER)
            .db_user(USER)
            .sql(sql)
            .set_parameters(Some(params))
            .send()
            .await
            .expect_err(why);
        assert_eq!(err.code(), Some("ValidationException"), "{why}");
    }
    // An empty value is refused (by the SDK's own validation or by the service).
    let empty = c
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .sql("select :a")
        .parameters(
            SqlParameter::builder()
                .name("a")
                .value("")
                .build()
                .expect("p"),
        )
        .send()
        .await;
    assert!(empty.is_err());
}

#[tokio::test]
async fn lifecycle_cancel_of_a_running_query() {
    let emu = emulator().await;
    let c = &emu.client;
    let out = c
        .execute_statement()
        .workgroup_name("default-wg")
        .sql("select pg_sleep(30)")
        .statement_name(unique("sleeper"))
        .send()
        .await
        .expect("execute");
    let id = out.id().expect("id").to_owned();
    assert_eq!(id, id.to_lowercase());
    assert!(uuid::Uuid::parse_str(&id).is_ok());
    // Wait until it is really running on PostgreSQL.
    let mut started = false;
    for _ in 0..200 {
        let d = c
            .describe_statement()
            .id(&id)
            .send()
            .await
            .expect("describe");
        if d.status() == Some(&StatusString::Started) {
            assert!(d.redshift_pid() > 0);
            let rows = run(c, &format!("select count(*) from pg_stat_activity where pid = {} and query like '%pg_sleep%'", d.redshift_pid())).await;
            if records(c, rows.id()).await[0][0] == Field::LongValue(1) {
                started = true;
                break;
            }
        }
    }
    assert!(started, "the sleep never started");
    let cancel = c.cancel_statement().id(&id).send().await.expect("cancel");
    assert_eq!(cancel.status(), Some(true));
    let d = finish(c, &id).await;
    assert_eq!(d.status(), Some(&StatusString::Aborted));
    assert!(d.duration() > 0);
    // Cancelling an ended statement fails as the service does.
    let err = c
        .cancel_statement()
        .id(&id)
        .send()
        .await
        .expect_err("second cancel");
    assert_eq!(err.code(), Some("ValidationException"));
    // Its result does not exist.
    let err = c
        .get_statement_result()
        .id(&id)
        .send()
        .await
        .expect_err("result");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn failed_statements_carry_the_postgres_message() {
    let emu = emulator().await;
    let d = run(&emu.client, "select * from no_such_table").await;
    assert_eq!(d.status(), Some(&StatusString::Failed));
    assert_eq!(
        d.error(),
        Some("ERROR: relation \"no_such_table\" does not exist")
    );
    assert_eq!(d.result_rows(), -1);
}

#[tokio::test]
async fn batches_in_transaction_and_auto_commit_modes() {
    let emu = emulator().await;
    let c = &emu.client;
    let t = unique("batch");
    run(c, &format!("create table {t} (a int primary key)")).await;
    let failing = |mode: ExecutionMode| {
        c.batch_execute_statement()
            .cluster_identifier(CLUSTER)
            .db_user(USER)
            .sqls(format!("insert into {t} values (1)"))
            .sqls(format!("insert into {t} values (1)"))
            .sqls(format!("insert into {t} values (3)"))
            .execution_mode(mode)
            .send()
    };
    let b = failing(ExecutionMode::Transaction).await.expect("batch");
    let d = finish(c, b.id().expect("id")).await;
    assert_eq!(d.status(), Some(&StatusString::Failed));
    let subs = d.sub_statements();
    assert_eq!(subs.len(), 3);
    assert_eq!(subs[0].id(), format!("{}:1", d.id()));
    assert_eq!(subs[1].status(), Some(&StatementStatusString::Failed));
    assert!(
        subs[1]
            .error()
            .unwrap_or_default()
            .contains("duplicate key")
    );
    let count = run(c, &format!("select count(*) from {t}")).await;
    assert_eq!(
        records(c, count.id()).await[0][0],
        Field::LongValue(0),
        "all or nothing"
    );

    let b = failing(ExecutionMode::AutoCommit).await.expect("batch");
    let d = finish(c, b.id().expect("id")).await;
    assert_eq!(d.status(), Some(&StatusString::Failed));
    assert_eq!(
        d.sub_statements()[2].status(),
        Some(&StatementStatusString::Finished)
    );
    let count = run(c, &format!("select count(*) from {t}")).await;
    assert_eq!(
        records(c, count.id()).await[0][0],
        Field::LongValue(2),
        "each statement commits on its own; the failure does not stop the third"
    );

    // A successful batch: a result per sub-statement, Describe of a sub-statement.
    let b = c
        .batch_execute_statement()
        .workgroup_name("default-wg")
        .sqls(format!("insert into {t} values (10), (11)"))
        .sqls(format!("select a from {t} order by a"))
        .send()
        .await
        .expect("batch");
    let id = b.id().expect("id");
    let d = finish(c, id).await;
    assert_eq!(d.status(), Some(&StatusString::Finished));
    assert_eq!(d.sub_statements()[0].result_rows(), 2);
    assert!(!d.sub_statements()[0].has_result_set().unwrap_or(true));
    let rows = records(c, &format!("{id}:2")).await;
    assert_eq!(rows.len(), 4);
    let sub = c
        .describe_statement()
        .id(format!("{id}:2"))
        .send()
        .await
        .expect("sub");
    assert_eq!(sub.id(), format!("{id}:2"));
    assert_eq!(sub.result_rows(), 4);
    let err = c
        .get_statement_result()
        .id(id)
        .send()
        .await
        .expect_err("batch parent");
    assert_eq!(err.code(), Some("ValidationException"));
}

#[tokio::test]
async fn sessions_span_calls_and_run_one_statement_at_a_time() {
    let emu = emulator().await;
    let c = &emu.client;
    let t = unique("sess");
    run(c, &format!("create table {t} (a int)")).await;
    let begin = c
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .database("dev")
        .sql("begin")
        .session_keep_alive_seconds(60)
        .send()
        .await
        .expect("begin");
    let session = begin.session_id().expect("session id").to_owned();
    finish(c, begin.id().expect("id")).await;
    let in_session = |sql: String| c.execute_statement().session_id(&session).sql(sql).send();
    let ins = in_session(format!("insert into {t} values (7)"))
        .await
        .expect("insert");
    assert_eq!(ins.session_id(), Some(session.as_str()));
    finish(c, ins.id().expect("id")).await;
    // Not visible outside the open transaction.
    let outside = run(c, &format!("select count(*) from {t}")).await;
    assert_eq!(records(c, outside.id()).await[0][0], Field::LongValue(0));
    // A busy session refuses a second statement.
    let sleep = in_session("select pg_sleep(2)".into())
        .await
        .expect("sleep");
    let busy = in_session("select 1".into()).await.expect_err("busy");
    assert_eq!(busy.code(), Some("ValidationException"));
    let listed = c.list_sessions().send().await.expect("list sessions");
    let mine = listed
        .sessions()
        .iter()
        .find(|s| s.session_id() == session)
        .expect("listed");
    assert_eq!(mine.status().as_str(), "BUSY");
    assert_eq!(mine.current_statement_id(), sleep.id());
    finish(c, sleep.id().expect("id")).await;
    let commit = in_session("commit".into()).await.expect("commit");
    finish(c, commit.id().expect("id")).await;
    let after = run(c, &format!("select count(*) from {t}")).await;
    assert_eq!(records(c, after.id()).await[0][0], Field::LongValue(1));
    // Identity with a SessionId is refused; an unknown session is not found.
    let err = c
        .execute_statement()
        .session_id(&session)
        .cluster_identifier(CLUSTER)
        .sql("select 1")
        .send()
        .await
        .expect_err("identity with session");
    assert_eq!(err.code(), Some("ValidationException"));
    let err = c
        .execute_statement()
        .session_id(uuid::Uuid::new_v4().to_string())
        .sql("select 1")
        .send()
        .await
        .expect_err("unknown session");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn idle_sessions_expire() {
    let emu = emulator().await;
    let c = &emu.client;
    let s = c
        .execute_statement()
        .workgroup_name("default-wg")
        .sql("select 1")
        .session_keep_alive_seconds(1)
        .send()
        .await
        .expect("execute");
    let session = s.session_id().expect("session").to_owned();
    finish(c, s.id().expect("id")).await;
    // Long-poll a statement that outlives the keep-alive, then check the session closed.
    run(c, "select pg_sleep(2.5)").await;
    let listed = c
        .list_sessions()
        .session_id(&session)
        .send()
        .await
        .expect("list");
    assert_eq!(listed.sessions()[0].status().as_str(), "CLOSED");
    let err = c
        .execute_statement()
        .session_id(&session)
        .sql("select 1")
        .send()
        .await
        .expect_err("closed");
    assert_eq!(err.code(), Some("ValidationException"));
}

#[tokio::test]
async fn client_token_makes_execute_idempotent() {
    let emu = emulator().await;
    let c = &emu.client;
    let token = unique("tok");
    let send = || {
        c.execute_statement()
            .cluster_identifier(CLUSTER)
            .db_user(USER)
            .client_token(&token)
            .sql("select 1")
            .send()
    };
    let a = send().await.expect("first");
    let b = send().await.expect("retry");
    assert_eq!(a.id(), b.id());
    let other = c
        .execute_statement()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .client_token(unique("tok"))
        .sql("select 1")
        .send()
        .await
        .expect("other");
    assert_ne!(a.id(), other.id());
}

#[tokio::test]
async fn list_statements_filters_and_paginates() {
    let emu = emulator().await;
    let c = &emu.client;
    let prefix = unique("named");
    for i in 0..5 {
        let out = c
            .execute_statement()
            .cluster_identifier(CLUSTER)
            .db_user(USER)
            .statement_name(format!("{prefix}_{i}"))
            .sql(format!("select {i}"))
            .send()
            .await
            .expect("execute");
        finish(c, out.id().expect("id")).await;
    }
    run(c, "select 'unnamed'").await;
    let pages: Vec<_> = c
        .list_statements()
        .statement_name(&prefix)
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 3);
    let mut names = Vec::new();
    for p in pages {
        for s in p.expect("page").statements() {
            assert_eq!(s.status(), Some(&StatusString::Finished));
            names.push(s.statement_name().unwrap_or_default().to_owned());
        }
    }
    let expected: Vec<String> = (0..5).rev().map(|i| format!("{prefix}_{i}")).collect();
    assert_eq!(names, expected, "most recent first");
    let failed = c
        .list_statements()
        .statement_name(&prefix)
        .status(StatusString::Failed)
        .send()
        .await
        .expect("list");
    assert!(failed.statements().is_empty());
}

#[tokio::test]
async fn catalog_operations_read_postgres_catalogs() {
    let emu = emulator().await;
    let c = &emu.client;
    let schema = unique("sch");
    run(c, &format!("create schema {schema}")).await;
    run(c, &format!("create table {schema}.orders (id int8 not null primary key, amount numeric(12,2) default 0, note varchar(40))")).await;
    run(
        c,
        &format!(
            "create view {schema}.big_orders as select * from {schema}.orders where amount > 100"
        ),
    )
    .await;

    let dbs: Vec<String> = c
        .list_databases()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .database("dev")
        .max_results(1)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .expect("databases");
    assert!(dbs.contains(&"dev".to_owned()) && dbs.contains(&"postgres".to_owned()));

    let schemas = c
        .list_schemas()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .database("dev")
        .schema_pattern(format!("{}%", &schema[..schema.len() - 3]))
        .send()
        .await
        .expect("schemas");
    assert_eq!(schemas.schemas(), std::slice::from_ref(&schema));

    let tables = c
        .list_tables()
        .workgroup_name("default-wg")
        .database("dev")
        .schema_pattern(&schema)
        .table_pattern("%order%")
        .send()
        .await
        .expect("tables");
    let listed: Vec<(String, String)> = tables
        .tables()
        .iter()
        .map(|t| {
            (
                t.name().unwrap_or_default().to_owned(),
                t.r#type().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            ("big_orders".to_owned(), "VIEW".to_owned()),
            ("orders".to_owned(), "TABLE".to_owned())
        ]
    );
    let system = c
        .list_tables()
        .workgroup_name("default-wg")
        .database("dev")
        .schema_pattern("pg_catalog")
        .table_pattern("pg_class")
        .send()
        .await
        .expect("system");
    assert_eq!(system.tables()[0].r#type(), Some("SYSTEM TABLE"));

    let pages: Vec<_> = c
        .describe_table()
        .cluster_identifier(CLUSTER)
        .db_user(USER)
        .database("dev")
        .schema(&schema)
        .table("orders")
        .max_results(2)
        .into_paginator()
        .send()
        .collect::<Vec<_>>()
        .await;
    assert_eq!(pages.len(), 2);
    let columns: Vec<_> = pages
        .into_iter()
        .flat_map(|p| p.expect("page").column_list().to_vec())
        .collect();
    let summary: Vec<(String, String, i32, i32, i32)> = columns
        .iter()
        .map(|m| {
            (
                m.name().unwrap_or_default().to_owned(),
                m.type_name().unwrap_or_default().to_owned(),
                m.precision(),
                m.scale(),
                m.nullable(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("id".to_owned(), "int8".to_owned(), 19, 0, 0),
            ("amount".to_owned(), "numeric".to_owned(), 12, 2, 1),
            ("note".to_owned(), "varchar".to_owned(), 40, 0, 1),
        ]
    );
    assert_eq!(columns[1].column_default(), Some("0"));
    assert_eq!(columns[0].table_name(), Some("orders"));

    // Result metadata names the table and knows NOT NULL.
    let d = run(c, &format!("select id, note, 1 x from {schema}.orders")).await;
    let page = c
        .get_statement_result()
        .id(d.id())
        .send()
        .await
        .expect("result");
    let meta = page.column_metadata();
    assert_eq!(meta[0].table_name(), Some("orders"));
    assert_eq!(meta[0].schema_name(), Some(schema.as_str()));
    assert_eq!(
        (meta[0].nullable(), meta[1].nullable(), meta[2].nullable()),
        (0, 1, 1)
    );
}

#[tokio::test]
async fn identity_and_input_errors_are_validation_exceptions() {
    let emu = emulator().await;
    let c = &emu.client;
    let cases = [
        c.execute_statement().sql("select 1").send().await,
        c.execute_statement()
            .cluster_identifier(CLUSTER)
            .workgroup_name("default-wg")
            .sql("select 1")
            .send()
            .await,
        c.execute_statement()
            .cluster_identifier(CLUSTER)
            .db_user(USER)
            .secret_arn("arn:aws:secretsmanager:us-east-1:1:secret:x")
            .sql("select 1")
            .send()
            .await,
        c.execute_statement()
            .workgroup_name("default-wg")
            .db_user(USER)
            .sql("select 1")
            .send()
            .await,
        c.execute_statement()
            .cluster_identifier(CLUSTER)
            .sql("x".repeat(100 * 1024 + 1))
            .send()
            .await,
    ];
    for (i, r) in cases.into_iter().enumerate() {
        let err = r.expect_err("refused");
        assert_eq!(err.code(), Some("ValidationException"), "case {i}: {err:?}");
        assert!(!err.message().unwrap_or_default().is_empty());
    }
    // Secret-based identities are accepted for both targets.
    for out in [
        c.execute_statement()
            .cluster_identifier(CLUSTER)
            .secret_arn("arn:aws:secretsmanager:us-east-1:1:secret:x")
            .sql("select 1")
            .send()
            .await,
        c.execute_statement()
            .workgroup_name("default-wg")
            .secret_arn("arn:aws:secretsmanager:us-east-1:1:secret:x")
            .sql("select 1")
            .send()
            .await,
    ] {
        out.expect("accepted");
    }
    let unknown = uuid::Uuid::new_v4().to_string();
    let err = c
        .describe_statement()
        .id(&unknown)
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let err = c
        .describe_statement()
        .id(unknown.to_uppercase())
        .send()
        .await
        .expect_err("upper");
    assert_eq!(
        err.code(),
        Some("ValidationException"),
        "the Id pattern is lower-case"
    );
    let err = c
        .get_statement_result()
        .id(&unknown)
        .send()
        .await
        .expect_err("unknown");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
    let d = run(c, "create temporary table t_no_result (a int)").await;
    let err = c
        .get_statement_result()
        .id(d.id())
        .send()
        .await
        .expect_err("no result");
    assert_eq!(err.code(), Some("ResourceNotFoundException"));
}

#[tokio::test]
async fn active_statement_limit() {
    let config = EmulatorConfig {
        max_active_statements: 1,
        ..EmulatorConfig::default()
    };
    let emu = emulator_with(config).await;
    let c = &emu.client;
    let first = c
        .execute_statement()
        .workgroup_name("default-wg")
        .sql("select pg_sleep(2)")
        .send()
        .await
        .expect("first");
    let err = c
        .execute_statement()
        .workgroup_name("default-wg")
        .sql("select 1")
        .send()
        .await
        .expect_err("second");
    assert_eq!(err.code(), Some("ActiveStatementsExceededException"));
    finish(c, first.id().expect("id")).await;
    c.execute_statement()
        .workgroup_name("default-wg")
        .sql("select 1")
        .send()
        .await
        .expect("after");
}

#[tokio::test]
async fn injected_faults_have_the_service_error_shapes() {
    let throttled = emulator_with(EmulatorConfig {
        throttle_probability: 1.0,
        ..EmulatorConfig::default()
    })
    .await;
    let c = sdk_client(&throttled.url, false);
    let err = c.list_statements().send().await.expect_err("throttled");
    assert_eq!(err.code(), Some("ThrottlingException"));
    assert_eq!(err.message(), Some("Rate exceeded"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(400));

    let failing = emulator_with(EmulatorConfig {
        error_probability: 1.0,
        ..EmulatorConfig::default()
    })
    .await;
    let c = sdk_client(&failing.url, false);
    let err = c.list_statements().send().await.expect_err("fault");
    assert_eq!(err.code(), Some("InternalServerException"));
    assert_eq!(err.raw_response().map(|r| r.status().as_u16()), Some(500));
}

async fn raw_post(url: &str, target: Option<&str>, body: &str) -> (u16, String, String) {
    let target = target
        .map(|t| format!("X-Amz-Target: {t}\r\n"))
        .unwrap_or_default();
    let headers = format!("Content-Type: application/x-amz-json-1.1\r\n{target}");
    let response = raw_http(url, "POST /", &headers, body).await;
    let status: u16 = response[9..12].parse().expect("status");
    let error_type = response
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("x-amzn-errortype: ")
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (status, error_type, body_of(&response).to_owned())
}

#[tokio::test]
async fn malformed_requests_are_clean_400s() {
    let emu = emulator().await;
    let (status, kind, body) =
        raw_post(&emu.url, Some("RedshiftData.ExecuteStatement"), "{not json").await;
    assert_eq!((status, kind.as_str()), (400, "serializationexception"));
    let body: serde_json::Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(body["__type"], "SerializationException");
    assert!(body["Message"].as_str().is_some_and(|m| !m.is_empty()));

    let (status, kind, _) = raw_post(&emu.url, Some("RedshiftData.DropEverything"), "{}").await;
    assert_eq!((status, kind.as_str()), (400, "unknownoperationexception"));
    let (status, _, _) = raw_post(&emu.url, None, "{}").await;
    assert_eq!(status, 400);
    let (status, kind, body) = raw_post(
        &emu.url,
        Some("RedshiftData.DescribeStatement"),
        "{\"Id\": \"not-a-uuid\"}",
    )
    .await;
    assert_eq!((status, kind.as_str()), (400, "validationexception"));
    assert!(body.contains("\"Message\""));
    let (status, kind, body) = raw_post(
        &emu.url,
        Some("RedshiftData.DescribeStatement"),
        &format!("{{\"Id\": \"{}\"}}", uuid::Uuid::new_v4()),
    )
    .await;
    assert_eq!((status, kind.as_str()), (400, "resourcenotfoundexception"));
    assert!(body.contains("\"ResourceId\""));
    // The emulator still serves after all that.
    run(&emu.client, "select 1").await;
}

#[tokio::test]
async fn stats_count_calls_per_operation() {
    let emu = emulator().await;
    let before: serde_json::Value = get_stats(&emu.url).await;
    run(&emu.client, "select 1").await;
    let after: serde_json::Value = get_stats(&emu.url).await;
    let count = |v: &serde_json::Value, op: &str| v[op].as_u64().unwrap_or(0);
    assert_eq!(
        count(&after, "ExecuteStatement") - count(&before, "ExecuteStatement"),
        1
    );
    assert!(count(&after, "DescribeStatement") > count(&before, "DescribeStatement"));
}

#[tokio::test]
async fn wait_time_seconds_long_polls() {
    let emu = emulator().await;
    let c = &emu.client;
    let out = c
        .execute_statement()
        .workgroup_name("default-wg")
        .sql("select pg_sleep(0.3), 5 x")
        .wait_time_seconds(10)
        .send()
        .await
        .expect("execute");
    // Execute waited for the end, so the statement is already finished.
    assert_eq!(out.status(), Some(&StatementStatusString::Finished));
    let page = c
        .get_statement_result()
        .id(out.id().expect("id"))
        .wait_time_seconds(5)
        .send()
        .await
        .expect("result");
    assert_eq!(page.records()[0][1], Field::LongValue(5));
    let err = c
        .describe_statement()
        .id(out.id().expect("id"))
        .wait_time_seconds(31)
        .send()
        .await
        .expect_err("31 s");
    assert_eq!(err.code(), Some("ValidationException"));
}

#[tokio::test]
async fn unconstrained_numeric_reports_the_scale_of_its_values() {
    let emu = emulator().await;
    let d = run(
        &emu.client,
        "select sum(x) s, 1 / 3.0 q, 'NaN'::numeric nan from (values (1.25::numeric(8,2)), (2.5)) t(x)",
    )
    .await;
    let page = emu
        .client
        .get_statement_result()
        .id(d.id())
        .send()
        .await
        .expect("result");
    let meta = page.column_metadata();
    assert_eq!(
        (meta[0].precision(), meta[0].scale()),
        (38, 2),
        "like Redshift's sum(numeric(8,2))"
    );
    assert_eq!((meta[1].precision(), meta[1].scale()), (38, 20));
    assert_eq!(
        (meta[2].precision(), meta[2].scale()),
        (0, 0),
        "NaN fits no decimal"
    );
    assert_eq!(text(&page.records()[0][0]), "3.75");
}
