#!/usr/bin/env bash
# Acceptance (issue #20, workers apart from the API): `serve --workers 0`
# receives and serves only; a separate `dumptriage worker` process on the
# same data directory (SQLite store, shared blobs) analyses what it
# received.  A live worker's heartbeat keeps its lease past the lease time;
# kill -9 of a worker in the middle of an analysis leaves the job leased
# until its lease runs out; another worker then requeues and runs it, and
# the report is stored once.  The worker's own listener answers
# /healthz, /readyz and /metrics (staff token); serve's /readyz reports the
# database and blob store and turns 503 when the blob store breaks.
# Runs on the SQLite file, and on PostgreSQL through
# test_ops_scale_worker_pg.sh (DT_TEST_PG_SOCK, server_lib.sh).
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
WPIDS=()
cleanup_workers() { for p in "${WPIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; cleanup; }
trap cleanup_workers EXIT

upload_id() {
  local r; r=$(curl -s "$@" "$URL/api/dumps")
  [[ $r =~ \"id\":\"([0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}"
}
jobcol() { store_sql "$DATA" "SELECT $2 FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE u.id = '$1'"; }

# start_worker LOG [env assignments…] -- [worker args…]: sets WPID.
start_worker() {
  local log=$1; shift
  local envs=()
  while [[ $# -gt 0 && $1 != -- ]]; do envs+=("$1"); shift; done
  shift
  pg_store_for "$DATA"
  env "${envs[@]}" "$DT_BIN" worker --data-dir "$DATA" ${DB_ARGS[@]+"${DB_ARGS[@]}"} "$@" >"$log" 2>&1 &
  WPID=$!
  WPIDS+=("$WPID")
  for _ in $(seq 1 100); do
    grep -q 'running [0-9]* workers' "$log" && return 0
    kill -0 "$WPID" 2>/dev/null || { cat "$log" >&2; echo "worker died at start" >&2; exit 1; }
    sleep 0.1
  done
  echo "worker did not start" >&2; cat "$log" >&2; exit 1
}

# A short lease, renewed every second by the worker's heartbeat: a dead
# worker's job is free 3 s after its last renewal.  The analysis timeout is
# longer than that, so the hung analysis below keeps its lease only through
# the heartbeat.
LIMITS=(--analysis-timeout 20 --lease 3)

# --- 1. serve --workers 0 + one worker process.
start_server "$DATA" --workers 0 --test-hooks "${LIMITS[@]}"
grep -q '0 workers' "$SERVER_LOG" && ok || bad "serve --workers 0 did not say it runs no workers"
check "readyz before any worker" 200 "$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "$URL/readyz")"
check "readyz: database" true "$(jq -r .checks.database.ok "$WORK/ready.json")"
check "readyz: blob store" true "$(jq -r .checks.blob_store.ok "$WORK/ready.json")"
check "readyz: blob store kind" fs "$(jq -r .checks.blob_store.kind "$WORK/ready.json")"

first=$(upload_id -F "user=@$D/user/node-minidump__windows.dmp")
[[ -n $first ]] && ok || bad "upload to serve --workers 0 not acknowledged"
sleep 2
check "no analysis without a worker" queued "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$first" | jq -r .status)"

start_worker "$WORK/w1.log" -- --workers 1 "${LIMITS[@]}" --metrics-listen 127.0.0.1:0
W1=$WPID
MPORT=$(sed -nE 's/.*metrics on port ([0-9]+).*/\1/p' "$WORK/w1.log")
check "worker analysed the upload" done "$(wait_done "$first" 60)"
check "the worker process ran it" 1 "$(grep -c "\"upload_id\":\"$first\"" "$WORK/w1.log")"
check "serve ran no job" 0 "$(grep -c '"job_id"' "$SERVER_LOG" || true)"
check "worker healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/healthz")"
check "worker readyz" ready "$(curl -s "http://127.0.0.1:$MPORT/readyz" | jq -r .status)"
check "worker metrics need a token" 401 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics")"
wm=$(curl -s "${AUTH[@]}" "http://127.0.0.1:$MPORT/metrics")
check "worker metrics: jobs claimed" 1 "$(awk '$1 == "dt_jobs_claimed_total" {print $2}' <<<"$wm")"
check "worker metrics: histogram count" 1 "$(awk '$1 == "dt_worker_analysis_seconds_count" {print $2}' <<<"$wm")"
check "worker metrics: role" 1 "$(grep -c '^dt_process_info{role="worker"' <<<"$wm")"
engine=sqlite; [[ -n ${DT_TEST_PG_SOCK:-} ]] && engine=postgresql
check "worker metrics: its store and blob store" "store=\"$engine\",blob_store=\"fs\"" \
  "$(grep -o 'store="[a-z]*",blob_store="[a-z0-9]*"' <<<"$wm")"
sm=$(curl -s "${AUTH[@]}" "$URL/metrics")
check "serve metrics: its store and blob store" "store=\"$engine\",blob_store=\"fs\"" \
  "$(grep '^dt_process_info' <<<"$sm" | grep -o 'store="[a-z]*",blob_store="[a-z0-9]*"')"
check "serve metrics: claimed nothing" 0 "$(awk '$1 == "dt_jobs_claimed_total" {print $2}' <<<"$sm")"
(( $(awk '$1 == "dt_http_requests_total{code=\"202\"}" {print $2}' <<<"$sm") >= 1 )) && ok \
  || bad "serve metrics: no 202 counted: $(grep dt_http_requests_total <<<"$sm")"
check "serve metrics: queue depth" 0 "$(awk '$1 == "dt_queue_depth" {print $2}' <<<"$sm")"
kill -TERM "$W1"; wait "$W1" 2>/dev/null || true
grep -q 'worker: stopped' "$WORK/w1.log" && ok || bad "worker did not drain and stop on SIGTERM"

# --- 2. kill -9 of a worker mid-analysis: the job is re-run by another.
start_worker "$WORK/wa.log" DT_TEST_ANALYZER_HOOK=hang -- --workers 1 --test-hooks "${LIMITS[@]}"
WA=$WPID
victim=$(upload_id -F "user=@$D/user/lldb__sigsegv.dmp" -F "note=kill the worker")
for _ in $(seq 1 100); do
  [[ $(jobcol "$victim" "j.phase") == analyze ]] && break
  sleep 0.1
done
check "worker A is analysing" analyze "$(jobcol "$victim" j.phase)"
# Alive, its heartbeat keeps the lease beyond 3 s.
sleep 5
check "heartbeat keeps a live worker's lease" analyze "$(jobcol "$victim" j.phase)"
[[ $(jobcol "$victim" j.attempts) == 1 ]] && ok || bad "the job was taken from a live worker (attempts $(jobcol "$victim" j.attempts))"
owner=$(jobcol "$victim" j.lease_owner)
[[ $owner == *":$WA:"* ]] && ok || bad "job leased by '$owner', not worker A (pid $WA)"
child=$(pgrep -P "$WA" || true)
kill -9 "$WA"; wait "$WA" 2>/dev/null || true
killed_at=$(date +%s)
sleep 0.5
# (a zombie waiting for a reaper that never comes in a container counts as gone)
state=$( [[ -n $child ]] && ps -o stat= -p "$child" 2>/dev/null || true)
if [[ -n $state && $state != Z* ]]; then bad "worker A's analysis child outlived it ($state)"; else ok; fi
check "job still leased by the dead worker" leased "$(jobcol "$victim" j.state)"
start_worker "$WORK/wb.log" -- --workers 1 "${LIMITS[@]}"
check "worker B ran the dead worker's job" done "$(wait_done "$victim" 60)"
took=$(( $(date +%s) - killed_at ))
(( took <= 15 )) && ok || bad "re-run took $took s after the kill (lease 3 s)"
check "second attempt" 2 "$(jobcol "$victim" j.attempts)"
check "one report row" 1 "$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads WHERE id = '$victim' AND report_id IS NOT NULL")"
check "worker B logged it" 1 "$(grep -c "\"upload_id\":\"$victim\".*\"result\":\"done\"" "$WORK/wb.log")"
echo "kill -9 to done: ${took}s"

# --- 3. readiness reports a broken blob store.
chmod 0500 "$DATA/tmp"
if [[ $(id -u) -eq 0 ]]; then
  # root writes through mode bits: break the directory itself instead.
  chmod 0700 "$DATA/tmp"; mv "$DATA/blobs" "$DATA/blobs.away"
fi
check "readyz 503 without a blob store" 503 "$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "$URL/readyz")"
check "readyz names the blob store" false "$(jq -r .checks.blob_store.ok "$WORK/ready.json")"
check "readyz: database still fine" true "$(jq -r .checks.database.ok "$WORK/ready.json")"
check "readyz error for staff" true "$(curl -s "${AUTH[@]}" "$URL/readyz" | jq -r '.checks.blob_store.error | length > 0')"
check "readyz hides the error from anonymous" null "$(jq -r .checks.blob_store.error "$WORK/ready.json")"
check "healthz stays 200 (liveness)" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
[[ -d $DATA/blobs.away ]] && mv "$DATA/blobs.away" "$DATA/blobs"
chmod 0700 "$DATA/tmp"
check "readyz recovers" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")"
stop_server
finish
