//! Static API tokens combined with Basic users (`--auth basic,tokens`): the
//! token works as a Bearer token on every call and as a Tableau-style
//! password, Basic users still work, and an unknown token is refused.

use arrow_flight::sql::client::FlightSqlServiceClient;
use redshift_flight_sql::auth::AuthMode;
use redshift_flight_sql::auth::tokens::token_hash;
use redshift_flight_sql::config::AuthConfig;
use tonic::Code;

use super::common::{StackOptions, stack_with, status_of, unique};

#[tokio::test]
async fn api_tokens_and_passwords_work_side_by_side() {
    let token = format!("rsfs-{}", unique("token"));
    let dir = std::env::temp_dir();
    let tokens = dir.join(format!("{}.tokens", unique("rsfs")));
    std::fs::write(&tokens, format!("ci-bot:{}:etl\n", token_hash(&token))).expect("tokens");
    let users = dir.join(format!("{}.users", unique("rsfs")));
    let hash = redshift_flight_sql::auth::hash_password("pw").expect("hash");
    std::fs::write(&users, format!("alice:{hash}\n")).expect("users");
    let stack = stack_with(StackOptions {
        auth: Some(AuthConfig {
            modes: vec![AuthMode::Basic, AuthMode::Tokens],
            users_file: Some(users),
            tokens_file: Some(tokens),
            ..AuthConfig::default()
        }),
        ..StackOptions::default()
    })
    .await;
    let mut bearer = FlightSqlServiceClient::new(stack.channel().await);
    bearer.set_token(token.clone());
    bearer
        .execute("select 1 as n".to_owned(), None)
        .await
        .expect("the API token as a bearer token");
    let mut tableau = FlightSqlServiceClient::new(stack.channel().await);
    tableau
        .handshake("token", &token)
        .await
        .expect("as a password");
    let mut alice = FlightSqlServiceClient::new(stack.channel().await);
    alice.handshake("alice", "pw").await.expect("a Basic user");
    alice
        .execute("select 1 as n".to_owned(), None)
        .await
        .expect("alice queries");
    assert!(
        !stack.statements_of("ci-bot").await.is_empty(),
        "the token's principal ran it"
    );

    let mut guess = FlightSqlServiceClient::new(stack.channel().await);
    guess.set_token("rsfs-guessed".to_owned());
    let status = status_of(
        guess
            .execute("select 1".to_owned(), None)
            .await
            .expect_err("unknown token"),
    );
    assert_eq!(status.code(), Code::Unauthenticated);
}
