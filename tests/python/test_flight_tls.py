"""TLS with the clients users run: ADBC (``grpc+tls://`` with the CA of
``local --tls``) and pyarrow (``tls_root_certs``); a client that does not
trust the CA, or speaks plain text, gets nothing."""

from __future__ import annotations

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pyarrow.flight as flight
import pytest

from test_flight_adbc import descriptor


def _adbc(uri: str, ca: bytes | None):
    kwargs = {}
    if ca is not None:
        kwargs[adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value] = ca.decode()
    return flight_sql.connect(uri, db_kwargs=kwargs, autocommit=True)


def test_adbc_queries_over_tls_with_the_local_ca(tls_stack: tuple[str, bytes]) -> None:
    uri, ca = tls_stack
    assert uri.startswith("grpc+tls://")
    with _adbc(uri, ca) as conn, conn.cursor() as cur:
        cur.execute("select catname, count(*) as n from category group by catname order by catname")
        table = cur.fetch_arrow_table()
    assert table.num_rows > 0
    assert table.schema.field("catname").type == pa.string()


def test_pyarrow_reads_over_tls_with_tls_root_certs(tls_stack: tuple[str, bytes]) -> None:
    uri, ca = tls_stack
    with flight.FlightClient(uri, tls_root_certs=ca) as client:
        info = client.get_flight_info(descriptor("select 42 as answer, 'tls' as how"))
        rows = client.do_get(info.endpoints[0].ticket).read_all().to_pylist()
    assert rows == [{"answer": 42, "how": "tls"}]


def test_a_client_that_does_not_trust_the_ca_is_refused(tls_stack: tuple[str, bytes]) -> None:
    uri, _ = tls_stack
    with pytest.raises(adbc_driver_manager.Error):
        with _adbc(uri, None) as conn, conn.cursor() as cur:
            cur.execute("select 1")
            cur.fetchall()


def test_plain_text_is_refused_on_the_tls_port(tls_stack: tuple[str, bytes]) -> None:
    uri, _ = tls_stack
    plain = uri.replace("grpc+tls://", "grpc://")
    with flight.FlightClient(plain) as client:
        with pytest.raises(flight.FlightError):
            client.get_flight_info(
                descriptor("select 1"), options=flight.FlightCallOptions(timeout=10)
            )
