"""boto3 and awswrangler against the local Redshift Data API emulator.

Every test makes its own tables (uuid-suffixed names), so the tests do not
depend on each other or on their order.
"""

from __future__ import annotations

import json
import time
import urllib.request
import uuid

import botocore.exceptions
import pytest

from conftest import CLUSTER_ID, DATABASE, DB_USER

TERMINAL = {"FINISHED", "FAILED", "ABORTED"}
STATUSES = {"SUBMITTED", "PICKED", "STARTED"} | TERMINAL


# --- helpers -----------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def wait_done(client, statement_id: str, timeout: float = 120) -> dict:
    """Long-polls DescribeStatement (WaitTimeSeconds) until the statement ends."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        d = client.describe_statement(Id=statement_id, WaitTimeSeconds=int(min(30, max(1, remaining))))
        if d["Status"] in TERMINAL:
            return d
        assert time.monotonic() < deadline, f"statement {statement_id} still {d['Status']} after {timeout} s"


def poll_done(client, statement_id: str, timeout: float = 60) -> dict:
    """Plain DescribeStatement polling (no long poll), bounded in time."""
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        d = client.describe_statement(Id=statement_id)
        assert d["Status"] in STATUSES
        if d["Status"] in TERMINAL:
            return d
        assert time.monotonic() < deadline, f"statement {statement_id} still {d['Status']} after {timeout} s"
        time.sleep(delay)
        delay = min(delay * 2, 0.5)


def run(client, identity: dict, sql: str, **kwargs) -> dict:
    """ExecuteStatement, then wait for the end; returns the final DescribeStatement."""
    r = client.execute_statement(Sql=sql, WaitTimeSeconds=30, **identity, **kwargs)
    return wait_done(client, r["Id"])


def run_ok(client, identity: dict, sql: str, **kwargs) -> dict:
    d = run(client, identity, sql, **kwargs)
    assert d["Status"] == "FINISHED", d.get("Error")
    return d


def query(client, identity: dict, sql: str, **kwargs) -> list[list[dict]]:
    """Runs a query and returns all its records (JSON Field unions)."""
    d = run_ok(client, identity, sql, **kwargs)
    records: list[list[dict]] = []
    for page in client.get_paginator("get_statement_result").paginate(Id=d["Id"]):
        records.extend(page["Records"])
    return records


def scalar(client, identity: dict, sql: str):
    records = query(client, identity, sql)
    assert len(records) == 1 and len(records[0]) == 1, records
    (field,) = records[0][0].values()
    return field


def error_code(excinfo: pytest.ExceptionInfo) -> str:
    return excinfo.value.response["Error"]["Code"]


# --- statements ----------------------------------------------------------------


def test_execute_and_describe_with_long_poll(client, identity):
    r = client.execute_statement(Sql="select 1 as one", WaitTimeSeconds=10, **identity)
    assert uuid.UUID(r["Id"])
    assert r["Status"] == "FINISHED"
    assert r["HasResultSet"] is True
    assert r["ClusterIdentifier"] == CLUSTER_ID
    assert r["DbUser"] == DB_USER
    assert r["Database"] == DATABASE

    d = client.describe_statement(Id=r["Id"])
    assert d["Id"] == r["Id"]
    assert d["Status"] == "FINISHED"
    assert d["QueryString"] == "select 1 as one"
    assert d["HasResultSet"] is True
    assert d["ResultRows"] == 1
    assert d["ResultSize"] > 0
    assert d["Duration"] >= 0
    assert d["RedshiftPid"] > 0
    assert d["ResultFormat"] == "JSON"
    assert d["Database"] == DATABASE
    assert d["UpdatedAt"] >= d["CreatedAt"]


def test_execute_then_poll_describe(client, identity):
    table = unique("t_poll")
    r = client.execute_statement(Sql=f"create table {table} (id int)", **identity)
    assert r["Status"] in STATUSES
    d = poll_done(client, r["Id"])
    assert d["Status"] == "FINISHED", d.get("Error")
    assert d["HasResultSet"] is False

    r = client.execute_statement(Sql=f"insert into {table} select generate_series(1, 7)", **identity)
    d = poll_done(client, r["Id"])
    assert d["Status"] == "FINISHED", d.get("Error")
    assert d["HasResultSet"] is False
    assert d["ResultRows"] == 7


def test_every_field_type(client, identity):
    sql = """
        select 1::int2 as c_int2, (-2147483648)::int4 as c_int4, 9223372036854775807::int8 as c_int8,
               1.5::float4 as c_float4, -2.25e-5::float8 as c_float8,
               1.2::numeric(38,10) as c_numeric, -12345678901234567890.0123456789::numeric(38,10) as c_numeric_neg,
               1.20::numeric(12,2) as c_numeric_2,
               true as c_bool_t, false as c_bool_f,
               'x'::char(3) as c_char, 'vc'::varchar(10) as c_varchar, 'tëxt "q" \\ ok'::text as c_text,
               '2008-01-01'::date as c_date,
               '2020-08-21 17:33:51.88712'::timestamp as c_timestamp,
               '2021-06-21 12:28:00+02'::timestamptz as c_timestamptz,
               '17:33:51.5'::time as c_time,
               '\\xdeadbeef'::bytea as c_bytea,
               '{"a": [1, 2]}'::json as c_json,
               null::int4 as c_null_int, null::text as c_null_text, null::timestamp as c_null_ts
    """
    d = run_ok(client, identity, sql)
    result = client.get_statement_result(Id=d["Id"])
    assert result["TotalNumRows"] == 1
    assert "NextToken" not in result
    expected = [
        {"longValue": 1},
        {"longValue": -2147483648},
        {"longValue": 9223372036854775807},
        {"doubleValue": 1.5},
        {"doubleValue": -2.25e-5},
        {"stringValue": "1.2000000000"},
        {"stringValue": "-12345678901234567890.0123456789"},
        {"stringValue": "1.20"},
        {"booleanValue": True},
        {"booleanValue": False},
        {"stringValue": "x  "},
        {"stringValue": "vc"},
        {"stringValue": 'tëxt "q" \\ ok'},
        {"stringValue": "2008-01-01"},
        {"stringValue": "2020-08-21 17:33:51.88712"},
        {"stringValue": "2021-06-21 10:28:00+00"},
        {"stringValue": "17:33:51.5"},
        {"blobValue": b"\xde\xad\xbe\xef"},
        {"stringValue": '{"a": [1, 2]}'},
        {"isNull": True},
        {"isNull": True},
        {"isNull": True},
    ]
    assert result["Records"] == [expected]

    meta = result["ColumnMetadata"]
    assert [m["name"] for m in meta] == [
        "c_int2", "c_int4", "c_int8", "c_float4", "c_float8", "c_numeric", "c_numeric_neg", "c_numeric_2",
        "c_bool_t", "c_bool_f", "c_char", "c_varchar", "c_text", "c_date", "c_timestamp", "c_timestamptz",
        "c_time", "c_bytea", "c_json", "c_null_int", "c_null_text", "c_null_ts",
    ]  # fmt: skip
    assert [m["typeName"] for m in meta] == [
        "int2", "int4", "int8", "float4", "float8", "numeric", "numeric", "numeric",
        "bool", "bool", "bpchar", "varchar", "text", "date", "timestamp", "timestamptz",
        "time", "bytea", "json", "int4", "text", "timestamp",
    ]  # fmt: skip
    numeric = meta[5]
    assert (numeric["precision"], numeric["scale"]) == (38, 10)
    assert (meta[7]["precision"], meta[7]["scale"]) == (12, 2)
    assert meta[11]["length"] == 10
    assert meta[0]["isSigned"] is True and meta[12]["isSigned"] is False


def test_column_metadata_of_a_table(client, identity):
    table = unique("t_meta")
    run_ok(client, identity, f"create table {table} (id int8 not null, name varchar(20))")
    run_ok(client, identity, f"insert into {table} values (1, 'a'), (2, null)")
    d = run_ok(client, identity, f"select id, name from {table} order by id")
    result = client.get_statement_result(Id=d["Id"])
    assert result["Records"] == [
        [{"longValue": 1}, {"stringValue": "a"}],
        [{"longValue": 2}, {"isNull": True}],
    ]
    id_meta, name_meta = result["ColumnMetadata"]
    assert (id_meta["tableName"], id_meta["schemaName"], id_meta["nullable"]) == (table, "public", 0)
    assert (name_meta["tableName"], name_meta["nullable"], name_meta["length"]) == (table, 1, 20)


def test_paginate_large_result(client, identity):
    rows = 200_000
    sql = (
        "select g as id, 'row-' || g as label, md5(g::text) as digest, g % 7 as bucket "
        f"from generate_series(1, {rows}) as g order by g"
    )
    d = run_ok(client, identity, sql)
    assert d["ResultRows"] == rows

    pages = 0
    count = 0
    total = 0
    bucket_total = 0
    for page in client.get_paginator("get_statement_result").paginate(Id=d["Id"]):
        pages += 1
        assert page["TotalNumRows"] == rows
        assert [m["name"] for m in page["ColumnMetadata"]] == ["id", "label", "digest", "bucket"]
        for record in page["Records"]:
            count += 1
            n = record[0]["longValue"]
            assert n == count, "rows out of order or repeated across pages"
            assert record[1] == {"stringValue": f"row-{n}"}
            assert len(record[2]["stringValue"]) == 32
            total += n
            bucket_total += record[3]["longValue"]
    assert pages > 1, "a 200k-row result should not fit one page"
    assert count == rows
    assert total == rows * (rows + 1) // 2
    assert bucket_total == sum(g % 7 for g in range(1, rows + 1))


def test_csv_result_format(client, identity):
    sql = """
        select * from (values
            (1, 'a,b', '', null::text, true, 1.20::numeric(5,2), '2008-01-01'::date),
            (2, 'say "hi"', 'x', 'y', false, null, null),
            (3, E'two\\nlines', ' sp ', 'z', null, -3.5::numeric(5,2), '2020-02-29'::date)
        ) as v(id, s, e, n, b, num, d)
        order by id
    """
    r = client.execute_statement(Sql=sql, ResultFormat="CSV", WaitTimeSeconds=30, **identity)
    d = wait_done(client, r["Id"])
    assert d["Status"] == "FINISHED", d.get("Error")
    assert d["ResultFormat"] == "CSV"

    result = client.get_statement_result_v2(Id=r["Id"])
    assert result["ResultFormat"] == "CSV"
    assert result["TotalNumRows"] == 3
    assert [m["name"] for m in result["ColumnMetadata"]] == ["id", "s", "e", "n", "b", "num", "d"]
    csv_text = "".join(rec["CSVRecords"] for rec in result["Records"])
    assert csv_text == (
        '1,"a,b","",,t,1.20,2008-01-01\n'
        '2,"say ""hi""",x,y,f,,\n'
        '3,"two\nlines", sp ,z,,-3.50,2020-02-29\n'
    )

    # A CSV statement has no JSON result, and the other way round.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_statement_result(Id=r["Id"])
    assert error_code(e) == "ValidationException"
    json_id = run_ok(client, identity, "select 1")["Id"]
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_statement_result_v2(Id=json_id)
    assert error_code(e) == "ValidationException"


