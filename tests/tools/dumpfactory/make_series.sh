#!/usr/bin/env bash
# make_series.sh - build series_hang.exe (clang + lld, with its PDB) and dump
# one live run of it three times under Wine, like `procdump -ma -n 3 -s 5`:
# the series in tests/data/wine/series/ (issue #16, docs/report.md "series").
#
# Usage: make_series.sh OUTDIR
# Needs: wine (wine64), clang, lld, x86_64-w64-mingw32-gcc (for libgcc).
# Uses dumper.exe from tests/data/wine/bin/gcc (shared/tools/dumpfactory).
# Environment, prefix and clean-up as in dumpfactory_lib.sh (WINEROOT,
# default $TMPDIR/wp16, must not exist).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dumpfactory_lib.sh"
df_clean_env wp16 "$@"
ROOT=$(cd "$DF_HERE/../../.." && pwd)
df_setup "${1:-}" series

echo "== building series_hang.exe (clang + lld, PDB)"
df_clang series_hang -O1
cp "$BIN/clang/series_hang.exe" "$BIN/clang/series_hang.pdb" "$BIN/"

echo "== wine prefix"
df_wine_prefix "$BIN/series_hang.exe" "$ROOT/tests/data/wine/bin/gcc/dumper.exe"

echo "== running series_hang.exe and dumping it three times"
df_start series_hang
sleep 1
df_dump series_hang snap1
touch "$WIN/phase2"
df_wait_for "$LOG/series_hang.out" "^phase2" 60
sleep 3
df_dump series_hang snap2
sleep 4
df_dump series_hang snap3
for n in 1 2 3; do
    gzip -9 -n -c "$WIN/dumps/snap$n.dmp" >"$OUT/snap$n.dmp.gz"
    echo "   snap$n: $(stat -c %s "$WIN/dumps/snap$n.dmp") bytes, gz $(stat -c %s "$OUT/snap$n.dmp.gz")"
done
mv "$LOG/series_hang.dumper.txt" "$LOG/dumper.txt"
echo "== done: $OUT"
