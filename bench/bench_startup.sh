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
# Wall time is from spawn to reaped; peak RSS is /usr/bin/time's %M, in
# runs of its own; the commands are interleaved run by run, because on a shared machine a load
# spike during one command's block of runs (hyperfine's way) skews its
# ratio — and the ratio is the figure that matters.  Output: a Markdown
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
command -v python3 >/dev/null || { echo "bench: python3 missing" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "bench: /usr/bin/time missing (Debian package 'time')" >&2; exit 2; }
base=${BREAKPAD_STACKWALK:-}
bin=$(realpath "$bin")
if [[ -n $base ]]; then
  base=$(realpath "$base")
  [[ -x $base ]] || { echo "bench: BREAKPAD_STACKWALK=$base is not executable" >&2; exit 2; }
  base_name="minidump_stackwalk"
else
  base=$(command -v cat)
  base_name="cat (no BREAKPAD_STACKWALK given)"
fi
compare=${DT_BENCH_COMPARE:-}
[[ -z $compare ]] || compare=$(realpath "$compare")

files=()
for name in breakpad__minidump2 breakpad__thread_name_list breakpad__write_av_non_canonical \
            symbolicator__windows syzygy__notepad-small-64bit rust-minidump__invalid-parameter; do
  f=$data/user/$name.dmp
  [[ -f $f ]] && (( $(stat -c %s "$f") <= 102400 )) && files+=("$f")
done
(( ${#files[@]} )) || { echo "bench: no small dumps under $data/user" >&2; exit 2; }

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# measure CMD1 -- CMD2 [-- CMD3] — runs the commands interleaved (A B C,
# then C B A, …) so that all of them meet the same load on a shared machine,
# 2 warm-up rounds then $runs measured; prints per command "wall_ms rss_kib",
# the medians.  Each run is posix_spawn + wait4 from one Python process.  Output
# goes to /dev/null; an exit status is not judged (a baseline may refuse a
# dump; it still ran).
measure() {
  python3 - "$runs" "$@" <<'PY'
import os, statistics, sys, time
runs = int(sys.argv[1])
cmds, cur = [], []
for a in sys.argv[2:]:
    if a == "--":
        cmds.append(cur); cur = []
    else:
        cur.append(a)
cmds.append(cur)
null = os.open("/dev/null", os.O_RDWR)
acts = [(os.POSIX_SPAWN_DUP2, null, 0), (os.POSIX_SPAWN_DUP2, null, 1), (os.POSIX_SPAWN_DUP2, null, 2)]
wall = [[] for _ in cmds]
rss = [[] for _ in cmds]
for i in range(runs + 2):
    order = list(range(len(cmds))) if i % 2 == 0 else list(reversed(range(len(cmds))))
    for k in order:
        t0 = time.perf_counter_ns()
        pid = os.posix_spawn(cmds[k][0], cmds[k], os.environ, file_actions=acts)
        _, _, ru = os.wait4(pid, 0)
        t1 = time.perf_counter_ns()
        if i >= 2:
            wall[k].append((t1 - t0) / 1e6)
# Peak RSS through /usr/bin/time (a small C parent): Linux carries a
# process's high-water mark across exec, so the rusage of a child spawned
# straight from this Python process would report Python's own size.
tmp = "/tmp/dt-bench-rss.%d" % os.getpid()
for i in range(runs):
    for k in range(len(cmds)):
        pid = os.posix_spawn("/usr/bin/time", ["/usr/bin/time", "-f", "%M", "-o", tmp] + cmds[k], os.environ,
                             file_actions=acts)
        os.waitpid(pid, 0)
        with open(tmp) as f:
            rss[k].append(int(f.read().split()[-1]))
os.unlink(tmp)
for k in range(len(cmds)):
    print("%.2f %d" % (statistics.median(wall[k]), statistics.median(rss[k])))
PY
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

echo "dumptriage: $bin ($(ldd "$bin" | grep -c '=>') shared libraries)"
echo "baseline:   $base_name"
[[ -n $compare ]] && echo "compare:    $compare ($(ldd "$compare" | grep -c '=>') shared libraries)"
echo "runs:       $runs per figure (median), commands interleaved, after 2 warm-up rounds"
echo
hdr="| dump | KB | dumptriage wall (ms) | baseline wall (ms) | wall ratio | dumptriage RSS (KiB) | baseline RSS (KiB) | RSS ratio |"
sep="|---|---:|---:|---:|---:|---:|---:|---:|"
if [[ -n $compare ]]; then
  hdr+=" compare wall (ms) | compare RSS (KiB) |"; sep+="---:|---:|"
fi
echo "$hdr"; echo "$sep"
worst_wall=0 worst_rss=0
for f in "${files[@]}"; do
  args=("$bin" analyze "$f" -- "$base" "$f")
  [[ -n $compare ]] && args+=(-- "$compare" analyze "$f")
  mapfile -t res < <(measure "${args[@]}")
  read -r w m <<<"${res[0]}"
  read -r bw bm <<<"${res[1]}"
  wr=$(ratio "$w" "$bw"); mr=$(ratio "$m" "$bm")
  row="| $(basename "$f") | $(( $(stat -c %s "$f") / 1024 )) | $w | $bw | $wr | $m | $bm | $mr |"
  if [[ -n $compare ]]; then
    read -r cw cm <<<"${res[2]}"
    row+=" $cw | $cm |"
  fi
  echo "$row"
  worst_wall=$(awk -v a="$wr" -v b="$worst_wall" 'BEGIN { print (a > b ? a : b) }')
  worst_rss=$(awk -v a="$m" -v b="$worst_rss" 'BEGIN { print (a > b ? a : b) }')
done
echo
if [[ $base_name == minidump_stackwalk ]]; then
  echo "worst wall ratio: $worst_wall (target ≤ 1.0 against minidump_stackwalk, stretch 0.5)"
else
  echo "worst wall ratio: $worst_wall (against cat, the floor of any process reading the file; no target)"
fi
echo "worst peak RSS:   $worst_rss KiB (target ≤ 6144 KiB)"
if [[ $base_name == minidump_stackwalk ]]; then
  awk -v w="$worst_wall" -v m="$worst_rss" 'BEGIN { exit !(w <= 1.0 && m <= 6144) }' \
    && echo "targets: met" || { echo "targets: MISSED"; exit 1; }
else
  awk -v m="$worst_rss" 'BEGIN { exit !(m <= 6144) }' \
    && echo "targets: RSS met (wall target needs BREAKPAD_STACKWALK)" || { echo "targets: MISSED"; exit 1; }
fi
