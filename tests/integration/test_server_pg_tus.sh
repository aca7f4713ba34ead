#!/usr/bin/env bash
# test_server_pg_tus.sh — the server integration tests test_tus_protocol.sh, test_server_symbols.sh
# run unchanged against `serve --database postgresql://…` on a real
# PostgreSQL started here in a temp directory (pg_lib.sh): the same API
# behaviour as on the SQLite store.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_tus_protocol.sh test_server_symbols.sh
