//! What BI tools and drivers need: the JDBC driver's call sequence replayed,
//! metadata result schemas against the Flight SQL spec, prepared statements,
//! updates, transactions, ingest, session options, and SQL injection attempts.

use std::sync::Arc;

use arrow::array::{Array as _, AsArray as _, Int32Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Int32Type, Int64Type, Schema};
use arrow_flight::sql::client::FlightSqlServiceClient;
use arrow_flight::sql::{
    CommandGetCrossReference, CommandGetDbSchemas, CommandGetExportedKeys, CommandGetImportedKeys,
    CommandGetPrimaryKeys, CommandGetTables, CommandStatementIngest, SqlInfo,
    TableDefinitionOptions,
};
use arrow_flight::{Action, FlightInfo};
use base64::Engine as _;
use futures::TryStreamExt as _;
use prost::Message as _;
use tonic::transport::Channel;

use crate::common::{StackOptions, fetch, stack, stack_with, unique};

async fn one(client: &mut FlightSqlServiceClient<Channel>, info: &FlightInfo) -> RecordBatch {
    let batches = fetch(client, info).await;
    let schema = info.clone().try_decode_schema().expect("schema");
    let batch =
        arrow::compute::concat_batches(&Arc::new(schema.clone()), &batches).expect("concat");
    assert_eq!(
        batch.schema().as_ref(),
        &schema,
        "stream schema equals FlightInfo schema"
    );
    batch
}

async fn sql(client: &mut FlightSqlServiceClient<Channel>, query: &str) -> RecordBatch {
    let info = client
        .execute(query.to_owned(), None)
        .await
        .expect("execute");
    one(client, &info).await
}