def test_csv_result_paginated(client, identity):
    rows = 200_000
    r = client.execute_statement(
        Sql=f"select g, 'v' || g, md5(g::text) from generate_series(1, {rows}) g order by g",
        ResultFormat="CSV",
        WaitTimeSeconds=30,
        **identity,
    )
    assert wait_done(client, r["Id"])["Status"] == "FINISHED"
    text = []
    pages = 0
    for page in client.get_paginator("get_statement_result_v2").paginate(Id=r["Id"]):
        pages += 1
        assert page["TotalNumRows"] == rows
        chunk = "".join(rec["CSVRecords"] for rec in page["Records"])
        assert chunk.endswith("\n"), "a CSV page must end on a whole record"
        text.append(chunk)
    lines = "".join(text).splitlines()
    assert pages > 1, "a 200k-row CSV result should not fit one page"
    assert len(lines) == rows
    assert lines[0] == "1,v1,c4ca4238a0b923820dcc509a6f75849b"
    assert lines[-1].startswith(f"{rows},v{rows},")
    assert sum(int(line.split(",")[0]) for line in lines) == rows * (rows + 1) // 2


# --- parameters -------------------------------------------------------------------


def test_named_parameters(client, identity):
    sql = "select :num::int + 1 as n, ':x' as literal, :txt as t, 'it''s :no' as quoted -- :comment\n"
    params = [{"name": "num", "value": "41"}, {"name": "txt", "value": "hello"}]
    d = run_ok(client, identity, sql, Parameters=params)
    assert d["QueryParameters"] == params
    result = client.get_statement_result(Id=d["Id"])
    assert result["Records"] == [
        [{"longValue": 42}, {"stringValue": ":x"}, {"stringValue": "hello"}, {"stringValue": "it's :no"}]
    ]


