//! Each user's own Redshift identity: the identity map runs alice's
//! statements as one database user and bob's as another, the emulator runs
//! each as its PostgreSQL role, so Redshift's grants decide: bob cannot read
//! a table granted only to alice (PERMISSION_DENIED with Redshift's message)
//! nor use her ticket, and a denied principal runs nothing.

use arrow::array::AsArray as _;
use aws_sdk_redshiftdata::types::StatusString;
use redshift_flight_sql::auth::AuthMode;
use redshift_flight_sql::config::AuthConfig;
use tonic::Code;

use super::common::{Stack, StackOptions, fetch, stack_with, status_of, unique, users_file};

/// Runs `sqls` in one transaction through the Data API as the superuser
/// (no DbUser), waiting for the end.
async fn as_superuser(stack: &Stack, sqls: &[String]) {
    let client = &stack.emulator.client;
    let id = client
        .batch_execute_statement()
        .cluster_identifier("test-cluster")
        .database("dev")
        .set_sqls(Some(sqls.to_vec()))
        .send()
        .await
        .expect("batch")
        .id()
        .expect("an Id")
        .to_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let d = client
            .describe_statement()
            .id(&id)
            .wait_time_seconds(5)
            .send()
            .await
            .expect("describe");
        match d.status() {
            Some(StatusString::Finished) => return,
            Some(StatusString::Failed | StatusString::Aborted) => {
                panic!("setup failed: {:?}", d.error())
            }
            _ => assert!(std::time::Instant::now() < deadline, "setup never ended"),
        }
    }
}

#[tokio::test]
async fn each_principal_runs_as_its_own_database_user() {
    let (alice_db, bob_db, table) = (unique("alice"), unique("bob"), unique("t_alice"));
    let map = std::env::temp_dir().join(format!("{}.toml", unique("identity-map")));
    std::fs::write(
        &map,
        format!(
            "default = \"gateway\"\n\
             [[rule]]\nprincipal = \"alice\"\ndb_user = \"{alice_db}\"\n\
             [[rule]]\nprincipal = \"bob\"\ndb_user = \"{bob_db}\"\n\
             [[rule]]\nprincipal = \"mallory\"\ndeny = true\n"
        ),
    )
    .expect("identity map");
    let stack = stack_with(StackOptions {
        auth: Some(AuthConfig {
            modes: vec![AuthMode::Basic],
            users_file: Some(users_file(&[
                ("alice", "a"),
                ("bob", "b"),
                ("mallory", "m"),
            ])),
            identity_map: Some(map),
            ..AuthConfig::default()
        }),
        ..StackOptions::default()
    })
    .await;
    as_superuser(
        &stack,
        &[
            format!("create role {alice_db}"),
            format!("create role {bob_db}"),
            format!("create table {table} (n int)"),
            format!("insert into {table} values (7)"),
            format!("grant select on {table} to {alice_db}"),
        ],
    )
    .await;

    let client_as = |user: &'static str, password: &'static str| {
        let stack = &stack;
        async move {
            let mut client = stack.client().await;
            client.handshake(user, password).await.expect("handshake");
            client
        }
    };
    let sql = format!("select n from {table}");
    let mut alice = client_as("alice", "a").await;
    let info = alice.execute(sql.clone(), None).await.expect("alice reads");
    let batches = fetch(&mut alice, &info).await;
    let n = batches[0]
        .column(0)
        .as_primitive::<arrow::datatypes::Int32Type>()
        .value(0);
    assert_eq!(n, 7);
    // Her statement ran as her database user.
    let id = stack.statements_of("alice").await[0].id().to_owned();
    let described = stack
        .emulator
        .client
        .describe_statement()
        .id(id)
        .send()
        .await
        .expect("describe");
    assert_eq!(described.db_user(), Some(alice_db.as_str()));

    let mut bob = client_as("bob", "b").await;
    let status = status_of(
        bob.execute(sql.clone(), None)
            .await
            .expect_err("bob may not"),
    );
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    assert!(
        status.message().contains("permission denied for table"),
        "Redshift's own message: {status:?}"
    );
    // Nor may he read alice's result through her ticket.
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let status = status_of(bob.do_get(ticket).await.expect_err("not his ticket"));
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    let mut mallory = client_as("mallory", "m").await;
    let status = status_of(
        mallory
            .execute("select 1".to_owned(), None)
            .await
            .expect_err("denied"),
    );
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("denied by the identity map"),
        "{status:?}"
    );
}
