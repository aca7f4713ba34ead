#!/usr/bin/env bash
# bench_bigdump.sh — does the user-dump analysis cost follow the pages
# touched or the file size?  Grows the real Wine dump hello_block by 0, 1, 4
# and 16 GiB of captured memory (bench/gen_big_minidump.py: a sparse hole in
# one Memory64List range, almost no disk), runs `dumptriage analyze` RUNS
# times on each and prints a Markdown table: median wall time, median peak
# RSS, and whether the report (threads, frames, modules) equals the original's.
#   usage: nice -n 10 bench/bench_bigdump.sh [BUILD_DIR] [RUNS] [SIZES_GIB…]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}; runs=${2:-5}; shift 2 2>/dev/null || shift $#
sizes=("$@"); [[ ${#sizes[@]} -gt 0 ]] || sizes=(0 1 4 16)
bin="$build/dumptriage"
src=tests/data/wine/hello_block.dmp.gz
work=$(mktemp -d "${TMPDIR:-/tmp}/dt-bigdump.XXXXXX")
trap 'rm -rf "$work"' EXIT

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# The whole report minus what must differ (input path, file size, captured
# byte count), hashed: equal hashes = same threads, frames, modules, verdicts.
shape() { jq -S 'del(.inputs, .user.dump.size, .user.memory.bytes)' "$1" | md5sum | cut -c1-12; }

echo "| captured memory added | file size (bytes) | disk used (KiB) | time (s, median of $runs) | peak RSS (KiB, median) | report equal to the original |"
echo "|---:|---:|---:|---:|---:|---|"
ref=""
for g in "${sizes[@]}"; do
  f="$work/big$g.dmp"
  python3 bench/gen_big_minidump.py "$src" "$f" $((g << 30)) >/dev/null
  times=(); rss=()
  for _ in $(seq 1 "$runs"); do
    out=$( { /usr/bin/time -f '%e %M' "$bin" analyze "$f" >"$work/out.json"; } 2>&1 | tail -1)
    times+=("${out% *}"); rss+=("${out#* }")
  done
  s=$(shape "$work/out.json")
  [[ -n $ref ]] || ref=$s
  printf '| %s GiB | %s | %s | %s | %s | %s |\n' "$g" "$(stat -c %s "$f")" "$(du -k "$f" | cut -f1)" \
    "$(printf '%s\n' "${times[@]}" | median)" "$(printf '%s\n' "${rss[@]}" | median)" "$([[ $s == "$ref" ]] && echo yes || echo NO)"
  rm -f "$f"
done