def test_named_parameters_with_a_table(client, identity):
    table = unique("t_params")
    run_ok(client, identity, f"create table {table} (id int, name varchar(40), price numeric(10,2), day date)")
    insert = f"insert into {table} values (:id, :name, :price, :day)"
    for id_, name, price, day in [("1", "apple", "1.5", "2024-01-31"), ("2", "pear's", "20.25", "2024-02-29")]:
        run_ok(
            client,
            identity,
            insert,
            Parameters=[
                {"name": "id", "value": id_},
                {"name": "name", "value": name},
                {"name": "price", "value": price},
                {"name": "day", "value": day},
            ],
        )
    # The same parameter used twice, and next to a :: cast.
    records = query(
        client,
        identity,
        f"select name, price, day::text from {table} where id = :id or id = :id::int + 100 order by id",
        Parameters=[{"name": "id", "value": "2"}],
    )
    assert records == [[{"stringValue": "pear's"}, {"stringValue": "20.25"}, {"stringValue": "2024-02-29"}]]


# --- batches -------------------------------------------------------------------------


def count_rows(client, identity, table: str) -> int:
    return scalar(client, identity, f"select count(*) from {table}")


def test_batch_with_results(client, identity):
    table = unique("t_batch")
    r = client.batch_execute_statement(
        Sqls=[
            f"create table {table} (id int primary key, v text)",
            f"insert into {table} values (1, 'one'), (2, 'two')",
            f"select id, v from {table} order by id",
        ],
        WaitTimeSeconds=30,
        **identity,
    )
    d = wait_done(client, r["Id"])
    assert d["Status"] == "FINISHED", d.get("Error")
    assert d["HasResultSet"] is True
    subs = d["SubStatements"]
    assert [s["Id"] for s in subs] == [f"{r['Id']}:{i}" for i in (1, 2, 3)]
    assert [s["Status"] for s in subs] == ["FINISHED"] * 3
    assert [s["HasResultSet"] for s in subs] == [False, False, True]
    assert subs[1]["ResultRows"] == 2

    result = client.get_statement_result(Id=f"{r['Id']}:3")
    assert result["Records"] == [
        [{"longValue": 1}, {"stringValue": "one"}],
        [{"longValue": 2}, {"stringValue": "two"}],
    ]
    sub = client.describe_statement(Id=f"{r['Id']}:2")
    assert sub["Status"] == "FINISHED"
    assert sub["QueryString"] == f"insert into {table} values (1, 'one'), (2, 'two')"


