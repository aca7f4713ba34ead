#!/usr/bin/env bash
# test_worker_pg.sh — API server and worker processes apart on one
# PostgreSQL store (a real one, started here: pg_lib.sh): `serve --workers 0
# --database postgresql://…` receives, two `dumptriage worker` processes on
# the same database and blob directory analyse.  Every acknowledged upload
# is analysed once (one report per upload, one finished job each, no job
# left leased or queued), and both workers took jobs — the claims of two
# processes on one queue (FOR UPDATE SKIP LOCKED) never collide.
source "$(dirname "$0")/server_lib.sh"
source "$(dirname "$0")/pg_lib.sh"
WPIDS=()
trap 'for p in "${WPIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; cleanup; pg_stop' EXIT
pg_start
export DT_TEST_PG_SOCK=$PG_SOCK DT_TEST_PG_BIN=$PG_BINDIR
D=$DT_TEST_DATA
DATA="$WORK/data"

start_server "$DATA" --workers 0
for w in 1 2; do
  "$DT_BIN" worker --data-dir "$DATA" "${DB_ARGS[@]}" --workers 1 >"$WORK/worker$w.log" 2>&1 &
  WPIDS+=($!)
done
for w in 1 2; do
  for _ in $(seq 1 100); do grep -q 'running [0-9]* workers' "$WORK/worker$w.log" && break; sleep 0.1; done
  grep -q 'running [0-9]* workers' "$WORK/worker$w.log" && ok || { cat "$WORK/worker$w.log" >&2; bad "worker $w did not start"; }
done

# Ten distinct dumps: no upload reuses another's analysis.
ids=()
n=0
for f in "$D"/user/*.dmp; do
  [[ $(head -c 4 "$f") == MDMP ]] || continue
  r=$(curl -s -F "user=@$f" "$URL/api/dumps")
  id=$(jq -r '.id // empty' <<<"$r")
  [[ -n $id ]] && ids+=("$id") || bad "upload of $(basename "$f") refused: $r"
  n=$((n + 1))
  [[ $n -ge 10 ]] && break
done
for id in "${ids[@]}"; do
  s=$(wait_done "$id" 120)
  [[ $s == done || $s == failed ]] && ok || bad "$id: $s"
done
q() { store_sql "$DATA" "$1"; }
check "uploads" "${#ids[@]}" "$(q "SELECT COUNT(*) FROM uploads")"
check "one finished job per upload" "${#ids[@]}" "$(q "SELECT COUNT(DISTINCT upload_seq) FROM jobs WHERE state IN ('done','failed')")"
check "no job done twice" 0 "$(q "SELECT COUNT(*) FROM (SELECT upload_seq FROM jobs WHERE state = 'done' GROUP BY upload_seq HAVING COUNT(*) > 1) AS x")"
check "one report per analysed upload" "$(q "SELECT COUNT(*) FROM uploads WHERE status = 'done'")" "$(q "SELECT COUNT(*) FROM reports")"
check "nothing left leased or queued" 0 "$(q "SELECT COUNT(*) FROM jobs WHERE state IN ('leased','queued')")"
j1=$(grep -c '"event":"job"' "$WORK/worker1.log" || true)
j2=$(grep -c '"event":"job"' "$WORK/worker2.log" || true)
echo "jobs run: worker 1: $j1, worker 2: $j2"
check "both workers took jobs" yes "$([[ $j1 -gt 0 && $j2 -gt 0 ]] && echo yes || echo "no ($j1/$j2)")"
check "all jobs accounted" "${#ids[@]}" "$((j1 + j2))"
finish
