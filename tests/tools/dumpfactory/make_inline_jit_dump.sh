#!/usr/bin/env bash
# make_inline_jit_dump.sh - the inline-frame and generated-code dump (dumptriage #19): builds
# src/inline_jit.c (clang -O2 + PDB) and dumper.exe (gcc), runs inline_jit.exe
# under Wine and dumps it with `dumper.exe hang` (procdump -ma flags), with
# the same environment and path hygiene as build_and_dump.sh (README.md).
#
# Usage: make_inline_jit_dump.sh OUTDIR      (writes inline_jit.dmp.gz, bin/, logs/)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${DUMPFACTORY_ENV:-}" != clean ]; then
    exec env -i DUMPFACTORY_ENV=clean PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 \
        TMPDIR="${TMPDIR:-/tmp}" WINEROOT="${WINEROOT:-${TMPDIR:-/tmp}/wp19}" \
        bash "$HERE/$(basename "${BASH_SOURCE[0]}")" "$@"
fi
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
BIN="$OUT/bin"; LOG="$OUT/logs"
mkdir -p "$BIN/clang" "$BIN/gcc" "$LOG"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/inlinejit.XXXXXX")
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
cp "$HERE"/src/inline_jit.c "$HERE"/src/dumper.c "$WORK/build/"
(
    cd "$WORK/build"
    x86_64-w64-mingw32-gcc -O1 -Wall -g -ffile-prefix-map="$WORK/build"=. -Wl,--build-id -o dumper.exe dumper.c -ldbghelp
    clang --target=x86_64-w64-windows-gnu -g -gcodeview -ffile-compilation-dir=. -O2 -Wall -c -o inline_jit.o inline_jit.c
    clang --target=x86_64-w64-windows-gnu -fuse-ld=lld -L"$LIBGCC_DIR" -Wl,-Xlink=-pdbaltpath:%_PDB% \
        '-Wl,-Xlink=-pdbsourcepath:C:\build' -o inline_jit.exe inline_jit.o -Wl,--pdb=inline_jit.pdb
    cp inline_jit.exe inline_jit.pdb "$BIN/clang/"
)
cd "$WP"
W wineboot --init >"$WORK/wineboot.log" 2>&1 || true
W wine reg add 'HKCU\Software\Wine' /v Version /t REG_SZ /d win10 /f >>"$WORK/wineboot.log" 2>&1
W wineserver -w
WIN="$WP/.wine/drive_c/dumpfactory"
mkdir -p "$WIN/dumps"
cp "$BIN/clang/inline_jit.exe" "$WORK/build/dumper.exe" "$WIN/"

(cd "$WIN" && exec "${WENV[@]}" wine inline_jit.exe >"$LOG/inline_jit.out" 2>&1) &
STARTED+=($!)
for ((i = 0; i < 600; i++)); do grep -q '^ready' "$LOG/inline_jit.out" 2>/dev/null && break; sleep 0.1; done
grep -q '^ready' "$LOG/inline_jit.out" || { echo "inline_jit never got ready" >&2; cat "$LOG/inline_jit.out" >&2; exit 1; }
sleep 1
(cd "$WIN" && W wine dumper.exe hang inline_jit.exe 'C:\dumpfactory\dumps\inline_jit.dmp') | tee "$LOG/inline_jit.dumper.txt"
# keep the committed dump small: Wine's read-only NLS file views are zeroed
python3 "$HERE/zero_mapped_views.py" "$WIN/dumps/inline_jit.dmp" | tee -a "$LOG/inline_jit.dumper.txt"
gzip -9 -n -c "$WIN/dumps/inline_jit.dmp" >"$OUT/inline_jit.dmp.gz"
ls -l "$OUT"
