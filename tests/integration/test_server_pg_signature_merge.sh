#!/usr/bin/env bash
# test_server_pg_signature_merge.sh — test_server_signature_merge.sh (a
# bucket merged when symbols arrive, its record and the old URL's 307) run
# unchanged against `serve --database postgresql://…` on a real PostgreSQL
# started here in a temp directory (pg_lib.sh): migration 008's trigger in
# PL/pgSQL does what SQLite's does.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_server_signature_merge.sh
