#!/usr/bin/env bash
# make_idle_dump.sh - the idle-rules dump of the wait graph (dumptriage
# #15): builds src/idle_threads.c (clang + PDB; rpcrt4) and dumper.exe
# (gcc), runs idle_threads.exe under Wine and dumps it with
# `dumper.exe hang` (procdump -ma flags), with the same environment and
# path hygiene as build_and_dump.sh (README.md; dumpfactory_lib.sh).
#
# Usage: make_idle_dump.sh OUTDIR      (writes idle_threads.dmp.gz, bin/, logs/)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/dumpfactory_lib.sh"
df_clean_env wp15i "$@"
df_setup "${1:-}" idledump
df_build_dumper
df_clang idle_threads -O1 -lrpcrt4
df_wine_prefix "$BIN/clang/idle_threads.exe" "$WORK/build/dumper.exe"
df_start idle_threads
sleep 1
df_dump idle_threads idle_threads
gzip -9 -n -c "$WIN/dumps/idle_threads.dmp" >"$OUT/idle_threads.dmp.gz"
ls -l "$OUT"
