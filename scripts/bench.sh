#!/usr/bin/env bash
# The performance benchmark in one command: builds the release binaries, makes
# sure the Python clients are installed, and prints P1–P8 against their
# baselines. Options are passed on (e.g. --rows 200000 --runs 3 --clients 16).
# BENCH_PROFILE=dev runs the debug build (the CI smoke run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
profile="${BENCH_PROFILE:-release}"
bash scripts/python-venv.sh
export RSFS_VENV="${RSFS_VENV:-$root/.venv}"
if [ "$profile" = "release" ]; then
  cargo build --locked --release --bins --examples
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  exec "$target_dir/release/examples/bench" "$@"
else
  cargo build --locked --bins --examples
  target_dir="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
  exec "$target_dir/debug/examples/bench" "$@"
fi