async fn tickit() {
    // The TICKIT sample of the local stack, loaded into the shared PostgreSQL once.
    static LOADED: tokio::sync::OnceCell<()> = tokio::sync::OnceCell::const_new();
    LOADED
        .get_or_init(|| async {
            let base = crate::common::postgres_url();
            let url = format!(
                "{}/dev",
                &base[..base.rfind('/').expect("url with a database")]
            );
            redshift_flight_sql::local::load_tickit(&url)
                .await
                .expect("tickit");
        })
        .await;
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<String> {
    let c = batch.column_by_name(column).expect("column");
    let c = arrow::compute::cast(c, &DataType::Utf8).expect("cast");
    let c = c.as_string::<i32>();
    (0..c.len()).map(|i| c.value(i).to_owned()).collect()
}

#[tokio::test]
async fn jdbc_call_sequence() {
    let stack = stack_with(StackOptions {
        users: vec![("dbeaver", "secret")],
        ..StackOptions::default()
    })
    .await;
    tickit().await;
    let mut client = stack.client().await;
    // 1. Header-only Basic handshake (the driver sends no body).
    client
        .handshake("dbeaver", "secret")
        .await
        .expect("handshake");

    // 2. One GetSqlInfo for DatabaseMetaData.
    let info = client.get_sql_info(Vec::new()).await.expect("sql info");
    let batch = one(&mut client, &info).await;
    let names = batch
        .column(0)
        .as_primitive::<arrow::datatypes::UInt32Type>();
    let has = |i: SqlInfo| names.iter().any(|n| n == Some(i as u32));
    for key in [
        SqlInfo::FlightSqlServerName,
        SqlInfo::FlightSqlServerReadOnly,
        SqlInfo::SqlIdentifierQuoteChar,
        SqlInfo::SqlSupportsConvert,
        SqlInfo::SqlKeywords,
        SqlInfo::FlightSqlServerTransaction,
    ] {
        assert!(has(key), "GetSqlInfo answers {key:?}");
    }

    // 3. Prepare → execute a SELECT: a real, non-empty dataset schema.
    let mut select = client
        .prepare(
            "select userid, username from users where userid = ? or userid = ?".to_owned(),
            None,
        )
        .await
        .expect("prepare select");
    let dataset = select.dataset_schema().expect("dataset").clone();
    assert_eq!(dataset.fields().len(), 2);
    assert_eq!(dataset.field(0).data_type(), &DataType::Int32);
    assert_eq!(select.parameter_schema().expect("params").fields().len(), 2);
    let params = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("1", DataType::Int64, false),
            Field::new("2", DataType::Int64, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![7])),
            Arc::new(Int64Array::from(vec![9])),
        ],
    )
    .expect("params");
    select.set_parameters(params).expect("bind");
    let info = select.execute().await.expect("execute prepared");
    let rows = one(&mut client, &info).await;
    let mut ids: Vec<i32> = rows.column(0).as_primitive::<Int32Type>().values().to_vec();
    ids.sort_unstable();
    assert_eq!(ids, [7, 9]);
    select.close().await.expect("close");

    // 4. Prepare → execute an INSERT: an empty dataset schema means "update".
    let table = unique("jdbc");
    sql(
        &mut client,
        &format!("create table {table} (id int, name varchar(20))"),
    )
    .await;
    let mut insert = client
        .prepare(format!("insert into {table} values (?, ?)"), None)
        .await
        .expect("prepare insert");
    assert!(
        insert
            .dataset_schema()
            .expect("dataset")
            .fields()
            .is_empty()
    );
    let rows = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("1", DataType::Int32, true),
            Field::new("2", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int32Array::from(vec![Some(1), Some(2), None])),
            Arc::new(StringArray::from(vec![Some("a"), None, Some("")])),
        ],
    )
    .expect("rows");
    insert.set_parameters(rows).expect("bind");
    assert_eq!(insert.execute_update().await.expect("update"), 3);
    let check = sql(
        &mut client,
        &format!(
            "select coalesce(id, -1) id, coalesce(name, '<null>') name from {table} order by 1"
        ),
    )
    .await;
    assert_eq!(strings(&check, "id"), ["-1", "1", "2"]);
    assert_eq!(
        strings(&check, "name"),
        ["", "a", "<null>"],
        "NULL and '' both survive"
    );

    // 5. GetTables with include_schema: column metadata JDBC's getColumns reads.
    let info = client
        .get_tables(CommandGetTables {
            catalog: None,
            db_schema_filter_pattern: Some("public".to_owned()),
            table_name_filter_pattern: Some("users".to_owned()),
            table_types: vec!["TABLE".to_owned()],
            include_schema: true,
        })
        .await
        .expect("tables");
    let tables = one(&mut client, &info).await;
    assert_eq!(tables.num_rows(), 1);
    assert_eq!(strings(&tables, "catalog_name"), ["dev"]);
    let bytes = tables
        .column_by_name("table_schema")
        .expect("table_schema")
        .as_binary::<i32>()
        .value(0);
    let schema = arrow::ipc::convert::try_schema_from_ipc_buffer(bytes).expect("ipc schema");
    let userid = schema.field_with_name("userid").expect("userid");
    assert_eq!(userid.data_type(), &DataType::Int32);
    assert!(!userid.is_nullable());
    assert_eq!(userid.metadata()["ARROW:FLIGHT:SQL:TYPE_NAME"], "int4");
    assert_eq!(
        schema
            .field_with_name("username")
            .expect("username")
            .metadata()["ARROW:FLIGHT:SQL:PRECISION"],
        "8"
    );

    // 6. SetSessionOptions catalog (the driver's `catalog` property), with the cookie.
    let mut raw = arrow_flight::flight_service_client::FlightServiceClient::new(
        tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect"),
    );
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("dbeaver:secret")
    );
    let set = session_request(
        "SetSessionOptions",
        set_catalog("postgres").encode_to_vec(),
        &basic,
        None,
    );
    let response = raw.do_action(set).await.expect("set session options");
    let cookie = response
        .metadata()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .expect("ascii")
        .split(';')
        .next()
        .expect("cookie")
        .to_owned();
    let results: Vec<arrow_flight::Result> =
        response.into_inner().try_collect().await.expect("results");
    let result = redshift_flight_sql::ticket::proto::SetSessionOptionsResult::decode(
        results[0].body.as_ref(),
    )
    .expect("result");
    assert!(result.errors.is_empty(), "{:?}", result.errors);
    let get = session_request("GetSessionOptions", Vec::new(), &basic, Some(&cookie));
    let results: Vec<arrow_flight::Result> = raw
        .do_action(get)
        .await
        .expect("get session options")
        .into_inner()
        .try_collect()
        .await
        .expect("results");
    let options = redshift_flight_sql::ticket::proto::GetSessionOptionsResult::decode(
        results[0].body.as_ref(),
    )
    .expect("options");
    assert_eq!(
        options.session_options["catalog"].option_value,
        Some(
            redshift_flight_sql::ticket::proto::session_option_value::OptionValue::StringValue(
                "postgres".to_owned()
            )
        )
    );
    // A statement with the cookie runs in that database.
    let mut query = tonic::Request::new(arrow_flight::FlightDescriptor::new_cmd(
        arrow_flight::sql::ProstMessageExt::as_any(&arrow_flight::sql::CommandStatementQuery {
            query: "select current_database()::varchar db".to_owned(),
            transaction_id: None,
        })
        .encode_to_vec(),
    ));
    query
        .metadata_mut()
        .insert("authorization", basic.parse().expect("header"));
    query
        .metadata_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    let info = raw.get_flight_info(query).await.expect("info").into_inner();
    let batch = one(&mut client, &info).await;
    assert_eq!(strings(&batch, "db"), ["postgres"]);
    let unknown = session_request(
        "SetSessionOptions",
        set_catalog("no_such_db").encode_to_vec(),
        &basic,
        None,
    );
    let results: Vec<arrow_flight::Result> = raw
        .do_action(unknown)
        .await
        .expect("set")
        .into_inner()
        .try_collect()
        .await
        .expect("results");
    let result = redshift_flight_sql::ticket::proto::SetSessionOptionsResult::decode(
        results[0].body.as_ref(),
    )
    .expect("result");
    assert!(
        result.errors.contains_key("catalog"),
        "an unknown database is refused"
    );
}

