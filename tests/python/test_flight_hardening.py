"""Input that must not hurt the gateway, through ADBC against the ``local``
process: each bad request is refused with INVALID_ARGUMENT, the process's
resident memory stays where it was, and the next query runs as usual.

Before these limits, ``select $1000000`` alone took the process from 67 to
355 MiB, ``select $18446744073709551615`` panicked a handler, and a 5 MB SQL
text came back INTERNAL.
"""

from __future__ import annotations

from pathlib import Path

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pytest

# Growth of the resident set that the bad inputs may cause (allocator noise).
RSS_SLACK_MIB = 48


def rss_mib(pid: int) -> float:
    """VmRSS of ``pid`` in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def assert_invalid(excinfo: pytest.ExceptionInfo[BaseException]) -> None:
    error = excinfo.value
    assert isinstance(error, adbc_driver_manager.Error), error
    assert error.status_code == adbc_driver_manager.AdbcStatusCode.INVALID_ARGUMENT, error


def test_bad_inputs_are_refused_and_cost_no_memory(flight_uri: str, local_stack_pid: int) -> None:
    with flight_sql.connect(flight_uri) as conn, conn.cursor() as cur:
        cur.execute("select 1 as warm")
        cur.fetch_arrow_table()
        before = rss_mib(local_stack_pid)
        for _ in range(5):
            for sql in ("select $18446744073709551615", "select $1000000"):
                with pytest.raises(adbc_driver_manager.Error) as excinfo:
                    cur.execute(sql, parameters=(1,))
                    cur.fetch_arrow_table()
                assert_invalid(excinfo)
            with pytest.raises(adbc_driver_manager.Error) as excinfo:
                cur.execute("select '" + "x" * (5 * 1024 * 1024) + "' as big")
                cur.fetch_arrow_table()
            assert_invalid(excinfo)
            rows = pa.record_batch({"n": pa.array(range(3000), pa.int64())})
            with pytest.raises(adbc_driver_manager.Error) as excinfo:
                cur.executemany("select ? as n", rows)
            assert_invalid(excinfo)
        after = rss_mib(local_stack_pid)
        assert after - before < RSS_SLACK_MIB, f"RSS grew from {before:.0f} to {after:.0f} MiB"
        cur.execute("select 41 + 1 as answer")
        assert cur.fetch_arrow_table().to_pylist() == [{"answer": 42}]
