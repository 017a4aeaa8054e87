//! The statement lifecycle: ExecuteStatement with parameters and ClientToken,
//! BatchExecuteStatement, CancelStatement, DescribeStatement long-polls,
//! ListStatements, the active-statement limit.

use aws_sdk_redshiftdata::types::{
    ExecutionMode, Field, SqlParameter, StatementStatusString, StatusString,
};
use redshift_data_emulator::EmulatorConfig;

use crate::fixture::{emulator, emulator_with, unique};
use crate::sdk::{CLUSTER, USER, assert_error, finish, param, records, run, text};

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
        assert_error(
            c.execute_statement()
                .cluster_identifier(CLUSTER)
                .db_user(USER)
                .sql(sql)
                .set_parameters(Some(params))
                .send()
                .await,
            "ValidationException",
            why,
        );
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
    assert_error(
        c.cancel_statement().id(&id).send().await,
        "ValidationException",
        "second cancel",
    );
    // Its result does not exist.
    assert_error(
        c.get_statement_result().id(&id).send().await,
        "ResourceNotFoundException",
        "result",
    );
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
    assert_error(
        c.get_statement_result().id(id).send().await,
        "ValidationException",
        "batch parent",
    );
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
    assert_error(
        c.describe_statement()
            .id(out.id().expect("id"))
            .wait_time_seconds(31)
            .send()
            .await,
        "ValidationException",
        "31 s",
    );
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
    assert_error(
        c.execute_statement()
            .workgroup_name("default-wg")
            .sql("select 1")
            .send()
            .await,
        "ActiveStatementsExceededException",
        "second",
    );
    finish(c, first.id().expect("id")).await;
    c.execute_statement()
        .workgroup_name("default-wg")
        .sql("select 1")
        .send()
        .await
        .expect("after");
}
