#!/usr/bin/env bash
# test_ops_scale_proxy_pg.sh — test_ops_scale_proxy.sh run unchanged with its
# servers and workers on `--database postgresql://…`, a real PostgreSQL
# started here in a temp directory (pg_lib.sh): the same behaviour as on the
# SQLite file, with leases renewed and claimed on PostgreSQL.
set -euo pipefail
command -v haproxy >/dev/null || { echo "haproxy not installed (scripts/bootstrap.sh --tests)"; exit 77; }
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_ops_scale_proxy.sh
