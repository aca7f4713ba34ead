#!/usr/bin/env bash
# make_idle_dump.sh - the idle-rules dump of the wait graph (dumptriage
# #15): builds src/idle_threads.c (clang + PDB; rpcrt4) and
# dumper.exe (gcc), runs idle_threads.exe under Wine and dumps it with
# `dumper.exe hang` (procdump -ma flags), with the same environment and
# path hygiene as build_and_dump.sh (README.md).
#
# Usage: make_idle_dump.sh OUTDIR      (writes idle_threads.dmp.gz, bin/, logs/)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${DUMPFACTORY_ENV:-}" != clean ]; then
    exec env -i DUMPFACTORY_ENV=clean PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        TMPDIR="${TMPDIR:-/tmp}" WINEROOT="${WINEROOT:-${TMPDIR:-/tmp}/wp15i}" \
        bash "$HERE/$(basename "${BASH_SOURCE[0]}")" "$@"
fi
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
BIN="$OUT/bin"; LOG="$OUT/logs"
mkdir -p "$BIN/clang" "$LOG"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/idledump.XXXXXX")
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
cp "$HERE"/src/idle_threads.c "$HERE"/src/dumper.c "$WORK/build/"
(
    cd "$WORK/build"
    x86_64-w64-mingw32-gcc -O1 -Wall -g -ffile-prefix-map="$WORK/build"=. -Wl,--build-id -o dumper.exe dumper.c -ldbghelp
    clang --target=x86_64-w64-windows-gnu -g -gcodeview -ffile-compilation-dir=. -O1 -Wall -c -o idle_threads.o idle_threads.c
    clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -L"$LIBGCC_DIR" -Wl,-Xlink=-pdbaltpath:%_PDB% \
        '-Wl,-Xlink=-pdbsourcepath:C:\build' -o idle_threads.exe idle_threads.o -Wl,--pdb=idle_threads.pdb \
        -lrpcrt4
    cp idle_threads.exe idle_threads.pdb "$BIN/clang/"
)
cd "$WP"
W wineboot --init >"$WORK/wineboot.log" 2>&1 || true
W wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >>"$WORK/wineboot.log" 2>&1
W wineserver -w
WIN="$WP/.wine/drive_c/dumpfactory"
mkdir -p "$WIN/dumps"
cp "$BIN/clang/idle_threads.exe" "$WORK/build/dumper.exe" "$WIN/"

(cd "$WIN" && exec "${WENV[@]}" wine idle_threads.exe >"$LOG/idle_threads.out" 2>&1) &
STARTED+=($!)
for ((i = 0; i < 600; i++)); do grep -q '^ready' "$LOG/idle_threads.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$LOG/idle_threads.out" || { echo "idle_threads never got ready" >&2; cat "$LOG/idle_threads.out" >&2; exit 1; }
sleep 1
(cd "$WIN" && W wine dumper.exe hang idle_threads.exe 'C:\dumpfactory\dumps\idle_threads.dmp') | tee "$LOG/idle_threads.dumper.txt"
gzip -9 -n -c "$WIN/dumps/idle_threads.dmp" >"$OUT/idle_threads.dmp.gz"
ls -l "$OUT"
