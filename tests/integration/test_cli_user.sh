#!/usr/bin/env bash
# test_cli_user.sh — `dumptriage analyze` on user-mode minidumps, through the
# real binary: the JSON document's contract (schema_version, user.* names),
# the text summary, gzip input, and the documented exit statuses
# (0 report, 1 unusable input with one line on stderr, 2 usage).
set -euo pipefail
: "${DT_BIN:?DT_BIN must name the built dumptriage}"
: "${DT_TEST_DATA:?DT_TEST_DATA must name tests/data}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# expect_exit CODE CMD… — runs CMD, checks its exit status.
expect_exit() {
  local want=$1; shift
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  set -e
  [[ $got -eq $want ]] || { cat "$tmp/err" >&2; fail "'$*' exited $got, want $want"; }
}

# JSON: the oracle facts of minidump2 (Breakpad's minidump_stackwalk output).
expect_exit 0 "$DT_BIN" analyze "$DT_TEST_DATA/user/breakpad__minidump2.dmp"
python3 - "$tmp/out" <<'EOF' || fail "minidump2 JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["schema_version"] == 2 and d["generator"].startswith("dumptriage ")
assert d["kernel"] is None and d["warnings"] == []
u = d["user"]
assert u["system_info"]["os"] == "Windows NT"
assert u["system_info"]["os_ver"] == "5.1.2600 Service Pack 2"
assert u["system_info"]["cpu_arch"] == "x86" and u["system_info"]["cpu_count"] == 1
c = u["crash_info"]
assert (c["type"], c["code"], c["address"], c["crashing_thread"], c["thread_id"]) == \
       ("EXCEPTION_ACCESS_VIOLATION_WRITE", "0xc0000005", "0x45", 0, 0xbf4)
assert u["pid"] == 3932 and u["process"]["image"] == "c:\\test_app.exe"
assert [t["thread_id"] for t in u["threads"]] == [0xbf4]
assert u["dump_thread"]["thread_id"] == 0x11c0
t = u["threads"][0]
assert (t["stack_start"], t["stack_end"], t["teb"]) == ("0x12f31c", "0x130000", "0x7ffdf000")
f = t["frames"][0]
assert (f["frame"], f["ip"], f["trust"], f["module"], f["module_offset"]) == \
       (0, "0x40429e", "context", "test_app.exe", "0x429e")
mods = {m["filename"]: m for m in u["modules"]}
assert len(mods) == 13
k = mods["kernel32.dll"]
assert (k["base_addr"], k["end_addr"], k["debug_file"], k["debug_id"], k["version"]) == \
       ("0x7c800000", "0x7c8f4000", "kernel32.pdb", "BCE8785C57B44245A669896B6A19B9542", "5.1.2600.2945")
assert [s["name"] for s in u["streams"]][:3] == ["ThreadList", "ModuleList", "MemoryList"]
assert u["memory"]["ranges"] == 3
EOF

# Text: reads like a debugger summary.
expect_exit 0 "$DT_BIN" analyze --format text "$DT_TEST_DATA/user/breakpad__minidump2.dmp"
grep -q 'Exception: EXCEPTION_ACCESS_VIOLATION_WRITE (0xc0000005) at 0x45' "$tmp/out" || fail "text exception"
grep -q 'test_app.exe+0x429e' "$tmp/out" || fail "text frame 0"
grep -q 'kernel32.pdb BCE8785C57B44245A669896B6A19B9542' "$tmp/out" || fail "text modules"
expect_exit 0 "$DT_BIN" analyze --format=text --user "$DT_TEST_DATA/user/rizin__calc.dmp"
grep -q 'pid 3368' "$tmp/out" || fail "text pid"

# Gzip input is inflated transparently; thread names come through.
expect_exit 0 "$DT_BIN" analyze --symbols /nonexistent "$DT_TEST_DATA/wine/multi_hang.dmp.gz"
python3 - "$tmp/out" <<'EOF' || fail "multi_hang JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["inputs"]["user_was_gzip"] is True and d["inputs"]["symbols"] == ["/nonexistent"]
u = d["user"]
names = [t["thread_name"] for t in u["threads"]]
assert names == ["main", "event-waiter", "sleeper", "deadlock-A", "deadlock-B", "pipe-server", "pipe-reader"], names
assert u["memory"]["full_memory"] is True and u["memory"]["ranges"] == 87
assert u["crash_info"] is None
EOF

# Damaged but readable input: a report with warnings, exit 0.
expect_exit 0 "$DT_BIN" analyze "$DT_TEST_DATA/malformed/rizin__crash-0a4b90615b8dd830e86ef1c4e5e80ea9"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["warnings"] and d["user"]["warnings"]' "$tmp/out" \
  || fail "warnings of a damaged dump"

# Exit 1: one line on stderr.
for bad in "$DT_TEST_DATA/malformed/rizin__crash-850020674a6f0d42e032a9b12774a955c11d9178" \
           "$tmp/missing.dmp" "$DT_TEST_DATA/symbols/breakpad__kernel32.sym"; do
  expect_exit 1 "$DT_BIN" analyze "$bad"
  [[ $(wc -l <"$tmp/err") -eq 1 ]] || fail "stderr of $bad is not one line"
  [[ ! -s "$tmp/out" ]] || fail "stdout not empty for $bad"
done
# A kernel dump alone is a valid input (tests/integration/test_cli_kernel.sh checks its report).
expect_exit 0 "$DT_BIN" analyze "$DT_TEST_DATA/kernel/rizin__triage_x64.dmp"

# Exit 2: usage errors; --help is not one.
expect_exit 2 "$DT_BIN" analyze
expect_exit 2 "$DT_BIN" analyze --format xml "$DT_TEST_DATA/user/rizin__calc.dmp"
expect_exit 2 "$DT_BIN" analyze --frobnicate "$DT_TEST_DATA/user/rizin__calc.dmp"
expect_exit 2 "$DT_BIN" analyze --user
expect_exit 0 "$DT_BIN" analyze --help
grep -q 'exit status' "$tmp/out" || fail "help documents exit statuses"

# Every real dump gives a report.
for f in "$DT_TEST_DATA"/user/*.dmp; do
  expect_exit 0 "$DT_BIN" analyze --format text "$f"
done
echo "test_cli_user: ok"
