#!/usr/bin/env bash
# bench_series.sh [BUILD_DIR] — cost of `dumptriage analyze --series` against
# its baseline in the same run (issue #16 item 7): N snapshots must cost at
# most N single analyses + 10%, and the peak memory must stay that of one
# snapshot's report plus per-thread summaries, so it must not grow with N.
#
# Snapshots: the real Wine series (tests/data/wine/series, 40 MB each
# unpacked, 6.7 MB as .dmp.gz); for 10 snapshots the three are repeated with
# the header TimeDateStamp moved so that each copy is a distinct snapshot (not
# a duplicate), and recompressed (gzip -1): the .dmp.gz customers send, so
# each analysis includes its inflation and the figures are well above the
# timer's 10 ms resolution.  Baseline: the same N files analysed one by one (`analyze` per
# file, summed), each with the series' symbols.  Every figure is the median of
# RUNS rounds (`/usr/bin/time -f '%e %U %S %M'`); each round runs the single
# analyses and then the series back to back, so load from other work on the
# machine falls on both sides alike.  The cost target is checked on CPU
# seconds (user + system: the work done, which others' load on a shared
# machine does not inflate); wall seconds are printed beside them.
# Exits 1 when a target is missed.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/dumptriage
data=${DT_TEST_DATA:-$here/tests/data}
runs=${RUNS:-3}
[[ -x $bin ]] || { echo "bench: build first ($bin missing)" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing (Debian package 'time')" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
S=$data/wine/series

for k in 1 2 3; do gzip -dc "$S/series_hang.$k.dmp.gz" >"$tmp/base$k.dmp"; done
# snapshot i (1..10) = base ((i-1) % 3 + 1) with its time moved 100*i s on.
python3 - "$tmp" <<'PY'
import sys, shutil
d = sys.argv[1]
for i in range(1, 11):
    src = "%s/base%d.dmp" % (d, (i - 1) % 3 + 1)
    dst = "%s/snap%02d.dmp" % (d, i)
    shutil.copyfile(src, dst)
    with open(dst, "r+b") as f:
        f.seek(20)
        t = int.from_bytes(f.read(4), "little") + 100 * i
        f.seek(20)
        f.write(t.to_bytes(4, "little"))
PY
for i in $(seq -w 1 10); do gzip -1 -n "$tmp/snap$i.dmp"; done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# one LOG command… → appends "wall cpu KiB" of one run to LOG
one() {
  local log=$1; shift
  /usr/bin/time -f '%e %U %S %M' -o "$tmp/one" "$@" >"$tmp/out.json"
  awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$tmp/one" >>"$log"
}
col() { awk -v c="$2" '{print $c}' "$1" | median; }

fail=0
printf '| snapshots | single analyses, summed: CPU s (wall s) | series: CPU s (wall s) | CPU ratio | wall ratio | single peak RSS (KiB, max) | series peak RSS (KiB) | RSS ratio |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|---:|\n'
for n in 3 10; do
  files=()
  for i in $(seq 1 "$n"); do files+=("$(printf '%s/snap%02d.dmp.gz' "$tmp" "$i")"); done
  : >"$tmp/series.log"
  for f in "${files[@]}"; do : >"$tmp/single.$(basename "$f")"; done
  for _ in $(seq "$runs"); do
    for f in "${files[@]}"; do one "$tmp/single.$(basename "$f")" "$bin" analyze --symbols "$S/bin" "$f"; done
    one "$tmp/series.log" "$bin" analyze --series --symbols "$S/bin" "${files[@]}"
    python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))['series']
assert s['compared'] == int(sys.argv[2]), s['compared']" "$tmp/out.json" "$n"
  done
  sum_w=0 sum_c=0 maxrss=0
  for f in "${files[@]}"; do
    log="$tmp/single.$(basename "$f")"
    sum_w=$(python3 -c "print(round($sum_w + $(col "$log" 1), 2))")
    sum_c=$(python3 -c "print(round($sum_c + $(col "$log" 2), 2))")
    m=$(col "$log" 3); (( m > maxrss )) && maxrss=$m
  done
  st_w=$(col "$tmp/series.log" 1) st_c=$(col "$tmp/series.log" 2) sm=$(col "$tmp/series.log" 3)
  ratio=$(python3 -c "print(round($st_c / $sum_c, 3))")
  wratio=$(python3 -c "print(round($st_w / $sum_w, 3))")
  rss=$(python3 -c "print(round($sm / $maxrss, 3))")
  printf '| %d | %s (%s) | %s (%s) | %s | %s | %s | %s | %s |\n' "$n" "$sum_c" "$sum_w" "$st_c" "$st_w" "$ratio" "$wratio" "$maxrss" "$sm" "$rss"
  python3 -c "import sys; sys.exit(0 if $st_c <= 1.10 * $sum_c else 1)" || { echo "MISSED: $n snapshots cost $ratio x the single analyses' CPU (target <= 1.10)" >&2; fail=1; }
  echo "$n $sm" >>"$tmp/rss"
done
# Memory holds one report at a time: 10 snapshots may not need much more
# than 3 (the per-thread summaries grow; the reports do not accumulate).
read -r _ r3 < <(sed -n 1p "$tmp/rss")
read -r _ r10 < <(sed -n 2p "$tmp/rss")
python3 -c "import sys; sys.exit(0 if $r10 <= 1.15 * $r3 else 1)" || { echo "MISSED: peak RSS grows with the snapshot count ($r3 KiB for 3, $r10 KiB for 10)" >&2; fail=1; }
exit $fail
