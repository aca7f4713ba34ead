#!/usr/bin/env bash
# bench_job_overhead.sh [BUILD_DIR] — what the server adds to each analysis.
#
# A server (one worker) is given small real dumps one at a time; for each job
# it records two durations of its own:
#   job    the worker's "job" log line, duration_ms: from leasing the job
#          through spawning the analyzer, waiting for it, reading and
#          indexing its report, to the report stored (SQLite commit)
#   child  reports.duration_ms in the database: spawn to reaped child
# and the same analyzer command the worker runs (`dumptriage analyze --format
# json --user FILE --symbols DATA/symbols`) is timed alone, at the same time
# (see alone()).  Overhead = job − alone (target ≤ 5 ms); child − alone is
# the part spent starting and waiting for the process.  Figures are medians
# over DT_BENCH_ROUNDS rounds (default 11) of every dump, all queued first
# and then run back to back by one worker (see run_server).  The server's
# figures are whole milliseconds.
# DT_BENCH_COMPARE=/path/to/other/dumptriage runs the same against another
# build's `dumptriage serve` (e.g. the one-binary, polling build before).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
data=${DT_TEST_DATA:-$here/tests/data}
rounds=${DT_BENCH_ROUNDS:-11}
for t in curl jq sqlite3 python3; do
  command -v $t >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
