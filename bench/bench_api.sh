#!/usr/bin/env bash
# bench_api.sh — read API latency and throughput with N stored uploads
# (default 10 000), measured with wrk against the server's own static-file
# route as the baseline in the same run.
# The store is filled through the API: N uploads of one small real dump
# (tests/data/user/rizin__calc.dmp) with distinct notes, sent by one curl
# process with 8 parallel transfers.  Identical content reuses the first
# analysis, so each upload is a real request creating a real upload row
# (with its files row) without N analyses; the list and report routes read
# exactly what they would read for N analyzed uploads.
#   usage: nice -n 10 bench/bench_api.sh [BUILD_DIR] [N] [SECONDS]
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
build=${1:-$HERE/../build}; n=${2:-10000}; secs=${3:-10}
export DT_BIN=$(cd "$build" && pwd)/dumptriage DT_TEST_DATA=$HERE/../tests/data
source "$HERE/../tests/integration/server_lib.sh"
command -v wrk >/dev/null || { echo "bench_api: needs wrk (apt-get install wrk)" >&2; exit 1; }
start_server "$WORK/data" --min-free-space 100M --max-connections 256
f="$DT_TEST_DATA/user/rizin__calc.dmp"
first=$(curl -s -F "user=@$f" -F "note=fill 0" "$URL/api/dumps" | jq -r .id)
wait_done "$first" 60 >/dev/null
cfg="$WORK/fill.cfg"
for ((i = 1; i < n; i++)); do
  (( i > 1 )) && echo next
  printf 'url = "%s/api/dumps"\nform = "user=@%s"\nform = "note=fill %d"\noutput = "/dev/null"\n' "$URL" "$f" "$i"
done >"$cfg"
t0=$(date +%s.%N)
curl -s --no-progress-meter -Z --parallel-max 8 --config "$cfg" 2>/dev/null
t1=$(date +%s.%N)
rows=$(sqlite3 "$WORK/data/dumptriage.sqlite" 'SELECT COUNT(*) FROM uploads')
echo "filled $rows uploads in $(echo "$t1 - $t0" | bc) s ($(echo "($rows - 1) / ($t1 - $t0)" | bc) uploads/s, 8 parallel curl transfers)"
[[ $rows -eq $n ]] || { echo "bench_api: expected $n rows, got $rows" >&2; exit 1; }

echo
echo "wrk -t2 -c16 -d${secs}s --timeout 10s --latency, staff token; every route answered 200 (checked first)"
echo
echo "| route | requests/s | p50 (ms) | p99 (ms) | throughput vs static | errors/timeouts |
|---|---:|---:|---:|---:|---:|"
ms() { # wrk latency token (e.g. 1.23ms, 850.00us, 1.02s) → ms
  awk -v v="$1" 'BEGIN { if (v ~ /us$/) printf "%.2f", v / 1000; else if (v ~ /ms$/) printf "%.2f", v + 0; else printf "%.2f", v * 1000 }'
}
base_rps=""
run() { # label path
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL$2")
  [[ $code == 200 ]] || { echo "bench_api: $2 gave $code" >&2; exit 1; }
  wrk -t2 -c16 -d"${secs}s" --timeout 10s --latency -H "Authorization: Bearer $ADMIN" "$URL$2" >"$WORK/wrk.txt"
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' "$WORK/wrk.txt")
  p50=$(ms "$(awk '$1 == "50%" {print $2}' "$WORK/wrk.txt")")
  p99=$(ms "$(awk '$1 == "99%" {print $2}' "$WORK/wrk.txt")")
  if grep -q 'Non-2xx' "$WORK/wrk.txt"; then echo "bench_api: $(grep Non-2xx "$WORK/wrk.txt") on $2" >&2; fi
  [[ -n $base_rps ]] || base_rps=$rps
  # "Socket errors: connect 0, read 0, write 0, timeout 3" and "Non-2xx" lines, summed.
  local errs
  errs=$(awk '/Socket errors/ { gsub(",", ""); s += $4 + $6 + $8 + $10 } /Non-2xx/ { s += $NF } END { print s + 0 }' "$WORK/wrk.txt")
  printf '| `GET %s` (%s) | %.0f | %s | %s | %.2f | %s |\n' "$2" "$1" "$rps" "$p50" "$p99" "$(echo "$rps / $base_rps" | bc -l)" "$errs"
}
run "static file, baseline" /static/style.css
run "one report" "/api/dumps/$first/report"
mid=$(sqlite3 "$WORK/data/dumptriage.sqlite" "SELECT id FROM uploads WHERE seq = $((n / 2))")
run "report of a reused upload" "/api/dumps/$mid/report"
run "upload status" "/api/dumps/$mid"
run "list, first page (default limit)" "/api/dumps"
run "list, 200 per page" "/api/dumps?limit=200"
run "list, text search" "/api/dumps?q=fill%20$((n - 7))"
run "list, text search matching every upload" "/api/dumps?q=calc.exe"
stop_server