def test_batch_transaction_is_all_or_nothing(client, identity):
    table = unique("t_tx")
    run_ok(client, identity, f"create table {table} (id int primary key)")
    r = client.batch_execute_statement(
        Sqls=[
            f"insert into {table} values (1)",
            f"insert into {table} values (2)",
            f"insert into {table} values (1)",  # duplicate key
        ],
        ExecutionMode="TRANSACTION",
        WaitTimeSeconds=30,
        **identity,
    )
    d = wait_done(client, r["Id"])
    assert d["Status"] == "FAILED"
    assert "duplicate key" in d["Error"]
    assert d["SubStatements"][2]["Status"] == "FAILED"
    assert "duplicate key" in d["SubStatements"][2]["Error"]
    assert count_rows(client, identity, table) == 0


def test_batch_auto_commit_keeps_earlier_statements(client, identity):
    table = unique("t_ac")
    run_ok(client, identity, f"create table {table} (id int primary key)")
    r = client.batch_execute_statement(
        Sqls=[
            f"insert into {table} values (1)",
            f"insert into {table} values (2)",
            f"insert into {table} values (1)",  # duplicate key
        ],
        ExecutionMode="AUTO_COMMIT",
        WaitTimeSeconds=30,
        **identity,
    )
    d = wait_done(client, r["Id"])
    assert d["Status"] == "FAILED"
    assert "duplicate key" in d["Error"]
    assert [s["Status"] for s in d["SubStatements"]] == ["FINISHED", "FINISHED", "FAILED"]
    records = query(client, identity, f"select id from {table} order by id")
    assert records == [[{"longValue": 1}], [{"longValue": 2}]]


