#!/usr/bin/env bash
# bench_queue.sh — N small real dumps (default 500) posted by C concurrent
# clients (default 8): time from the first post until every one is analyzed,
# and the per-job overhead beyond the analysis itself.
# Each upload is a real dump from tests/data/user with 16 random bytes
# appended (distinct content: every upload is analyzed, none reused).
# Overhead per job = WORKERS x wall / N  -  mean analysis time, where the
# analysis time of each file is measured in the same run by running
# `dumptriage analyze` on it directly (same binary, same files).
#   usage: nice -n 10 bench/bench_queue.sh [BUILD_DIR] [N] [CLIENTS] [WORKERS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
build=${1:-$HERE/../build}; n=${2:-500}; clients=${3:-8}; workers=${4:-2}
export DT_BIN=$(cd "$build" && pwd)/dumptriage DT_TEST_DATA=$HERE/../tests/data
source "$HERE/../tests/integration/server_lib.sh"
files=(); for f in "$DT_TEST_DATA"/user/*.dmp; do [[ $(head -c 4 "$f") == MDMP ]] && files+=("$f"); done
mkdir -p "$WORK/in"
for ((i = 0; i < n; i++)); do
  { cat "${files[$((i % ${#files[@]}))]}"; head -c 16 /dev/urandom; } >"$WORK/in/$i.dmp"
done
start_server "$WORK/data" --min-free-space 100M --workers "$workers" --max-queue $((n + 10))
db="$WORK/data/dumptriage.sqlite"

t0=$(date +%s.%N)
seq 0 $((n - 1)) | xargs -P "$clients" -I{} curl -s -o /dev/null -w '%{http_code}\n' \
  -F "user=@$WORK/in/{}.dmp" -F "note=queue {}" "$URL/api/dumps" >"$WORK/codes"
t_posted=$(date +%s.%N)
while :; do
  left=$(sqlite3 "$db" "SELECT COUNT(*) FROM uploads WHERE status IN ('queued', 'analyzing')")
  (( left == 0 )) && break
  sleep 0.2
done
t1=$(date +%s.%N)
accepted=$(grep -c '^202$' "$WORK/codes" || true)
done_n=$(sqlite3 "$db" "SELECT COUNT(*) FROM uploads WHERE status = 'done'")
failed_n=$(sqlite3 "$db" "SELECT COUNT(*) FROM uploads WHERE status = 'failed'")
server_ms=$(sqlite3 "$db" "SELECT AVG(duration_ms) FROM reports")
stop_server

# The analysis alone, same files, one after the other.
a0=$(date +%s.%N)
for ((i = 0; i < n; i++)); do "$DT_BIN" analyze "$WORK/in/$i.dmp" >/dev/null 2>&1 || true; done
a1=$(date +%s.%N)
awk -v n="$n" -v c="$clients" -v w="$workers" -v acc="$accepted" -v dn="$done_n" -v fl="$failed_n" \
    -v post="$(echo "$t_posted - $t0" | bc)" -v all="$(echo "$t1 - $t0" | bc)" \
    -v ana="$(echo "$a1 - $a0" | bc)" -v sms="$server_ms" 'BEGIN {
  printf "| uploads | clients | workers | accepted (202) | done | failed | all posted (s) | all analyzed (s) | uploads/s | analysis alone, mean (ms) | server-recorded analysis, mean (ms) | overhead per job (ms) |\n"
  printf "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n"
  printf "| %d | %d | %d | %d | %d | %d | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |\n", n, c, w, acc, dn, fl, post, all, n / all,
         ana * 1000 / n, sms, w * all * 1000 / n - ana * 1000 / n }'