fn set_catalog(catalog: &str) -> redshift_flight_sql::ticket::proto::SetSessionOptionsRequest {
    use redshift_flight_sql::ticket::proto::{
        SessionOptionValue, SetSessionOptionsRequest, session_option_value,
    };
    SetSessionOptionsRequest {
        session_options: [(
            "catalog".to_owned(),
            SessionOptionValue {
                option_value: Some(session_option_value::OptionValue::StringValue(
                    catalog.to_owned(),
                )),
            },
        )]
        .into(),
    }
}

fn session_request(
    kind: &str,
    body: Vec<u8>,
    authorization: &str,
    cookie: Option<&str>,
) -> tonic::Request<Action> {
    let mut request = tonic::Request::new(Action::new(kind.to_owned(), body));
    request
        .metadata_mut()
        .insert("authorization", authorization.parse().expect("header"));
    if let Some(cookie) = cookie {
        request
            .metadata_mut()
            .insert("cookie", cookie.parse().expect("cookie"));
    }
    request
}

#[tokio::test]
async fn metadata_result_schemas_are_the_specs() {
    let stack = stack().await;
    tickit().await;
    let mut client = stack.client().await;
    let utf8 = |name: &str, nullable: bool| Field::new(name, DataType::Utf8, nullable);
    let catalogs = client.get_catalogs().await.expect("catalogs");
    let batch = one(&mut client, &catalogs).await;
    assert_eq!(
        batch.schema().as_ref(),
        &Schema::new(vec![utf8("catalog_name", false)])
    );
    assert!(strings(&batch, "catalog_name").contains(&"dev".to_owned()));

    // An omitted catalog means all catalogs (ADBC's get_objects).
    let schemas = client
        .get_db_schemas(CommandGetDbSchemas {
            catalog: None,
            db_schema_filter_pattern: None,
        })
        .await
        .expect("schemas");
    let batch = one(&mut client, &schemas).await;
    assert_eq!(
        batch.schema().as_ref(),
        &Schema::new(vec![
            utf8("catalog_name", true),
            utf8("db_schema_name", false)
        ])
    );
    let pairs: Vec<(String, String)> = strings(&batch, "catalog_name")
        .into_iter()
        .zip(strings(&batch, "db_schema_name"))
        .collect();
    assert!(pairs.contains(&("dev".to_owned(), "public".to_owned())));

    let tables = client
        .get_tables(CommandGetTables {
            catalog: Some("dev".to_owned()),
            db_schema_filter_pattern: Some("public".to_owned()),
            table_name_filter_pattern: None,
            table_types: Vec::new(),
            include_schema: true,
        })
        .await
        .expect("tables");
    let batch = one(&mut client, &tables).await;
    assert_eq!(
        batch.schema().as_ref(),
        &Schema::new(vec![
            utf8("catalog_name", true),
            utf8("db_schema_name", true),
            utf8("table_name", false),
            utf8("table_type", false),
            Field::new("table_schema", DataType::Binary, false),
        ])
    );
    let names = strings(&batch, "table_name");
    for t in [
        "category", "date", "event", "listing", "sales", "users", "venue",
    ] {
        assert!(names.contains(&t.to_owned()), "{t} listed");
    }

    let types = client.get_table_types().await.expect("types");
    let batch = one(&mut client, &types).await;
    assert_eq!(
        batch.schema().as_ref(),
        &Schema::new(vec![utf8("table_type", false)])
    );
    assert!(strings(&batch, "table_type").contains(&"VIEW".to_owned()));

    let keys = client
        .get_primary_keys(CommandGetPrimaryKeys {
            catalog: None,
            db_schema: Some("public".to_owned()),
            table: "sales".to_owned(),
        })
        .await
        .expect("pk");
    let batch = one(&mut client, &keys).await;
    assert_eq!(
        batch.schema().as_ref(),
        &Schema::new(vec![
            utf8("catalog_name", true),
            utf8("db_schema_name", true),
            utf8("table_name", false),
            utf8("column_name", false),
            utf8("key_name", true),
            Field::new("key_sequence", DataType::Int32, false),
        ])
    );
    assert_eq!(strings(&batch, "column_name"), ["salesid"]);

    let fk_schema = Schema::new(vec![
        utf8("pk_catalog_name", true),
        utf8("pk_db_schema_name", true),
        utf8("pk_table_name", false),
        utf8("pk_column_name", false),
        utf8("fk_catalog_name", true),
        utf8("fk_db_schema_name", true),
        utf8("fk_table_name", false),
        utf8("fk_column_name", false),
        Field::new("key_sequence", DataType::Int32, false),
        utf8("fk_key_name", true),
        utf8("pk_key_name", true),
        Field::new("update_rule", DataType::UInt8, false),
        Field::new("delete_rule", DataType::UInt8, false),
    ]);
    let imported = client
        .get_imported_keys(CommandGetImportedKeys {
            catalog: None,
            db_schema: None,
            table: "event".to_owned(),
        })
        .await
        .expect("imported");
    let batch = one(&mut client, &imported).await;
    assert_eq!(batch.schema().as_ref(), &fk_schema);
    let mut referenced = strings(&batch, "pk_table_name");
    referenced.sort();
    assert_eq!(referenced, ["category", "date", "venue"]);
    let exported = client
        .get_exported_keys(CommandGetExportedKeys {
            catalog: None,
            db_schema: None,
            table: "event".to_owned(),
        })
        .await
        .expect("exported");
    let batch = one(&mut client, &exported).await;
    assert_eq!(batch.schema().as_ref(), &fk_schema);
    let mut referencing = strings(&batch, "fk_table_name");
    referencing.sort();
    assert_eq!(referencing, ["listing", "sales"]);
    let cross = client
        .get_cross_reference(CommandGetCrossReference {
            pk_catalog: None,
            pk_db_schema: None,
            pk_table: "listing".to_owned(),
            fk_catalog: None,
            fk_db_schema: None,
            fk_table: "sales".to_owned(),
        })
        .await
        .expect("cross");
    let batch = one(&mut client, &cross).await;
    assert_eq!(strings(&batch, "fk_column_name"), ["listid"]);
    assert_eq!(
        batch
            .column_by_name("delete_rule")
            .expect("rule")
            .as_primitive::<arrow::datatypes::UInt8Type>()
            .value(0),
        3
    );

    let xdbc = client
        .get_xdbc_type_info(arrow_flight::sql::CommandGetXdbcTypeInfo { data_type: None })
        .await
        .expect("xdbc");
    let batch = one(&mut client, &xdbc).await;
    assert!(batch.num_rows() >= 10);
    assert!(strings(&batch, "type_name").iter().any(|t| t == "varchar"));
}

