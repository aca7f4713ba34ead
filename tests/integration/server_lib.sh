# server_lib.sh — helpers shared by the server integration tests (sourced):
# start/stop a real `dumptriage serve` on a free loopback port with its own
# data directory, upload with curl, poll, and compare JSON.
set -euo pipefail

: "${DT_BIN:?DT_BIN must point at the built dumptriage}"
: "${DT_TEST_DATA:?DT_TEST_DATA must point at tests/data}"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dt-server-test.XXXXXX")
ADMIN=admintoken-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
SERVER_PID=""
FAILS=0
CHECKS=0

cleanup() {
  if [[ -n $SERVER_PID ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -9 "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

ok()   { CHECKS=$((CHECKS + 1)); }
bad()  { CHECKS=$((CHECKS + 1)); FAILS=$((FAILS + 1)); echo "FAIL: $*" >&2; }
check() { # description expected actual
  if [[ "$2" == "$3" ]]; then ok; else bad "$1: expected '$2', got '$3'"; fi
}

# DT_TEST_PG_SOCK (set by test_server_pg*.sh, which start a PostgreSQL):
# the store of each data directory is then its own PostgreSQL database on
# that server, created on first use — a restart with the same data
# directory finds the same store, as with its SQLite file.
DB_ARGS=()
pg_store_for() { # DATA_DIR — sets DB_ARGS
  DB_ARGS=()
  [[ -n ${DT_TEST_PG_SOCK:-} ]] || return 0
  local name
  name="dt_$(printf '%s' "$(realpath -m "$1")" | sha256sum | cut -c1-16)"
  local admin="postgresql://dt@/postgres?host=$DT_TEST_PG_SOCK"
  if [[ -z $("$DT_TEST_PG_BIN/psql" -X -q -A -t "$admin" -c "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
    "$DT_TEST_PG_BIN/psql" -X -q "$admin" -c "CREATE DATABASE $name" >/dev/null
  fi
  DB_ARGS=(--database "postgresql://dt@/$name?host=$DT_TEST_PG_SOCK")
}

# store_sql DATA_DIR SQL — runs SQL on that data directory's store (its
# SQLite file, or its PostgreSQL database under DT_TEST_PG_SOCK) and prints
# the rows, columns separated by '|'.
store_sql() {
  if [[ -n ${DT_TEST_PG_SOCK:-} ]]; then
    pg_store_for "$1"
    "$DT_TEST_PG_BIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 "${DB_ARGS[1]}" -c "$2"
  else
    sqlite3 "$1/dumptriage.sqlite" "$2"
  fi
}

# store_integrity DATA_DIR — prints "ok" when that data directory's store is
# internally consistent, else what is wrong: SQLite's PRAGMA integrity_check;
# on PostgreSQL, amcheck's bt_index_check (heapallindexed: every heap row is
# in every index, and each index is ordered) over every B-tree index of the
# store's tables, the closest thing PostgreSQL has to that pragma.  amcheck
# is installed in a schema of its own, so the store's schema is left as the
# server made it.
store_integrity() {
  if [[ -n ${DT_TEST_PG_SOCK:-} ]]; then
    store_sql "$1" "CREATE SCHEMA IF NOT EXISTS dt_test_amcheck; CREATE EXTENSION IF NOT EXISTS amcheck SCHEMA dt_test_amcheck" >/dev/null
    local out n
    # One row per index checked; a corrupt index raises an error instead.
    out=$(store_sql "$1" "SELECT c.relname, dt_test_amcheck.bt_index_check(c.oid, true) FROM pg_index i
        JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE a.amname = 'btree' AND n.nspname = 'public'" 2>&1) || { echo "$out"; return 0; }
    n=$(grep -c . <<<"$out" || true)
    if (( n > 0 )); then echo ok; else echo "no index checked"; fi
  else
    sqlite3 "$1/dumptriage.sqlite" 'PRAGMA integrity_check'
  fi
}

# start_server DATA_DIR [extra serve args…] — sets SERVER_PID, PORT, URL.
start_server() {
  local data=$1; shift
  local log="$WORK/server.$(date +%s%N).log"
  pg_store_for "$data"
  "$DT_BIN" serve --listen 127.0.0.1:0 --data-dir "$data" --admin-token "$ADMIN" --workers 2 ${DB_ARGS[@]+"${DB_ARGS[@]}"} "$@" >"$log" 2>&1 &
  SERVER_PID=$!
  SERVER_LOG=$log
  for _ in $(seq 1 100); do
    if grep -q 'listening on' "$log"; then break; fi
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then cat "$log" >&2; echo "server died at start" >&2; exit 1; fi
    sleep 0.1
  done
  PORT=$(grep -o 'listening on http://[^/]*' "$log" | sed 's/.*://')
  URL="http://127.0.0.1:$PORT"
}

stop_server() { # graceful
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

kill9_server() {
  kill -9 "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

AUTH=(-H "Authorization: Bearer $ADMIN")

# The tests and benchmarks read the server's live database with the sqlite3
# CLI.  In WAL mode a reader can still meet a lock for a moment (a
# checkpoint resetting the WAL, the schema being read while a migration or a
# trigger-heavy write commits); the server's own connections wait for that
# with a busy timeout, and so must these reads, or they fail at random.
sqlite3() { command sqlite3 -cmd '.timeout 10000' "$@"; }

# wait_done ID [seconds] — polls until done/failed; prints the final status.
wait_done() {
  local id=$1 limit=${2:-60} s=""
  for _ in $(seq 1 $((limit * 10))); do
    s=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id" | jq -r .status)
    if [[ $s == done || $s == failed ]]; then echo "$s"; return; fi
    sleep 0.1
  done
  echo "${s:-timeout}"
}

# Drops what legitimately differs between two runs of the analyzer on the
# same content: input paths (the server analyzes its stored copy) and timings.
normalize_json() {
  python3 -c '
import json, re, sys
def walk(v):
    if isinstance(v, dict):
        return {k: walk(x) for k, x in v.items()
                if k not in ("file", "path", "paths", "files", "input", "inputs")
                and not re.search(r"(time|duration|elapsed)", k)}
    if isinstance(v, list):
        return [walk(x) for x in v]
    if isinstance(v, str) and ("/blobs/" in v or v.startswith("/")):
        return "<path>"
    return v
print(json.dumps(walk(json.load(sys.stdin)), sort_keys=True))
'
}

finish() {
  echo "$CHECKS checks, $FAILS failed"
  [[ $FAILS -eq 0 ]]
}
