"""polars over the gateway: ``read_database_uri(engine="adbc")`` and
``read_database`` with an ADBC connection, on TICKIT.

polars picks the ADBC driver from the URI's scheme (``adbc_driver_<scheme>``),
so the gateway's ``grpc://host:port`` would send it looking for a module
``adbc_driver_grpc``. The Flight SQL driver also takes its own scheme,
``flightsql://host:port``, which is TLS unless ``?transport=tcp`` asks for
plaintext gRPC: that is the URI polars gets here. (The local stack of the
``flight_uri`` fixture has no authentication. With ``--auth`` there is no
way to give polars credentials in the URI — the driver does not read a URI's
user info — so pass a connection made with ``db_kwargs`` to ``read_database``.)

Every result is checked for exact polars dtypes and exact values against the
same query read independently: over pyarrow.flight (GetFlightInfo and DoGet,
without preparing) and, for the decimals, against the text PostgreSQL prints.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Iterator
from urllib.parse import urlsplit

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import polars as pl
import pyarrow as pa
import pyarrow.flight as flight
import pytest

# Revenue per category. The sum of numeric(8,2) is an unconstrained numeric
# in PostgreSQL, whose scale only its values tell: it must arrive exact
# (decimal(38,2)), not rounded to a scale guessed at prepare time.
QUERY = """
select e.catid, c.catname, count(*) as sales, sum(s.qtysold) as tickets,
       sum(s.pricepaid) as revenue,
       min(s.saletime) as first_sale, max(s.saletime) as last_sale
from sales s join event e using (eventid) join category c using (catid)
group by e.catid, c.catname
order by e.catid
"""

# The same sums as PostgreSQL prints them: independent of any decimal conversion.
REVENUE_TEXT = """
select e.catid, sum(s.pricepaid)::text
from sales s join event e using (eventid)
group by e.catid
order by e.catid
"""

SCHEMA = {
    "catid": pl.Int16,
    "catname": pl.String,
    "sales": pl.Int64,
    "tickets": pl.Int64,
    "revenue": pl.Decimal(38, 2),
    "first_sale": pl.Datetime("us"),
    "last_sale": pl.Datetime("us"),
}

CATEGORIES = ["MLB", "NHL", "NFL", "NBA", "MLS", "Musicals", "Plays", "Opera", "Pop", "Jazz", "Classical"]


# Hand-encoded protobuf: Any(CommandStatementQuery{query = 1}).


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        low, n = n & 0x7F, n >> 7
        out.append(low | 0x80 if n else low)
        if not n:
            return bytes(out)


def _length_delimited(field: int, data: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def statement_query(sql: str) -> flight.FlightDescriptor:
    command = _length_delimited(1, b"type.googleapis.com/arrow.flight.protocol.sql.CommandStatementQuery")
    command += _length_delimited(2, _length_delimited(1, sql.encode()))
    return flight.FlightDescriptor.for_command(command)


# --- fixtures ----------------------------------------------------------------


@pytest.fixture
def polars_uri(flight_uri: str) -> str:
    """``flightsql://host:port?transport=tcp`` for ``grpc://host:port``."""
    parts = urlsplit(flight_uri)
    assert parts.scheme == "grpc", flight_uri
    return f"flightsql://{parts.netloc}?transport=tcp"


@pytest.fixture
def conn(flight_uri: str) -> Iterator[adbc_driver_manager.dbapi.Connection]:
    with flight_sql.connect(flight_uri, autocommit=True) as connection:
        yield connection


@pytest.fixture
def over_flight(flight_uri: str):
    """``over_flight(sql)``: the result table, over pyarrow.flight."""
    client = flight.FlightClient(flight_uri)

    def read(sql: str) -> pa.Table:
        info = client.get_flight_info(statement_query(sql))
        return pa.concat_tables(client.do_get(e.ticket).read_all() for e in info.endpoints)

    try:
        yield read
    finally:
        client.close()


def assert_revenue_frame(df: pl.DataFrame, expected: pa.Table, revenue_text: list[tuple]) -> None:
    assert df.schema == pl.Schema(SCHEMA)
    assert df.height == 11
    got = df.to_dicts()
    assert got == expected.to_pylist()

    assert [r["catname"] for r in got] == CATEGORIES
    assert [r["catid"] for r in got] == list(range(1, 12))
    # Exact decimals, with their cents: as PostgreSQL prints the sums.
    assert [(r["catid"], r["revenue"]) for r in got] == [(catid, Decimal(text)) for catid, text in revenue_text]
    assert all(isinstance(r["revenue"], Decimal) and r["revenue"].as_tuple().exponent == -2 for r in got)
    assert any(r["revenue"] % 1 for r in got)  # not whole numbers
    # Naive timestamps (Redshift's timestamp has no time zone), in the sample's year.
    for r in got:
        assert isinstance(r["first_sale"], dt.datetime) and r["first_sale"].tzinfo is None
        assert dt.datetime(2008, 1, 1) <= r["first_sale"] <= r["last_sale"] < dt.datetime(2010, 1, 1)
    assert sum(r["sales"] for r in got) == 50000  # every sale has its event


def expected_results(conn, over_flight) -> tuple[pa.Table, list[tuple]]:
    expected = over_flight(QUERY)
    assert expected.schema.types == [
        pa.int16(), pa.string(), pa.int64(), pa.int64(), pa.decimal128(38, 2), pa.timestamp("us"), pa.timestamp("us"),
    ]
    # ADBC (prepared) gives the same table.
    with conn.cursor() as cur:
        cur.execute(QUERY)
        assert cur.fetch_arrow_table().equals(expected)
        cur.execute(REVENUE_TEXT)
        revenue_text = cur.fetchall()
    return expected, revenue_text


# --- tests -------------------------------------------------------------------


def test_read_database_uri_with_adbc(polars_uri: str, conn, over_flight) -> None:
    expected, revenue_text = expected_results(conn, over_flight)
    df = pl.read_database_uri(QUERY, polars_uri, engine="adbc")
    assert_revenue_frame(df, expected, revenue_text)


def test_read_database_with_an_adbc_connection(conn, over_flight) -> None:
    expected, revenue_text = expected_results(conn, over_flight)
    df = pl.read_database(QUERY, connection=conn)
    assert_revenue_frame(df, expected, revenue_text)

    # A qmark parameter, through execute_options.
    one = pl.read_database(
        "select catid, catname from category where catid = ?", connection=conn, execute_options={"parameters": [9]}
    )
    assert one.schema == pl.Schema({"catid": pl.Int16, "catname": pl.String})
    assert one.to_dicts() == [{"catid": 9, "catname": "Pop"}]
