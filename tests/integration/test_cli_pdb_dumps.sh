#!/usr/bin/env bash
# test_cli_pdb_dumps.sh — real third-party dumps named from their real PDBs
# (issue #3): getsentry/symbolicator's x86 crash dump with symbolic's
# crash.pdb, and lldb's x64 sigsegv dump with its sigsegv.pdb, found in a
# flat symbol directory (the PDB's own GUID/age is checked before use).
set -euo pipefail
bin=${DT_BIN:?} data=${DT_TEST_DATA:?}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
cp "$data/symbols/symbolic__crash.pdb" "$work/crash.pdb"
cp "$data/symbols/lldb__sigsegv.pdb" "$work/sigsegv.pdb"
check() { # dump, expected frames (module!function, innermost first)
  local dump=$1; shift
  "$bin" analyze "$data/user/$dump" --symbols "$work" --format json >"$work/out.json"
  python3 - "$work/out.json" "$@" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
crash = d["user"]["crash_info"]["thread_id"]
t = [t for t in d["user"]["threads"] if t["thread_id"] == crash][0]
got = ["%s!%s" % (f.get("module"), f.get("function")) for f in t["frames"]]
want = sys.argv[2:]
assert got[:len(want)] == want, (got[:len(want)], want)
src = {m["filename"]: m.get("symbol_source", "") for m in d["user"]["modules"]}
exe = want[0].split("!")[0]
assert src[exe].startswith("pdb:"), src[exe]
print("ok", sys.argv[1], got[:len(want)])
PY
}
check symbolicator__windows.dmp "crash.exe!main"
check lldb__sigsegv.dmp "sigsegv.exe!crash" "sigsegv.exe!foo" "sigsegv.exe!main" "sigsegv.exe!mainCRTStartup"
echo "pdb dumps: ok"
