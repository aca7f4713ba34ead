#!/usr/bin/env bash
# test_web.sh — the browser tests of the web pages (tests/web/*.test.mjs):
# headless Debian Chromium driven by playwright-core under node's test
# runner.  Installs the Node dependency from the lock file when missing.
# The end-to-end tests start the real server from $DT_BIN themselves.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$root"
if ! command -v node >/dev/null 2>&1 || [[ ! -x /usr/bin/chromium && -z "${DT_CHROMIUM:-}" ]]; then
  echo "test_web: node or chromium missing (scripts/bootstrap.sh --tests installs them)" >&2
  exit 1
fi
if [[ ! -d tests/web/node_modules/playwright-core || ! -d tests/web/node_modules/axe-core ]]; then
  npm ci --prefix tests/web --no-audit --no-fund --loglevel=error
fi
export DT_BIN="${DT_BIN:-$root/build/dumptriage}"
export DT_TEST_DATA="${DT_TEST_DATA:-$root/tests/data}"
# A skipped node test (t.skip, a skipped describe) makes the run exit 77,
# which ctest reports as skipped rather than passed.
out=$(mktemp); trap 'rm -f "$out"' EXIT
rc=0; node --test --test-concurrency=1 tests/web/ 2>&1 | tee "$out" || rc=$?
(( rc == 0 )) || exit "$rc"
skipped=$(sed -nE 's/^# skipped ([0-9]+)$/\1/p' "$out" | tail -1)
if (( ${skipped:-0} > 0 )); then echo "test_web: $skipped node test(s) skipped" >&2; exit 77; fi
