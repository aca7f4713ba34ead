#!/usr/bin/env bash
# test_server_orphan_sweep_pg.sh — test_server_orphan_sweep.sh against
# `serve --database postgresql://…` on a real PostgreSQL started here in a
# temp directory (pg_lib.sh): the orphan-blob sweep beside a live server.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_server_orphan_sweep.sh
