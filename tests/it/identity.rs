//! Each user's own Redshift identity: the identity map runs alice's
//! statements as one database user and bob's as another, the emulator runs
//! each as its PostgreSQL role, so Redshift's grants decide: bob cannot read
//! a table granted only to alice (PERMISSION_DENIED with Redshift's message)
//! nor use her ticket, prepared statement, transaction or reused result, and
//! a denied principal gets nothing. Rules match groups too, and what one
//! identity ran stays out of reach of the same principal mapped to another.

use arrow::array::AsArray as _;
use arrow_flight::sql::{
    ActionBeginTransactionRequest, ActionBeginTransactionResult,
    ActionCreatePreparedStatementRequest, ActionCreatePreparedStatementResult,
    CommandPreparedStatementQuery, CommandStatementQuery, ProstMessageExt as _,
};
use arrow_flight::{Action, FlightDescriptor};
use futures::TryStreamExt as _;
use prost::Message as _;
use redshift_flight_sql::auth::AuthMode;
use redshift_flight_sql::auth::tokens::token_hash;
use redshift_flight_sql::config::AuthConfig;
use tonic::Code;

use super::common::{StackOptions, fetch, stack_with, status_of, unique, users_file};

/// An identity map file of this TOML.
fn identity_map(toml: &str) -> std::path::PathBuf {
    let map = std::env::temp_dir().join(format!("{}.toml", unique("identity-map")));
    std::fs::write(&map, toml).expect("identity map");
    map
}

/// The one result of a DoAction, decoded from its `Any`.
async fn action<R: prost::Message + Default + arrow_flight::sql::ProstMessageExt>(
    client: &mut arrow_flight::FlightClient,
    r#type: &str,
    body: Vec<u8>,
) -> Result<R, tonic::Status> {
    let results: Vec<bytes::Bytes> = client
        .do_action(Action::new(r#type, body))
        .await
        .map_err(status_of)?
        .try_collect()
        .await
        .map_err(status_of)?;
    let any = arrow_flight::sql::Any::decode(results[0].clone()).expect("an Any");
    Ok(any.unpack::<R>().expect("unpack").expect("the result"))
}

#[tokio::test]
async fn each_principal_runs_as_its_own_database_user() {
    let (alice_db, bob_db, table) = (unique("alice"), unique("bob"), unique("t_alice"));
    let map = identity_map(&format!(
        "default = \"gateway\"\n\
         [[rule]]\nprincipal = \"alice\"\ndb_user = \"{alice_db}\"\n\
         [[rule]]\nprincipal = \"bob\"\ndb_user = \"{bob_db}\"\n\
         [[rule]]\nprincipal = \"mallory\"\ndeny = true\n"
    ));
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
        // Reuse on: bob running alice's SQL must still not get her result.
        reuse_seconds: 300,
        ..StackOptions::default()
    })
    .await;
    stack
        .as_superuser(&[
            format!("create role {alice_db}"),
            format!("create role {bob_db}"),
            format!("create table {table} (n int)"),
            format!("insert into {table} values (7)"),
            format!("grant select on {table} to {alice_db}"),
        ])
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
    assert_eq!(
        stack.db_user_of_last("alice").await.as_deref(),
        Some(alice_db.as_str())
    );

    // Bob's run of the same SQL is his own (not her reused result), and
    // Redshift refuses it.
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
    // Nor may he read alice's (cached) result through her ticket.
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let status = status_of(bob.do_get(ticket).await.expect_err("not his ticket"));
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");

    // Nor use her prepared statement or her transaction.
    let mut alice_raw = stack.raw_client_as("alice", "a").await;
    let prepared: ActionCreatePreparedStatementResult = action(
        &mut alice_raw,
        "CreatePreparedStatement",
        ActionCreatePreparedStatementRequest {
            query: sql.clone(),
            transaction_id: None,
        }
        .as_any()
        .encode_to_vec(),
    )
    .await
    .expect("alice prepares");
    let transaction: ActionBeginTransactionResult = action(
        &mut alice_raw,
        "BeginTransaction",
        ActionBeginTransactionRequest {}.as_any().encode_to_vec(),
    )
    .await
    .expect("alice begins");
    let mut bob_raw = stack.raw_client_as("bob", "b").await;
    let prepared_query = FlightDescriptor::new_cmd(
        CommandPreparedStatementQuery {
            prepared_statement_handle: prepared.prepared_statement_handle.clone(),
        }
        .as_any()
        .encode_to_vec(),
    );
    let in_her_transaction = FlightDescriptor::new_cmd(
        CommandStatementQuery {
            query: "select 1".to_owned(),
            transaction_id: Some(transaction.transaction_id.clone()),
        }
        .as_any()
        .encode_to_vec(),
    );
    for (descriptor, what) in [
        (prepared_query.clone(), "her prepared statement"),
        (in_her_transaction.clone(), "her transaction"),
    ] {
        let status = status_of(
            bob_raw
                .get_flight_info(descriptor)
                .await
                .expect_err("not his"),
        );
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
    }
    // They are hers: both work for her.
    alice_raw
        .get_flight_info(prepared_query)
        .await
        .expect("alice's prepared statement");
    alice_raw
        .get_flight_info(in_her_transaction)
        .await
        .expect("alice's transaction");

    // A denied principal is refused at Handshake already (`mallory:m`).
    let mut mallory = arrow_flight::FlightClient::new(stack.channel().await);
    mallory
        .add_header("authorization", "Basic bWFsbG9yeTpt")
        .expect("header");
    let status = status_of(
        mallory
            .handshake(bytes::Bytes::new())
            .await
            .expect_err("denied"),
    );
    assert_eq!(status.code(), Code::PermissionDenied);
    assert!(
        status.message().contains("denied by the identity map"),
        "{status:?}"
    );
}

