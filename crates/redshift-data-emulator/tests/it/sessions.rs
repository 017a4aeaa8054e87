//! Sessions: SessionKeepAliveSeconds, one statement at a time, expiry, ListSessions.

use aws_sdk_redshiftdata::types::Field;

use crate::fixture::{emulator, unique};
use crate::sdk::{CLUSTER, USER, assert_error, finish, records, run};

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
    assert_error(
        in_session("select 1".into()).await,
        "ValidationException",
        "busy",
    );
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
    assert_error(
        c.execute_statement()
            .session_id(&session)
            .cluster_identifier(CLUSTER)
            .sql("select 1")
            .send()
            .await,
        "ValidationException",
        "identity with session",
    );
    assert_error(
        c.execute_statement()
            .session_id(uuid::Uuid::new_v4().to_string())
            .sql("select 1")
            .send()
            .await,
        "ResourceNotFoundException",
        "unknown session",
    );
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
    assert_error(
        c.execute_statement()
            .session_id(&session)
            .sql("select 1")
            .send()
            .await,
        "ValidationException",
        "closed",
    );
}