#[tokio::test]
async fn transactions_commit_and_roll_back() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let table = unique("txn");
    sql(&mut client, &format!("create table {table} (a int)")).await;
    for (commit, expected) in [(false, 0), (true, 1)] {
        let txn = client.begin_transaction().await.expect("begin");
        client
            .execute_update(format!("insert into {table} values (1)"), Some(txn.clone()))
            .await
            .expect("insert in the transaction");
        let inside = client
            .execute(
                format!("select count(*)::int4 n from {table}"),
                Some(txn.clone()),
            )
            .await
            .expect("inside");
        assert_eq!(
            one(&mut client, &inside)
                .await
                .column(0)
                .as_primitive::<Int32Type>()
                .value(0),
            1,
            "the transaction sees its own insert"
        );
        let action = if commit {
            arrow_flight::sql::EndTransaction::Commit
        } else {
            arrow_flight::sql::EndTransaction::Rollback
        };
        client.end_transaction(txn, action).await.expect("end");
        let after = sql(
            &mut client,
            &format!("select count(*)::int4 n from {table}"),
        )
        .await;
        assert_eq!(
            after.column(0).as_primitive::<Int32Type>().value(0),
            expected
        );
    }
}

#[tokio::test]
async fn ingest_creates_appends_and_replaces() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let table = unique("ingest");
    let tricky = "it's a \\'quote\\'); drop table users; --";
    let batch = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("note", DataType::Utf8, true),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![1, 2, 3])),
            Arc::new(StringArray::from(vec![Some(tricky), None, Some("")])),
        ],
    )
    .expect("batch");
    let ingest = |if_not_exist: i32, if_exists: i32| CommandStatementIngest {
        table_definition_options: Some(TableDefinitionOptions {
            if_not_exist,
            if_exists,
        }),
        table: table.clone(),
        schema: Some("public".to_owned()),
        ..CommandStatementIngest::default()
    };
    let rows = |b: RecordBatch| futures::stream::iter(vec![Ok(b)]);
    // create (if exists: fail)
    assert_eq!(
        client
            .execute_ingest(ingest(1, 1), rows(batch.clone()))
            .await
            .expect("create"),
        3
    );
    let err = client
        .execute_ingest(ingest(1, 1), rows(batch.clone()))
        .await;
    assert!(err.is_err(), "create into an existing table fails");
    // append
    assert_eq!(
        client
            .execute_ingest(ingest(2, 2), rows(batch.clone()))
            .await
            .expect("append"),
        3
    );
    let count = sql(
        &mut client,
        &format!("select count(*)::int4 n from {table}"),
    )
    .await;
    assert_eq!(count.column(0).as_primitive::<Int32Type>().value(0), 6);
    // replace
    assert_eq!(
        client
            .execute_ingest(ingest(1, 3), rows(batch.clone()))
            .await
            .expect("replace"),
        3
    );
    let back = sql(
        &mut client,
        &format!("select id, note from {table} order by id"),
    )
    .await;
    assert_eq!(
        back.column(0).as_primitive::<Int64Type>().values(),
        &[1, 2, 3]
    );
    let notes = back.column(1).as_string::<i32>();
    assert_eq!(notes.value(0), tricky, "the value round-trips exactly");
    assert!(notes.is_null(1));
    assert_eq!(notes.value(2), "");
    // Nothing was injected: the value was data, and the table is still there.
    let tables = sql(
        &mut client,
        &format!(
            "select count(*)::int4 n from information_schema.tables where table_name = '{table}'"
        ),
    )
    .await;
    assert_eq!(tables.column(0).as_primitive::<Int32Type>().value(0), 1);
}

