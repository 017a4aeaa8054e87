//! Results through GetStatementResult[V2]: every type encoded as the Data API
//! does, NULLs, paging through NextToken, CSV, numeric precision.

use aws_sdk_redshiftdata::types::{Field, QueryRecords, ResultFormatString, StatusString};
use redshift_data_emulator::EmulatorConfig;

use crate::fixture::{emulator, emulator_with};
use crate::sdk::{assert_error, finish, first_page, records, run, text};

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
    let page = first_page(c, id).await;
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
    assert_error(
        c.get_statement_result().id(id).send().await,
        "ValidationException",
        "v1 on csv",
    );
    let json = run(c, "select 1").await;
    assert_error(
        c.get_statement_result_v2().id(json.id()).send().await,
        "ValidationException",
        "v2 on json",
    );
}

#[tokio::test]
async fn unconstrained_numeric_reports_the_scale_of_its_values() {
    let emu = emulator().await;
    let d = run(
        &emu.client,
        "select sum(x) s, 1 / 3.0 q, 'NaN'::numeric nan from (values (1.25::numeric(8,2)), (2.5)) t(x)",
    )
    .await;
    let page = first_page(&emu.client, d.id()).await;
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
