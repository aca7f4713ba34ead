#!/usr/bin/env bash
# make_wait_dumps.sh - the wait-graph dumps (dumptriage #15): builds
# src/wait_chain.c (clang + PDB) and dumper.exe (gcc), runs wait_chain.exe
# under Wine and dumps it with `dumper.exe hang` (procdump -ma flags), with
# the same environment and path hygiene as build_and_dump.sh (README.md;
# dumpfactory_lib.sh).
#
# Usage: make_wait_dumps.sh OUTDIR      (writes wait_chain.dmp.gz, bin/, logs/)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dumpfactory_lib.sh"
df_clean_env wp15 "$@"
df_setup "${1:-}" waitdumps
df_build_dumper
df_clang wait_chain -O1
df_wine_prefix "$BIN/clang/wait_chain.exe" "$WORK/build/dumper.exe"
df_start wait_chain
sleep 2   # the spinner accumulates CPU time
df_dump wait_chain wait_chain
gzip -9 -n -c "$WIN/dumps/wait_chain.dmp" >"$OUT/wait_chain.dmp.gz"
ls -l "$OUT"