#[tokio::test]
async fn groups_choose_the_identity_and_another_identity_cannot_use_what_one_ran() {
    let (finance_db, table) = (unique("finance"), unique("t_finance"));
    let (with_group, without) = (unique("tok"), unique("tok"));
    let tokens = std::env::temp_dir().join(format!("{}.tokens", unique("rsfs")));
    std::fs::write(
        &tokens,
        format!(
            "carol:{}:readers,finance\ncarol:{}:readers\n",
            token_hash(&with_group),
            token_hash(&without)
        ),
    )
    .expect("tokens");
    let map = identity_map(&format!(
        "[[rule]]\ngroup = \"finance\"\ndb_user = \"{finance_db}\"\n"
    ));
    let stack = stack_with(StackOptions {
        auth: Some(AuthConfig {
            modes: vec![AuthMode::Tokens],
            tokens_file: Some(tokens),
            identity_map: Some(map),
            ..AuthConfig::default()
        }),
        ..StackOptions::default()
    })
    .await;
    stack
        .as_superuser(&[
            format!("create role {finance_db}"),
            format!("create table {table} (n int)"),
            format!("insert into {table} values (1)"),
            format!("grant select on {table} to {finance_db}"),
        ])
        .await;
    let sql = format!("select n from {table}");

    // With the finance group, carol runs as the finance database user; the
    // gateway's own token from a Handshake keeps that identity.
    let mut finance = stack.client().await;
    finance
        .handshake("token", &with_group)
        .await
        .expect("handshake");
    let info = finance.execute(sql.clone(), None).await.expect("reads");
    assert_eq!(
        stack.db_user_of_last("carol").await.as_deref(),
        Some(finance_db.as_str()),
        "the group's rule and the gateway token's identity"
    );

    // Without it she runs as the gateway's identity: the same principal,
    // another identity, so the finance ticket is not hers to read.
    let mut plain = stack.client().await;
    plain.set_token(without.clone());
    plain
        .execute("select 1 as n".to_owned(), None)
        .await
        .expect("as the gateway");
    assert_eq!(
        stack.db_user_of_last("carol").await.as_deref(),
        Some("awsuser")
    );
    let ticket = info.endpoint[0].ticket.clone().expect("ticket");
    let status = status_of(
        plain
            .do_get(ticket.clone())
            .await
            .expect_err("other identity"),
    );
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let batches: Vec<_> = finance
        .do_get(ticket)
        .await
        .expect("the finance identity reads it")
        .try_collect()
        .await
        .expect("batches");
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 1);
}
