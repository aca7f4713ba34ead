#!/usr/bin/env bash
# bench_wait_graph.sh [BUILD_DIR] — what the wait graph (#15 item 7) adds to
# analysis time over the Wine corpus, measured in one process and one run
# (tests/tools/dt_bench_wait_graph.c): per dump, one whole analysis, then the
# triage step N times with and N times without the graph; the difference as a
# share of the analysis must stay <= 10 %.  Exits 1 when it does not.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
tool=$build/dt_bench_wait_graph
data=${DT_TEST_DATA:-$here/tests/data}
n=${N:-20}
[[ -x $tool ]] || { echo "bench: build the tests first ($tool missing)" >&2; exit 2; }
out=$("$tool" "$n" "$data/wine/bin/clang" "$data"/wine/wait_chain.dmp.gz "$data"/wine/multi_hang.dmp.gz \
      "$data"/wine/hello_block.dmp.gz "$data"/wine/crash_av.dmp.gz "$data"/wine/multi_hang_gcc_wineraw.dmp.gz \
      "$data"/wine/lock_wait.dmp.gz "$data"/user/crashdump-mcp__electron.dmp)
echo "$out"
echo "$out" | awk -F'\t' 'NR > 1 { a += $2; w += $3; o += $4 }
    END { share = (w - o) / a; printf "total: analysis %.1f ms, graph %.3f ms = %.2f%% (target <= 10%%)\n", a, w - o, 100 * share;
          exit share > 0.10 }'
