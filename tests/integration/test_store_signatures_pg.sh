#!/usr/bin/env bash
# test_store_signatures_pg.sh — tests/unit/test_store_signatures.c (bucket
# merges: migration 008's trigger and the merged_into chain) on a real
# PostgreSQL started here in a temp directory (pg_lib.sh), where the
# trigger is PL/pgSQL: the same assertions as on SQLite.
set -euo pipefail
: "${DT_BUILD_DIR:?}"
: "${DT_SOURCE_DIR:?}"
BIN=$DT_BUILD_DIR/test_store_signatures
[[ -x $BIN ]] || { echo "SKIP: $BIN not built" >&2; exit 77; }
source "$(dirname "$0")/pg_lib.sh"
trap pg_stop EXIT
pg_start
DT_TEST_PG_SOCK=$PG_SOCK "$BIN"
echo "test_store_signatures_pg: passes on PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}')"
