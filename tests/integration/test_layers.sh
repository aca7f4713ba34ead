#!/usr/bin/env bash
# test_layers.sh — the analyzer's include direction (scripts/check_layers.sh)
# holds in the tree, and the check itself fails on a planted upward include
# (a formats file including the triage layer), so it cannot pass vacuously.
set -euo pipefail
: "${DT_SOURCE_DIR:?DT_SOURCE_DIR must name the source tree}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$DT_SOURCE_DIR/scripts/check_layers.sh" "$DT_SOURCE_DIR" || fail "the tree has upward includes"

cp -R "$DT_SOURCE_DIR/analyzer" "$tmp/analyzer"
"$DT_SOURCE_DIR/scripts/check_layers.sh" "$tmp" >/dev/null || fail "the unmodified copy is refused"
sed -i '0,/#include "/s//#include "triage\/triage.h"\n#include "/' "$tmp/analyzer/formats/pe.c"
if out=$("$DT_SOURCE_DIR/scripts/check_layers.sh" "$tmp"); then
  fail "a planted upward include (formats → triage) passed"
fi
grep -q 'formats includes "triage/triage.h"' <<<"$out" || fail "the planted include is not named: $out"

cp -R "$DT_SOURCE_DIR/analyzer/." "$tmp/analyzer/"
echo '#include "store.h"' >>"$tmp/analyzer/cli/main.c"
if "$DT_SOURCE_DIR/scripts/check_layers.sh" "$tmp" >/dev/null; then
  fail "a planted server include in the CLI passed"
fi
echo "layers: ok"