#[tokio::test]
async fn injection_through_parameters_and_patterns_finds_nothing() {
    let stack = stack().await;
    tickit().await;
    let mut client = stack.client().await;
    let table = unique("victim");
    sql(
        &mut client,
        &format!("create table {table} (secret varchar(20))"),
    )
    .await;
    sql(
        &mut client,
        &format!("insert into {table} values ('s3cret')"),
    )
    .await;
    for attack in [
        format!("x'; drop table {table}; --"),
        "' or '1'='1".to_owned(),
        "\\'; select 1; --".to_owned(),
        "$$; drop table users; $$".to_owned(),
        ":p1".to_owned(),
    ] {
        let mut stmt = client
            .prepare("select ?::varchar(200) as echoed".to_owned(), None)
            .await
            .expect("prepare");
        let params = RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("1", DataType::Utf8, false)])),
            vec![Arc::new(StringArray::from(vec![attack.as_str()]))],
        )
        .expect("params");
        stmt.set_parameters(params).expect("bind");
        let info = stmt.execute().await.expect("execute");
        let batch = one(&mut client, &info).await;
        assert_eq!(
            strings(&batch, "echoed"),
            std::slice::from_ref(&attack),
            "the value comes back as data"
        );
    }
    // Patterns are data too.
    let tables = client
        .get_tables(CommandGetTables {
            catalog: Some("dev".to_owned()),
            db_schema_filter_pattern: Some("public' or '1'='1".to_owned()),
            table_name_filter_pattern: Some("%' or 1=1 --".to_owned()),
            table_types: Vec::new(),
            include_schema: false,
        })
        .await
        .expect("tables");
    assert_eq!(one(&mut client, &tables).await.num_rows(), 0);
    let keys = client
        .get_primary_keys(CommandGetPrimaryKeys {
            catalog: None,
            db_schema: Some("x' or '1'='1".to_owned()),
            table: "sales' or '1'='1".to_owned(),
        })
        .await
        .expect("keys");
    assert_eq!(one(&mut client, &keys).await.num_rows(), 0);
    let still = sql(&mut client, &format!("select secret from {table}")).await;
    assert_eq!(strings(&still, "secret"), ["s3cret"]);
}

