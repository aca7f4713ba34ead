#!/usr/bin/env bash
# bench_upload_paths.sh — every upload path against `cp` of the same file in
# the same run (#18): one-shot raw body, multipart, tus in 64 MiB chunks, tus
# in 64 MiB gzip-member chunks.  Server RSS is sampled every 100 ms
# (/proc/PID/status VmRSS) for each path; the table gives the peak.
# The file is a real minidump's first 64 KiB followed by zeros (see
# bench_upload.sh: sparse source, so reading it is free; the server writes,
# hashes and fsyncs every byte).  The gzip chunks are compressed before the
# clock starts: what is measured is the server's path (inflate, hash, write,
# fsync), not the client's CPU.  Baseline: `cp --sparse=never SRC DST && sync -f DST`.
# The raw tus chunks are cut before the clock too, as sparse files (dd
# conv=sparse), and read once before the clock, as the source is (by cutting
# it), so the client reads every path's bytes from the page cache.
# The tus client is one curl process that sends every PATCH of an upload
# over one kept-alive connection (`--next`), as tus-js-client in a browser
# does.  A curl process per chunk made the client, not the server, the slow
# part on this 2-core machine: a fresh process, libcurl's start-up and a new
# connection per chunk, and reading never-read sparse chunks (the kernel
# zero-fills each page on the first read) cost the client 1.3-2.9 CPU-s per
# GiB against 0.5-0.6 for one curl (docs/performance.md).  Every PATCH must
# answer 204; a refused one ends the run with the server's answer on stderr.
# Each round runs the copy and then the four paths; the ratios of a round
# are against that round's copy, and the last table gives each path's
# median ratio over the rounds.  Between paths the previous upload is
# analysed and deleted and the disk synced, outside the clock.
#   usage: [DT_BENCH_PER_CURL=1] nice -n 10 bench/bench_upload_paths.sh [BUILD_DIR] [SIZE_GIB] [ROUNDS]   (default 4 GiB, 1 round)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
build=${1:-$HERE/../build}
g=${2:-4}
rounds=${3:-1}
export DT_BIN=$(cd "$build" && pwd)/dumptriage DT_TEST_DATA=$HERE/../tests/data
source "$HERE/../tests/integration/server_lib.sh"
start_server "$WORK/data" --max-part-size 20G --max-request-size 20G --min-free-space 1G --workers 1
size=$((g << 30)); chunk=$((64 << 20)); n=$(((size + chunk - 1) / chunk))
src="$WORK/src.dmp"
head -c 65536 "$DT_TEST_DATA/user/rizin__calc.dmp" >"$src"; truncate -s "${g}G" "$src"
TV=(-H "Tus-Resumable: 1.0.0")

