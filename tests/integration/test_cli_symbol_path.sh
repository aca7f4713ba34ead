#!/usr/bin/env bash
# test_cli_symbol_path.sh — every way a symbol path reaches `dumptriage
# analyze` finds the same PDB (#19): one --symbols "A;B" (the
# _NT_SYMBOL_PATH form the README shows; it used to find nothing), two
# --symbols flags, DUMPTRIAGE_SYMBOL_PATH with ';' and with ':', and a
# srv*CACHE*STORE element whose server is a local store.  An element that can
# resolve nothing (missing directory, a file) is a warning in the document.
set -euo pipefail
bin=${DT_BIN:?} data=${DT_TEST_DATA:?}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
mkdir -p "$work/empty" "$work/store/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1"
cp "$data/wine/bin/clang/multi_hang.pdb" "$work/store/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/"
syms="$data/wine/bin/clang"
dump="$data/wine/multi_hang.dmp.gz"

# check NAME WANT_WARNINGS [env…] -- args… : multi_hang.exe is named from a PDB,
# and exactly WANT_WARNINGS symbol-path warnings are present.
check() {
  local name=$1 want=$2; shift 2
  local envs=()
  while [[ $1 != -- ]]; do envs+=("$1"); shift; done; shift
  env -u DUMPTRIAGE_SYMBOL_PATH "${envs[@]}" "$bin" analyze "$dump" "$@" --format json >"$work/out.json"
  python3 - "$work/out.json" "$name" "$want" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
name, want = sys.argv[2], int(sys.argv[3])
src = {m["filename"]: m.get("symbol_source", "") for m in d["user"]["modules"]}
assert src["multi_hang.exe"].startswith("pdb:"), (name, src["multi_hang.exe"])
named = [f for t in d["user"]["threads"] for f in t["frames"]
         if f.get("module") == "multi_hang.exe" and f.get("function", "").startswith("df_")]
assert named, (name, "no df_ frame named")
w = [x for x in d["warnings"] if "symbol path element" in x]
assert len(w) == want, (name, w)
print("ok", name, src["multi_hang.exe"], len(named), "named frames", w)
PY
}

check "one flag A;B" 0 -- --symbols "$work/empty;$syms"
check "two flags" 0 -- --symbols "$work/empty" --symbols "$syms"
check "env A;B" 0 DUMPTRIAGE_SYMBOL_PATH="$work/empty;$syms" --
check "env A:B" 0 DUMPTRIAGE_SYMBOL_PATH="$work/empty:$syms" --
check "flag then env" 0 DUMPTRIAGE_SYMBOL_PATH="$syms" -- --symbols "$work/empty"
check "srv with a local store" 0 -- --symbols "srv*$work/cache*$work/store"
check "missing and file elements warn" 2 -- --symbols "$work/nothere;$syms/multi_hang.exe;$syms"

# without any usable element the PDB is not found, and the warning says why
env -u DUMPTRIAGE_SYMBOL_PATH "$bin" analyze "$dump" --symbols "$work/nothere" --format json >"$work/out.json"
python3 - "$work/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
src = {m["filename"]: m.get("symbol_source", "") for m in d["user"]["modules"]}
assert not src["multi_hang.exe"].startswith("pdb:"), src["multi_hang.exe"]
assert any("nothere' does not exist" in w for w in d["warnings"]), d["warnings"]
PY
echo "symbol path forms: ok"
