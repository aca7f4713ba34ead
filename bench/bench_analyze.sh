#!/usr/bin/env bash
# bench_analyze.sh [BUILD_DIR] — time and peak memory of `dumptriage analyze`
# on every corpus user dump (tests/data/user) and on the Wine full-memory
# dumps, inflated first so the figure is for a plain multi-MB dump, and
# again as the .dmp.gz customers send (inflation included).  Each
# file is analyzed 5 times (`/usr/bin/time -f '%e %M'`); the table shows the
# median wall time and the median peak RSS, as Markdown for
# docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/dumptriage
data=${DT_TEST_DATA:-$here/tests/data}
runs=5
[[ -x $bin ]] || { echo "bench: build first ($bin missing)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing (Debian package 'time')" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

files=("$data"/user/*.dmp)
for gz in "$data"/wine/*.dmp.gz; do
  out=$tmp/$(basename "${gz%.gz}")
  gzip -dc "$gz" >"$out"
  files+=("$out")
done
files+=("$data"/wine/*.dmp.gz)

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

printf '| dump | size (bytes) | threads | modules | memory ranges | time (s, median of %d) | peak RSS (KiB, median) |\n' "$runs"
printf '|---|---:|---:|---:|---:|---:|---:|\n'
for f in "${files[@]}"; do
  : >"$tmp/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$tmp/one" "$bin" analyze "$f" >"$tmp/report.json"
    cat "$tmp/one" >>"$tmp/times"
  done
  t=$(awk '{print $1}' "$tmp/times" | median)
  m=$(awk '{print $2}' "$tmp/times" | median)
  read -r th mo mr < <(python3 -c '
import json, sys
u = json.load(open(sys.argv[1]))["user"]
print(len(u["threads"]) + (1 if "dump_thread" in u else 0), len(u["modules"]), u["memory"]["ranges"])' "$tmp/report.json")
  printf '| %s | %d | %s | %s | %s | %s | %s |\n' "$(basename "$f")" "$(stat -c %s "$f")" "$th" "$mo" "$mr" "$t" "$m"
done
