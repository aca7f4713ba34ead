#!/usr/bin/env bash
# bench_workers.sh — how the queue's throughput grows with workers, on both
# stores, in one run on one machine (so the figures compare): jobs per
# second draining N queued uploads, queue claim latency, and what one job
# costs the database.
#   SQLite (embedded, one process): N uploads posted to `serve --workers 0`,
#     stopped; then `serve --workers K` (K = 1, 2) timed from its start until
#     no upload is queued or analyzing.
#   PostgreSQL (a private one from tests/integration/pg_lib.sh, fsync=off as
#     there, stopped at the end): `serve --workers 0` receives N uploads and
#     stays up as the API server; then K separate `dumptriage worker
#     --workers 1` processes (K = 1, 2, 3) drain them, timed from their start.
# Every run has a fresh data directory (and database) and the same N files:
# real dumps from tests/data/user with 16 random bytes appended, distinct
# within a run so each is analysed, none reused.  The store is polled every
# 50 ms.  From the job log events: claim_ms (the dt_store_job_lease call that
# got the job) p50/p99, duration_ms and analyzer_cpu_ms means.  On
# PostgreSQL, pg_stat_database deltas over the drain (the poller's own
# transactions taken out) give commits and rows per job, WAL bytes per job,
# and CPU per job of the worker processes (own, and their analyzer
# children's) and of PostgreSQL (its backends and background processes,
# /proc, up to the drain's end; the poller's short-lived backends excluded).  Then the same
# files analysed alone by `dumptriage analyze` (wall and CPU per job: the
# ceiling of this machine is cores / CPU per job), pgbench's TPC-B-like rate
# on the same PostgreSQL, and pg_test_fsync on the same disk (what commits
# would cost with fsync on).
#   usage: nice -n 10 bench/bench_workers.sh [BUILD_DIR] [N]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
build=${1:-$HERE/../build}; n=${2:-200}
export DT_BIN=$(cd "$build" && pwd)/dumptriage DT_TEST_DATA=$HERE/../tests/data
source "$HERE/../tests/integration/server_lib.sh"
source "$HERE/../tests/integration/pg_lib.sh"
WPIDS=()
trap 'for p in "${WPIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; cleanup; pg_stop' EXIT
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

