#!/usr/bin/env bash
# test_server_pg_ops.sh — the server's operational integration tests whose
# outcome depends on the store run unchanged against `serve --database
# postgresql://…` on a real PostgreSQL started here in a temp directory
# (pg_lib.sh): snapshots added to an upload, tus expiry on its timer, the
# durability order before a 202 (strace), kill -9 during resumable uploads
# and the completion a kill interrupted finished by the next HEAD/GET,
# kill -9 during uploads and analyses (bench/fault_kill.sh), and the full
# disk (tmpfs data directory; the database is then PostgreSQL's, off that
# disk), and the README's curl examples (what an operator setting up a
# PostgreSQL store runs first; 8 s).  Each script reads the store through server_lib.sh (store_sql,
# store_integrity), so the same assertions hold on both engines.  The
# scripts left out, and why, are listed in docs/server.md.
#
# Unlike pg_run_scripts, each script is checked on its own afterwards: it
# must have created at least one database on this PostgreSQL and left rows in
# it (uploads or resumable uploads), so a script that silently fell back to a
# SQLite file fails here instead of passing.  A script that skips (77: no
# strace/ptrace, no tmpfs mount) is reported and skipped here too, as its
# SQLite original would be; one that skips for any other reason cannot,
# since only those two do.
set -euo pipefail
source "$(dirname "$0")/pg_lib.sh"
here=$(dirname "$0")
SCRIPTS=(
  test_server_snapshots.sh
  test_tus_expiry.sh
  test_server_durability.sh
  test_tus_kill.sh
  test_tus_catch_up.sh
  test_ops_kill.sh
  test_ops_diskfull.sh
  test_server_readme.sh
)
# DT_PG_OPS_ONLY="a.sh b.sh" runs only those (to re-run one while debugging).
if [[ -n ${DT_PG_OPS_ONLY:-} ]]; then read -r -a SCRIPTS <<<"$DT_PG_OPS_ONLY"; fi
trap pg_stop EXIT
pg_start

dt_dbs() { pg_psql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'dt\_%' ORDER BY 1"; }

fails=0 skipped=0
for s in "${SCRIPTS[@]}"; do
  before=$(dt_dbs)
  t0=$(date +%s)
  rc=0
  DT_TEST_PG_SOCK=$PG_SOCK DT_TEST_PG_BIN=$PG_BINDIR bash "$here/$s" || rc=$?
  secs=$(( $(date +%s) - t0 ))
  if [[ $rc -eq 77 ]]; then
    echo "skipped: $s on PostgreSQL (${secs}s; its own reason above)"; skipped=$((skipped + 1)); continue
  fi
  if [[ $rc -ne 0 ]]; then echo "FAIL: $s on PostgreSQL (exit $rc, ${secs}s)" >&2; fails=$((fails + 1)); continue; fi
  # The databases this script's servers created, and what they hold.
  new=$(comm -13 <(echo "$before") <(dt_dbs))
  ndb=0 rows=0
  for db in $new; do
    ndb=$((ndb + 1))
    n=$(pg_psql "$db" "SELECT (SELECT COUNT(*) FROM uploads) + (SELECT COUNT(*) FROM tus_uploads)")
    rows=$((rows + n))
  done
  if (( ndb == 0 || rows == 0 )); then
    echo "FAIL: $s passed but left $ndb database(s) and $rows upload row(s) on PostgreSQL: it did not run on it" >&2
    fails=$((fails + 1))
  else
    echo "ok: $s on PostgreSQL (${secs}s; $ndb database(s), $rows upload/tus row(s))"
  fi
done
echo "$(( ${#SCRIPTS[@]} - fails - skipped )) passed, $skipped skipped, $fails failed"
[[ $fails -eq 0 ]]
