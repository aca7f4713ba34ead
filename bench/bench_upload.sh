#!/usr/bin/env bash
# bench_upload.sh — upload throughput against `cp` of the same file in the same
# run, with the server's RSS sampled every 100 ms from /proc/PID/status.
# The file is a real minidump's first 64 KiB followed by zeros (sparse on the
# source disk, so reading it costs no I/O); the server writes every byte,
# SHA-256 hashes it and fsyncs it, so the fair baseline is a non-sparse copy
# followed by fsync: `cp --sparse=never SRC DST && sync -f DST`.
#   usage: nice -n 10 bench/bench_upload.sh [BUILD_DIR] [SIZES_GIB…]   (default 1 4)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
build=${1:-$HERE/../build}; shift || true
sizes=("$@"); [[ ${#sizes[@]} -gt 0 ]] || sizes=(1 4)
export DT_BIN=$(cd "$build" && pwd)/dumptriage DT_TEST_DATA=$HERE/../tests/data
source "$HERE/../tests/integration/server_lib.sh"
start_server "$WORK/data" --max-part-size 20G --max-request-size 20G --min-free-space 1G

echo "| size | curl upload (s) | MiB/s | cp --sparse=never + fsync (s) | upload / cp | server RSS at start (KiB) | RSS during upload, min–max (KiB) | RSS samples (100 ms apart) |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for g in "${sizes[@]}"; do
  src="$WORK/src.dmp"
  head -c 65536 "$DT_TEST_DATA/user/rizin__calc.dmp" >"$src"; truncate -s "${g}G" "$src"
  rss0=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
  t0=$(date +%s.%N)
  curl -s -T "$src" -X POST -H 'Content-Type: application/octet-stream' "$URL/api/dumps" >"$WORK/up.json" &
  cpid=$!
  samples=(); max=0; min=999999999
  while kill -0 "$cpid" 2>/dev/null; do
    r=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    samples+=("$r"); (( r > max )) && max=$r; (( r > 0 && r < min )) && min=$r
    sleep 0.1
  done
  wait "$cpid"
  t1=$(date +%s.%N)
  [[ $(jq -r '.files[0].size' "$WORK/up.json") == $((g << 30)) ]] || { echo "upload failed: $(cat "$WORK/up.json")" >&2; exit 1; }
  id=$(jq -r .id "$WORK/up.json")
  c0=$(date +%s.%N)
  cp --sparse=never "$src" "$WORK/copy.dmp" && sync -f "$WORK/copy.dmp"
  c1=$(date +%s.%N)
  rm -f "$WORK/copy.dmp"
  wait_done "$id" 600 >/dev/null
  curl -s -o /dev/null -X DELETE "${AUTH[@]}" "$URL/api/dumps/$id"
  awk -v g="$g" -v up="$(echo "$t1 - $t0" | bc)" -v cp="$(echo "$c1 - $c0" | bc)" -v r0="$rss0" -v mn="$min" -v mx="$max" -v ns="${#samples[@]}" \
    'BEGIN { printf "| %d GiB | %.1f | %.0f | %.1f | %.2f | %d | %d–%d | %d |\n", g, up, g * 1024 / up, cp, up / cp, r0, mn, mx, ns }'
  rm -f "$src"
done
stop_server
