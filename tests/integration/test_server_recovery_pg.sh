#!/usr/bin/env bash
# test_server_recovery_pg.sh — test_server_recovery.sh run against
# `serve --database postgresql://…` on a real PostgreSQL started here in a
# temp directory (pg_lib.sh): hostile analyses fail with their reasons,
# kill -9 of the server loses no acknowledged upload (the killed server's
# lease runs out and the job runs again), SIGTERM drains.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
pg_run_scripts test_server_recovery.sh
