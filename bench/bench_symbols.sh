#!/usr/bin/env bash
# bench_symbols.sh [BUILD_DIR] — what symbols cost: `dumptriage analyze`
# time and peak RSS per dump without symbols and with them (PDBs / Breakpad
# .sym in a symstore directory, and the same over a loopback symbol server
# with a warm cache), median of 5 runs each (`/usr/bin/time -f '%e %M'`).
# Prints a Markdown table for docs/performance.md.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
bin=$build/dumptriage data=${DT_TEST_DATA:-$here/tests/data}
runs=5
tmp=$(mktemp -d); server=
trap '[[ -n $server ]] && kill $server; rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# minidump2's Breakpad symbols in symstore layout
mkdir -p "$tmp/bp/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1" "$tmp/bp/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542"
cp "$data/symbols/breakpad__test_app.sym" "$tmp/bp/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym"
cp "$data/symbols/breakpad__kernel32.sym" "$tmp/bp/kernel32.pdb/BCE8785C57B44245A669896B6A19B9542/kernel32.sym"
for n in hello_block multi_hang crash_av; do gzip -dc "$data/wine/$n.dmp.gz" >"$tmp/$n.dmp"; done

# the Wine PDBs behind a loopback symbol server, cache warmed once; the
# store's ids are the analyzer's own (debug_file/debug_id of each module)
mkdir -p "$tmp/store"
file_pdbs() { # dump
  "$bin" analyze "$1" --format json | python3 -c '
import json, os, shutil, sys
for m in json.load(sys.stdin)["user"]["modules"]:
    n, i = m.get("debug_file"), m.get("debug_id")
    src = os.path.join(sys.argv[1], n or "")
    if n and i and os.path.exists(src):
        os.makedirs(os.path.join(sys.argv[2], n, i), exist_ok=True)
        shutil.copy(src, os.path.join(sys.argv[2], n, i, n))
' "$data/wine/bin/clang" "$tmp/store"
}
for n in hello_block multi_hang crash_av; do file_pdbs "$tmp/$n.dmp"; done
python3 "$here/tests/tools/symserver.py" "$tmp/store" >"$tmp/port" 2>/dev/null &
server=$!
for _ in $(seq 100); do [[ -s $tmp/port ]] && break; sleep 0.1; done
url="srv*$tmp/cache*http://127.0.0.1:$(head -1 "$tmp/port")/store"

measure() { # label file args…
  local label=$1 f=$2; shift 2
  : >"$tmp/times"
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$tmp/one" "$bin" analyze "$f" "$@" >/dev/null
    cat "$tmp/one" >>"$tmp/times"
  done
  printf '| %s | %s | %s |\n' "$label" "$(awk '{print $1}' "$tmp/times" | median)" "$(awk '{print $2}' "$tmp/times" | median)"
}
printf '| dump, symbols | time (s, median of %d) | peak RSS (KiB, median) |\n|---|---:|---:|\n' "$runs"
measure "minidump2 (x86), none" "$data/user/breakpad__minidump2.dmp"
measure "minidump2 (x86), Breakpad .sym (1.4 MB)" "$data/user/breakpad__minidump2.dmp" --symbols "$tmp/bp"
for n in hello_block multi_hang crash_av; do
  measure "$n (x64, full memory), none" "$tmp/$n.dmp"
  measure "$n, PDBs in a directory" "$tmp/$n.dmp" --symbols "$data/wine/bin/clang"
  "$bin" analyze "$tmp/$n.dmp" --symbols "$url" >/dev/null   # warm the cache
  measure "$n, symbol server (warm cache)" "$tmp/$n.dmp" --symbols "$url"
done
measure "rizin triage x64 (kernel), none" "$data/kernel/rizin__triage_x64.dmp"
measure "rizin triage x64, driver PEs + PDB" "$data/kernel/rizin__triage_x64.dmp" --symbols "$data/symstore-kernel"
