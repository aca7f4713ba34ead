#!/usr/bin/env bash
# make_inline_jit_dump.sh - the inline-frame and generated-code dump (dumptriage #19): builds
# src/inline_jit.c (clang -O2 + PDB) and dumper.exe (gcc), runs inline_jit.exe
# under Wine and dumps it with `dumper.exe hang` (procdump -ma flags), with
# the same environment and path hygiene as build_and_dump.sh (README.md;
# dumpfactory_lib.sh).
#
# Usage: make_inline_jit_dump.sh OUTDIR      (writes inline_jit.dmp.gz, bin/, logs/)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dumpfactory_lib.sh"
df_clean_env wp19 "$@"
df_setup "${1:-}" inlinejit
df_build_dumper
df_clang inline_jit -O2
df_wine_prefix "$BIN/clang/inline_jit.exe" "$WORK/build/dumper.exe"
df_start inline_jit
sleep 1
df_dump inline_jit inline_jit
# keep the committed dump small: Wine's read-only NLS file views are zeroed
python3 "$DF_HERE/zero_mapped_views.py" "$WIN/dumps/inline_jit.dmp" | tee -a "$LOG/inline_jit.dumper.txt"
gzip -9 -n -c "$WIN/dumps/inline_jit.dmp" >"$OUT/inline_jit.dmp.gz"
ls -l "$OUT"
