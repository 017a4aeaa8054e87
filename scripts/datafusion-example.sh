#!/usr/bin/env bash
# Builds and checks the DataFusion example (examples/datafusion): starts the
# local stack (`redshift-flight-sql local`: a throwaway PostgreSQL with the
# TICKIT sample, the Data API emulator and the gateway, both on port 0), runs
# the example's join of the gateway's `event` table with
# examples/datafusion/data/categories.csv, and compares its result with the
# same numbers computed without DataFusion:
#   1. per-catid counts queried through the gateway with a plain Flight SQL
#      client, joined with the CSV file here (awk);
#   2. the whole join run by the database itself, the CSV file sent as a
#      VALUES list, through the gateway with the plain Flight SQL client;
#   3. the example's `rows: N` line against its label lines.
# Exits non-zero when a check fails.
#
# Environment: RSFS_BIN (the gateway binary; default target/debug/
# redshift-flight-sql, not built here), CARGO_TARGET_DIR (default
# examples/datafusion/target), RSFS_LOCAL_STARTUP_TIMEOUT (seconds, default
# 180). Other RSFS_* settings reach the stack; RSFS_USER and RSFS_PASSWORD
# reach the example (for a stack started with RSFS_AUTH=basic).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

manifest=examples/datafusion/Cargo.toml
csv="$root/examples/datafusion/data/categories.csv"
target_dir="${CARGO_TARGET_DIR:-$root/examples/datafusion/target}"
case "$target_dir" in
  /*) ;;
  *) target_dir="$root/$target_dir" ;;
esac
bin="${RSFS_BIN:-$root/target/debug/redshift-flight-sql}"
case "$bin" in
  /*) ;;
  *) bin="$root/$bin" ;;
esac
startup_timeout="${RSFS_LOCAL_STARTUP_TIMEOUT:-180}"

echo "== building the example ($manifest, target dir $target_dir)"
CARGO_TARGET_DIR="$target_dir" cargo build --locked --manifest-path "$manifest"
example="$target_dir/debug/datafusion-example"

if [[ ! -x $bin ]]; then
  echo "the gateway binary $bin is missing or not executable (build it, or set RSFS_BIN)" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/rsfs-datafusion.XXXXXX")"
stack_pid=""
drain_pid=""
cleanup() {
  local code=$?
  if [[ -n $stack_pid ]] && kill -0 "$stack_pid" 2>/dev/null; then
    kill -TERM "$stack_pid" 2>/dev/null || true
    # The stack was started with a short --drain-timeout, so this ends.
    wait "$stack_pid" 2>/dev/null || true
  fi
  if [[ -n $drain_pid ]]; then
    wait "$drain_pid" 2>/dev/null || true
  fi
  exec 3<&- 2>/dev/null || true
  rm -rf "$work"
  exit "$code"
}
trap cleanup EXIT

log_tail() {
  echo "--- local stack log (tail) ---" >&2
  tail -c 4000 "$work/local.log" >&2 || true
}

echo "== starting the local stack ($bin local)"
mkfifo "$work/stdout"
(
  # Like the Python and JDBC tests: no AWS settings of this machine, plain
  # text logs, and a plain-text gateway (the example trusts no throwaway CA).
  while IFS= read -r name; do
    case "$name" in AWS_*) unset "$name" ;; esac
  done < <(compgen -e)
  unset RSFS_LOCAL_TLS
  export NO_COLOR=1
  exec "$bin" local --listen 127.0.0.1:0 --emulator-listen 127.0.0.1:0 --drain-timeout 5s
) </dev/null >"$work/stdout" 2>"$work/local.log" &
stack_pid=$!
exec 3<"$work/stdout"

# Its stdout says when it is ready: `emulator listening on http://…`, then
# `flight sql listening on grpc://host:port` (port 0: the port is only there).
flight=""
deadline=$((SECONDS + startup_timeout))
while [[ -z $flight ]]; do
  remaining=$((deadline - SECONDS))
  if ((remaining <= 0)); then
    echo "the local stack printed no flight ready line within ${startup_timeout} s" >&2
    log_tail
    exit 1
  fi
  status=0
  IFS= read -r -t "$remaining" -u 3 line || status=$?
  if ((status > 128)); then
    continue # the deadline: reported above
  elif ((status != 0)); then
    echo "the local stack closed its stdout before it was ready" >&2
    log_tail
    exit 1
  fi
  echo "stack: $line"
  if [[ $line =~ ^flight\ sql\ listening\ on\ (grpc://[^[:space:]]+)[[:space:]]*$ ]]; then
    flight="${BASH_REMATCH[1]}"
  fi
done
# Keep reading its stdout so that it never blocks writing there.
cat <&3 >/dev/null &
drain_pid=$!
exec 3<&-
url="http://${flight#grpc://}"

echo "== the example's join ($example $url)"
if ! "$example" --categories "$csv" "$url" >"$work/joined.tsv"; then
  echo "the example failed" >&2
  log_tail
  exit 1
fi
cat "$work/joined.tsv"
grep -v '^rows: ' "$work/joined.tsv" >"$work/joined.rows" || true

flight_sql() {
  if ! "$example" --flight-sql "$1" "$url" >"$2"; then
    echo "the Flight SQL query failed: $1" >&2
    log_tail
    exit 1
  fi
}

passed=0
failed=0
check() { # NAME EXPECTED-FILE ACTUAL-FILE
  if diff -u --label expected "$2" --label actual "$3" >"$work/diff"; then
    echo "ok: $1"
    passed=$((passed + 1))
  else
    echo "FAIL: $1"
    cat "$work/diff"
    failed=$((failed + 1))
  fi
}

# 1. Per-catid counts from the database, joined with the CSV file here.
per_catid_sql="select catid, count(*) from event group by catid order by catid"
echo "== Flight SQL: $per_catid_sql"
flight_sql "$per_catid_sql" "$work/per_catid.tsv"
cat "$work/per_catid.tsv"
awk -F'\t' '
  NR == FNR { if (FNR > 1 && split($0, f, ",") == 2) label[f[1]] = f[2]; next }
  /^rows: / { next }
  $1 in label { events[label[$1]] += $2 }
  END { for (l in events) printf "%s\t%d\n", l, events[l] }
' "$csv" "$work/per_catid.tsv" | LC_ALL=C sort >"$work/expected_awk.rows"
check "DataFusion's join equals the per-catid counts of Flight SQL joined with the CSV by awk" \
  "$work/expected_awk.rows" "$work/joined.rows"

# 2. The same join run by the database, the CSV file as a VALUES list.
values="$(awk -F',' '
  FNR > 1 && NF == 2 {
    if ($1 !~ /^[0-9]+$/) { print "bad catid in the CSV: " $1 > "/dev/stderr"; exit 1 }
    gsub(/'\''/, "'\'''\''", $2)
    printf "%s(%s, '\''%s'\'')", (n++ ? ", " : ""), $1, $2
  }' "$csv")"
join_sql="select m.label, count(*) from event e join (values $values) as m(catid, label) on e.catid = m.catid group by m.label"
echo "== Flight SQL: $join_sql"
flight_sql "$join_sql" "$work/redshift_join.tsv"
cat "$work/redshift_join.tsv"
grep -v '^rows: ' "$work/redshift_join.tsv" | LC_ALL=C sort >"$work/expected_db.rows" || true
check "DataFusion's join equals the join run by the database through Flight SQL" \
  "$work/expected_db.rows" "$work/joined.rows"

# 3. The example's row count line, and a result that is not empty.
label_lines="$(wc -l <"$work/joined.rows" | tr -d ' ')"
printf 'rows: %s\n' "$label_lines" >"$work/expected_rows_line"
grep '^rows: ' "$work/joined.tsv" >"$work/actual_rows_line" || true
check "the example's 'rows: N' line counts its ${label_lines} label lines" \
  "$work/expected_rows_line" "$work/actual_rows_line"
if ((label_lines > 0)); then
  echo "ok: the join is not empty"
  passed=$((passed + 1))
else
  echo "FAIL: the join is empty"
  failed=$((failed + 1))
fi

echo "datafusion example: $passed passed, $failed failed"
((failed == 0))
