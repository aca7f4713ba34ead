#!/usr/bin/env bash
# make_lock_dump.sh - the user-memory lock dump of the wait graph
# (dumptriage #15): builds src/lock_wait.c and src/dfslow.c (clang + PDB)
# and dumper.exe (gcc), runs lock_wait.exe under Wine and dumps it with
# `dumper.exe hang` (procdump -ma flags), with the same environment and
# path hygiene as build_and_dump.sh (README.md).
#
# Usage: make_lock_dump.sh OUTDIR      (writes lock_wait.dmp.gz, bin/, logs/)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${DUMPFACTORY_ENV:-}" != clean ]; then
    exec env -i DUMPFACTORY_ENV=clean PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        TMPDIR="${TMPDIR:-/tmp}" WINEROOT="${WINEROOT:-${TMPDIR:-/tmp}/wp15l}" \
        bash "$HERE/$(basename "${BASH_SOURCE[0]}")" "$@"
fi
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
BIN="$OUT/bin"; LOG="$OUT/logs"
mkdir -p "$BIN/clang" "$LOG"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/lockdump.XXXXXX")
WP=$WINEROOT
mkdir "$WP" || { echo "WINEROOT $WP already exists" >&2; rm -rf "$WORK"; exit 1; }
export HOME="$WP"; unset WINEPREFIX
WENV=(env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME="$WP" WINEDEBUG=-all WINEARCH=win64
      WINEDLLOVERRIDES="mscoree,mshtml=")
W() { "${WENV[@]}" "$@"; }
STARTED=()
cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do kill "$pid" 2>/dev/null || true; done
    W wineserver -k 2>/dev/null || true
    rm -rf "$WORK" "$WP"
}
trap cleanup EXIT

LIBGCC_DIR=$(dirname "$(x86_64-w64-mingw32-gcc -print-libgcc-file-name)")
mkdir -p "$WORK/build"
cp "$HERE"/src/lock_wait.c "$HERE"/src/dfslow.c "$HERE"/src/dumper.c "$WORK/build/"
(
    cd "$WORK/build"
    x86_64-w64-mingw32-gcc -O1 -Wall -g -ffile-prefix-map="$WORK/build"=. -Wl,--build-id -o dumper.exe dumper.c -ldbghelp
    for p in lock_wait dfslow; do
        clang --target=x86_64-w64-windows-gnu -g -gcodeview -ffile-compilation-dir=. -O1 -Wall -c -o $p.o $p.c
    done
    clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -L"$LIBGCC_DIR" -Wl,-Xlink=-pdbaltpath:%_PDB% \
        '-Wl,-Xlink=-pdbsourcepath:C:\build' -o lock_wait.exe lock_wait.o -Wl,--pdb=lock_wait.pdb
    clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -shared -L"$LIBGCC_DIR" -Wl,-Xlink=-pdbaltpath:%_PDB% \
        '-Wl,-Xlink=-pdbsourcepath:C:\build' -o dfslow.dll dfslow.o -Wl,--pdb=dfslow.pdb
    cp lock_wait.exe lock_wait.pdb dfslow.dll dfslow.pdb "$BIN/clang/"
)
cd "$WP"
W wineboot --init >"$WORK/wineboot.log" 2>&1 || true
W wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >>"$WORK/wineboot.log" 2>&1
W wineserver -w
WIN="$WP/.wine/drive_c/dumpfactory"
mkdir -p "$WIN/dumps"
cp "$BIN/clang/lock_wait.exe" "$BIN/clang/dfslow.dll" "$WORK/build/dumper.exe" "$WIN/"

(cd "$WIN" && exec "${WENV[@]}" wine lock_wait.exe >"$LOG/lock_wait.out" 2>&1) &
STARTED+=($!)
for ((i = 0; i < 600; i++)); do grep -q '^ready' "$LOG/lock_wait.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$LOG/lock_wait.out" || { echo "lock_wait never got ready" >&2; cat "$LOG/lock_wait.out" >&2; exit 1; }
sleep 1
(cd "$WIN" && W wine dumper.exe hang lock_wait.exe 'C:\dumpfactory\dumps\lock_wait.dmp') | tee "$LOG/lock_wait.dumper.txt"
gzip -9 -n -c "$WIN/dumps/lock_wait.dmp" >"$OUT/lock_wait.dmp.gz"
ls -l "$OUT"
