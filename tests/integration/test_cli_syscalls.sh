#!/usr/bin/env bash
# test_cli_syscalls.sh — threads stopped in ntdll system-call stubs are named
# without any ntdll symbols (#19).  The recent Crashpad dump of Electron
# (Windows 11, ntdll 10.0.26100) has no module images and no symbols: 46 of
# its 47 threads used to show only ntdll+offset.  Their service numbers come
# from the saved RAX (one thread's stub bytes are in the dump) and the
# names from j00ru/windows-syscalls' 24H2 column; triage verdicts use them.
set -euo pipefail
bin=${DT_BIN:?} data=${DT_TEST_DATA:?}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
env -u DUMPTRIAGE_SYMBOL_PATH "$bin" analyze "$data/user/crashdump-mcp__electron.dmp" --format json >"$work/out.json"
python3 - "$work/out.json" <<'PY'
import json, sys
from collections import Counter
d = json.load(open(sys.argv[1]))
top = Counter()
for t in d["user"]["threads"]:
    f = t["frames"][0]
    top[(f.get("module_short"), f.get("function"), f.get("syscall_number"), f.get("syscall_number_from"))] += 1
want = {
    ("ntdll", "NtRemoveIoCompletion", 0x9, "rax"): 15,
    ("ntdll", "NtWaitForSingleObject", 0x4, "rax"): 12,
    ("ntdll", "NtWaitForWorkViaWorkerFactory", 0x1e6, "rax"): 6,
    ("ntdll", "NtWaitForAlertByThreadId", 0x1e3, "rax"): 5,
    ("ntdll", "NtWaitForMultipleObjects", 0x5b, "rax"): 3,
    ("ntdll", "NtRemoveIoCompletionEx", 0x17f, "rax"): 1,
    ("ntdll", "NtDelayExecution", 0x34, "stub"): 1,
}
for k, n in want.items():
    assert top[k] == n, (k, top[k], n, top)
# win32u (win32k numbers move within a build's servicing) stays unnamed
assert top[("win32u", None, None, None)] == 3, top
for t in d["user"]["threads"]:
    f = t["frames"][0]
    if f.get("syscall_number") is not None:
        assert f["symbol_provider"] == "syscall" and f["missing_symbols"] is True, f
verdicts = Counter(t.get("verdict", "") for t in d["triage"]["threads"])
assert verdicts["idle: thread-pool worker waiting for work"] == 6, verdicts
assert sum(n for v, n in verdicts.items() if "NtWaitForSingleObject" in v) >= 5, verdicts
assert d["triage"]["signature"].startswith("hang|ntdll!ntwaitforsingleobject|"), d["triage"]["signature"]
print("syscalls named:", sum(want.values()), "of", len(d["user"]["threads"]), "threads")
PY
