#!/usr/bin/env bash
# make_lock_dump.sh - the user-memory lock dump of the wait graph
# (dumptriage #15): builds src/lock_wait.c and src/dfslow.c (clang + PDB)
# and dumper.exe (gcc), runs lock_wait.exe under Wine and dumps it with
# `dumper.exe hang` (procdump -ma flags), with the same environment and
# path hygiene as build_and_dump.sh (README.md; dumpfactory_lib.sh).
#
# Usage: make_lock_dump.sh OUTDIR      (writes lock_wait.dmp.gz, bin/, logs/)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dumpfactory_lib.sh"
df_clean_env wp15l "$@"
df_setup "${1:-}" lockdump
df_build_dumper
df_clang lock_wait -O1
df_clang_dll dfslow -O1
df_wine_prefix "$BIN/clang/lock_wait.exe" "$BIN/clang/dfslow.dll" "$WORK/build/dumper.exe"
df_start lock_wait
sleep 1
df_dump lock_wait lock_wait
gzip -9 -n -c "$WIN/dumps/lock_wait.dmp" >"$OUT/lock_wait.dmp.gz"
ls -l "$OUT"
