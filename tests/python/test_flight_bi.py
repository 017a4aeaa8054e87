"""What BI tools and their drivers do beyond running a query, against the local stack.

Through ADBC (``adbc_driver_flightsql.dbapi``): catalog metadata
(``adbc_get_objects`` at every depth and with filters, ``adbc_get_info``,
``adbc_get_table_schema``), parameterised queries with ``?``, ``executemany``
and update counts, transactions (``autocommit=False``) and bulk ingest
(``adbc_ingest``). Through flightsql-dbapi: its SQLAlchemy dialect's
reflection (table names, columns, primary key).

The ``flight_uri`` fixture (conftest.py) runs ``redshift-flight-sql local``: a
throwaway PostgreSQL with the deterministic TICKIT sample (src/local/tickit.sql),
the Data API emulator and the gateway. Every test that creates a table uses a
uuid-suffixed name and drops it afterwards.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import tomllib
import urllib.request
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterator

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pytest
import sqlalchemy as sa

import flightsql
import flightsql.sqlalchemy  # noqa: F401  (registers the datafusion+flightsql dialect)

REPO_ROOT = Path(__file__).resolve().parents[2]

# --- helpers -----------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def emulator_stats(emulator_url: str) -> dict[str, int]:
    """``GET /stats`` of the emulator behind the gateway: calls per Data API operation."""
    with urllib.request.urlopen(f"{emulator_url}/stats", timeout=10) as response:
        return json.load(response)


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after) if after.get(k, 0) != before.get(k, 0)}


def rows(connection, sql: str, parameters=None) -> list[tuple]:
    """All rows of `sql`, on a cursor of its own (a cursor's prepared
    statement belongs to the transaction it was prepared in)."""
    with connection.cursor() as cur:
        cur.execute(sql, parameters)
        return cur.fetchall()


def table_rows(connection, sql: str) -> pa.Table:
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table()


def exact(value):
    """A value with its type, so that equality is exact: 1 != True,
    Decimal('1.0') != Decimal('1.00'), -0.0 != 0.0 and nan == nan."""
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, Decimal):
        return ("Decimal", value.as_tuple())
    return (type(value).__name__, value)


def assert_exact(got: list[dict], expected: list[dict]) -> None:
    assert [{k: exact(v) for k, v in r.items()} for r in got] == [
        {k: exact(v) for k, v in r.items()} for r in expected
    ]


# --- fixtures ----------------------------------------------------------------


@pytest.fixture
def conn(flight_uri: str) -> Iterator[adbc_driver_manager.dbapi.Connection]:
    with flight_sql.connect(flight_uri, autocommit=True) as connection:
        yield connection


@pytest.fixture
def cur(conn) -> Iterator[adbc_driver_manager.dbapi.Cursor]:
    with conn.cursor() as cursor:
        yield cursor


@pytest.fixture
def new_table(flight_uri: str) -> Iterator[Callable[..., str]]:
    """``new_table(prefix="t_bi", kind="table")``: a unique name, whose
    table (or view) is dropped, if it exists, after the test."""
    made: list[tuple[str, str]] = []

    def make(prefix: str = "t_bi", kind: str = "table") -> str:
        name = unique(prefix)
        made.append((kind, name))
        return name

    yield make
    with flight_sql.connect(flight_uri, autocommit=True) as connection, connection.cursor() as cursor:
        for kind, name in reversed(made):
            try:
                cursor.execute(f"drop {kind} if exists {name}")
            except adbc_driver_manager.Error:
                pass


# --- the TICKIT catalog ------------------------------------------------------

# table → its columns in order: "name type" with the Flight SQL type name
# (PostgreSQL's, as Redshift reports it), "!" for NOT NULL (src/local/tickit.sql).
TICKIT_SPEC = {
    "users": "userid int4!, username bpchar, firstname varchar, lastname varchar, city varchar, state bpchar, "
    "email varchar, phone bpchar, likesports bool, liketheatre bool, likeconcerts bool, likejazz bool, "
    "likeclassical bool, likeopera bool, likerock bool, likevegas bool, likebroadway bool, likemusicals bool",
    "venue": "venueid int2!, venuename varchar, venuecity varchar, venuestate bpchar, venueseats int4",
    "category": "catid int2!, catgroup varchar, catname varchar, catdesc varchar",
    "date": "dateid int2!, caldate date!, day bpchar!, week int2!, month bpchar!, qtr bpchar!, year int2!, "
    "holiday bool",
    "event": "eventid int4!, venueid int2!, catid int2!, dateid int2!, eventname varchar, starttime timestamp",
    "listing": "listid int4!, sellerid int4!, eventid int4!, dateid int2!, numtickets int2!, "
    "priceperticket numeric, totalprice numeric, listtime timestamp",
    "sales": "salesid int4!, listid int4!, sellerid int4!, buyerid int4!, eventid int4!, dateid int2!, "
    "qtysold int2!, pricepaid numeric, commission numeric, saletime timestamp",
}

# Type name → (Arrow type, XDBC/JDBC data type ADBC reports for that Arrow type).
# Every TICKIT numeric is decimal(8,2).
TYPES = {
    "int2": (pa.int16(), 5),  # SMALLINT
    "int4": (pa.int32(), 4),  # INTEGER
    "bpchar": (pa.string(), 12),  # VARCHAR
    "varchar": (pa.string(), 12),
    "bool": (pa.bool_(), -7),  # BIT
    "numeric": (pa.decimal128(8, 2), 3),  # DECIMAL
    "date": (pa.date32(), 91),  # DATE
    "timestamp": (pa.timestamp("us"), 93),  # TIMESTAMP
}


def tickit_columns(table: str) -> list[tuple[str, str, bool]]:
    """[(column, type name, nullable)] of a TICKIT table, in order."""
    out = []
    for item in TICKIT_SPEC[table].split(","):
        name, type_name = item.split()
        out.append((name, type_name.rstrip("!"), not type_name.endswith("!")))
    return out


TICKIT = sorted(TICKIT_SPEC)


def objects(conn, **kwargs) -> list[dict]:
    return conn.adbc_get_objects(**kwargs).read_all().to_pylist()


def object_tables(objs: list[dict]) -> list[tuple[str, str, str]]:
    """(catalog, schema, table) of every table in an adbc_get_objects answer."""
    return [
        (c["catalog_name"], s["db_schema_name"], t["table_name"])
        for c in objs
        for s in c["catalog_db_schemas"] or []
        for t in s["db_schema_tables"] or []
    ]


def find_table(objs: list[dict], catalog: str, schema: str, table: str) -> dict:
    for c in objs:
        if c["catalog_name"] != catalog:
            continue
        for s in c["catalog_db_schemas"] or []:
            if s["db_schema_name"] != schema:
                continue
            for t in s["db_schema_tables"] or []:
                if t["table_name"] == table:
                    return t
    raise AssertionError(f"{catalog}.{schema}.{table} not in the adbc_get_objects answer")


def assert_columns(table: str, columns: list[dict], expected: list[tuple[int, str, str, bool]] | None = None) -> None:
    """The get_objects columns of a TICKIT table: [(ordinal, name, type, nullable)]."""
    if expected is None:
        expected = [(i, *c) for i, c in enumerate(tickit_columns(table), 1)]
    assert [c["column_name"] for c in columns] == [name for _, name, _, _ in expected]
    for column, (ordinal, name, type_name, nullable) in zip(columns, expected):
        where = f"{table}.{name}"
        assert column["ordinal_position"] == ordinal, where
        assert column["xdbc_type_name"] == type_name, where
        # ADBC derives the XDBC codes from the Arrow type the gateway reports.
        xdbc = TYPES[type_name][1]
        assert (column["xdbc_data_type"], column["xdbc_sql_data_type"]) == (xdbc, xdbc), where
        assert (column["xdbc_scope_catalog"], column["xdbc_scope_schema"], column["xdbc_scope_table"]) == (
            "dev",
            "public",
            table,
        ), where
        assert column["xdbc_is_autoincrement"] is False, where
        # ADBC's Flight SQL driver fills these only from non-standard XDBC_*
        # field metadata (nullability is on the Arrow field: see
        # test_get_table_schema_of_users); if ever filled, they must be right.
        assert column["xdbc_nullable"] in (None, 1 if nullable else 0), where
        assert column["xdbc_is_nullable"] in (None, "YES" if nullable else "NO"), where


# --- adbc_get_objects --------------------------------------------------------


@pytest.mark.parametrize("depth", ["catalogs", "db_schemas", "tables", "columns", "all"])
def test_get_objects_at_every_depth(conn, depth: str) -> None:
    objs = objects(conn, depth=depth)
    catalogs = {c["catalog_name"]: c for c in objs}
    assert "dev" in catalogs, list(catalogs)
    assert len(catalogs) == len(objs)  # each catalog once
    if depth == "catalogs":
        assert all(c["catalog_db_schemas"] is None for c in objs)
        return

    schemas = {s["db_schema_name"]: s for s in catalogs["dev"]["catalog_db_schemas"]}
    assert "public" in schemas, list(schemas)
    if depth == "db_schemas":
        assert all(s["db_schema_tables"] is None for c in objs for s in c["catalog_db_schemas"])
        return

    tables = {t["table_name"]: t for t in schemas["public"]["db_schema_tables"]}
    assert set(TICKIT) <= set(tables), sorted(tables)
    # The TICKIT tables are in dev.public only.
    assert sorted(t for t in object_tables(objs) if t[2] in TICKIT) == [("dev", "public", t) for t in TICKIT]
    for name in TICKIT:
        table = tables[name]
        assert table["table_type"] == "TABLE", name
        if depth == "tables":
            assert table["table_columns"] is None, name
            assert table["table_constraints"] is None, name
        else:
            assert_columns(name, table["table_columns"])
            assert isinstance(table["table_constraints"], list), name


def test_get_objects_spot_checks(conn) -> None:
    """The columns the brief names, looked up one by one."""
    objs = objects(conn, depth="all", catalog_filter="dev", db_schema_filter="public")
    users = {c["column_name"]: c for c in find_table(objs, "dev", "public", "users")["table_columns"]}
    assert (users["userid"]["ordinal_position"], users["userid"]["xdbc_type_name"]) == (1, "int4")
    assert users["userid"]["xdbc_data_type"] == 4  # INTEGER
    sales = {c["column_name"]: c for c in find_table(objs, "dev", "public", "sales")["table_columns"]}
    assert (sales["pricepaid"]["ordinal_position"], sales["pricepaid"]["xdbc_type_name"]) == (8, "numeric")
    assert sales["pricepaid"]["xdbc_data_type"] == 3  # DECIMAL
    # Precision and scale are not in the ADBC get_objects answer of the Flight SQL
    # driver (it reads no standard metadata for them): null, or else right.
    assert sales["pricepaid"]["xdbc_column_size"] in (None, 8)
    assert sales["pricepaid"]["xdbc_decimal_digits"] in (None, 2)


def test_get_objects_table_name_filter(conn) -> None:
    objs = objects(conn, depth="columns", table_name_filter="sal%")
    assert object_tables(objs) == [("dev", "public", "sales")]
    assert_columns("sales", find_table(objs, "dev", "public", "sales")["table_columns"])

    # `_` is one character.
    assert object_tables(objects(conn, depth="tables", table_name_filter="_ate")) == [("dev", "public", "date")]
    # Every filter at once; ordinal positions are the table's, not the answer's.
    objs = objects(
        conn,
        depth="columns",
        catalog_filter="dev",
        db_schema_filter="pub%",
        table_name_filter="listing",
        table_types_filter=["TABLE"],
        column_name_filter="%price%",
    )
    assert object_tables(objs) == [("dev", "public", "listing")]
    assert_columns(
        "listing",
        find_table(objs, "dev", "public", "listing")["table_columns"],
        [(6, "priceperticket", "numeric", True), (7, "totalprice", "numeric", True)],
    )


def test_get_objects_filters_that_match_nothing(conn) -> None:
    nothing = unique("nothing")
    assert object_tables(objects(conn, depth="columns", table_name_filter=nothing)) == []
    objs = objects(conn, depth="db_schemas", catalog_filter="dev", db_schema_filter=nothing)
    assert objs == [{"catalog_name": "dev", "catalog_db_schemas": []}]
    views = objects(conn, depth="tables", catalog_filter="dev", db_schema_filter="public", table_types_filter=["VIEW"])
    assert not [t for t in object_tables(views) if t[2] in TICKIT]


def test_get_objects_of_a_view(conn, cur, new_table) -> None:
    view = new_table("v_bi", kind="view")
    cur.execute(f"create view {view} as select userid, username, likesports from users where userid < 10")
    objs = objects(conn, depth="columns", table_name_filter=view)
    assert object_tables(objs) == [("dev", "public", view)]
    table = find_table(objs, "dev", "public", view)
    assert table["table_type"] == "VIEW"
    assert [(c["ordinal_position"], c["column_name"], c["xdbc_type_name"]) for c in table["table_columns"]] == [
        (1, "userid", "int4"),
        (2, "username", "bpchar"),
        (3, "likesports", "bool"),
    ]
    assert {"TABLE", "VIEW"} <= set(conn.adbc_get_table_types())


# --- adbc_get_info -----------------------------------------------------------


def test_get_info(conn) -> None:
    cargo = tomllib.loads((REPO_ROOT / "Cargo.toml").read_text())
    lock = tomllib.loads((REPO_ROOT / "Cargo.lock").read_text())
    arrow_versions = {p["version"] for p in lock["package"] if p["name"] == "arrow"}

    info = conn.adbc_get_info()
    # ADBC maps FlightSqlServerName/Version/ArrowVersion to vendor_*.
    assert info["vendor_name"] == "redshift-flight-sql"
    assert info["vendor_version"] == cargo["package"]["version"]
    assert info["vendor_arrow_version"] in arrow_versions, (info["vendor_arrow_version"], arrow_versions)
    assert info["driver_name"] == "ADBC Flight SQL Driver - Go"
    assert info["driver_adbc_version"] == 1_001_000  # ADBC API 1.1.0

    # FlightSqlServerSql / FlightSqlServerSubstrait, asked for by code.
    handle = conn.adbc_connection.get_info([3, 4])  # VENDOR_SQL, VENDOR_SUBSTRAIT
    by_code = {r["info_name"]: r["info_value"] for r in pa.RecordBatchReader._import_from_c(handle.address).read_all().to_pylist()}
    assert by_code == {3: True, 4: False}


# --- adbc_get_table_schema ---------------------------------------------------

# Column sizes (ARROW:FLIGHT:SQL:PRECISION) of users, from its DDL.
USERS_PRECISION = {
    "userid": "10", "username": "8", "firstname": "30", "lastname": "30", "city": "30", "state": "2",
    "email": "100", "phone": "14",
}


def test_get_table_schema_of_users(conn) -> None:
    schema = conn.adbc_get_table_schema("users")
    assert [(f.name, f.type, f.nullable) for f in schema] == [
        (name, TYPES[type_name][0], nullable) for name, type_name, nullable in tickit_columns("users")
    ]
    assert not schema.field("userid").nullable
    for field, (name, type_name, nullable) in zip(schema, tickit_columns("users")):
        md = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        assert md["ARROW:FLIGHT:SQL:TYPE_NAME"] == type_name, name
        assert md["ARROW:FLIGHT:SQL:IS_NULLABLE"] == ("1" if nullable else "0"), name
        assert (md["ARROW:FLIGHT:SQL:CATALOG_NAME"], md["ARROW:FLIGHT:SQL:SCHEMA_NAME"]) == ("dev", "public"), name
        assert md["ARROW:FLIGHT:SQL:TABLE_NAME"] == "users", name
        assert md["ARROW:FLIGHT:SQL:PRECISION"] == USERS_PRECISION.get(name, "1"), name  # bool: 1

    # The same schema, metadata included, as the one of `select * from users`,
    # plus the XDBC_* keys that ADBC's get_objects names its fields after.
    for field in schema:
        md = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        assert md["XDBC_NULLABLE"] == ("1" if field.nullable else "0"), field.name
        assert md["XDBC_TYPE_NAME"] == md["ARROW:FLIGHT:SQL:TYPE_NAME"], field.name
    standard = pa.schema(
        [
            f.with_metadata({k: v for k, v in f.metadata.items() if k.startswith(b"ARROW:")})
            for f in schema
        ]
    )
    assert standard.equals(table_rows(conn, "select * from users where false").schema, check_metadata=True)


def test_get_table_schema_qualified_and_missing(conn) -> None:
    sales = conn.adbc_get_table_schema("sales", catalog_filter="dev", db_schema_filter="public")
    assert [(f.name, f.type, f.nullable) for f in sales] == [
        (name, TYPES[type_name][0], nullable) for name, type_name, nullable in tickit_columns("sales")
    ]
    price = sales.field("pricepaid")
    assert price.type == pa.decimal128(8, 2)
    assert (price.metadata[b"ARROW:FLIGHT:SQL:PRECISION"], price.metadata[b"ARROW:FLIGHT:SQL:SCALE"]) == (b"8", b"2")

    with pytest.raises(adbc_driver_manager.Error) as excinfo:
        conn.adbc_get_table_schema(unique("missing"))
    assert excinfo.value.status_code == adbc_driver_manager.AdbcStatusCode.NOT_FOUND


# --- parameters --------------------------------------------------------------


def test_parameter(cur) -> None:
    cur.execute("select userid, username from users where userid = ?", (5,))
    assert cur.fetchall() == [(5, "U0000005")]
    # The same prepared statement with another value.
    cur.execute("select userid, username from users where userid = ?", (9999,))
    assert cur.fetchall() == [(9999, "U0009999")]
    cur.execute("select userid, username from users where userid = ?", (10001,))
    assert cur.fetchall() == []


def test_several_parameters(cur) -> None:
    sql = "select userid, username, state from users where userid between ? and ? and state = ? order by userid"
    cur.execute(sql, (1, 100, "WA"))  # state index (3g mod 10) = 0
    assert cur.fetchall() == [(g, f"U{g:07d}", "WA") for g in range(10, 101, 10)]
    cur.execute(sql, (101, 130, "ME"))  # (3g mod 10) = 1
    assert cur.fetchall() == [(g, f"U{g:07d}", "ME") for g in (107, 117, 127)]


def test_parameters_of_other_types(cur) -> None:
    sql = (
        "select count(*) from sales "
        "where pricepaid > ? and saletime >= ? and qtysold = ? and commission < ? and dateid <> ?"
    )
    cur.execute(sql, (Decimal("1000.00"), dt.datetime(2008, 6, 1, 12, 30), 2, 300.5, 1827))
    got = cur.fetchall()
    cur.execute(
        "select count(*) from sales where pricepaid > 1000.00 and saletime >= '2008-06-01 12:30:00' "
        "and qtysold = 2 and commission < 300.5 and dateid <> 1827"
    )
    expected = cur.fetchall()
    assert got == expected and expected[0][0] > 0

    cur.execute("select count(*) from users where likesports = ? and state in (?, ?)", (True, "WA", "NY"))
    got = cur.fetchall()
    cur.execute("select count(*) from users where likesports = true and state in ('WA', 'NY')")
    assert got == cur.fetchall()

    cur.execute("select caldate, day from date where caldate = ?", (dt.date(2008, 2, 29),))
    assert cur.fetchall() == [(dt.date(2008, 2, 29), "FRI")]


TRICKY_STRINGS = [
    "it's",
    "''",
    "back\\slash",
    "\\\\",
    "\\'",
    "trailing\\",
    "'; drop table users; --",
    'double "quotes"',
    "é中😀 Ω",
    "\\x41",
    "E'x'",
    "$1",
    ":name",
    "?",
    "%_",
    "line\nbreak\ttab\rreturn",
    "  padded  ",
    "null",
    "NULL",
    "x" * 5000,
]


def test_string_parameters_round_trip(cur) -> None:
    for value in TRICKY_STRINGS:
        cur.execute("select ? as v, octet_length(?) as n", (value, value))
        assert cur.fetchall() == [(value, len(value.encode()))], value


def test_empty_string_parameter(cur) -> None:
    cur.execute("select ? as v, ? is null as n, length(?) as l", ("", "", ""))
    assert cur.fetchall() == [("", False, 0)]


def test_question_marks_in_literals_are_not_parameters(cur) -> None:
    cur.execute("select '?' as q, ? as v, 'it''s ?' as r, \"?column?\" from (select 1 as \"?column?\") t", ("x",))
    assert cur.fetchall() == [("?", "x", "it's ?", 1)]


def test_string_parameters_stored_and_read_back(cur, new_table) -> None:
    table = new_table()
    cur.execute(f"create table {table} (k int4, v varchar(20000))")
    cur.executemany(f"insert into {table} values (?, ?)", list(enumerate(TRICKY_STRINGS)))
    assert cur.rowcount == len(TRICKY_STRINGS)
    cur.execute(f"select k, v from {table} order by k")
    assert cur.fetchall() == list(enumerate(TRICKY_STRINGS))
    # And found again by an equality on a parameter.
    for k, value in enumerate(TRICKY_STRINGS):
        cur.execute(f"select k from {table} where v = ?", (value,))
        assert cur.fetchall() == [(k,)], value


def test_null_parameter(cur) -> None:
    """A Python None: ADBC binds a column of Arrow type null."""
    cur.execute("select ? is null as n", (None,))
    assert cur.fetchall() == [(True,)]
    cur.execute("select ?::int4 as i, ?::varchar as s, ? as x", (None, None, 1))
    # Parameters travel as untyped text: the database types `select ?` as text.
    assert cur.fetchall() == [(None, None, "1")]


def test_null_parameter_inserted(cur, new_table) -> None:
    table = new_table()
    cur.execute(f"create table {table} (a int4, b varchar(20))")
    cur.execute(f"insert into {table} values (?, ?)", (1, None))
    cur.execute(f"insert into {table} values (?, ?)", (None, "x"))
    cur.execute(f"select a, b, b is null from {table} order by a nulls last")
    assert cur.fetchall() == [(1, None, True), (None, "x", False)]


def test_typed_null_parameters(cur) -> None:
    """NULLs in a typed column (as executemany and Arrow data bind them)."""
    batch = pa.record_batch(
        [pa.array([None], pa.int64()), pa.array([None], pa.string()), pa.array([None], pa.float64())],
        names=["a", "b", "c"],
    )
    cur.execute("select ? is null as a, ? is null as b, ? is null as c", batch)
    assert cur.fetchall() == [(True, True, True)]


# --- executemany and update counts --------------------------------------------


def test_executemany_crosses_the_batch_limit(cur, new_table, local_emulator_url: str) -> None:
    table = new_table()
    cur.execute(f"create table {table} (k int4 not null, v varchar(100), f float8)")
    data = [(k, None if k % 7 == 0 else f"row {k}: it's \\ ok é", k / 4) for k in range(100)]
    before = emulator_stats(local_emulator_url)
    cur.executemany(f"insert into {table} values (?, ?, ?)", data)
    delta = stats_delta(before, emulator_stats(local_emulator_url))
    assert cur.rowcount == 100
    # One BatchExecuteStatement holds at most 40 statements: three of them, in
    # one transaction.
    assert delta.get("BatchExecuteStatement") == 3, delta
    cur.execute(f"select k, v, f from {table} order by k")
    assert cur.fetchall() == data


def test_executemany_is_all_or_nothing(cur, new_table) -> None:
    table = new_table()
    cur.execute(f"create table {table} (k int4 not null)")
    data = [(k,) for k in range(100)]
    data[70] = (None,)  # in the second batch of 40
    with pytest.raises(adbc_driver_manager.Error, match="not-null constraint"):
        cur.executemany(f"insert into {table} values (?)", data)
    cur.execute(f"select count(*) from {table}")
    assert cur.fetchall() == [(0,)]


def test_rowcount_of_insert_update_delete(cur, new_table) -> None:
    table = new_table()
    cur.execute(f"create table {table} (k int4, v varchar(10))")
    cur.execute(f"insert into {table} values " + ", ".join(f"({k}, 'x')" for k in range(100)))
    assert cur.rowcount == 100
    cur.execute(f"update {table} set v = 'y' where k < 10")
    assert cur.rowcount == 10
    cur.execute(f"update {table} set v = ? where k between ? and ?", ("z", 10, 24))
    assert cur.rowcount == 15
    cur.execute(f"delete from {table} where k >= 90")
    assert cur.rowcount == 10
    cur.execute(f"delete from {table} where k = ?", (-1,))
    assert cur.rowcount == 0
    cur.execute(f"update {table} set v = 'w'")
    assert cur.rowcount == 90
    cur.execute(f"select v, count(*) from {table} group by v")
    assert cur.fetchall() == [("w", 90)]


# --- transactions ------------------------------------------------------------


@pytest.fixture
def tx_conn(flight_uri: str, new_table) -> Iterator[adbc_driver_manager.dbapi.Connection]:
    """A connection with autocommit off. (Depends on new_table so that it is
    closed before the test's tables are dropped.)"""
    connection = flight_sql.connect(flight_uri, autocommit=False)
    try:
        yield connection
    finally:
        # ADBC's close does not end the open transaction; its Data API session
        # (and its locks) would last until the session's keep-alive ran out.
        try:
            connection.rollback()
        except adbc_driver_manager.Error:
            pass
        connection.close()


def test_rollback_and_commit(conn, tx_conn, flight_uri: str, new_table) -> None:
    table = new_table()
    rows(conn, f"create table {table} (k int4, v varchar(20))")
    select = f"select k, v from {table} order by k"

    with tx_conn.cursor() as c:
        c.execute(f"insert into {table} values (1, 'rolled back')")
        assert c.rowcount == 1
    assert rows(tx_conn, select) == [(1, "rolled back")]  # its own transaction sees it
    assert rows(conn, select) == []  # no one else does
    tx_conn.rollback()
    assert rows(conn, select) == []
    assert rows(tx_conn, select) == []

    with tx_conn.cursor() as c:
        c.execute(f"insert into {table} values (?, ?)", (2, "committed"))
        c.executemany(f"insert into {table} values (?, ?)", [(3, "many"), (4, None)])
    assert rows(conn, select) == []
    tx_conn.commit()
    assert rows(conn, select) == [(2, "committed"), (3, "many"), (4, None)]
    with flight_sql.connect(flight_uri, autocommit=True) as fresh:
        assert rows(fresh, select) == [(2, "committed"), (3, "many"), (4, None)]
    assert rows(tx_conn, select) == [(2, "committed"), (3, "many"), (4, None)]


def test_rollback_undoes_updates_and_ddl(conn, tx_conn, new_table) -> None:
    table = new_table()
    created = new_table()
    rows(conn, f"create table {table} (k int4)")
    rows(conn, f"insert into {table} values (1), (2), (3)")

    rows(tx_conn, f"delete from {table} where k = 1")
    rows(tx_conn, f"update {table} set k = k * 10")
    rows(tx_conn, f"create table {created} (x int4)")
    assert rows(tx_conn, f"select k from {table} order by k") == [(20,), (30,)]
    tx_conn.rollback()

    assert rows(conn, f"select k from {table} order by k") == [(1,), (2,), (3,)]
    exists = "select count(*) from information_schema.tables where table_schema = 'public' and table_name = ?"
    assert rows(conn, exists, (created,)) == [(0,)]


# --- bulk ingest -------------------------------------------------------------


def ingest_data() -> pa.Table:
    return pa.table(
        {
            "id": pa.array(range(1, 9), pa.int32()),
            "i": pa.array([0, -(2**63), 2**63 - 1, None, 42, -1, 7, 1], pa.int64()),
            "f": pa.array(
                [1.5, None, 0.1, float("nan"), float("inf"), float("-inf"), 5e-324, -1.7976931348623157e308],
                pa.float64(),
            ),
            "s": pa.array(
                ["it's", "back\\slash", "both \\' and ''", "", None, "é中😀 Ω", 'line\nbreak\t"dq"', "%_?:name$1"],
                pa.string(),
            ),
            "b": pa.array([True, False, None, True, False, True, None, False], pa.bool_()),
            "d": pa.array(
                [dt.date(2020, 2, 29), dt.date(1970, 1, 1), None, dt.date(1969, 12, 31), dt.date(9999, 12, 31),
                 dt.date(1, 1, 1), dt.date(2008, 1, 1), dt.date(2000, 1, 1)],
                pa.date32(),
            ),
            "ts": pa.array(
                [dt.datetime(2020, 1, 1, 1, 2, 3, 456789), None, dt.datetime(1969, 12, 31, 23, 59, 59, 999999),
                 dt.datetime(1970, 1, 1), dt.datetime(9999, 12, 31, 23, 59, 59, 999999), dt.datetime(1, 1, 1),
                 dt.datetime(2008, 6, 1, 12), dt.datetime(1900, 6, 1, 0, 0, 0, 1)],
                pa.timestamp("us"),
            ),
            "n": pa.array(
                [Decimal("12345678.91"), None, Decimal("-0.01"), Decimal("0.00"), Decimal("99999999.99"),
                 Decimal("-99999999.99"), Decimal("1.10"), Decimal("0.05")],
                pa.decimal128(10, 2),
            ),
        }
    )


# The Redshift column types ingest makes, as information_schema.columns tells:
# (column, data_type, character_maximum_length, numeric_precision, numeric_scale).
INGEST_COLUMNS = [
    ("id", "integer", None, 32, 0),
    ("i", "bigint", None, 64, 0),
    ("f", "double precision", None, 53, None),
    ("s", "character varying", 65535, None, None),
    ("b", "boolean", None, None, None),
    ("d", "date", None, None, None),
    ("ts", "timestamp without time zone", None, None, None),
    ("n", "numeric", None, 10, 2),
]


def column_types(conn, table: str) -> list[tuple]:
    return rows(
        conn,
        "select column_name, data_type, character_maximum_length, numeric_precision, numeric_scale "
        "from information_schema.columns where table_schema = 'public' and table_name = ? order by ordinal_position",
        (table,),
    )


def read_back(conn, table: str, order: str = "id") -> pa.Table:
    return table_rows(conn, f"select * from {table} order by {order}")


def test_ingest_create_append_replace(conn, cur, new_table) -> None:
    table = new_table("t_ingest")
    data = ingest_data()

    assert cur.adbc_ingest(table, data, mode="create") == 8
    assert column_types(conn, table) == INGEST_COLUMNS
    got = read_back(conn, table)
    # Read back in the Arrow types ingest started from.
    assert [(f.name, f.type) for f in got.schema] == [(f.name, f.type) for f in data.schema]
    assert_exact(got.to_pylist(), data.to_pylist())

    # create on an existing table fails, and leaves it as it was.
    with pytest.raises(adbc_driver_manager.Error, match="already exists"):
        cur.adbc_ingest(table, data, mode="create")
    assert rows(conn, f"select count(*) from {table}") == [(8,)]

    assert cur.adbc_ingest(table, data.slice(0, 3), mode="append") == 3
    assert_exact(read_back(conn, table, "id, i").to_pylist(), sorted(
        data.to_pylist() + data.slice(0, 3).to_pylist(), key=lambda r: (r["id"], r["i"] is None, r["i"])
    ))

    assert cur.adbc_ingest(table, data.slice(5, 2), mode="create_append") == 2
    assert rows(conn, f"select count(*) from {table}") == [(13,)]

    # replace: the table is dropped and made anew, with the new data's columns.
    other = pa.table({"x": pa.array(["only", None], pa.string()), "y": pa.array([1.25, -0.5], pa.float64())})
    assert cur.adbc_ingest(table, other, mode="replace") == 2
    assert column_types(conn, table) == [
        ("x", "character varying", 65535, None, None),
        ("y", "double precision", None, 53, None),
    ]
    assert read_back(conn, table, "y").to_pylist() == [{"x": None, "y": -0.5}, {"x": "only", "y": 1.25}]


def test_ingest_create_append_creates_and_append_needs_the_table(conn, cur, new_table) -> None:
    data = ingest_data().select(["id", "s"])
    missing = new_table("t_ingest")
    with pytest.raises(adbc_driver_manager.Error, match="does not exist"):
        cur.adbc_ingest(missing, data, mode="append")
    assert column_types(conn, missing) == []

    table = new_table("t_ingest")
    assert cur.adbc_ingest(table, data, mode="create_append") == 8
    assert read_back(conn, table).to_pylist() == data.to_pylist()


def test_ingest_into_a_schema(conn, cur, new_table) -> None:
    table = new_table("t_ingest")
    data = pa.table({"k": pa.array([1, 2], pa.int64()), "v": pa.array(["a", "b"])})
    assert cur.adbc_ingest(table, data, mode="create", db_schema_name="public") == 2
    assert table_rows(conn, f"select * from public.{table} order by k").to_pylist() == data.to_pylist()


def test_ingest_keeps_not_null(conn, cur, new_table) -> None:
    table = new_table("t_ingest")
    schema = pa.schema([pa.field("k", pa.int64(), nullable=False), pa.field("v", pa.string())])
    data = pa.table({"k": [1, 2], "v": ["a", None]}, schema=schema)
    assert cur.adbc_ingest(table, data, mode="create") == 2
    got = read_back(conn, table, "k")
    assert [(f.name, f.type, f.nullable) for f in got.schema] == [("k", pa.int64(), False), ("v", pa.string(), True)]
    assert got.to_pylist() == data.to_pylist()


def many_rows(n: int, k_type: pa.DataType = pa.int64()) -> pa.Table:
    """`n` rows of about 70 bytes of SQL each: far more than one 100 KB statement."""
    return pa.table(
        {
            "k": pa.array(range(n), k_type),
            "v": pa.array([f"value {k} with 'quotes' and \\ backslash é" for k in range(n)], pa.string()),
        }
    )


def test_ingest_many_rows(conn, cur, new_table) -> None:
    """More rows than one statement may carry (the emulator refuses SQL over
    100 KB, like the Data API): ingest splits them."""
    table = new_table("t_ingest")
    data = many_rows(20_000)
    assert cur.adbc_ingest(table, data, mode="create") == 20_000
    got = read_back(conn, table, "k")
    assert got.num_rows == 20_000
    assert got.to_pylist() == data.to_pylist()


def test_ingest_is_all_or_nothing(conn, cur, new_table) -> None:
    """The statements of one ingest run in one transaction: a failure in the
    last one leaves none of the rows."""
    table = new_table("t_ingest")
    rows(conn, f"create table {table} (k bigint not null, v varchar(100))")
    data = many_rows(20_000)
    k = data["k"].to_pylist()
    k[-1] = None
    data = data.set_column(0, "k", pa.array(k, pa.int64()))
    with pytest.raises(adbc_driver_manager.Error, match="not-null constraint"):
        cur.adbc_ingest(table, data, mode="append")
    assert rows(conn, f"select count(*) from {table}") == [(0,)]


def test_ingest_float_negative_zero_keeps_its_sign(conn, cur, new_table) -> None:
    table = new_table("t_ingest")
    data = pa.table({"k": pa.array([1, 2], pa.int32()), "f": pa.array([-0.0, 0.0], pa.float64())})
    assert cur.adbc_ingest(table, data, mode="create") == 2
    got = read_back(conn, table, "k")["f"].to_pylist()
    assert [math.copysign(1.0, v) for v in got] == [-1.0, 1.0], got


# --- flightsql-dbapi and its SQLAlchemy dialect -------------------------------

# flightsql-dbapi's dialect (flightsql/sqlalchemy.py) registers as
# `datafusion+flightsql`; the URL is `datafusion+flightsql://host:port?…` with
# `insecure=True` for plaintext gRPC. It reflects through Flight SQL metadata
# commands: GetTables (table names; with include_schema for the columns, from
# the Arrow schema of the first matching table), GetDbSchemas, GetSqlInfo (at
# connect) and GetPrimaryKeys — the last only with
# `feature-sqlalchemy-primary-keys=on` (otherwise get_pk_constraint answers []).
# Without `feature-sqlalchemy-prepared-statements=on` it inlines bound values as
# literals instead of preparing statements.


@pytest.fixture
def engine(flight_uri: str) -> Iterator[sa.engine.Engine]:
    host_port = flight_uri.removeprefix("grpc://")
    e = sa.create_engine(f"datafusion+flightsql://{host_port}?insecure=True&feature-sqlalchemy-primary-keys=on")
    try:
        yield e
    finally:
        e.dispose()


# The SQLAlchemy types the dialect gives each Arrow type (flightsql/dbapi.py).
SA_TYPES = {
    "int2": sa.types.INTEGER, "int4": sa.types.INTEGER, "bpchar": sa.types.TEXT, "varchar": sa.types.TEXT,
    "bool": sa.types.BOOLEAN, "numeric": sa.types.DECIMAL, "date": sa.types.DATE, "timestamp": sa.types.TIMESTAMP,
}


def test_sqlalchemy_table_and_schema_names(engine) -> None:
    inspector = sa.inspect(engine)
    assert set(TICKIT) <= set(inspector.get_table_names(schema="public"))
    assert "public" in inspector.get_schema_names()
    assert inspector.has_table("users", schema="public")
    assert not inspector.has_table(unique("missing"), schema="public")


@pytest.mark.parametrize("table", ["users", "sales"])
def test_sqlalchemy_columns(engine, table: str) -> None:
    columns = sa.inspect(engine).get_columns(table, schema="public")
    assert [(c["name"], type(c["type"]), c["nullable"]) for c in columns] == [
        (name, SA_TYPES[type_name], nullable) for name, type_name, nullable in tickit_columns(table)
    ]


def test_sqlalchemy_primary_key(engine) -> None:
    inspector = sa.inspect(engine)
    assert inspector.get_pk_constraint("sales", schema="public") == {
        "constrained_columns": ["salesid"],
        "name": "sales_pkey",
    }
    assert inspector.get_pk_constraint("users", schema="public")["constrained_columns"] == ["userid"]


def test_sqlalchemy_reflect_and_query(engine) -> None:
    users = sa.Table("users", sa.MetaData(), autoload_with=engine, schema="public")
    assert [c.name for c in users.primary_key] == ["userid"]
    with engine.connect() as connection:
        query = sa.select(users.c.userid, users.c.username).where(users.c.userid.in_([5, 7])).order_by(users.c.userid)
        assert [tuple(r) for r in connection.execute(query)] == [(5, "U0000005"), (7, "U0000007")]
        count = connection.execute(sa.select(sa.func.count()).select_from(users)).scalar()
        assert count == 10000


def test_flightsql_dbapi_parameterised_query(flight_uri: str) -> None:
    host, port = flight_uri.removeprefix("grpc://").rsplit(":", 1)
    client = flightsql.FlightSQLClient(host=host, port=int(port), insecure=True)
    try:
        with flightsql.connect(client) as connection:
            cursor = connection.cursor()
            cursor.execute("select count(*) from users")
            assert cursor.fetchall() == [[10000]]
            try:
                cursor.execute("select userid, username from users where userid = ?", [5])
            except pa.ArrowInvalid as e:
                if "none were bound" not in str(e):
                    raise
                pytest.fail(
                    "flightsql-dbapi 0.2.2 cannot run a parameterised query against a server that keeps no "
                    "state between calls: PreparedStatement.execute() binds the parameters with "
                    "DoPut(CommandPreparedStatementQuery), ignores the DoPutPreparedStatementResult, and then "
                    "calls GetFlightInfo with the handle it had before. The Flight SQL spec says the handle in "
                    "DoPutPreparedStatementResult.prepared_statement_handle replaces the old one (\"all "
                    "subsequent requests for this prepared statement must use this new handle\"); the gateway's "
                    "handles are signed and stateless, so the old handle has no parameters. Server answer: "
                    f"{e}",
                    pytrace=False,
                )
            assert cursor.fetchall() == [[5, "U0000005"]]
    finally:
        client.close()
