#!/usr/bin/env bash
# run_fuzz.sh BINARY NAME SECONDS — runs one libFuzzer target for SECONDS over
# its committed seeds (tests/fuzz/seeds/NAME/) and the test-data directories
# listed in tests/fuzz/NAME.dirs.  New inputs go to a scratch corpus, so the
# source tree is never written.  Any crash, leak or timeout fails the test.
set -euo pipefail
bin=$1 name=$2 secs=$3
source "$(dirname "$0")/seed_dirs.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mapfile -t dirs < <(seed_dirs "$name")
dirs=("$work" "${dirs[@]}")
cd "$work"
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=4194304 \
  -print_final_stats=1 "${dirs[@]}"
