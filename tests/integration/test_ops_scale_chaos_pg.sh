#!/usr/bin/env bash
# test_ops_scale_chaos_pg.sh — issue #20's acceptance scenario, short:
# bench/fault_scale.sh with 40 uploads from 8 clients to 2 API servers
# (serve --workers 0) and 3 worker processes on one private PostgreSQL
# (pg_lib.sh), a worker and an API server killed with -9 (then more at
# random, one a second), PostgreSQL itself crashed (pg_ctl -m immediate) and
# restarted half-way: every acknowledged upload analysed, one job, one
# report per upload, no orphan rows or blobs.  The 500-upload run by hand:
# docs/operations.md ("Kill -9 and a PostgreSQL restart under load").
set -euo pipefail
: "${DT_BIN:?}"
here=$(dirname "$0")
DT_SCALE_UPLOADS=${DT_SCALE_UPLOADS:-40} DT_SCALE_CLIENTS=8 DT_SCALE_KILL_EVERY=1 \
  bash "$here/../../bench/fault_scale.sh" 2>&1 | grep -v ' Killed ' || exit "${PIPESTATUS[0]}"
