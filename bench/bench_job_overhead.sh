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
# json --user FILE --symbols DATA/symbols`) is timed alone with hyperfine
# (or a date loop).  Overhead = job − alone (target ≤ 5 ms); child − alone is
# the part spent starting and waiting for the process.  Figures are medians
# over DT_BENCH_ROUNDS rounds (default 7) of every dump, all queued first
# and then run back to back by one worker (see run_server).  The server's
# figures are whole milliseconds.
# DT_BENCH_COMPARE=/path/to/other/dumptriage runs the same against another
# build's `dumptriage serve` (e.g. the one-binary, polling build before).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
data=${DT_TEST_DATA:-$here/tests/data}
rounds=${DT_BENCH_ROUNDS:-7}
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

# alone_ms BIN FILE SYMDIR — median wall (ms) of the worker's command, alone.
alone_ms() {
  local bin=$1 f=$2 sym=$3
  if command -v hyperfine >/dev/null; then
    hyperfine -N --style none --warmup 2 --runs 15 --export-json "$tmp/hf.json" \
      -- "$bin analyze --format json --user $f --symbols $sym" >/dev/null 2>&1
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$tmp/hf.json"
  else
    for _ in $(seq 15); do
      local t0 t1
      t0=$(date +%s%N); "$bin" analyze --format json --user "$f" --symbols "$sym" >/dev/null; t1=$(date +%s%N)
      echo $(((t1 - t0) / 1000))
    done | median | awk '{printf "%.2f\n", $1 / 1000}'
  fi
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
  # Phase 2: the real analyzer (the server's default), jobs back to back.
  local n
  n=$(wc -l <"$dir/jobs")
  start "$bin" "$dir"
  for _ in $(seq 600); do
    (( $(grep -c '"event":"job"' "$dir/log" || true) >= n )) && break
    sleep 0.5
  done
  stop
  # The worker's log lines (JSON) by upload, and the child time stored with
  # each report.  Jobs of phase 1 (the stand-in, requeued) are not "done".
  grep '^{' "$dir/log" | jq -r 'select(.event == "job" and .result == "done") | "\(.upload_id) \(.duration_ms)"' \
    >"$dir/job_ms"
  command sqlite3 -cmd '.timeout 10000' "$dir/data/dumptriage.sqlite" \
    "SELECT u.id, r.duration_ms FROM uploads u JOIN reports r ON r.id = u.report_id" | tr '|' ' ' >"$dir/child_ms"
  # Alone: the worker's command on the same file, its symbol dir included.
  local sym=$dir/data/symbols
  [[ -d $sym ]] || sym=$dir
  declare -A alone
  for f in "${files[@]}"; do
    alone[$(basename "$f")]=$(alone_ms "$bin" "$f" "$sym")
  done
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