sample() { # PID → peak RSS (KiB) until the marker file disappears
  local max=0 r
  while [[ -e $WORK/sampling ]]; do
    r=$(awk '/VmRSS/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    ((r > max)) && max=$r
    sleep 0.1
  done
  echo "$max" >"$WORK/peak"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; } # the server's user+system time, all threads
timed() { # command… — runs it, prints "seconds peak_rss server_cpu_seconds"
  touch "$WORK/sampling"; sample "$SERVER_PID" & local sp=$!
  local t0 t1 c0 c1; c0=$(cpu_ticks); t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N); c1=$(cpu_ticks)
  rm -f "$WORK/sampling"; wait "$sp"
  echo "$(echo "$t1 - $t0" | bc) $(cat "$WORK/peak") $(echo "($c1 - $c0) / $(getconf CLK_TCK)" | bc -l)"
}
forget() { # removes the stored upload so the next path stores it again
  local id=$1
  wait_done "$id" 600 >/dev/null
  curl -s -o /dev/null -X DELETE "${AUTH[@]}" "$URL/api/dumps/$id"
}
one_shot() { curl -s -T "$src" -X POST -H 'Content-Type: application/octet-stream' "$URL/api/dumps" >"$WORK/r.json"; }
multipart() { curl -s -F "user=@$src" "$URL/api/dumps" >"$WORK/r.json"; }
tus() { # gzip|raw — one curl, one connection, every PATCH of the upload
  local loc i args=() codes
  loc=$(curl -s -D - -o /dev/null -X POST "${TV[@]}" -H "Upload-Length: $size" "$URL/api/uploads" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  for ((i = 0; i < n; i++)); do
    ((i)) && args+=(--next)
    args+=(-s -o "$WORK/pb.$i" -D "$WORK/ph.$i" -w '%{http_code}\n' -X PATCH "${TV[@]}"
      -H "Content-Type: application/offset+octet-stream" -H "Upload-Offset: $((i * chunk))")
    if [[ $1 == gzip ]]; then
      args+=(-H "Content-Encoding: gzip" --data-binary @"$WORK/gz/$i.gz" "$URL$loc")
    else
      args+=(-T "$WORK/raw/$i" "$URL$loc")
    fi
  done
  codes=$(curl "${args[@]}" | tr '\n' ' ')
  if [[ $codes != "$(printf '204 %.0s' $(seq "$n"))" ]]; then
    for ((i = 0; i < n; i++)); do
      tr -d '\r' <"$WORK/ph.$i" 2>/dev/null | grep -q '^HTTP/1.1 204' \
        || { echo "tus $1: chunk $i refused: $(tr -d '\r' <"$WORK/ph.$i" 2>/dev/null | grep '^HTTP' | tail -1) $(cat "$WORK/pb.$i" 2>/dev/null)" >&2; break; }
    done
  fi
  tr -d '\r' <"$WORK/ph.$((n - 1))" | awk 'tolower($1)=="dumptriage-upload-id:"{printf "{\"id\":\"%s\"}", $2}' >"$WORK/r.json"
  rm -f "$WORK"/pb.* "$WORK"/ph.*
}

tus_per_curl() { # the earlier client, for comparison: a curl process and a connection per PATCH
  local loc i
  loc=$(curl -s -D - -o /dev/null -X POST "${TV[@]}" -H "Upload-Length: $size" "$URL/api/uploads" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  for ((i = 0; i < n; i++)); do
    curl -s -o "$WORK/pb" -D "$WORK/ph" -X PATCH "${TV[@]}" -H "Content-Type: application/offset+octet-stream" \
      -H "Upload-Offset: $((i * chunk))" -T "$WORK/raw/$i" "$URL$loc"
    tr -d '\r' <"$WORK/ph" | grep -q '^HTTP/1.1 204' || { echo "tus per curl: chunk $i refused: $(cat "$WORK/pb")" >&2; break; }
  done
  tr -d '\r' <"$WORK/ph" | awk 'tolower($1)=="dumptriage-upload-id:"{printf "{\"id\":\"%s\"}", $2}' >"$WORK/r.json"
}
tus_fn_raw() { tus raw; }
tus_fn_gzip() { tus gzip; }
tus_fn_per_curl() { tus_per_curl; }
mkdir -p "$WORK/gz" "$WORK/raw"
for ((i = 0; i < n; i++)); do
  dd if="$src" bs=$chunk skip=$i count=1 status=none | gzip -1 >"$WORK/gz/$i.gz"
  dd if="$src" of="$WORK/raw/$i" bs=$chunk skip=$i count=1 conv=sparse status=none
done
cat "$WORK"/raw/* >/dev/null # into the page cache, as the source is

cp_run() { cp --sparse=never "$src" "$WORK/copy.dmp" && sync -f "$WORK/copy.dmp"; }
paths=(one_shot multipart "tus raw" "tus gzip")
# DT_BENCH_PER_CURL=1 adds the earlier tus client (a curl per PATCH) as a fifth path.
[[ ${DT_BENCH_PER_CURL:-} == 1 ]] && paths+=("tus per_curl")
echo "size $g GiB, $rounds round(s); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| round | path | seconds | MiB/s | cp / path (≥ 0.8 wanted) | server CPU-s per GiB | server peak RSS (MiB) |"
echo "|---|---|---:|---:|---:|---:|---:|"
: >"$WORK/ratios"
for ((round = 1; round <= rounds; round++)); do
  sync
  read -r cp_s _ _ < <(timed cp_run); rm -f "$WORK/copy.dmp"; sync
  awk -v r="$round" -v s="$cp_s" -v g="$g" 'BEGIN { printf "| %d | cp + sync | %.1f | %.0f | 1 | | |\n", r, s, g * 1024 / s }'
  for path in "${paths[@]}"; do
    read -r s rss cpu < <(timed ${path/ /_fn_})
    id=$(jq -r .id "$WORK/r.json")
    [[ $id =~ ^[0-9a-f]{24}$ ]] || { echo "$path failed: $(cat "$WORK/r.json")" >&2; exit 1; }
    awk -v r="$round" -v p="$path" -v s="$s" -v c="$cp_s" -v g="$g" -v m="$rss" -v u="$cpu" \
      'BEGIN { printf "| %d | %s | %.1f | %.0f | %.2f | %.2f | %.1f |\n", r, p, s, g * 1024 / s, c / s, u / g, m / 1024 }'
    echo "$path	$(echo "$cp_s / $s" | bc -l)	$rss" >>"$WORK/ratios"
    forget "$id"
    sync
  done
done
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| path | median cp / path over $rounds round(s) | min–max | peak RSS (MiB) |"
echo "|---|---:|---:|---:|"
for path in "${paths[@]}"; do
  awk -F'\t' -v p="$path" '$1 == p { print $2, $3 }' "$WORK/ratios" | sort -n |
    awk -v p="$path" '{ r[NR] = $1; if ($2 > m) m = $2 }
      END { med = NR % 2 ? r[(NR + 1) / 2] : (r[NR / 2] + r[NR / 2 + 1]) / 2
            printf "| %s | %.2f | %.2f–%.2f | %.1f |\n", p, med, r[1], r[NR], m / 1024 }'
done
stop_server
