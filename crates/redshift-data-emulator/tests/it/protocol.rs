//! The wire protocol: validation errors, injected faults, malformed requests,
//! unknown operations, and the `/stats` counters.

use aws_sdk_redshiftdata::error::ProvideErrorMetadata as _;
use redshift_data_emulator::EmulatorConfig;

use crate::fixture::{body_of, emulator, emulator_with, get_stats, raw_http, sdk_client};
use crate::sdk::{CLUSTER, USER, assert_error, run};

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
        let err = assert_error(r, "ValidationException", &format!("case {i}"));
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
    assert_error(
        c.describe_statement().id(&unknown).send().await,
        "ResourceNotFoundException",
        "unknown",
    );
    assert_error(
        c.describe_statement()
            .id(unknown.to_uppercase())
            .send()
            .await,
        "ValidationException",
        "the Id pattern is lower-case",
    );
    assert_error(
        c.get_statement_result().id(&unknown).send().await,
        "ResourceNotFoundException",
        "unknown",
    );
    let d = run(c, "create temporary table t_no_result (a int)").await;
    assert_error(
        c.get_statement_result().id(d.id()).send().await,
        "ResourceNotFoundException",
        "no result",
    );
}

#[tokio::test]
async fn injected_faults_have_the_service_error_shapes() {
    let throttle = EmulatorConfig {
        throttle_probability: 1.0,
        ..EmulatorConfig::default()
    };
    let fault = EmulatorConfig {
        error_probability: 1.0,
        ..EmulatorConfig::default()
    };
    for (config, code, message, status) in [
        (throttle, "ThrottlingException", Some("Rate exceeded"), 400),
        (fault, "InternalServerException", None, 500),
    ] {
        let emu = emulator_with(config).await;
        let c = sdk_client(&emu.url, false);
        let err = assert_error(c.list_statements().send().await, code, code);
        if message.is_some() {
            assert_eq!(err.message(), message);
        }
        assert_eq!(
            err.raw_response().map(|r| r.status().as_u16()),
            Some(status)
        );
    }
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
