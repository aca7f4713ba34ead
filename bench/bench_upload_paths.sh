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
# conv=sparse), so curl reads them as freely as the one-shot reads the
# source: piping each chunk from dd into `curl -T -` cost the client ~0.8 s
# per 64 MiB chunk (4× the server's time) and made the path look slow.  A
# PATCH that is refused ends the run with the server's answer on stderr.
#   usage: nice -n 10 bench/bench_upload_paths.sh [BUILD_DIR] [SIZE_GIB]   (default 4)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
build=${1:-$HERE/../build}
g=${2:-4}
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
timed() { # label command… — runs it, prints "seconds peak_rss"
  touch "$WORK/sampling"; sample "$SERVER_PID" & local sp=$!
  local t0 t1; t0=$(date +%s.%N); "$@"; t1=$(date +%s.%N)
  rm -f "$WORK/sampling"; wait "$sp"
  echo "$(echo "$t1 - $t0" | bc) $(cat "$WORK/peak")"
}
forget() { # removes the stored upload so the next path stores it again
  local id=$1
  wait_done "$id" 600 >/dev/null
  curl -s -o /dev/null -X DELETE "${AUTH[@]}" "$URL/api/dumps/$id"
}
one_shot() { curl -s -T "$src" -X POST -H 'Content-Type: application/octet-stream' "$URL/api/dumps" >"$WORK/r.json"; }
multipart() { curl -s -F "user=@$src" "$URL/api/dumps" >"$WORK/r.json"; }
tus() { # gzip|raw
  local loc i
  loc=$(curl -s -D - -o /dev/null -X POST "${TV[@]}" -H "Upload-Length: $size" "$URL/api/uploads" | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}')
  for ((i = 0; i < n; i++)); do
    if [[ $1 == gzip ]]; then
      curl -s -o "$WORK/pb" -D "$WORK/ph" -X PATCH "${TV[@]}" -H "Content-Type: application/offset+octet-stream" \
        -H "Content-Encoding: gzip" -H "Upload-Offset: $((i * chunk))" --data-binary @"$WORK/gz/$i.gz" "$URL$loc"
    else
      curl -s -o "$WORK/pb" -D "$WORK/ph" -X PATCH "${TV[@]}" -H "Content-Type: application/offset+octet-stream" \
        -H "Upload-Offset: $((i * chunk))" -T "$WORK/raw/$i" "$URL$loc"
    fi
    if ! tr -d '\r' <"$WORK/ph" | grep -q '^HTTP/1.1 204'; then
      echo "tus $1: chunk $i refused: $(tr -d '\r' <"$WORK/ph" | grep '^HTTP' | tail -1) $(cat "$WORK/pb")" >&2
      break
    fi
  done
  tr -d '\r' <"$WORK/ph" | awk 'tolower($1)=="dumptriage-upload-id:"{printf "{\"id\":\"%s\"}", $2}' >"$WORK/r.json"
}

tus_fn_raw() { tus raw; }
tus_fn_gzip() { tus gzip; }
mkdir -p "$WORK/gz" "$WORK/raw"
for ((i = 0; i < n; i++)); do
  dd if="$src" bs=$chunk skip=$i count=1 status=none | gzip -1 >"$WORK/gz/$i.gz"
  dd if="$src" of="$WORK/raw/$i" bs=$chunk skip=$i count=1 conv=sparse status=none
done

cp_run() { cp --sparse=never "$src" "$WORK/copy.dmp" && sync -f "$WORK/copy.dmp"; }
read -r cp_s cp_rss < <(timed cp_run); rm -f "$WORK/copy.dmp"
echo "size $g GiB; cp --sparse=never + sync: $cp_s s ($(echo "$g * 1024 / $cp_s" | bc) MiB/s)"
echo "| path | seconds | MiB/s | cp / path (≥ 0.8 wanted) | server peak RSS (MiB) |"
echo "|---|---:|---:|---:|---:|"
for path in one_shot multipart "tus raw" "tus gzip"; do
  read -r s rss < <(timed ${path/ /_fn_})
  id=$(jq -r .id "$WORK/r.json")
  [[ $id =~ ^[0-9a-f]{24}$ ]] || { echo "$path failed: $(cat "$WORK/r.json")" >&2; exit 1; }
  awk -v p="$path" -v s="$s" -v c="$cp_s" -v g="$g" -v r="$rss" \
    'BEGIN { printf "| %s | %.1f | %.0f | %.2f | %.1f |\n", p, s, g * 1024 / s, c / s, r / 1024 }'
  forget "$id"
done
stop_server
