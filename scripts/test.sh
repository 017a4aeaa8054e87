#!/usr/bin/env bash
# Runs every test: the Rust unit and integration tests (in-process stack on
# port 0: throwaway PostgreSQL → Data API emulator → SDK → gateway → clients),
# then the Python interop tests (boto3, awswrangler, ADBC, pyarrow) in a
# virtualenv this script creates. Needs PostgreSQL binaries (initdb, postgres)
# on PATH or under /usr/lib/postgresql, Python 3.11 with venv, and cargo.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

cargo build --locked --workspace --bins
cargo test --locked --workspace --all-targets

bash scripts/python-venv.sh
venv="${RSFS_VENV:-$root/.venv}"
target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
RSFS_BIN="$target_dir/debug/redshift-flight-sql" "$venv/bin/python" -m pytest -q tests/python
