#!/usr/bin/env bash
# bench_startup.sh [BUILD_DIR] — whole-process cost of `dumptriage analyze`
# on small real dumps (tests/data/user, ≤ 100 KB), where start-up dominates:
# wall time and peak RSS, each the median of DT_BENCH_RUNS runs (default 11,
# at least 7), against a baseline run on the same files in the same session:
#   BREAKPAD_STACKWALK=/path/to/minidump_stackwalk   Breakpad's processor
#       (built from source by hand; this script never downloads anything)
#   otherwise                                        `cat FILE` (reading the
#       file and nothing else: the floor of any process that looks at it)
# DT_BENCH_COMPARE=/path/to/other/dumptriage adds a column for another build
# (e.g. the one-binary build from before the lean analyzer).
# Wall time is hyperfine's median when hyperfine is installed (`apt-get
# install hyperfine`), else a loop over date +%s%N (adds a fork of bash to
# every figure alike); peak RSS is /usr/bin/time's %M.  Output: a Markdown
# table for docs/performance.md and the targets (wall ≤ 1.0× Breakpad's,
# peak RSS ≤ 6 MB) checked in its last lines.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/dumptriage
data=${DT_TEST_DATA:-$here/tests/data}
runs=${DT_BENCH_RUNS:-11}
(( runs >= 7 )) || { echo "bench: DT_BENCH_RUNS must be at least 7" >&2; exit 2; }
[[ -x $bin ]] || { echo "bench: build first ($bin missing)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing (Debian package 'time')" >&2; exit 2; }
base=${BREAKPAD_STACKWALK:-}
if [[ -n $base ]]; then
  [[ -x $base ]] || { echo "bench: BREAKPAD_STACKWALK=$base is not executable" >&2; exit 2; }
  base_name="minidump_stackwalk"
else
  base=$(command -v cat)
  base_name="cat (no BREAKPAD_STACKWALK given)"
fi
compare=${DT_BENCH_COMPARE:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

files=()
for name in breakpad__minidump2 breakpad__thread_name_list breakpad__write_av_non_canonical \
            symbolicator__windows syzygy__notepad-small-64bit rust-minidump__invalid-parameter; do
  f=$data/user/$name.dmp
  [[ -f $f ]] && (( $(stat -c %s "$f") <= 102400 )) && files+=("$f")
done
(( ${#files[@]} )) || { echo "bench: no small dumps under $data/user" >&2; exit 2; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# wall_ms CMD… — median wall time in ms (output discarded, exit status ignored:
# a baseline may refuse a dump; it still ran).
wall_ms() {
  if command -v hyperfine >/dev/null; then
    hyperfine -N -i --style none --warmup 2 --runs "$runs" --export-json "$tmp/hf.json" \
      -- "$(printf '%q ' "$@")" >/dev/null 2>&1
    python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1000))' "$tmp/hf.json"
  else
    for _ in $(seq "$runs"); do
      local t0 t1
      t0=$(date +%s%N); "$@" >/dev/null 2>&1 || true; t1=$(date +%s%N)
      echo $(((t1 - t0) / 1000))
    done | median | awk '{printf "%.2f\n", $1 / 1000}'
  fi
}

# rss_kib CMD… — median peak RSS in KiB.
rss_kib() {
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null 2>&1 || true
    tail -1 "$tmp/rss"
  done | median
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "dumptriage: $bin ($(ldd "$bin" | grep -c '=>') shared libraries)"
echo "baseline:   $base_name"
[[ -n $compare ]] && echo "compare:    $compare ($(ldd "$compare" | grep -c '=>') shared libraries)"
echo "runs:       $runs per figure (median); wall: $(command -v hyperfine >/dev/null && echo hyperfine || echo 'date loop')"
echo
hdr="| dump | KB | dumptriage wall (ms) | baseline wall (ms) | wall ratio | dumptriage RSS (KiB) | baseline RSS (KiB) | RSS ratio |"
sep="|---|---:|---:|---:|---:|---:|---:|---:|"
if [[ -n $compare ]]; then
  hdr+=" compare wall (ms) | compare RSS (KiB) |"; sep+="---:|---:|"
fi
echo "$hdr"; echo "$sep"
worst_wall=0 worst_rss=0
for f in "${files[@]}"; do
  w=$(wall_ms "$bin" analyze "$f")
  m=$(rss_kib "$bin" analyze "$f")
  bw=$(wall_ms "$base" "$f")
  bm=$(rss_kib "$base" "$f")
  wr=$(ratio "$w" "$bw"); mr=$(ratio "$m" "$bm")
  row="| $(basename "$f") | $(( $(stat -c %s "$f") / 1024 )) | $w | $bw | $wr | $m | $bm | $mr |"
  if [[ -n $compare ]]; then
    row+=" $(wall_ms "$compare" analyze "$f") | $(rss_kib "$compare" analyze "$f") |"
  fi
  echo "$row"
  worst_wall=$(awk -v a="$wr" -v b="$worst_wall" 'BEGIN { print (a > b ? a : b) }')
  worst_rss=$(awk -v a="$m" -v b="$worst_rss" 'BEGIN { print (a > b ? a : b) }')
done
echo
echo "worst wall ratio: $worst_wall (target ≤ 1.0 against minidump_stackwalk, stretch 0.5)"
echo "worst peak RSS:   $worst_rss KiB (target ≤ 6144 KiB)"
if [[ $base_name == minidump_stackwalk ]]; then
  awk -v w="$worst_wall" -v m="$worst_rss" 'BEGIN { exit !(w <= 1.0 && m <= 6144) }' \
    && echo "targets: met" || { echo "targets: MISSED"; exit 1; }
else
  awk -v m="$worst_rss" 'BEGIN { exit !(m <= 6144) }' \
    && echo "targets: RSS met (wall target needs BREAKPAD_STACKWALK)" || { echo "targets: MISSED"; exit 1; }
fi