#[tokio::test]
async fn several_bound_rows_run_the_query_once_per_row() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let mut stmt = client
        .prepare("select $1::int4 * 10 as x".to_owned(), None)
        .await
        .expect("prepare");
    let params = RecordBatch::try_new(
        Arc::new(Schema::new(vec![Field::new("1", DataType::Int32, false)])),
        vec![Arc::new(Int32Array::from(vec![1, 2, 3]))],
    )
    .expect("params");
    stmt.set_parameters(params).expect("bind");
    let info = stmt.execute().await.expect("execute");
    assert_eq!(info.endpoint.len(), 3);
    let batches = fetch(&mut client, &info).await;
    let xs: Vec<i32> = batches
        .iter()
        .flat_map(|b| b.column(0).as_primitive::<Int32Type>().values().to_vec())
        .collect();
    assert_eq!(xs, [10, 20, 30]);
    // Savepoints are refused with a clear message.
    let err = client
        .do_action(Action::new("BeginSavepoint", Vec::new()))
        .await
        .expect_err("savepoint");
    let arrow_flight::error::FlightError::Tonic(status) = err else {
        panic!("{err:?}")
    };
    assert_eq!(status.code(), tonic::Code::Unimplemented);
    assert!(status.message().contains("savepoint"));
}

#[tokio::test]
async fn list_flights_shows_the_callers_statements() {
    let stack = stack().await;
    let mut client = stack.client().await;
    let marker = unique("listed");
    sql(&mut client, &format!("select '{marker}'::varchar(64) m")).await;
    let mut raw = arrow_flight::FlightClient::new(
        tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect"),
    );
    let flights: Vec<FlightInfo> = raw
        .list_flights(Vec::<u8>::new())
        .await
        .expect("list")
        .try_collect()
        .await
        .expect("flights");
    let mine = flights
        .iter()
        .find(|f| {
            let cmd = f
                .flight_descriptor
                .as_ref()
                .map(|d| d.cmd.clone())
                .unwrap_or_default();
            String::from_utf8_lossy(&cmd).contains(&marker)
        })
        .expect("the statement is listed");
    assert_eq!(mine.app_metadata.as_ref(), b"FINISHED");
    let batches = fetch(&mut client, mine).await;
    assert_eq!(strings(&batches[0], "m"), [marker]);
}

