#!/usr/bin/env bash
# test_server_pg_roles.sh — the server integration tests test_server_roles.sh, test_server_tenants.sh, test_server_series.sh, test_server_gzip_parts.sh
# run unchanged against `serve --database postgresql://…` on a real
# PostgreSQL started here in a temp directory (pg_lib.sh): the same API
# behaviour as on the SQLite store.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_server_roles.sh test_server_tenants.sh test_server_series.sh test_server_gzip_parts.sh
