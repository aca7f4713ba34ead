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
# RUNS runs (`/usr/bin/time -f '%e %M'`).  Exits 1 when a target is missed.
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
measure() { # command… → "seconds KiB" medians over $runs runs
  : >"$tmp/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$tmp/one" "$@" >"$tmp/out.json"
    cat "$tmp/one" >>"$tmp/times"
  done
  echo "$(awk '{print $1}' "$tmp/times" | median) $(awk '{print $2}' "$tmp/times" | median)"
}

fail=0
printf '| snapshots | single analyses, summed (s) | series (s) | ratio | single peak RSS (KiB, max) | series peak RSS (KiB) | RSS ratio |\n'
printf '|---:|---:|---:|---:|---:|---:|---:|\n'
for n in 3 10; do
  files=()
  for i in $(seq 1 "$n"); do files+=("$(printf '%s/snap%02d.dmp.gz' "$tmp" "$i")"); done
  sum=0 maxrss=0
  for f in "${files[@]}"; do
    read -r t m < <(measure "$bin" analyze --symbols "$S/bin" "$f")
    sum=$(python3 -c "print(round($sum + $t, 2))")
    (( m > maxrss )) && maxrss=$m
  done
  read -r st sm < <(measure "$bin" analyze --series --symbols "$S/bin" "${files[@]}")
  python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))['series']
assert s['compared'] == int(sys.argv[2]), s['compared']" "$tmp/out.json" "$n"
  ratio=$(python3 -c "print(round($st / $sum, 3))")
  rss=$(python3 -c "print(round($sm / $maxrss, 3))")
  printf '| %d | %s | %s | %s | %s | %s | %s |\n' "$n" "$sum" "$st" "$ratio" "$maxrss" "$sm" "$rss"
  python3 -c "import sys; sys.exit(0 if $st <= 1.10 * $sum else 1)" || { echo "MISSED: $n snapshots cost $ratio x the single analyses (target <= 1.10)" >&2; fail=1; }
  echo "$n $sm" >>"$tmp/rss"
done
# Memory holds one report at a time: 10 snapshots may not need much more
# than 3 (the per-thread summaries grow; the reports do not accumulate).
read -r _ r3 < <(sed -n 1p "$tmp/rss")
read -r _ r10 < <(sed -n 2p "$tmp/rss")
python3 -c "import sys; sys.exit(0 if $r10 <= 1.15 * $r3 else 1)" || { echo "MISSED: peak RSS grows with the snapshot count ($r3 KiB for 3, $r10 KiB for 10)" >&2; fail=1; }
exit $fail
