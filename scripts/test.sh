#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests (in-process stack on
# port 0: throwaway PostgreSQL → Data API emulator → SDK → gateway → clients),
# then the Arrow Flight SQL JDBC driver's tests (Maven fetches the driver and
# JUnit into ~/.m2), the DataFusion example's checked join, then the Python interop tests (boto3, awswrangler, ADBC,
# pyarrow, polars) in a virtualenv this script creates. Needs PostgreSQL
# binaries (initdb, postgres) on PATH or under /usr/lib/postgresql, Python 3.11
# with venv, Java 17 with Maven, and cargo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo build --locked --workspace --bins
cargo test --locked --workspace --all-targets

target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

# The real JDBC driver against `local` processes on port 0; each check by name.
mvn -B -ntp -f tests/jdbc/pom.xml test -Drsfs.bin="$target_dir/debug/redshift-flight-sql"

# DataFusion (its own crate and lock file) joins a gateway table with a CSV file.
RSFS_BIN="$target_dir/debug/redshift-flight-sql" bash scripts/datafusion-example.sh

bash scripts/python-venv.sh
venv="${RSFS_VENV:-$root/.venv}"
RSFS_BIN="$target_dir/debug/redshift-flight-sql" "$venv/bin/python" -m pytest -q tests/python