files=(); for f in "$DT_TEST_DATA"/user/*.dmp; do [[ $(head -c 4 "$f") == MDMP ]] && files+=("$f"); done
mkdir -p "$WORK/in"
for ((i = 0; i < n; i++)); do
  { cat "${files[$((i % ${#files[@]}))]}"; head -c 16 /dev/urandom; } >"$WORK/in/$i.dmp"
done
bytes=$(cat "$WORK"/in/*.dmp | wc -c)

# cpu_ms FIELD PID… — CPU of those processes in ms: FIELD 14 their own
# (utime+stime), 16 their waited-for children's (cutime+cstime).
cpu_ms() {
  local f=$1 p t=0; shift
  for p in "$@"; do
    [[ -r /proc/$p/stat ]] || continue
    t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk -v f="$f" '{ print $(f - 2) + $(f - 1) }')))
  done
  echo $((t * 1000 / $(getconf CLK_TCK)))
}
pg_procs() { pgrep -P "$(head -1 "$PG_DIR/data/postmaster.pid")" | tr '\n' ' '; }

post_all() { # posts the N files to $URL, 4 at a time; fails unless all accepted
  seq 0 $((n - 1)) | xargs -P 4 -I{} curl -s -o /dev/null -w '%{http_code}\n' \
    -F "user=@$WORK/in/{}.dmp" "$URL/api/dumps" >"$WORK/codes"
  local acc; acc=$(grep -c '^202$' "$WORK/codes" || true)
  [[ $acc == "$n" ]] || { echo "only $acc of $n uploads accepted" >&2; exit 1; }
}

# stats LOGFILE… — "p50 p99 mean_duration mean_cpu" of the job events.
stats() {
  grep -h '"event":"job"' "$@" | jq -r '[.claim_ms, .duration_ms, (.analyzer_cpu_ms // 0)] | @tsv' | sort -g | awk '
    { c[NR] = $1; d += $2; u += $3 }
    END { i50 = int(NR * 0.50 + 0.999); i99 = int(NR * 0.99 + 0.999); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
          printf "%.2f %.2f %.1f %.1f %d\n", c[i50], c[i99], d / NR, u / NR, NR }'
}

# One client posts all N: the per-client queue share (half of --max-queue
# by default) must hold them all.
LIMITS=(--max-queue $((n + 10)) --max-queue-per-client $((n + 10)))
ROWS=()   # store|procs|workers|drain|p50|p99|dur|cpu|jobs
DBROWS=() # K|xact/job|ins/job|upd/job|del/job|xact/s|WAL bytes/job|data dir bytes/job

# SQLite: one process, K workers.
for k in 1 2; do
  data="$WORK/sq$k"
  start_server "$data" --min-free-space 100M --workers 0 "${LIMITS[@]}"
  post_all
  stop_server
  t0=$(date +%s.%N)
  start_server "$data" --min-free-space 100M --workers "$k" "${LIMITS[@]}"
  while (( $(sqlite3 "$data/dumptriage.sqlite" "SELECT COUNT(*) FROM uploads WHERE status IN ('queued', 'analyzing')") > 0 )); do sleep 0.05; done
  t1=$(date +%s.%N)
  log=$SERVER_LOG
  stop_server
  read -r p50 p99 dur cpu jobs < <(stats "$log")
  ROWS+=("SQLite|1|$k|$(echo "$t1 - $t0" | bc)|$p50|$p99|$dur|$cpu|$jobs")
done

# PostgreSQL: API server apart, K worker processes of one worker each.
pg_start
export DT_TEST_PG_SOCK=$PG_SOCK DT_TEST_PG_BIN=$PG_BINDIR
for k in 1 2 3; do
  data="$WORK/pg$k"
  start_server "$data" --min-free-space 100M --workers 0 "${LIMITS[@]}"
  post_all
  dburl=${DB_ARGS[1]}
  dbname=$(store_sql "$data" "SELECT current_database()")
  psq() { "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$dburl" -c "$1"; }
  sql_stats="SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = '$dbname'"
  sleep 1.1 # the API server's stats reach pg_stat_database (at most 1 s late)
  s0=$(psq "$sql_stats")
  w0=$(psq "SELECT pg_current_wal_lsn()"); b0=$(du -sb "$data" | cut -f1)
  pgc0=$(cpu_ms 14 $(pg_procs))
  WPIDS=(); logs=()
  t0=$(date +%s.%N)
  for ((w = 1; w <= k; w++)); do
    "$DT_BIN" worker --data-dir "$data" "${DB_ARGS[@]}" --workers 1 >"$WORK/pg$k.worker$w.log" 2>&1 &
    WPIDS+=($!); logs+=("$WORK/pg$k.worker$w.log")
  done
  polls=0
  while (( $(psq "SELECT COUNT(*) FROM uploads WHERE status IN ('queued', 'analyzing')") > 0 )); do polls=$((polls + 1)); sleep 0.05; done
  t1=$(date +%s.%N)
  pgc1=$(cpu_ms 14 $(pg_procs)); wown=$(cpu_ms 14 "${WPIDS[@]}"); wchild=$(cpu_ms 16 "${WPIDS[@]}")
  for p in "${WPIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
  WPIDS=()
  sleep 1.1
  s1=$(psq "$sql_stats")
  wal=$(psq "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '$w0')"); b1=$(du -sb "$data" | cut -f1)
  stop_server
  drain=$(echo "$t1 - $t0" | bc)
  read -r p50 p99 dur cpu jobs < <(stats "${logs[@]}")
  ROWS+=("PostgreSQL|$k|1|$drain|$p50|$p99|$dur|$cpu|$jobs")
  # Each poll and the two stats reads are one transaction each (autocommit).
  DBROWS+=("$(awk -F'|' -v a="$s0" -v b="$s1" -v n="$n" -v polls="$polls" -v k="$k" -v drain="$drain" -v wal="$wal" -v db="$((b1 - b0))" -v pgc="$((pgc1 - pgc0))" -v wown="$wown" -v wchild="$wchild" 'BEGIN {
    split(a, x, "|"); split(b, y, "|"); xa = y[1] - x[1] - polls - 2
    printf "%d|%.1f|%.1f|%.1f|%.1f|%.0f|%.0f|%.0f|%.1f|%.1f|%.1f", k, xa / n, (y[2] - x[2]) / n, (y[3] - x[3]) / n, (y[4] - x[4]) / n, xa / drain, wal / n, db / n, wown / n, wchild / n, pgc / n }')")
done

# The analysis alone, same files, one after the other.
TIMEFORMAT='%R %U %S'
{ time (for ((i = 0; i < n; i++)); do "$DT_BIN" analyze "$WORK/in/$i.dmp" >/dev/null 2>&1 || true; done); } 2>"$WORK/alone"
read -r a_wall a_usr a_sys <"$WORK/alone"

# PostgreSQL's own commit rate here: pgbench TPC-B-like, 4 clients, 10 s.
pg_createdb pgb
"$PG_BINDIR/pgbench" -q -i -s 10 "$(pg_url pgb)" >/dev/null 2>&1
tps=$("$PG_BINDIR/pgbench" -n -c 4 -j 2 -T 10 "$(pg_url pgb)" 2>/dev/null | awk '/^tps/ { print $3; exit }')
pg_stop
# Commits with fsync on would wait for the disk: its flush rate.
fsync_rate=$("$PG_BINDIR/pg_test_fsync" -s 1 -f "$WORK/fsync.test" 2>/dev/null | awk '/fdatasync/ && /ops\/sec/ { print $2; exit }')

echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
awk -v n="$n" -v bytes="$bytes" -v aw="$a_wall" -v au="$a_usr" -v as="$a_sys" -v tps="$tps" -v fs="${fsync_rate:-?}" -v rows="$(IFS=';'; echo "${ROWS[*]}")" -v dbrows="$(IFS=';'; echo "${DBROWS[*]}")" 'BEGIN {
  cnt = split(rows, r, ";")
  printf "| store | processes x workers | jobs | drain (s) | jobs/s | vs SQLite 1 worker | claim p50 (ms) | claim p99 (ms) | analysis wall, mean (ms) | analyzer CPU, mean (ms) |\n"
  printf "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  for (i = 1; i <= cnt; i++) {
    split(r[i], f, "|"); js = n / f[4]; if (i == 1) base = js
    printf "| %s | %d x %d | %d | %.1f | %.1f | %.2f | %.2f | %.2f | %.0f | %.0f |\n", f[1], f[2], f[3], f[9], f[4], js, js / base, f[5], f[6], f[7], f[8]
  }
  printf "\nAlone: `dumptriage analyze` on the same %d files one after another: %.1f ms wall, %.1f ms CPU (user+sys) per job; ceiling on 2 cores = %.1f jobs/s.  Mean dump size %.0f bytes.\n\n", n, aw * 1000 / n, (au + as) * 1000 / n, 2 / ((au + as) / n), bytes / n
  cnt = split(dbrows, d, ";")
  printf "| PostgreSQL, worker processes | commits per job | rows inserted per job | rows updated per job | rows deleted per job | commits/s during the drain | WAL bytes per job | data directory growth per job (bytes) | worker process CPU per job (ms) | its analyzer children CPU per job (ms) | PostgreSQL CPU per job (ms) |\n|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  for (i = 1; i <= cnt; i++) { split(d[i], f, "|"); printf "| %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11] }
  printf "\npgbench (TPC-B-like, scale 10, 4 clients, 10 s, fsync=off): %.0f tps.  pg_test_fsync fdatasync on this disk: %s ops/s.\n", tps, fs
}'
