"""Client-side measurements of the benchmark (P2, P3, P8), printed as JSON.

Run by examples/bench.rs: ADBC Flight SQL through the gateway, awswrangler's
Data API reader on the same emulator, and ADBC-PostgreSQL straight from the
emulator's PostgreSQL, each the median of several runs.
"""

import argparse
import json
import os
import statistics
import sys
import time


def measure(fn, runs):
    times = []
    rows = None
    for _ in range(runs):
        started = time.perf_counter()
        rows = fn()
        times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "min": min(times), "max": max(times), "rows": rows}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--flight", required=True)
    p.add_argument("--emulator", required=True)
    p.add_argument("--postgres", required=True)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--rows", type=int, required=True)
    p.add_argument("--wrangler-rows", type=int, required=True)
    p.add_argument("--unload-rows", type=int, default=0)
    a = p.parse_args()

    import adbc_driver_flightsql.dbapi as flight_sql
    import adbc_driver_postgresql.dbapi as postgresql

    everything = "select * from bench"
    some = f"select * from bench where c_int4 <= {a.wrangler_rows}"
    out = {}
    with flight_sql.connect(a.flight, autocommit=True) as conn, conn.cursor() as cur:
        def read(sql):
            cur.execute(sql)
            return cur.fetch_arrow_table().num_rows

        read(some)  # warm the connection and the prepared-schema cache
        out["adbc"] = measure(lambda: read(everything), a.runs)
        out["adbc_wrangler_rows"] = measure(lambda: read(some), a.runs)
    assert out["adbc"]["rows"] == a.rows, out["adbc"]
    if a.unload_rows:
        # P8: the same large query through UNLOAD and through the pages.
        large = "select * from bench_unload"
        for name, mode in (("unload", "on"), ("unload_pages", "off")):
            kwargs = {"adbc.flight.sql.rpc.call_header.rsfs-unload": mode}
            with flight_sql.connect(a.flight, autocommit=True, db_kwargs=kwargs) as conn, conn.cursor() as cur:
                def read_large():
                    cur.execute(large)
                    return cur.fetch_arrow_table().num_rows

                out[name] = measure(read_large, max(1, min(a.runs, 3)))
            assert out[name]["rows"] == a.unload_rows, out[name]
    with postgresql.connect(a.postgres) as conn, conn.cursor() as cur:
        def read_pg():
            cur.execute(everything)
            return cur.fetch_arrow_table().num_rows

        out["postgres"] = measure(read_pg, a.runs)

    os.environ.update(
        AWS_ACCESS_KEY_ID="bench",
        AWS_SECRET_ACCESS_KEY="bench",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_ENDPOINT_URL_REDSHIFT_DATA=a.emulator,
    )
    import awswrangler as wr

    con = wr.data_api.redshift.connect(cluster_id="bench", database="dev", db_user="awsuser")

    def read_wrangler():
        return len(wr.data_api.redshift.read_sql_query(some, con=con))

    out["wrangler"] = measure(read_wrangler, max(1, min(a.runs, 3)))
    assert out["wrangler"]["rows"] == out["adbc_wrangler_rows"]["rows"], out
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
