//! ListDatabases, ListSchemas, ListTables, DescribeTable, and the table part
//! of result metadata.

use crate::fixture::{emulator, unique};
use crate::sdk::{CLUSTER, USER, first_page, run};

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
    let page = first_page(c, d.id()).await;
    let meta = page.column_metadata();
    assert_eq!(meta[0].table_name(), Some("orders"));
    assert_eq!(meta[0].schema_name(), Some(schema.as_str()));
    assert_eq!(
        (meta[0].nullable(), meta[1].nullable(), meta[2].nullable()),
        (0, 1, 1)
    );
}
