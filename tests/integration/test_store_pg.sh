#!/usr/bin/env bash
# test_store_pg.sh — the store's unit tests (tests/unit/test_store.c) against
# a real PostgreSQL started here in a temp directory (pg_lib.sh): the same
# assertions as on SQLite — migrations once, tokens, uploads, leases,
# retries, recovery, retention, search (pg_trgm) — plus four worker
# processes leasing at once (never the same job: FOR UPDATE SKIP LOCKED) and
# a SIGKILLed worker whose lease expires and whose job is then re-run.
set -euo pipefail
: "${DT_BUILD_DIR:?DT_BUILD_DIR must point at the build directory}"
: "${DT_SOURCE_DIR:?}"
BIN=$DT_BUILD_DIR/test_store
[[ -x $BIN ]] || { echo "SKIP: $BIN not built" >&2; exit 77; }
source "$(dirname "$0")/pg_lib.sh"
trap pg_stop EXIT
pg_start
DT_TEST_PG_SOCK=$PG_SOCK "$BIN"
echo "test_store_pg: the store's unit tests pass on PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}')"
