"""Flight SQL interop: ADBC (DB-API) and pyarrow.flight against the local stack.

The ``flight_uri`` fixture (conftest.py) runs ``redshift-flight-sql local``:
a throwaway PostgreSQL loaded with the deterministic TICKIT sample, the Data
API emulator, and the gateway talking to the emulator. Results are checked for
exact Arrow types and exact values, cross-checked against aggregates the same
server computes in SQL. Every test that creates a table uses a uuid-suffixed
name, so the tests do not depend on each other or on their order.

ADBC's DB-API prepares every new SQL text (CreatePreparedStatement) before it
runs it. The gateway answers with the real dataset schema of a query, found by
running it wrapped in ``select * from (…) limit 0`` (one extra ExecuteStatement,
cached for 5 minutes per SQL text, database and principal), and an empty one for
DDL/DML. Metadata, parameters, transactions and ingest: test_flight_bi.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import urllib.request
import uuid
from decimal import Decimal
from typing import Iterator

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.flight as flight
import pytest

UTC = dt.timezone.utc

# --- helpers -----------------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def emulator_stats(emulator_url: str) -> dict[str, int]:
    """``GET /stats`` of the emulator behind the gateway: calls per Data API operation."""
    with urllib.request.urlopen(f"{emulator_url}/stats", timeout=10) as response:
        return json.load(response)


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(before) | set(after) if after.get(k, 0) != before.get(k, 0)}


def result_pages(delta: dict[str, int]) -> int:
    """Result pages fetched, in either Data API result format (JSON or CSV)."""
    return delta.get("GetStatementResult", 0) + delta.get("GetStatementResultV2", 0)


def query_table(cur, sql: str) -> pa.Table:
    cur.execute(sql)
    return cur.fetch_arrow_table()


def scalar_row(cur, sql: str) -> tuple:
    cur.execute(sql)
    rows = cur.fetchall()
    assert len(rows) == 1, rows
    return rows[0]


# Hand-encoded protobuf (no protobuf package): just what the tests send.


def _varint(n: int) -> bytes:
    assert n >= 0
    out = bytearray()
    while True:
        low = n & 0x7F
        n >>= 7
        if n:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def _length_delimited(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _any(type_url: str, value: bytes) -> bytes:
    """google.protobuf.Any{type_url = 1, value = 2}."""
    return _length_delimited(1, type_url.encode()) + _length_delimited(2, value)


def statement_query_command(sql: str) -> bytes:
    """Any(CommandStatementQuery{query = 1}) — the descriptor command of a query."""
    return _any(
        "type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery",
        _length_delimited(1, sql.encode()),
    )


def descriptor(sql: str) -> flight.FlightDescriptor:
    return flight.FlightDescriptor.for_command(statement_query_command(sql))


def test_protobuf_encoder() -> None:
    assert _varint(0) == b"\x00"
    assert _varint(1) == b"\x01"
    assert _varint(127) == b"\x7f"
    assert _varint(128) == b"\x80\x01"
    assert _varint(300) == b"\xac\x02"
    assert _length_delimited(1, b"abc") == b"\x0a\x03abc"
    long = b"x" * 200
    assert _length_delimited(2, long) == b"\x12\xc8\x01" + long


# --- fixtures ----------------------------------------------------------------


@pytest.fixture
def conn(flight_uri: str) -> Iterator[adbc_driver_manager.dbapi.Connection]:
    # autocommit=True: every statement commits on its own (transactions:
    # test_flight_bi.py).
    with flight_sql.connect(flight_uri, autocommit=True) as connection:
        yield connection


@pytest.fixture
def cur(conn) -> Iterator[adbc_driver_manager.dbapi.Cursor]:
    with conn.cursor() as cursor:
        yield cursor


@pytest.fixture
def client(flight_uri: str) -> Iterator[flight.FlightClient]:
    c = flight.FlightClient(flight_uri)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def table_name(cur) -> Iterator[str]:
    """A unique table name, dropped (if it exists) after the test."""
    name = unique("t_flight")
    yield name
    try:
        cur.execute(f"drop table if exists {name}")
    except adbc_driver_manager.Error:
        pass


# --- TICKIT: exact types and values cross-checked with SQL aggregates --------

I16, I32, I64, STR, BOOL = pa.int16(), pa.int32(), pa.int64(), pa.string(), pa.bool_()
DEC82 = pa.decimal128(8, 2)
TS = pa.timestamp("us")
DATE = pa.date32()

# name → [(column, Arrow type, nullable)], from src/local/tickit.sql.
TICKIT = {
    "users": (
        10000,
        [("userid", I32, False), ("username", STR, True), ("firstname", STR, True), ("lastname", STR, True),
         ("city", STR, True), ("state", STR, True), ("email", STR, True), ("phone", STR, True)]
        + [(c, BOOL, True) for c in ("likesports", "liketheatre", "likeconcerts", "likejazz", "likeclassical",
                                     "likeopera", "likerock", "likevegas", "likebroadway", "likemusicals")],
    ),
    "venue": (
        200,
        [("venueid", I16, False), ("venuename", STR, True), ("venuecity", STR, True), ("venuestate", STR, True),
         ("venueseats", I32, True)],
    ),
    "category": (
        11,
        [("catid", I16, False), ("catgroup", STR, True), ("catname", STR, True), ("catdesc", STR, True)],
    ),
    "date": (
        365,
        [("dateid", I16, False), ("caldate", DATE, False), ("day", STR, False), ("week", I16, False),
         ("month", STR, False), ("qtr", STR, False), ("year", I16, False), ("holiday", BOOL, True)],
    ),
    "event": (
        8000,
        [("eventid", I32, False), ("venueid", I16, False), ("catid", I16, False), ("dateid", I16, False),
         ("eventname", STR, True), ("starttime", TS, True)],
    ),
    "listing": (
        40000,
        [("listid", I32, False), ("sellerid", I32, False), ("eventid", I32, False), ("dateid", I16, False),
         ("numtickets", I16, False), ("priceperticket", DEC82, True), ("totalprice", DEC82, True),
         ("listtime", TS, True)],
    ),
    "sales": (
        50000,
        [("salesid", I32, False), ("listid", I32, False), ("sellerid", I32, False), ("buyerid", I32, False),
         ("eventid", I32, False), ("dateid", I16, False), ("qtysold", I16, False), ("pricepaid", DEC82, True),
         ("commission", DEC82, True), ("saletime", TS, True)],
    ),
}

# Flight SQL type names of the TICKIT column types.
TYPE_NAMES = {I16: "int2", I32: "int4", BOOL: "bool", DEC82: "numeric", TS: "timestamp", DATE: "date"}


def _aggregates(columns: list[tuple[str, pa.DataType, bool]]) -> list[tuple[str, str, str]]:
    """(column, kind, SQL expression) for the checks of one table."""
    out = []
    for name, typ, _ in columns:
        out.append((name, "count", f'count("{name}")'))
        if pa.types.is_integer(typ) or pa.types.is_decimal(typ):
            out.append((name, "sum", f'sum("{name}")'))
        elif pa.types.is_boolean(typ):
            out.append((name, "true", f'count(*) filter (where "{name}")'))
        elif pa.types.is_temporal(typ):
            out.append((name, "min", f'min("{name}")'))
            out.append((name, "max", f'max("{name}")'))
        elif pa.types.is_string(typ):
            out.append((name, "distinct", f'count(distinct "{name}")'))
    return out


def _arrow_aggregate(column: pa.ChunkedArray, kind: str):
    if kind == "count":
        return len(column) - column.null_count
    if kind == "sum":
        return pc.sum(column).as_py()
    if kind == "true":
        return pc.sum(column.cast(pa.int64())).as_py() or 0
    if kind == "min":
        return pc.min(column).as_py()
    if kind == "max":
        return pc.max(column).as_py()
    if kind == "distinct":
        return pc.count_distinct(column).as_py()
    raise AssertionError(kind)


@pytest.mark.parametrize("table", sorted(TICKIT))
def test_tickit_table_types_and_aggregates(cur, table: str) -> None:
    rows, columns = TICKIT[table]
    t = query_table(cur, f"select * from {table}")

    # Exact Arrow types and nullability, in order.
    assert [(f.name, f.type, f.nullable) for f in t.schema] == columns
    for f in t.schema:
        assert not pa.types.is_string_view(f.type) and not pa.types.is_large_string(f.type)
        md = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
        assert md["ARROW:FLIGHT:SQL:TABLE_NAME"] == table, f.name
        assert md["ARROW:FLIGHT:SQL:SCHEMA_NAME"] == "public", f.name
        assert md["ARROW:FLIGHT:SQL:CATALOG_NAME"] == "dev", f.name
        assert md["ARROW:FLIGHT:SQL:IS_NULLABLE"] == ("1" if f.nullable else "0"), f.name
        if f.type in TYPE_NAMES:
            assert md["ARROW:FLIGHT:SQL:TYPE_NAME"] == TYPE_NAMES[f.type], f.name
        if f.type == DEC82:
            assert (md["ARROW:FLIGHT:SQL:PRECISION"], md["ARROW:FLIGHT:SQL:SCALE"]) == ("8", "2"), f.name

    # Row count and per-column aggregates agree with the same server's SQL.
    checks = _aggregates(columns)
    expressions = ", ".join(["count(*)"] + [expr for _, _, expr in checks])
    sql_values = scalar_row(cur, f"select {expressions} from {table}")
    assert t.num_rows == rows == sql_values[0]
    mismatches = []
    for (name, kind, expr), expected in zip(checks, sql_values[1:]):
        got = _arrow_aggregate(t.column(name), kind)
        if kind == "sum":
            # Decimal sums compared exactly (never through float).
            assert isinstance(got, (int, Decimal)) and isinstance(expected, (int, Decimal)), (expr, got, expected)
        if got != expected or type(got) is float or type(expected) is float:
            mismatches.append((expr, got, expected))
    assert not mismatches, mismatches


def test_category_exact_rows(cur) -> None:
    t = query_table(cur, "select * from category order by catid")
    assert t.to_pylist() == [
        {"catid": c, "catgroup": g, "catname": n, "catdesc": d}
        for c, g, n, d in [
            (1, "Sports", "MLB", "Major League Baseball"),
            (2, "Sports", "NHL", "National Hockey League"),
            (3, "Sports", "NFL", "National Football League"),
            (4, "Sports", "NBA", "National Basketball Association"),
            (5, "Sports", "MLS", "Major League Soccer"),
            (6, "Shows", "Musicals", "Musical theatre"),
            (7, "Shows", "Plays", "All non-musical theatre"),
            (8, "Shows", "Opera", "All opera and light opera"),
            (9, "Concerts", "Pop", "All rock and pop music concerts"),
            (10, "Concerts", "Jazz", "All jazz singers and bands"),
            (11, "Concerts", "Classical", "All symphony, concerto, and choir concerts"),
        ]
    ]


def test_users_exact_values(cur) -> None:
    """Every users row against the generator formulas of tickit.sql."""
    t = query_table(cur, "select userid, username, email, state, likesports, likejazz from users order by userid")
    assert t.schema.field("userid").type == pa.int32() and not t.schema.field("userid").nullable
    states = ["WA", "ME", "MD", "IL", "NY", "FL", "NV", "SC", "GA", "AK"]
    expected = [
        {
            "userid": g,
            "username": "U" + str(g).zfill(7),  # char(8): exactly 8 characters, no padding
            "email": f"user{g}@example.com",
            "state": states[(g * 3) % 10],
            "likesports": None if g % 3 == 0 else g % 2 == 0,
            "likejazz": None if g % 11 == 0 else g % 4 == 1,
        }
        for g in range(1, 10001)
    ]
    assert t.to_pylist() == expected


def test_sales_types_and_totals(cur) -> None:
    t = query_table(cur, "select salesid, pricepaid, commission, saletime, qtysold from sales")
    assert t.schema.field("salesid").type == pa.int32() and not t.schema.field("salesid").nullable
    assert t.schema.field("pricepaid").type == pa.decimal128(8, 2)
    assert t.schema.field("commission").type == pa.decimal128(8, 2)
    assert t.schema.field("saletime").type == pa.timestamp("us")
    assert t.schema.field("saletime").type.tz is None
    assert t.schema.field("qtysold").type == pa.int16()

    count, total, commission, first, last, qty = scalar_row(
        cur,
        "select count(*), sum(pricepaid), sum(commission), min(saletime), max(saletime), sum(qtysold) from sales",
    )
    assert t.num_rows == count == 50000
    assert isinstance(total, Decimal) and isinstance(commission, Decimal)
    assert pc.sum(t["pricepaid"]).as_py() == total
    assert pc.sum(t["commission"]).as_py() == commission
    assert pc.min(t["saletime"]).as_py() == first
    assert pc.max(t["saletime"]).as_py() == last
    assert isinstance(first, dt.datetime) and first.tzinfo is None
    assert pc.sum(t["qtysold"]).as_py() == qty

    # Individual values: every price has exactly two decimal places, as Decimal.
    prices = t["pricepaid"].to_pylist()
    assert all(isinstance(p, Decimal) and p.as_tuple().exponent == -2 for p in prices)


def test_revenue_by_category_matches_sql_group_by(cur) -> None:
    """A join and group-by done in pyarrow on fetched tables equals the SQL one."""
    sales = query_table(cur, "select eventid, pricepaid from sales")
    event = query_table(cur, "select eventid, catid from event")
    joined = sales.join(event, "eventid", join_type="inner")
    by_cat = joined.group_by("catid").aggregate([("pricepaid", "sum"), ("pricepaid", "count")])
    got = {r["catid"]: (r["pricepaid_sum"], r["pricepaid_count"]) for r in by_cat.to_pylist()}

    cur.execute(
        "select e.catid, sum(s.pricepaid), count(s.pricepaid) from sales s join event e using (eventid) group by 1"
    )
    expected = {catid: (total, n) for catid, total, n in cur.fetchall()}
    assert len(expected) == 11
    assert got == expected
    assert all(isinstance(total, Decimal) for total, _ in got.values())


def test_date_table(cur) -> None:
    t = query_table(cur, "select dateid, caldate from date order by caldate")
    assert t.schema.field("caldate").type == pa.date32()
    assert not t.schema.field("caldate").nullable
    assert t["caldate"].to_pylist() == [dt.date(2008, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    assert t["dateid"].to_pylist() == list(range(1827, 1827 + 365))


# --- every type, with NULLs and extremes --------------------------------------

EVERY_TYPE_COLUMNS = [
    # (column, SQL type, Arrow type, Flight SQL type name)
    ("id", "int4", pa.int32(), "int4"),
    ("i2", "int2", pa.int16(), "int2"),
    ("i4", "int4", pa.int32(), "int4"),
    ("i8", "int8", pa.int64(), "int8"),
    ("f4", "float4", pa.float32(), "float4"),
    ("f8", "float8", pa.float64(), "float8"),
    ("n", "numeric(38,10)", pa.decimal128(38, 10), "numeric"),
    ("n0", "numeric(38,0)", pa.decimal128(38, 0), "numeric"),
    ("n2", "numeric(8,2)", pa.decimal128(8, 2), "numeric"),
    ("b", "bool", pa.bool_(), "bool"),
    ("ch", "char(5)", pa.string(), "bpchar"),
    ("vc", "varchar(40)", pa.string(), "varchar"),
    ("tx", "text", pa.string(), "text"),
    ("d", "date", pa.date32(), "date"),
    ("ts", "timestamp", pa.timestamp("us"), "timestamp"),
    ("tstz", "timestamptz", pa.timestamp("us", tz="UTC"), "timestamptz"),
    ("tm", "time", pa.time64("us"), "time"),
    ("by", "bytea", pa.binary(), "bytea"),
    ("j", "json", None, "json"),  # string storage; checked separately
]

EVERY_TYPE_ROWS = """
 (1, -32768, -2147483648, -9223372036854775808, -1.5, -2.5e300,
  '-1234567890123456789012345678.1234567890'::numeric(38,10),
  '-99999999999999999999999999999999999999'::numeric(38,0), '-0.01',
  false, 'ab', 'naïve café', '日本語 🎉 Ω', '1969-12-31', '1901-12-13 20:45:52.123456',
  '2021-06-01 12:34:56.789+05:30', '00:00:00.000001', '\\x00ff10'::bytea, '{"k": [1, null, "ü"]}'),
 (2, 32767, 2147483647, 9223372036854775807, 3.4028235e38, 0.1,
  '9999999999999999999999999999.9999999999'::numeric(38,10),
  '99999999999999999999999999999999999999'::numeric(38,0), '999999.99',
  true, 'abcde', '', '', '9999-12-31', '9999-12-31 23:59:59.999999',
  '1960-02-29 23:00:00-08', '23:59:59.999999', ''::bytea, '[]'),
 (3, 0, 0, 0, '-0', 'NaN', '0.0000000001'::numeric(38,10), '0'::numeric(38,0), '0',
  true, 'é', 'x', 'line1\nline2\ttab "quote" \\ backslash', '1970-01-01', '1969-12-31 23:59:59.5',
  '1970-01-01 00:00:00+00', '12:00:00', '\\x'::bytea || 'héllo'::bytea, 'null'),
 (4, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null, null)