#[tokio::test]
async fn the_schema_session_option_sets_the_search_path() {
    use redshift_flight_sql::ticket::proto::{
        SessionOptionValue, SetSessionOptionsRequest, session_option_value,
    };
    let stack = stack().await;
    let mut client = stack.client().await;
    let schema = unique("sp");
    sql(&mut client, &format!("create schema {schema}")).await;
    sql(
        &mut client,
        &format!("create table {schema}.only_here (v int)"),
    )
    .await;
    sql(
        &mut client,
        &format!("insert into {schema}.only_here values (42)"),
    )
    .await;
    let mut raw = arrow_flight::flight_service_client::FlightServiceClient::new(
        tonic::transport::Endpoint::from_shared(stack.flight_url.clone())
            .expect("endpoint")
            .connect()
            .await
            .expect("connect"),
    );
    let request = SetSessionOptionsRequest {
        session_options: [(
            "schema".to_owned(),
            SessionOptionValue {
                option_value: Some(session_option_value::OptionValue::StringValue(
                    schema.clone(),
                )),
            },
        )]
        .into(),
    };
    let mut action = tonic::Request::new(Action::new("SetSessionOptions", request.encode_to_vec()));
    action
        .metadata_mut()
        .insert("authorization", "Bearer none".parse().expect("header"));
    let response = raw.do_action(action).await.expect("set schema");
    let cookie = response
        .metadata()
        .get("set-cookie")
        .expect("cookie")
        .to_str()
        .expect("ascii");
    let cookie = cookie.split(';').next().expect("cookie").to_owned();
    let run = |sql: &str, cookie: Option<&str>| {
        let mut r = tonic::Request::new(arrow_flight::FlightDescriptor::new_cmd(
            arrow_flight::sql::ProstMessageExt::as_any(&arrow_flight::sql::CommandStatementQuery {
                query: sql.to_owned(),
                transaction_id: None,
            })
            .encode_to_vec(),
        ));
        if let Some(c) = cookie {
            r.metadata_mut()
                .insert("cookie", c.parse().expect("cookie"));
        }
        r
    };
    let err = raw
        .get_flight_info(run("select v from only_here", None))
        .await
        .expect_err("not on the default path");
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    let info = raw
        .get_flight_info(run("select v from only_here", Some(&cookie)))
        .await
        .expect("found through the search_path")
        .into_inner();
    let batch = one(&mut client, &info).await;
    assert_eq!(batch.column(0).as_primitive::<Int32Type>().value(0), 42);
    // Updates run with it too.
    let mut update = tonic::Request::new(futures::stream::iter(vec![arrow_flight::FlightData {
        flight_descriptor: Some(arrow_flight::FlightDescriptor::new_cmd(
            arrow_flight::sql::ProstMessageExt::as_any(
                &arrow_flight::sql::CommandStatementUpdate {
                    query: "insert into only_here values (43)".to_owned(),
                    transaction_id: None,
                },
            )
            .encode_to_vec(),
        )),
        ..Default::default()
    }]));
    update
        .metadata_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    let results: Vec<arrow_flight::PutResult> = raw
        .do_put(update)
        .await
        .expect("update")
        .into_inner()
        .try_collect()
        .await
        .expect("results");
    let count = arrow_flight::sql::DoPutUpdateResult::decode(results[0].app_metadata.as_ref())
        .expect("count");
    assert_eq!(count.record_count, 1);
    let after = sql(
        &mut client,
        &format!("select count(*)::int4 n from {schema}.only_here"),
    )
    .await;
    assert_eq!(after.column(0).as_primitive::<Int32Type>().value(0), 2);
}

