#!/usr/bin/env bash
# Acceptance: crashing, hanging, CPU-bound and memory-hungry analyses fail
# with their reasons while other uploads proceed; kill -9 of the server during
# uploads and analyses loses no acknowledged upload and leaves nothing
# partial; SIGTERM drains (running analyses are requeued after the grace).
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"

upload_id() { # curl args… → prints the id of a 2xx upload, or nothing
  local r; r=$(curl -s "$@" "$URL/api/dumps")
  [[ $r =~ \"id\":\"([0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}"
}
status_of() { curl -s "${AUTH[@]}" "$URL/api/dumps/$1" | jq -r "$2"; }

# --- Hostile analyses (test hooks run in the analyzer child, before exec).
start_server "$DATA" --test-hooks --analysis-timeout 25 --analysis-cpu 1 --analysis-memory 256M
crash=$(upload_id -F "user=@$D/user/breakpad__minidump2.dmp" -F "note=DT_TEST_HOOK=crash")
hang=$(upload_id -F "user=@$D/user/lldb__sigsegv.dmp" -F "note=DT_TEST_HOOK=hang")
cpu=$(upload_id -F "user=@$D/user/rizin__calc.dmp" -F "note=DT_TEST_HOOK=cpu")
mem=$(upload_id -F "user=@$D/user/symbolicator__windows.dmp" -F "note=DT_TEST_HOOK=memory")
good1=$(upload_id -F "user=@$D/user/node-minidump__windows.dmp")
good2=$(upload_id -F "kernel=@$D/kernel/rizin__triage_x64.dmp")
check "good upload beside hostile ones" done "$(wait_done "$good1")"
check "second good upload" done "$(wait_done "$good2")"
check "crash: failed" failed "$(wait_done "$crash")"
check "crash: reason" "crash" "$(status_of "$crash" '.error | split(":")[0]')"
check "crash: retried once" 2 "$(store_sql "$DATA" "SELECT attempts FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE u.id = '$crash'")"
check "hang: failed" failed "$(wait_done "$hang")"
check "hang: reason" "timeout" "$(status_of "$hang" '.error | split(":")[0]')"
check "hang: not retried" 1 "$(store_sql "$DATA" "SELECT attempts FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE u.id = '$hang'")"
check "cpu: failed" failed "$(wait_done "$cpu")"
check "cpu: reason" "cpu_limit" "$(status_of "$cpu" '.error | split(":")[0]')"
check "memory: failed" failed "$(wait_done "$mem")"
check "memory: reason" "memory_limit" "$(status_of "$mem" '.error | split(":")[0]')"
metrics=$(curl -s "${AUTH[@]}" "$URL/metrics")
for reason in crash timeout cpu_limit memory_limit; do
  check "metrics: failures{$reason}" 1 "$(grep "^dt_analysis_failures{reason=\"$reason\"}" <<<"$metrics" | awk '{print $2}')"
done
check "metrics: histogram count" 2 "$(grep '^dt_analysis_duration_seconds_count' <<<"$metrics" | awk '{print $2}')"
check "server still healthy" ok "$(curl -s "$URL/healthz" | jq -r .status)"
# Reanalysis of a failed upload (staff), without the hook this time? The
# hook is in the note, so it fails the same way: the job is queued again.
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "${AUTH[@]}" "$URL/api/dumps/$crash/reanalyze")
check "reanalyze: 202" 202 "$code"
check "reanalyze: fails again the same way" failed "$(wait_done "$crash")"
stop_server

# --- kill -9 during uploads and analyses.
DATA2="$WORK/data2"
PG=${DT_TEST_PG_SOCK:+yes}
LEASE=(); [[ -n $PG ]] && LEASE=(--lease 3)
start_server "$DATA2" --test-hooks --analysis-timeout 120 ${LEASE[@]+"${LEASE[@]}"}
acked=()
busy=$(upload_id -F "user=@$D/user/breakpad__minidump2.dmp" -F "note=DT_TEST_HOOK=hang")
acked+=("$busy")
for _ in $(seq 1 50); do [[ $(status_of "$busy" .status) == analyzing ]] && break; sleep 0.1; done
check "an analysis is running at the kill" analyzing "$(status_of "$busy" .status)"
for f in "$D"/user/syzygy__*.dmp; do acked+=("$(upload_id -F "user=@$f")"); done
# Uploads still streaming at the kill: never acknowledged, must leave nothing.
curl -s --limit-rate 100K -F "user=@$D/user/crashdump-mcp__electron.dmp" "$URL/api/dumps" >/dev/null 2>&1 &
slow1=$!
cat "$D/user/crashdump-mcp__electron.dmp" | curl -s --limit-rate 100K -T - -X POST "$URL/api/dumps" >/dev/null 2>&1 &
slow2=$!
sleep 1.5
check "partial uploads are in data/tmp before the kill" true "$( (( $(find "$DATA2/tmp" -type f | wc -l) >= 2 )) && echo true || echo false)"
child_pids=$(pgrep -P "$SERVER_PID" || true)
kill9_server
wait $slow1 $slow2 2>/dev/null || true
sleep 0.3
for c in $child_pids; do
  state=$(awk '/^State:/ {print $2}' "/proc/$c/status" 2>/dev/null || echo gone)
  if [[ $state != gone && $state != Z ]]; then bad "analysis child $c outlived the server"; kill -9 "$c"; else ok; fi
done
spools=$(find "$DATA2/tmp" -type f -name 'part-*' | wc -l)
start_server "$DATA2" ${LEASE[@]+"${LEASE[@]}"}  # no test hooks now: the interrupted analysis runs for real
if [[ -z $PG ]]; then
  check "restart: temp files removed" 0 "$(find "$DATA2/tmp" -type f -name 'part-*' | wc -l)"
  # serve_main.c logs "recovered: N analyses requeued, M unreferenced blobs removed"
  # when either is non-zero: "0 analyses requeued" must not pass for a requeue.
  requeued=$(sed -nE 's/.*recovered: ([0-9]+) analyses requeued.*/\1/p' "$SERVER_LOG" | head -1)
  (( ${requeued:-0} >= 1 )) && ok || bad "restart did not report the requeued analysis (requeued: '${requeued}'): $(grep recovered "$SERVER_LOG" || true)"
else
  # Beside possible live processes on other hosts: the spools stay (removed
  # once idle past the sweep's threshold, instance.h), the lease runs out.
  check "restart on a shared store: spools left for the idle sweep" "$spools" "$(find "$DATA2/tmp" -type f -name 'part-*' | wc -l)"
  check "the killed server's job is still leased right after the restart" leased \
    "$(store_sql "$DATA2" "SELECT state FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE u.id = '$busy'")"
fi
for id in "${acked[@]}"; do
  check "acknowledged upload $id analyzed after restart" done "$(wait_done "$id")"
done
check "the interrupted analysis ran again (attempt 2)" 2 \
  "$(store_sql "$DATA2" "SELECT attempts FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE u.id = '$busy'")"
check "each acknowledged upload has one report and one finished job" "${#acked[@]}|${#acked[@]}|0" \
  "$(store_sql "$DATA2" "SELECT (SELECT COUNT(DISTINCT report_id) FROM uploads WHERE report_id IS NOT NULL), (SELECT COUNT(*) FROM jobs WHERE state = 'done'), (SELECT COUNT(*) FROM jobs WHERE state <> 'done')")"
check "no row for the unacknowledged uploads" "${#acked[@]}" "$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=200" | jq '.items | length')"
check "no orphan blob (electron.dmp was never acknowledged)" 0 \
  "$(find "$DATA2/blobs" -type f -size +2000k | wc -l)"

# --- SIGTERM drain: a running analysis is requeued after the grace period.
stop_server
start_server "$DATA2" --test-hooks --analysis-timeout 120 --drain-grace 1 ${LEASE[@]+"${LEASE[@]}"}
drain=$(upload_id -F "user=@$D/user/breakpad__thread_name_list.dmp" -F "note=DT_TEST_HOOK=hang")
for _ in $(seq 1 50); do [[ $(status_of "$drain" .status) == analyzing ]] && break; sleep 0.1; done
t0=$(date +%s)
stop_server
check "drain finished within grace + a little" true "$( (( $(date +%s) - t0 <= 5 )) && echo true || echo false)"
check "drained job requeued" queued "$(store_sql "$DATA2" "SELECT state FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE u.id = '$drain'")"
start_server "$DATA2"
check "drained job analyzed after restart" done "$(wait_done "$drain")"
stop_server
finish