[[ -x $build/dumptriage ]] || { echo "bench: build first ($build/dumptriage missing)" >&2; exit 2; }
tmp=$(mktemp -d)
server_pid="" url=""
cleanup() {
  [[ -n $server_pid ]] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
admin=bench-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
files=()
for name in breakpad__minidump2 symbolicator__windows syzygy__notepad-small-64bit; do
  [[ -f $data/user/$name.dmp ]] && files+=("$data/user/$name.dmp")
done

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# alone BIN SYMDIR LOG NJOBS FILE… — runs the worker's command for each FILE
# in turn, alone (posix_spawn + wait4, output to /dev/null, as the worker's
# child but without the server), *while* the server works through its queue,
# until LOG holds NJOBS "job" lines and every file has at least 7 runs: so
# both figures meet the same load of a shared machine.  Prints "FILE ms",
# the median per file.
alone() {
  python3 - "$@" <<'PY'
import os, statistics, sys, time
bin_, sym, log, njobs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = sys.argv[5:]
null = os.open("/dev/null", os.O_RDWR)
acts = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
runs = {f: [] for f in files}
deadline = time.monotonic() + 600
while time.monotonic() < deadline:
    for f in files:
        argv = [bin_, "analyze", "--format", "json", "--user", f, "--symbols", sym]
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(bin_, argv, os.environ, file_actions=acts)
        os.waitpid(pid, 0)
        runs[f].append((time.perf_counter_ns() - t0) / 1e6)
    with open(log) as lf:
        done = lf.read().count('"event":"job"')
    if done >= njobs and min(len(v) for v in runs.values()) >= 7:
        break
for f in files:
    print("%s %.2f" % (os.path.basename(f), statistics.median(runs[f])))
PY
}

# start BIN DIR [serve args…] — a server on a free port; sets server_pid, url.
start() {
  local bin=$1 dir=$2; shift 2
  "$bin" serve --listen 127.0.0.1:0 --data-dir "$dir/data" --admin-token "$admin" --workers 1 \
    --web-dir "$here/web" --migrations-dir "$here/migrations" "$@" >>"$dir/log" 2>&1 &
  server_pid=$!
  local n
  n=$(grep -c 'listening on' "$dir/log" || true)
  for _ in $(seq 100); do
    (( $(grep -c 'listening on' "$dir/log" || true) > n )) && break
    sleep 0.1
  done
  url=http://127.0.0.1:$(grep -o 'listening on http://[^/]*' "$dir/log" | tail -1 | sed 's/.*://')
}
stop() { kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""; }

# run_server BIN LABEL — prints one table row: label, jobs, job, child, alone, overheads.
run_server() {
  local bin=$1 label=$2
  local dir=$tmp/$label
  mkdir -p "$dir"
  : >"$dir/log"
  # Phase 1, queueing: the analyzer is a stand-in that hangs, so the one
  # worker holds one job and the rest wait; SIGTERM (no drain grace) puts
  # that one back.  Every job then runs in phase 2, back to back, with no
  # client traffic competing for the CPU.  Each upload is a dump with a few
  # bytes appended (a distinct upload; the same bytes twice would reuse the
  # first report, no job; trailing bytes do not change the analysis).
  printf '#!/bin/sh\nexec sleep 600\n' >"$tmp/hang.sh"; chmod +x "$tmp/hang.sh"
  start "$bin" "$dir" --analyzer "$tmp/hang.sh" --drain-grace 0
  : >"$dir/jobs"
  for r in $(seq "$rounds"); do
    for f in "${files[@]}"; do
      local copy=$tmp/$(basename "$f").$r id
      { cat "$f"; printf 'bench round %d\n' "$r"; } >"$copy"
      id=$(curl -s --data-binary @"$copy" "$url/api/dumps?role=user" | jq -r .id)
      [[ $id =~ ^[A-Za-z0-9_-]+$ ]] || { echo "bench: upload failed" >&2; cat "$dir/log" >&2; exit 1; }
      echo "$id $(basename "$f")" >>"$dir/jobs"
    done
  done
  stop
  # Phase 2: the real analyzer (the server's default), jobs back to back,
  # and the same command alone, measured meanwhile.  The log already holds
  # phase 1's requeued job line.
  local n sym=$dir/data/symbols
  n=$(( $(wc -l <"$dir/jobs") + $(grep -c '"event":"job"' "$dir/log" || true) ))
  start "$bin" "$dir"
  alone "$bin" "$sym" "$dir/log" "$n" "${files[@]}" >"$dir/alone"
  stop
  # The worker's log lines (JSON) by upload, and the child time stored with
  # each report.  Jobs of phase 1 (the stand-in, requeued) are not "done".
  grep '^{' "$dir/log" | jq -r 'select(.event == "job" and .result == "done") | "\(.upload_id) \(.duration_ms)"' \
    >"$dir/job_ms"
  command sqlite3 -cmd '.timeout 10000' "$dir/data/dumptriage.sqlite" \
    "SELECT u.id, r.duration_ms FROM uploads u JOIN reports r ON r.id = u.report_id" | tr '|' ' ' >"$dir/child_ms"
  declare -A alone
  while read -r name ms; do alone[$name]=$ms; done <"$dir/alone"
  : >"$dir/over"
  while read -r id name; do
    local j c
    j=$(awk -v id="$id" '$1 == id {print $2}' "$dir/job_ms" | tail -1)
    c=$(awk -v id="$id" '$1 == id {print $2}' "$dir/child_ms" | tail -1)
    [[ -n $j && -n $c ]] || { echo "bench: upload $id ($name) has no finished job" >&2; exit 1; }
    echo "$j $c ${alone[$name]}" >>"$dir/over"
  done <"$dir/jobs"
  local cnt jm cm am oj oc
  cnt=$(wc -l <"$dir/over")
  jm=$(awk '{print $1}' "$dir/over" | median)
  cm=$(awk '{print $2}' "$dir/over" | median)
  am=$(awk '{print $3}' "$dir/over" | median)
  oj=$(awk '{printf "%.2f\n", $1 - $3}' "$dir/over" | median)
  oc=$(awk '{printf "%.2f\n", $2 - $3}' "$dir/over" | median)
  echo "| $label | $cnt | $jm | $cm | $am | $oj | $oc |"
}

echo "dumps: ${files[*]##*/}; $rounds rounds; one worker; medians"
echo
echo "| build | jobs | job (ms) | child (ms) | alone (ms) | overhead job − alone (ms) | child − alone (ms) |"
echo "|---|---:|---:|---:|---:|---:|---:|"
run_server "$build/dumptriage" "$(basename "$build")"
if [[ -n ${DT_BENCH_COMPARE:-} ]]; then
  run_server "$DT_BENCH_COMPARE" compare
fi
