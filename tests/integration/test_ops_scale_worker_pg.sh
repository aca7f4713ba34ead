#!/usr/bin/env bash
# test_ops_scale_worker_pg.sh — test_ops_scale_worker.sh run unchanged with its
# servers and workers on `--database postgresql://…`, a real PostgreSQL
# started here in a temp directory (pg_lib.sh): the same behaviour as on the
# SQLite file, with leases renewed and claimed on PostgreSQL.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_ops_scale_worker.sh
