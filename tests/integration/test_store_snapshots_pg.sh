#!/usr/bin/env bash
# test_store_snapshots_pg.sh — tests/unit/test_store_snapshots.c against a
# real PostgreSQL started here in a temp directory (pg_lib.sh): adding
# snapshots checks "being analysed?" in the transaction that adds them, so a
# lease that marks the upload analyzing while the add runs makes the add
# wait for it (the upload's row lock) and then refuse, changing nothing.
set -euo pipefail
: "${DT_BUILD_DIR:?DT_BUILD_DIR must point at the build directory}"
: "${DT_SOURCE_DIR:?}"
BIN=$DT_BUILD_DIR/test_store_snapshots
[[ -x $BIN ]] || { echo "SKIP: $BIN not built" >&2; exit 77; }
source "$(dirname "$0")/pg_lib.sh"
trap pg_stop EXIT
pg_start
DT_TEST_PG_SOCK=$PG_SOCK "$BIN"
echo "test_store_snapshots_pg: passes on PostgreSQL $("$PG_BINDIR/postgres" --version | awk '{print $3}')"
