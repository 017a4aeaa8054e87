"""Large results through UNLOAD, with the clients and the S3 code path users run.

``local`` runs with ``--unload-s3-uri`` on a real S3-compatible server (moto's,
on port 0): the emulator writes UNLOAD's Parquet files there through
object_store's S3 client, and the gateway reads them back through the same
client, with the AWS credential chain (environment variables here). ADBC reads
the result through UNLOAD and through the Data API's pages and gets the same
rows; GetFlightInfo has several endpoints (the emulator's four slices) and ADBC
reads each; and a query past the emulator's result cap (small here) fails on
the page path and is run again through UNLOAD, every row arriving.
"""

from __future__ import annotations

import hashlib
import subprocess
import threading
from pathlib import Path
from typing import Iterator

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from moto.server import ThreadedMotoServer

from conftest import (
    FLIGHT_READY_LINE,
    LOCAL_STARTUP_TIMEOUT_S,
    READY_LINE,
    REPO_ROOT,
    _child_env,
    _drain,
    _read_ready_lines,
    _stop,
    _tail,
)

BUCKET = "rsfs-unload"
PREFIX = "results/"
# The emulator's result cap: a few hundred kB of CSV, so that a modest query
# is "too large" for the Data API's pages.
RESULT_CAP = 300_000
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(scope="module")
def s3() -> Iterator[tuple[str, object]]:
    """moto's S3 server on 127.0.0.1:0 with the bucket; yields (URL, boto3 client)."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name=CREDENTIALS["AWS_REGION"],
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield url, client
    finally:
        server.stop()


@pytest.fixture(scope="module")
def unload_uri(emulator_bin: Path, s3, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``local`` unloading to the moto bucket; yields its grpc:// URI."""
    url, _ = s3
    log_path = tmp_path_factory.mktemp("local-unload") / "local.log"
    args = [
        str(emulator_bin), "local", "--listen", "127.0.0.1:0", "--emulator-listen", "127.0.0.1:0",
        "--unload-s3-uri", f"s3://{BUCKET}/{PREFIX}",
        "--unload-iam-role", "arn:aws:iam::123456789012:role/unload",
        "--unload-s3-endpoint", url,
        "--max-result-bytes", str(RESULT_CAP),
    ]
    env = _child_env() | CREDENTIALS
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
                                cwd=REPO_ROOT, env=env)
    try:
        try:
            _, flight = _read_ready_lines(
                proc, [READY_LINE, FLIGHT_READY_LINE], LOCAL_STARTUP_TIMEOUT_S, "the unload stack")
        except Exception as e:
            _stop(proc)
            pytest.fail(f"could not start the unload stack: {e}\n--- log ---\n{_tail(log_path)}")
        threading.Thread(target=_drain, args=(proc.stdout,), daemon=True).start()
        yield flight
    finally:
        _stop(proc)
        if proc.stdout is not None:
            proc.stdout.close()


def connect(uri: str, unload: str):
    """An ADBC connection whose calls carry the ``rsfs-unload`` header."""
    return flight_sql.connect(
        uri, db_kwargs={"adbc.flight.sql.rpc.call_header.rsfs-unload": unload}
    )


def parquet_keys(client) -> list[str]:
    listed = client.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
    return [o["Key"] for o in listed.get("Contents", []) if o["Key"].endswith(".parquet")]


def checksum(table: pa.Table) -> tuple[int, int, str]:
    """Rows, the sum of ``n`` and a digest of the rows in ``n`` order."""
    table = table.sort_by("n")
    digest = hashlib.sha256()
    for column in table.columns:
        digest.update(str(column.to_pylist()).encode())
    return table.num_rows, pc.sum(table["n"]).as_py(), digest.hexdigest()


QUERY = (
    "select g as n, md5(g::text) as h, (g * 0.01)::numeric(12,2) as amount, "
    "timestamptz '2024-03-10 01:30:00+00' + g * interval '1 minute' as at, "
    "case when g % 7 = 0 then null else g % 2 = 0 end as even "
    "from generate_series(1, 3000) g"
)


def test_adbc_reads_the_same_rows_through_unload_as_through_pages(unload_uri, s3):
    _, client = s3
    with connect(unload_uri, "off") as conn, conn.cursor() as cur:
        cur.execute(QUERY)
        paged = cur.fetch_arrow_table()
    assert parquet_keys(client) == [], "the page path wrote nothing to S3"
    with connect(unload_uri, "on") as conn, conn.cursor() as cur:
        cur.execute(QUERY)
        unloaded = cur.fetch_arrow_table()
    assert parquet_keys(client), "the result went through S3"
    assert unloaded.schema == paged.schema
    assert unloaded.schema.field("amount").type == pa.decimal128(12, 2)
    assert unloaded.schema.field("at").type == pa.timestamp("us", tz="UTC")
    assert checksum(unloaded) == checksum(paged)
    assert checksum(unloaded)[:2] == (3000, 3000 * 3001 // 2)


def test_several_endpoints_each_read_by_adbc(unload_uri):
    with connect(unload_uri, "on") as conn, conn.cursor() as cur:
        partitions, schema = cur.adbc_execute_partitions(QUERY)
        assert len(partitions) == 4, "one endpoint per slice's file"
        parts = []
        for partition in partitions:
            cur.adbc_read_partition(partition)
            parts.append(cur.fetch_arrow_table())
    assert all(p.num_rows > 0 for p in parts), [p.num_rows for p in parts]
    whole = pa.concat_tables(parts)
    assert whole.schema == schema
    assert sorted(whole["n"].to_pylist()) == list(range(1, 3001))


def test_a_result_past_the_cap_arrives_whole_through_unload(unload_uri):
    big = "select g as n, repeat('x', 100) as pad from generate_series(1, 20000) g"
    with connect(unload_uri, "off") as conn, conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.Error) as refused:
            cur.execute(big)
            cur.fetch_arrow_table()
    assert "exceeds the limit" in str(refused.value)
    with connect(unload_uri, "auto") as conn, conn.cursor() as cur:
        cur.execute(big)
        table = cur.fetch_arrow_table()
    assert table.num_rows == 20000
    assert pc.sum(table["n"]).as_py() == 20000 * 20001 // 2
    assert pc.all(pc.equal(pc.utf8_length(table["pad"]), 100)).as_py()