/// What the Arrow Flight SQL ODBC driver (Power BI, Excel, Tableau on
/// Windows) reads at connect and in its catalog functions, which cannot be
/// installed here: GetSqlInfo with an empty list meaning every key, the
/// values it unboxes without a fallback, GetXdbcTypeInfo, GetTables with the
/// table schemas.
#[tokio::test]
async fn what_the_odbc_driver_reads_is_answered() {
    use arrow::array::UInt32Array;

    let stack = stack().await;
    tickit().await;
    let mut client = stack.client().await;
    let info = client.get_sql_info(Vec::new()).await.expect("sql info");
    let batch = one(&mut client, &info).await;
    let names: &UInt32Array = batch.column(0).as_primitive();
    let values = batch.column(1).as_union();
    let text = |key: SqlInfo| -> String {
        let row = names
            .iter()
            .position(|n| n == Some(key as u32))
            .unwrap_or_else(|| panic!("GetSqlInfo() answers {key:?}"));
        values.value(row).as_string::<i32>().value(0).to_owned()
    };
    assert_eq!(text(SqlInfo::FlightSqlServerName), "redshift-flight-sql");
    assert!(!text(SqlInfo::FlightSqlServerVersion).is_empty());
    assert_eq!(text(SqlInfo::SqlIdentifierQuoteChar), "\"");
    assert_eq!(text(SqlInfo::SqlCatalogTerm), "database");
    assert_eq!(text(SqlInfo::SqlSchemaTerm), "schema");
    let convert = names
        .iter()
        .position(|n| n == Some(SqlInfo::SqlSupportsConvert as u32))
        .expect("SQL_SUPPORTS_CONVERT");
    assert!(
        !values.value(convert).as_map().value(0).is_empty(),
        "SQL_SUPPORTS_CONVERT names the conversions CAST supports"
    );
    // An empty list is every key; a list is those keys only.
    assert!(names.len() > 50, "{} keys", names.len());
    let some = client
        .get_sql_info(vec![SqlInfo::SqlCatalogTerm, SqlInfo::FlightSqlServerName])
        .await
        .expect("sql info");
    assert_eq!(one(&mut client, &some).await.num_rows(), 2);

    let types = client
        .get_xdbc_type_info(arrow_flight::sql::CommandGetXdbcTypeInfo { data_type: None })
        .await
        .expect("xdbc type info");
    let types = one(&mut client, &types).await;
    let type_names = strings(&types, "type_name");
    for name in [
        "integer",
        "bigint",
        "numeric",
        "varchar",
        "timestamp",
        "boolean",
    ] {
        assert!(
            type_names.iter().any(|t| t == name),
            "{name} in {type_names:?}"
        );
    }

    let tables = client
        .get_tables(CommandGetTables {
            catalog: Some("dev".to_owned()),
            db_schema_filter_pattern: Some("public".to_owned()),
            table_name_filter_pattern: Some("sales".to_owned()),
            table_types: Vec::new(),
            include_schema: true,
        })
        .await
        .expect("tables");
    let tables = one(&mut client, &tables).await;
    assert_eq!(tables.num_rows(), 1);
    let schema_bytes = tables
        .column_by_name("table_schema")
        .expect("table_schema")
        .as_binary::<i32>()
        .value(0);
    let schema = arrow::ipc::convert::try_schema_from_ipc_buffer(schema_bytes).expect("ipc");
    let pricepaid = schema.field_with_name("pricepaid").expect("pricepaid");
    let md = pricepaid.metadata();
    assert_eq!(md["ARROW:FLIGHT:SQL:TYPE_NAME"], "numeric");
    assert_eq!(
        (
            md["XDBC_COLUMN_SIZE"].as_str(),
            md["XDBC_DECIMAL_DIGITS"].as_str()
        ),
        ("8", "2")
    );
    assert_eq!(md["XDBC_DATA_TYPE"], "3");
}