"""

EVERY_TYPE_EXPECTED = [
    {
        "id": 1, "i2": -32768, "i4": -2147483648, "i8": -9223372036854775808, "f4": -1.5, "f8": -2.5e300,
        "n": Decimal("-1234567890123456789012345678.1234567890"),
        "n0": Decimal("-99999999999999999999999999999999999999"), "n2": Decimal("-0.01"),
        "b": False, "ch": "ab   ", "vc": "naïve café", "tx": "日本語 🎉 Ω",
        "d": dt.date(1969, 12, 31), "ts": dt.datetime(1901, 12, 13, 20, 45, 52, 123456),
        "tstz": dt.datetime(2021, 6, 1, 7, 4, 56, 789000, tzinfo=UTC),
        "tm": dt.time(0, 0, 0, 1), "by": b"\x00\xff\x10", "j": '{"k": [1, null, "ü"]}',
    },
    {
        "id": 2, "i2": 32767, "i4": 2147483647, "i8": 9223372036854775807,
        "f4": float(pa.scalar(3.4028235e38, pa.float32()).as_py()), "f8": 0.1,
        "n": Decimal("9999999999999999999999999999.9999999999"),
        "n0": Decimal("99999999999999999999999999999999999999"), "n2": Decimal("999999.99"),
        "b": True, "ch": "abcde", "vc": "", "tx": "",
        "d": dt.date(9999, 12, 31), "ts": dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        "tstz": dt.datetime(1960, 3, 1, 7, 0, 0, tzinfo=UTC),
        "tm": dt.time(23, 59, 59, 999999), "by": b"", "j": "[]",
    },
    {
        "id": 3, "i2": 0, "i4": 0, "i8": 0, "f4": -0.0, "f8": float("nan"),
        "n": Decimal("0.0000000001"), "n0": Decimal("0"), "n2": Decimal("0.00"),
        "b": True, "ch": "é    ", "vc": "x", "tx": 'line1\nline2\ttab "quote" \\ backslash',
        "d": dt.date(1970, 1, 1), "ts": dt.datetime(1969, 12, 31, 23, 59, 59, 500000),
        "tstz": dt.datetime(1970, 1, 1, tzinfo=UTC),
        "tm": dt.time(12, 0, 0), "by": "héllo".encode(), "j": "null",
    },
    {"id": 4, **{c: None for c, *_ in EVERY_TYPE_COLUMNS[1:]}},
]


def _create_every_type_table(cur, name: str) -> None:
    columns = ", ".join(f"{c} {sql_type}" for c, sql_type, *_ in EVERY_TYPE_COLUMNS)
    cur.execute(f"create table {name} ({columns})")
    cur.execute(f"insert into {name} values {EVERY_TYPE_ROWS}")
    assert cur.rowcount == 4


def _exact(value):
    """A value with its type, so that equality is exact: 1 != True,
    Decimal('1.0') != Decimal('1.00'), -0.0 != 0.0, nan == nan, and an aware
    datetime keeps its UTC offset."""
    if isinstance(value, float):
        return ("float", repr(value))
    if isinstance(value, Decimal):
        return ("Decimal", value.as_tuple())
    if isinstance(value, dt.datetime):
        return ("datetime", value, value.utcoffset())
    return (type(value).__name__, value)


def _assert_exact(got: list[dict], expected: list[dict]) -> None:
    assert [{k: _exact(v) for k, v in row.items()} for row in got] == [
        {k: _exact(v) for k, v in row.items()} for row in expected
    ]


def test_every_type_exact_values(cur, table_name: str) -> None:
    _create_every_type_table(cur, table_name)
    t = query_table(cur, f"select * from {table_name} order by id")

    assert t.schema.names == [c for c, *_ in EVERY_TYPE_COLUMNS]
    for column, _, arrow_type, type_name in EVERY_TYPE_COLUMNS:
        f = t.schema.field(column)
        md = {k.decode(): v.decode() for k, v in (f.metadata or {}).items()}
        assert md["ARROW:FLIGHT:SQL:TYPE_NAME"] == type_name, column
        assert md["ARROW:FLIGHT:SQL:TABLE_NAME"] == table_name, column
        assert f.nullable, column
        if arrow_type is not None:
            assert f.type == arrow_type, (column, f.type)
        assert not pa.types.is_string_view(f.type) and not pa.types.is_large_string(f.type), column
    decimals = {c: t.schema.field(c).metadata for c in ("n", "n0")}
    assert decimals["n"][b"ARROW:FLIGHT:SQL:PRECISION"] == b"38"
    assert decimals["n"][b"ARROW:FLIGHT:SQL:SCALE"] == b"10"

    # json: UTF-8 text, tagged with the canonical arrow.json extension type
    # (pyarrow turns the tag into its JsonType; the storage is plain string).
    j = t.schema.field("j").type
    if isinstance(j, pa.BaseExtensionType):
        assert j.extension_name == "arrow.json"
        assert j.storage_type == pa.string()
    else:
        assert j == pa.string()

    _assert_exact(t.to_pylist(), EVERY_TYPE_EXPECTED)

    # The raw Arrow values, independent of pyarrow's Python conversions.
    assert t["ts"].cast(pa.int64()).to_pylist()[:3] == [-2147483647876544, 253402300799999999, -500000]
    assert t["d"].cast(pa.int32()).to_pylist()[:3] == [-1, 2932896, 0]
    assert t["tm"].cast(pa.int64()).to_pylist()[:3] == [1, 86399999999, 43200000000]
    assert t["tstz"].cast(pa.int64()).to_pylist()[:3] == [1622531096789000, -310410000000000, 0]
    assert t["n"].null_count == t["by"].null_count == t["j"].null_count == 1

    # The NULL row is NULL in every column, distinct from '' and b''.
    assert all(t[c][3].as_py() is None for c in t.schema.names[1:])
    assert t["vc"][1].as_py() == "" and t["by"][1].as_py() == b""


def test_every_type_through_dbapi_rows(cur, table_name: str) -> None:
    """fetchall() gives the same Python values as the Arrow path."""
    _create_every_type_table(cur, table_name)
    cur.execute(f"select * from {table_name} order by id")
    assert [d[0] for d in cur.description] == [c for c, *_ in EVERY_TYPE_COLUMNS]
    rows = cur.fetchall()
    names = [c for c, *_ in EVERY_TYPE_COLUMNS]
    _assert_exact([dict(zip(names, r)) for r in rows], EVERY_TYPE_EXPECTED)


def test_literal_types_without_a_table(cur) -> None:
    """Expression columns: the same mapping, with the types PostgreSQL infers."""
    t = query_table(
        cur,
        "select 1::int2 a, 2 b, 3::int8 c, 1.5::float4 d, 2.5::float8 e, 12.345::numeric(10,3) f, "
        "true g, 'x'::char(2) h, 'y'::varchar(3) i, 'z'::text k, date '2000-02-29' l, "
        "timestamp '1899-12-31 23:59:59' m, timestamptz '2000-01-01 00:00:00-05' n, "
        "time '01:02:03.456789' o, '\\xdeadbeef'::bytea p, 'Infinity'::float8 q, '-Infinity'::float4 r, "
        "'NaN'::float4 s, '-0'::float8 t",
    )
    assert t.schema.types == [
        pa.int16(), pa.int32(), pa.int64(), pa.float32(), pa.float64(), pa.decimal128(10, 3), pa.bool_(),
        pa.string(), pa.string(), pa.string(), pa.date32(), pa.timestamp("us"), pa.timestamp("us", tz="UTC"),
        pa.time64("us"), pa.binary(), pa.float64(), pa.float32(), pa.float32(), pa.float64(),
    ]
    _assert_exact(
        t.to_pylist(),
        [{
            "a": 1, "b": 2, "c": 3, "d": 1.5, "e": 2.5, "f": Decimal("12.345"), "g": True, "h": "x ", "i": "y",
            "k": "z", "l": dt.date(2000, 2, 29), "m": dt.datetime(1899, 12, 31, 23, 59, 59),
            "n": dt.datetime(2000, 1, 1, 5, 0, tzinfo=UTC), "o": dt.time(1, 2, 3, 456789),
            "p": b"\xde\xad\xbe\xef", "q": float("inf"), "r": float("-inf"), "s": float("nan"), "t": -0.0,
        }],
    )


# --- a large, multi-page result ----------------------------------------------

LARGE_ROWS = 300_000
LARGE_SQL = f"select g, md5(g::text) as h from generate_series(1, {LARGE_ROWS}) g"


@functools.lru_cache(maxsize=1)
def large_expected() -> tuple[list[int], list[str]]:
    g = list(range(1, LARGE_ROWS + 1))
    return g, [hashlib.md5(str(i).encode()).hexdigest() for i in g]


def test_large_result_fetch_arrow_table(cur, flight_uri: str, local_emulator_url: str) -> None:
    # A SQL text of its own (the comment), so that no other test warmed the
    # gateway's schema cache for it.
    sql = f"{LARGE_SQL} /* {unique('large')} */"
    before = emulator_stats(local_emulator_url)
    t = query_table(cur, sql)
    delta = stats_delta(before, emulator_stats(local_emulator_url))

    assert t.schema.types == [pa.int32(), pa.string()]
    assert t.num_rows == LARGE_ROWS
    assert pc.sum(t["g"]).as_py() == LARGE_ROWS * (LARGE_ROWS + 1) // 2
    (sql_count, sql_sum) = scalar_row(cur, f"select count(*), sum(g) from ({LARGE_SQL}) q")
    assert (t.num_rows, pc.sum(t["g"]).as_py()) == (sql_count, sql_sum)
    g, h = large_expected()
    assert t["g"].to_pylist() == g  # in order (the FlightInfo is ordered)
    assert t["h"].to_pylist() == h
    # The first execute of a SQL text: ADBC prepares it, and the gateway finds
    # the dataset schema with `select * from (…) limit 0` (one statement); then
    # the query itself (one statement), whose result came in several pages.
    assert delta.get("ExecuteStatement") == 2, delta
    assert result_pages(delta) >= 2, delta

    # The same SQL text again, prepared anew on another connection: the schema
    # comes from the gateway's cache, so only the query itself runs.
    with flight_sql.connect(flight_uri, autocommit=True) as other, other.cursor() as again:
        before = emulator_stats(local_emulator_url)
        repeat = query_table(again, sql)
        delta = stats_delta(before, emulator_stats(local_emulator_url))
    assert delta.get("ExecuteStatement") == 1, delta
    assert repeat.equals(t, check_metadata=True)


def test_large_result_record_batch_reader(cur) -> None:
    cur.execute(LARGE_SQL)
    reader = cur.fetch_record_batch()
    assert reader.schema.types == [pa.int32(), pa.string()]
    batches = 0
    rows = 0
    total = 0
    last = 0
    for batch in reader:
        batches += 1
        rows += batch.num_rows
        total += pc.sum(batch.column("g")).as_py() or 0
        if batch.num_rows:
            assert batch.column("g")[0].as_py() == last + 1  # batches arrive in order
            last = batch.column("g")[-1].as_py()
    assert batches > 1
    assert rows == LARGE_ROWS
    assert total == LARGE_ROWS * (LARGE_ROWS + 1) // 2


def test_large_result_fetchall(cur) -> None:
    cur.execute(LARGE_SQL)
    assert [d[0] for d in cur.description] == ["g", "h"]
    first = cur.fetchone()
    some = cur.fetchmany(999)
    rest = cur.fetchall()
    rows = [first, *some, *rest]
    assert len(rows) == LARGE_ROWS
    g, h = large_expected()
    assert [r[0] for r in rows] == g
    assert [r[1] for r in rows] == h
    assert cur.fetchone() is None


def test_large_result_fetch_df(cur) -> None:
    cur.execute(LARGE_SQL)
    df = cur.fetch_df()
    assert list(df.columns) == ["g", "h"]
    assert str(df["g"].dtype) == "int32"
    assert len(df) == LARGE_ROWS
    assert int(df["g"].sum()) == LARGE_ROWS * (LARGE_ROWS + 1) // 2
    g, h = large_expected()
    assert df["h"].tolist() == h


# --- pyarrow.flight: the cached re-read of one FlightInfo --------------------


@pytest.mark.parametrize(
    ("sql", "rows", "pages"),
    [
        ("select g, md5(g::text) as h from generate_series(1, 200000) g", 200_000, "several"),
        ("select * from category", 11, "one"),
    ],
    ids=["multi-page", "single-page"],
)
def test_second_do_get_is_served_from_the_cache(
    client: flight.FlightClient, local_emulator_url: str, sql: str, rows: int, pages: str
) -> None:
    before = emulator_stats(local_emulator_url)
    info = client.get_flight_info(descriptor(sql))
    after_info = emulator_stats(local_emulator_url)
    info_calls = stats_delta(before, after_info)
    assert info_calls.get("ExecuteStatement") == 1, info_calls
    assert result_pages(info_calls) == 1, info_calls  # the first page
    assert len(info.endpoints) == 1
    ticket = info.endpoints[0].ticket

    first = client.do_get(ticket).read_all()
    after_first = emulator_stats(local_emulator_url)
    second = client.do_get(ticket).read_all()
    after_second = emulator_stats(local_emulator_url)

    assert first.num_rows == rows
    assert first.equals(second, check_metadata=True)
    assert first.schema.equals(info.schema, check_metadata=True)
    # The second DoGet is answered from the results cache: no Data API call.
    assert after_second == after_first, stats_delta(after_first, after_second)
    first_calls = stats_delta(after_info, after_first)
    if pages == "one":
        # The whole result was cached by GetFlightInfo: even the first DoGet is free.
        assert first_calls == {}, first_calls
    else:
        # Only result pages (in the gateway's Data API result format).
        assert set(first_calls) <= {"GetStatementResult", "GetStatementResultV2"}, first_calls
        assert result_pages(first_calls) >= 1, first_calls


def test_ticket_is_readable_on_another_connection(flight_uri: str, local_emulator_url: str) -> None:
    """A ticket is not bound to the connection that got it (no auth: same principal)."""
    sql = "select listid, totalprice from listing order by listid"
    with flight.FlightClient(flight_uri) as a, flight.FlightClient(flight_uri) as b:
        info = a.get_flight_info(descriptor(sql))
        from_a = a.do_get(info.endpoints[0].ticket).read_all()
        before = emulator_stats(local_emulator_url)
        from_b = b.do_get(info.endpoints[0].ticket).read_all()
        assert emulator_stats(local_emulator_url) == before
    assert from_a.num_rows == 40000
    assert from_a.equals(from_b, check_metadata=True)


# --- errors ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "message"),
    [
        ("select * from {missing}", 'relation "{missing}" does not exist'),
        ("selec 1", 'syntax error at or near "selec"'),
        ("select 1 / (select count(*) - count(*) from category)", "division by zero"),
        ("select nosuchcolumn from category", 'column "nosuchcolumn" does not exist'),
    ],
    ids=["missing-relation", "syntax", "runtime", "missing-column"],
)
def test_bad_sql_raises_with_the_postgresql_message(conn, cur, sql: str, message: str) -> None:
    missing = unique("nope")
    sql = sql.format(missing=missing)
    message = message.format(missing=missing)
    with pytest.raises(adbc_driver_manager.ProgrammingError) as excinfo:
        cur.execute(sql)
        cur.fetch_arrow_table()
    error = excinfo.value
    assert message in str(error)
    assert error.status_code == adbc_driver_manager.AdbcStatusCode.INVALID_ARGUMENT
    assert "INVALID_ARGUMENT" in str(error)

    # The cursor and the connection still work.
    assert scalar_row(cur, "select count(*) from category") == (11,)
    with conn.cursor() as other:
        assert scalar_row(other, "select count(*) from venue") == (200,)


def test_bad_sql_is_invalid_argument_over_flight(client: flight.FlightClient) -> None:
    missing = unique("nope")
    # pyarrow maps gRPC INVALID_ARGUMENT to ArrowInvalid.
    with pytest.raises(pa.ArrowInvalid, match=f'relation "{missing}" does not exist'):
        client.get_flight_info(descriptor(f"select * from {missing}"))
    with pytest.raises(pa.ArrowInvalid, match=f'relation "{missing}" does not exist'):
        client.get_schema(descriptor(f"select * from {missing}"))
    info = client.get_flight_info(descriptor("select 42 as answer"))
    assert client.do_get(info.endpoints[0].ticket).read_all().to_pylist() == [{"answer": 42}]


def _dataset_schema(cur) -> pa.Schema:
    """The dataset schema of the cursor's prepared statement (ADBC returns
    the one CreatePreparedStatement answered, without another call)."""
    handle = cur.adbc_statement.execute_schema()  # keep it alive while importing
    return pa.Schema._import_from_c(handle.address)


def test_prepare_returns_the_schemas_and_execute_gives_the_rows(cur, local_emulator_url: str) -> None:
    # A SQL text of its own (the comment): the schema cache is cold.
    sql = (
        "select s.salesid, u.username, s.pricepaid, s.saletime, e.eventname, u.likesports "
        f"from sales s join users u on u.userid = s.buyerid join event e using (eventid) "
        f"where s.salesid between ? and ? order by s.salesid /* {unique('prepare')} */"
    )
    before = emulator_stats(local_emulator_url)
    # adbc_prepare returns the parameter schema: each `?` typed as the column
    # it is compared with (`s.salesid between ? and ?`: int4).
    parameters = cur.adbc_prepare(sql)
    prepared = stats_delta(before, emulator_stats(local_emulator_url))
    assert parameters is not None
    assert [(f.name, f.type, f.nullable) for f in parameters] == [("1", pa.int32(), True), ("2", pa.int32(), True)]
    # Preparing ran only two `limit 0` queries: the dataset schema's and the
    # one that types the parameters' columns.
    assert prepared.get("ExecuteStatement") == 2, prepared

    dataset = _dataset_schema(cur)
    assert [(f.name, f.type, f.nullable) for f in dataset] == [
        ("salesid", pa.int32(), False),
        ("username", pa.string(), True),
        ("pricepaid", pa.decimal128(8, 2), True),
        ("saletime", pa.timestamp("us"), True),
        ("eventname", pa.string(), True),
        ("likesports", pa.bool_(), True),
    ]
    md = {k.decode(): v.decode() for k, v in dataset.field("username").metadata.items()}
    assert (md["ARROW:FLIGHT:SQL:TABLE_NAME"], md["ARROW:FLIGHT:SQL:TYPE_NAME"]) == ("users", "bpchar")

    # Executing the prepared text (not prepared again) gives the rows, in the
    # prepared schema, for one statement.
    before = emulator_stats(local_emulator_url)
    cur.execute(sql, (11, 15))
    t = cur.fetch_arrow_table()
    executed = stats_delta(before, emulator_stats(local_emulator_url))
    assert executed.get("ExecuteStatement") == 1, executed
    assert t.schema.equals(dataset, check_metadata=True)
    expected = query_table(
        cur,
        "select s.salesid, u.username, s.pricepaid, s.saletime, e.eventname, u.likesports "
        "from sales s join users u on u.userid = s.buyerid join event e using (eventid) "
        "where s.salesid in (11, 12, 13, 14, 15) order by s.salesid",
    )
    assert t["salesid"].to_pylist() == [11, 12, 13, 14, 15]
    assert t.to_pylist() == expected.to_pylist()

    # New parameters for the same prepared statement.
    cur.execute(sql, (20000, 20001))
    assert cur.fetch_arrow_table()["salesid"].to_pylist() == [20000, 20001]


def test_prepare_ddl_has_an_empty_schema_and_runs_nothing(
    conn, cur, table_name: str, local_emulator_url: str
) -> None:
    sql = f"create table {table_name} (a int4, b varchar(10))"
    before = emulator_stats(local_emulator_url)
    parameters = cur.adbc_prepare(sql)
    assert stats_delta(before, emulator_stats(local_emulator_url)) == {}  # nothing ran
    assert parameters is not None and len(parameters) == 0
    assert len(_dataset_schema(cur)) == 0
    with pytest.raises(adbc_driver_manager.ProgrammingError, match="does not exist"):
        with conn.cursor() as other:
            other.execute(f"select * from {table_name}")
    cur.execute(sql)
    assert query_table(cur, f"select * from {table_name}").schema.names == ["a", "b"]


# --- FlightInfo schema = streamed schema --------------------------------------

SCHEMA_QUERIES = {
    "tickit-sales": "select * from sales",
    "tickit-users-subset": "select * from users where userid <= 100",
    "join-with-expressions": (
        "select s.salesid, s.pricepaid * 2 as doubled, e.eventname, e.starttime, d.caldate "
        "from sales s join event e using (eventid) join date d on d.dateid = s.dateid where s.salesid <= 500"
    ),
    "literals": (
        "select 1::int2 a, 2 b, 3::int8 c, 1.5::float4 d, 2.5::float8 e, 1.25::numeric(38,10) f, null::bool g, "
        "'x'::char(3) h, 'y'::varchar(3) i, 'é'::text k, current_date l, localtimestamp m, now() n, "
        "localtime o, '\\x01'::bytea p, '{}'::json q"
    ),
    "empty": "select * from listing where false",
    "multi-page": "select g, md5(g::text) as h from generate_series(1, 150000) g",
}


@pytest.mark.parametrize("sql", SCHEMA_QUERIES.values(), ids=SCHEMA_QUERIES.keys())
def test_flight_info_schema_equals_streamed_schema(client: flight.FlightClient, flight_uri: str, sql: str) -> None:
    info = client.get_flight_info(descriptor(sql))
    streamed = client.do_get(info.endpoints[0].ticket).read_all()
    assert info.schema.equals(streamed.schema, check_metadata=True), (info.schema, streamed.schema)
    assert info.ordered
    assert [loc for e in info.endpoints for loc in e.locations] == []  # reuse this connection
    assert info.total_records in (-1, streamed.num_rows)

    # GetSchema (which runs the query again) answers the same schema.
    schema = client.get_schema(descriptor(sql)).schema
    assert schema.equals(streamed.schema, check_metadata=True)

    # ADBC sees the same schema, field metadata included.
    with flight_sql.connect(flight_uri, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql)
        via_adbc = cur.fetch_arrow_table()
    assert via_adbc.schema.equals(streamed.schema, check_metadata=True)
    assert via_adbc.num_rows == streamed.num_rows


def test_statement_without_result_set(client: flight.FlightClient, cur, table_name: str) -> None:
    """DDL/DML through CommandStatementQuery: an empty schema, and no rows."""
    info = client.get_flight_info(descriptor(f"create table {table_name} (a int4, b text)"))
    streamed = client.do_get(info.endpoints[0].ticket).read_all()
    assert info.schema == pa.schema([]) == streamed.schema
    assert streamed.num_rows == 0

    info = client.get_flight_info(descriptor(f"insert into {table_name} values (1, 'a'), (2, null)"))
    assert info.total_records == 2
    assert client.do_get(info.endpoints[0].ticket).read_all().num_rows == 0
    assert query_table(cur, f"select * from {table_name} order by a").to_pylist() == [
        {"a": 1, "b": "a"},
        {"a": 2, "b": None},
    ]


def test_cancel_flight_info_of_a_finished_statement(client: flight.FlightClient) -> None:
    info = client.get_flight_info(descriptor("select * from venue"))
    # CancelFlightInfoRequest{info = 1}; the statement already finished.
    results = list(client.do_action(flight.Action("CancelFlightInfo", _length_delimited(1, info.serialize()))))
    assert len(results) == 1
    # CancelFlightInfoResult{status = 1: CANCEL_STATUS_NOT_CANCELLABLE (3)}.
    assert results[0].body.to_pybytes() == _varint(1 << 3 | 0) + _varint(3)
    # The result can still be read.
    assert client.do_get(info.endpoints[0].ticket).read_all().num_rows == 200