# --- sessions -------------------------------------------------------------------------


def test_session_transaction_across_calls(client, identity):
    table = unique("t_sess")
    run_ok(client, identity, f"create table {table} (id int)")

    r = client.execute_statement(Sql="begin", SessionKeepAliveSeconds=120, WaitTimeSeconds=30, **identity)
    session_id = r["SessionId"]
    assert uuid.UUID(session_id)
    assert wait_done(client, r["Id"])["Status"] == "FINISHED"

    r = client.execute_statement(
        Sql=f"insert into {table} values (1), (2), (3)", SessionId=session_id, WaitTimeSeconds=30
    )
    assert r["SessionId"] == session_id
    d = wait_done(client, r["Id"])
    assert d["Status"] == "FINISHED", d.get("Error")
    assert d["SessionId"] == session_id

    # Inside the session the rows are there; outside, not until COMMIT.
    r = client.execute_statement(Sql=f"select count(*) from {table}", SessionId=session_id, WaitTimeSeconds=30)
    assert wait_done(client, r["Id"])["Status"] == "FINISHED"
    assert client.get_statement_result(Id=r["Id"])["Records"] == [[{"longValue": 3}]]
    assert count_rows(client, identity, table) == 0

    sessions = client.list_sessions(SessionId=session_id)["Sessions"]
    assert len(sessions) == 1
    s = sessions[0]
    assert s["SessionId"] == session_id
    assert s["Status"] == "AVAILABLE"
    assert s["Database"] == DATABASE
    assert s["ClusterIdentifier"] == CLUSTER_ID
    assert s["SessionAliveSeconds"] == 120

    r = client.execute_statement(Sql="commit", SessionId=session_id, WaitTimeSeconds=30)
    assert wait_done(client, r["Id"])["Status"] == "FINISHED"
    assert count_rows(client, identity, table) == 3

    all_ids = [s["SessionId"] for s in client.get_paginator("list_sessions").paginate().build_full_result()["Sessions"]]
    assert session_id in all_ids

    # A session names its own connection: identity members may not come along.
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.execute_statement(Sql="select 1", SessionId=session_id, **identity)
    assert error_code(e) == "ValidationException"


def test_session_closes_after_keep_alive(client, identity):
    r = client.execute_statement(Sql="select 1", SessionKeepAliveSeconds=1, WaitTimeSeconds=30, **identity)
    session_id = r["SessionId"]
    assert wait_done(client, r["Id"])["Status"] == "FINISHED"
    # The keep-alive is a time limit: poll (bounded) until the session is closed.
    deadline = time.monotonic() + 15
    while True:
        (s,) = client.list_sessions(SessionId=session_id)["Sessions"]
        if s["Status"] == "CLOSED":
            break
        assert time.monotonic() < deadline, f"session still {s['Status']} 15 s after a 1 s keep-alive"
        time.sleep(0.2)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.execute_statement(Sql="select 1", SessionId=session_id)
    assert error_code(e) in {"ValidationException", "ResourceNotFoundException"}


