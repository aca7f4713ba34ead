#!/usr/bin/env bash
# make_series.sh - build series_hang.exe (clang + lld, with its PDB) and dump
# one live run of it three times under Wine, like `procdump -ma -n 3 -s 5`:
# the series in tests/data/wine/series/ (issue #16, docs/report.md "series").
#
# Usage: make_series.sh OUTDIR
# Needs: wine (wine64), clang, lld, x86_64-w64-mingw32-gcc (for libgcc).
# Uses dumper.exe from tests/data/wine/bin/gcc (shared/tools/dumpfactory).
# Wine runs under env -i with a private HOME (WINEROOT, default
# $TMPDIR/wp16, must not exist) because the environment block is inside the
# dumps; everything it starts is stopped by PID, plus its own wineserver.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
OUT=$(mkdir -p "${1:?usage: make_series.sh OUTDIR}" && cd "$1" && pwd)
WP=${WINEROOT:-${TMPDIR:-/tmp}/wp16}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/series.XXXXXX")
mkdir "$WP" || { echo "WINEROOT $WP exists; remove it or set WINEROOT" >&2; exit 1; }
mkdir -p "$OUT/bin" "$OUT/logs"
WENV=(env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$WP" WINEDEBUG=-all WINEARCH=win64
      WINEDLLOVERRIDES="mscoree,mshtml=")
W() { "${WENV[@]}" "$@"; }
STARTED=()
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
    W wineserver -k 2>/dev/null || true
    if [ "${KEEP_PREFIX:-0}" != 1 ]; then rm -rf "$WORK" "$WP"; fi
}
trap cleanup EXIT

echo "== building series_hang.exe (clang + lld, PDB)"
LIBGCC_DIR=$(dirname "$(x86_64-w64-mingw32-gcc -print-libgcc-file-name)")
(
    cd "$WORK"
    cp "$HERE/series_hang.c" .
    clang --target=x86_64-w64-windows-gnu -g -gcodeview -ffile-compilation-dir=. -O1 -Wall \
        -c -o series_hang.o series_hang.c
    clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -L"$LIBGCC_DIR" \
        -Wl,-Xlink=-pdbaltpath:%_PDB% '-Wl,-Xlink=-pdbsourcepath:C:\build' \
        -o series_hang.exe series_hang.o -Wl,--pdb=series_hang.pdb
    cp series_hang.exe series_hang.pdb "$OUT/bin/"
)

echo "== wine prefix"
cd "$WP"
W wineboot --init >"$WORK/wineboot.log" 2>&1 || true
W wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >>"$WORK/wineboot.log" 2>&1
W wineserver -w
WIN="$WP/.wine/drive_c/dumpfactory"
mkdir -p "$WIN/dumps"
cp "$OUT/bin/series_hang.exe" "$ROOT/tests/data/wine/bin/gcc/dumper.exe" "$WIN/"

wait_for() {   # wait_for FILE PATTERN SECONDS
    local i
    for ((i = 0; i < $3 * 10; i++)); do
        grep -q "$2" "$1" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$2' in $1" >&2
    return 1
}
dumper() { (cd "$WIN" && W wine dumper.exe "$@"); }

echo "== running series_hang.exe and dumping it three times"
(cd "$WIN" && exec "${WENV[@]}" wine series_hang.exe >"$OUT/logs/series_hang.out" 2>&1) &
STARTED+=($!)
wait_for "$OUT/logs/series_hang.out" "^ready" 60
sleep 1
: >"$OUT/logs/dumper.txt"
dumper hang series_hang.exe 'C:\dumpfactory\dumps\snap1.dmp' | tee -a "$OUT/logs/dumper.txt"
touch "$WIN/phase2"
wait_for "$OUT/logs/series_hang.out" "^phase2" 60
sleep 3
dumper hang series_hang.exe 'C:\dumpfactory\dumps\snap2.dmp' | tee -a "$OUT/logs/dumper.txt"
sleep 4
dumper hang series_hang.exe 'C:\dumpfactory\dumps\snap3.dmp' | tee -a "$OUT/logs/dumper.txt"
for n in 1 2 3; do
    gzip -9 -n -c "$WIN/dumps/snap$n.dmp" >"$OUT/snap$n.dmp.gz"
    echo "   snap$n: $(stat -c %s "$WIN/dumps/snap$n.dmp") bytes, gz $(stat -c %s "$OUT/snap$n.dmp.gz")"
done
echo "== done: $OUT"
