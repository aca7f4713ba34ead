#!/usr/bin/env bash
# test_server_pg_workflow.sh — the server integration tests
# test_server_workflow.sh and test_server_retention.sh (their direct reads
# of the store through server_lib.sh's store_sql) run unchanged against
# `serve --database postgresql://…` on a real PostgreSQL started here in a
# temp directory (pg_lib.sh): the same API behaviour as on SQLite.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_server_workflow.sh test_server_retention.sh