# --- cancel, idempotency, listing ------------------------------------------------------


def test_cancel_running_statement(client, identity):
    r = client.execute_statement(Sql="select pg_sleep(30)", **identity)
    started = time.monotonic()
    # Cancel once it is running (a cancel before that is also honoured).
    deadline = time.monotonic() + 10
    while client.describe_statement(Id=r["Id"])["Status"] != "STARTED" and time.monotonic() < deadline:
        time.sleep(0.02)
    assert client.cancel_statement(Id=r["Id"])["Status"] is True
    d = wait_done(client, r["Id"], timeout=25)
    assert d["Status"] == "ABORTED"
    assert time.monotonic() - started < 20, "the cancel did not stop pg_sleep(30)"

    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.cancel_statement(Id=r["Id"])
    assert error_code(e) == "ValidationException"


def test_client_token_idempotency(client, identity):
    table = unique("t_tok")
    run_ok(client, identity, f"create table {table} (id int)")
    token = uuid.uuid4().hex
    sql = f"insert into {table} values (1)"
    first = client.execute_statement(Sql=sql, ClientToken=token, WaitTimeSeconds=30, **identity)
    second = client.execute_statement(Sql=sql, ClientToken=token, WaitTimeSeconds=30, **identity)
    assert second["Id"] == first["Id"]
    other = client.execute_statement(Sql=sql, ClientToken=uuid.uuid4().hex, WaitTimeSeconds=30, **identity)
    assert other["Id"] != first["Id"]
    wait_done(client, first["Id"])
    wait_done(client, other["Id"])
    assert count_rows(client, identity, table) == 2


def test_list_statements_by_name_prefix(client, identity):
    prefix = unique("job")
    ids = {}
    for i in range(3):
        name = f"{prefix}-{i}"
        ids[name] = run_ok(client, identity, f"select {i}", StatementName=name)["Id"]
    run_ok(client, identity, "select 99", StatementName=unique("other"))

    listed = client.list_statements(StatementName=prefix)["Statements"]
    assert {s["StatementName"]: s["Id"] for s in listed} == ids
    for s in listed:
        assert s["Status"] == "FINISHED"
        assert s["IsBatchStatement"] is False
        assert s["QueryString"].startswith("select ")

    paged = client.get_paginator("list_statements").paginate(
        StatementName=prefix, PaginationConfig={"PageSize": 1}
    )
    pages = list(paged)
    assert len([p for p in pages if p["Statements"]]) == 3
    assert sorted(s["Id"] for p in pages for s in p["Statements"]) == sorted(ids.values())

    assert client.list_statements(StatementName=prefix, Status="FAILED")["Statements"] == []


# --- catalog -------------------------------------------------------------------------


def test_catalog_operations(client, identity):
    schema = unique("s_cat")
    table = unique("t_cat")
    view = unique("v_cat")
    run_ok(client, identity, f"create schema {schema}")
    run_ok(
        client,
        identity,
        f"create table {schema}.{table} (id int8 not null default 7, name varchar(20), "
        f"price numeric(10,2), created timestamp)",
    )
    run_ok(client, identity, f"create view {schema}.{view} as select id, name from {schema}.{table}")

    databases = client.list_databases(**identity)["Databases"]
    assert DATABASE in databases

    schemas = client.list_schemas(SchemaPattern=f"{schema}%", **identity)["Schemas"]
    assert schemas == [schema]
    all_schemas = client.list_schemas(**identity)["Schemas"]
    assert {"public", schema} <= set(all_schemas)

    tables = client.list_tables(SchemaPattern=schema, TablePattern="%", **identity)["Tables"]
    assert sorted((t["schema"], t["name"], t["type"]) for t in tables) == [
        (schema, table, "TABLE"),
        (schema, view, "VIEW"),
    ]
    only_table = client.list_tables(SchemaPattern=schema, TablePattern=f"{table[:6]}%", **identity)["Tables"]
    assert [t["name"] for t in only_table] == [table]

    described = client.describe_table(Schema=schema, Table=table, **identity)
    assert described["TableName"] == table
    columns = described["ColumnList"]
    assert [c["name"] for c in columns] == ["id", "name", "price", "created"]
    assert [c["typeName"] for c in columns] == ["int8", "varchar", "numeric", "timestamp"]
    assert [c["nullable"] for c in columns] == [0, 1, 1, 1]
    assert columns[0]["columnDefault"] == "7"
    assert columns[1]["length"] == 20
    assert (columns[2]["precision"], columns[2]["scale"]) == (10, 2)
    assert all(c["schemaName"] == schema and c["tableName"] == table for c in columns)

    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.describe_table(Schema=schema, Table=unique("missing"), **identity)
    assert error_code(e) == "ResourceNotFoundException"


# --- errors ------------------------------------------------------------------------------


def test_missing_identity_is_a_validation_error(client):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.execute_statement(Sql="select 1", Database=DATABASE)
    assert error_code(e) == "ValidationException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400

    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.execute_statement(Sql="select 1", Database=DATABASE, ClusterIdentifier=CLUSTER_ID, WorkgroupName="wg-1")
    assert error_code(e) == "ValidationException"


def test_parameter_mismatch_is_a_validation_error(client, identity):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.execute_statement(Sql="select :a", Parameters=[{"name": "b", "value": "1"}], **identity)
    assert error_code(e) == "ValidationException"


def test_unknown_statement_id_is_not_found(client):
    missing = str(uuid.uuid4())
    for call in (client.describe_statement, client.get_statement_result, client.cancel_statement):
        with pytest.raises(botocore.exceptions.ClientError) as e:
            call(Id=missing)
        assert error_code(e) == "ResourceNotFoundException", call
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_bad_sql_fails_with_the_postgres_message(client, identity):
    missing = unique("no_such_table")
    r = client.execute_statement(Sql=f"select * from {missing}", WaitTimeSeconds=30, **identity)
    d = wait_done(client, r["Id"])
    assert d["Status"] == "FAILED"
    assert f'relation "{missing}" does not exist' in d["Error"]
    assert d["HasResultSet"] is False

    d = run(client, identity, "selec 1")
    assert d["Status"] == "FAILED"
    assert 'syntax error at or near "selec"' in d["Error"]


def test_stats_counts_calls(client, identity, emulator_url):
    run_ok(client, identity, "select 1")
    with urllib.request.urlopen(f"{emulator_url}/stats", timeout=10) as response:
        stats = json.load(response)
    assert stats["ExecuteStatement"] >= 1
    assert stats["DescribeStatement"] >= 1


# --- awswrangler ---------------------------------------------------------------------------


def test_awswrangler_read_sql_query(boto3_session, client, identity):
    import awswrangler as wr

    table = unique("t_wr")
    run_ok(client, identity, f"create table {table} (id int, name varchar(20), price numeric(10,2), ok bool)")
    run_ok(client, identity, f"insert into {table} values (1, 'apple', 1.20, true), (2, 'pear', null, false)")

    con = wr.data_api.redshift.connect(
        cluster_id=CLUSTER_ID, database=DATABASE, db_user=DB_USER, boto3_session=boto3_session
    )
    try:
        df = wr.data_api.redshift.read_sql_query(f"select id, name, price, ok from {table} order by id", con=con)
        assert list(df.columns) == ["id", "name", "price", "ok"]
        assert df["id"].tolist() == [1, 2]
        assert df["name"].tolist() == ["apple", "pear"]
        assert df["price"].tolist()[0] == "1.20"
        assert df["price"].isna().tolist() == [False, True]
        assert df["ok"].tolist() == [True, False]

        df = wr.data_api.redshift.read_sql_query(
            f"select name from {table} where id = :id",
            con=con,
            parameters=[{"name": "id", "value": "2"}],
        )
        assert df["name"].tolist() == ["pear"]
    finally:
        con.close()
