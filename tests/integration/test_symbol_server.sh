#!/usr/bin/env bash
# test_symbol_server.sh — the CLI against a real symbol server on loopback
# (tests/tools/symserver.py) serving a symstore tree built from the real PDBs
# and PEs in tests/data/wine/bin/clang: frames are named exactly as with a
# local directory, the cache fills, a second run works offline from the
# cache, and a server that fails (500, timeouts, corrupt CABs) costs a
# warning per module and no more than its time budget.
set -euo pipefail
bin=${DT_BIN:?} data=${DT_TEST_DATA:?} src=${DT_SOURCE_DIR:?}
work=$(mktemp -d)
server_pid=
cleanup() { [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

dump=$work/multi_hang.dmp
gzip -dc "$data/wine/multi_hang.dmp.gz" >"$dump"

# Names per thread, as one comparable text.
frames() { python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
for t in d["user"]["threads"]:
    print(t["thread_id"], " ".join("%s!%s" % (f.get("module"), f.get("function")) for f in t["frames"]))
' "$1"; }

# The store: every PDB and PE of bin/clang under name/ID/name, ids taken
# from the analyzer's own report of the dump (debug_id, code_id).
"$bin" analyze "$dump" --format json >"$work/plain.json"
python3 - "$work/plain.json" "$data/wine/bin/clang" "$work/store" <<'PY'
import json, os, shutil, sys
doc, bindir, store = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
for m in doc["user"]["modules"]:
    for name, ident in ((m.get("debug_file"), m.get("debug_id")), (m.get("filename"), m.get("code_id"))):
        if not name or not ident:
            continue
        name = name.split("\\")[-1]
        if os.path.exists(os.path.join(bindir, name)):
            os.makedirs(os.path.join(store, name, ident), exist_ok=True)
            shutil.copy(os.path.join(bindir, name), os.path.join(store, name, ident, name))
PY
[[ -f $work/store/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb ]] || fail "store not built"

python3 "$src/tests/tools/symserver.py" "$work/store" >"$work/port" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
port=$(head -1 "$work/port")
url=http://127.0.0.1:$port

"$bin" analyze "$dump" --symbols "$data/wine/bin/clang" --format json >"$work/local.json"
"$bin" analyze "$dump" --symbols "srv*$work/cache*$url/store" --format json >"$work/remote.json"
frames "$work/local.json" >"$work/local.txt"
frames "$work/remote.json" >"$work/remote.txt"
grep -q 'multi_hang.exe!df_lock_second' "$work/local.txt" || fail "local names missing"
diff -u "$work/local.txt" "$work/remote.txt" || fail "symbol server names differ from the local directory's"
[[ -f $work/cache/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb ]] || fail "cache not filled"
[[ -f $work/cache/dfpipe.pdb/2F9BD15F2897C53E4C4C44205044422E1/dfpipe.pdb ]] || fail "cache not filled (dfpipe)"

# Offline: the server is gone; the cache answers.
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
DUMPTRIAGE_SYMBOL_OFFLINE=1 "$bin" analyze "$dump" --symbols "srv*$work/cache*$url/store" --format json >"$work/offline.json"
frames "$work/offline.json" >"$work/offline.txt"
diff -u "$work/local.txt" "$work/offline.txt" || fail "offline run from the cache differs"
"$bin" analyze "$dump" --symbols "srv*$work/cache*$url/store" --format json >"$work/dead.json"
frames "$work/dead.json" >"$work/dead.txt"
diff -u "$work/local.txt" "$work/dead.txt" || fail "cached run with the server down differs"

# Misbehaving servers: each costs warnings, never the analysis.
python3 "$src/tests/tools/symserver.py" "$work/store" >"$work/port" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port && $(wc -l <"$work/port") -ge 1 ]] && break; sleep 0.1; done
port=$(head -1 "$work/port"); url=http://127.0.0.1:$port
for mode in e500 slow garbage big; do
  rm -rf "$work/c-$mode"
  start=$(date +%s.%N)
  DUMPTRIAGE_SYMBOL_TIMEOUT=1 DUMPTRIAGE_SYMBOL_MAX_BYTES=65536 "$bin" analyze "$dump" --symbols "srv*$work/c-$mode*$url/$mode" --format json \
    >"$work/$mode.json" || fail "$mode: analyze failed"
  secs=$(python3 -c "import sys; print(float(sys.argv[2]) - float(sys.argv[1]))" "$start" "$(date +%s.%N)")
  python3 - "$work/$mode.json" "$mode" "$secs" <<'PY' || fail "$mode"
import json, sys
d, mode, secs = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3])
w = [x for x in d["warnings"] if "symbols:" in x]
want = {"e500": "HTTP status 500", "slow": "timed out", "garbage": "corrupt", "big": "limit"}[mode]
assert any(want in x and "multi_hang.pdb" in x or want in x for x in w), (mode, w[:5])
assert any("multi_hang.pdb" in x for x in w), (mode, w[:5])
# a 1 s request timeout, 2 s budget per server: well under 10 s in all
assert secs < 10, (mode, secs)
names = [f.get("function") for t in d["user"]["threads"] for f in t["frames"]]
assert "RtlEnterCriticalSection" in names, "exports still name system frames"
print("ok %s: %d warnings, %.1f s" % (mode, len(w), secs))
PY
  [[ -z $(find "$work/c-$mode" -name '.dt-download-*' 2>/dev/null) ]] || fail "$mode: half-written download left in the cache"
done
stop_srv() { kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null || true; server_pid=; }
stop_srv

# Kernel dumps: driver images by name + TimeDateStamp + SizeOfImage, their
# debug directory, then their PDB — all from the server (the store is
# tests/data/symstore-kernel, real amdppm.sys/Wdf01000.sys and amdppm.pdb).
python3 "$src/tests/tools/symserver.py" "$data/symstore-kernel" >"$work/port" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do [[ -s $work/port ]] && break; sleep 0.1; done
url=http://127.0.0.1:$(head -1 "$work/port")/store
kdump=$data/kernel/rizin__triage_x64.dmp
kframes() { python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join("%s!%s" % (f.get("module"), f.get("function")) for f in d["kernel"]["bugcheck"]["context_frames"]))
' "$1"; }
"$bin" analyze "$kdump" --symbols "$data/symstore-kernel" --format json >"$work/klocal.json"
"$bin" analyze "$kdump" --symbols "srv*$work/kcache*$url" --format json >"$work/kremote.json"
kframes "$work/klocal.json" >"$work/klocal.txt"
kframes "$work/kremote.json" >"$work/kremote.txt"
grep -q 'amdppm.sys!WriteIoMemRawEx' "$work/kremote.txt" || fail "kernel frames not named through the server"
diff -u "$work/klocal.txt" "$work/kremote.txt" || fail "kernel names through the server differ from the local store's"
[[ -f $work/kcache/amdppm.sys/c9c030003b000/amdppm.sys || -f $work/kcache/amdppm.sys/C9C030003B000/amdppm.sys ]] || fail "driver image not cached"
[[ -n $(find "$work/kcache" -name amdppm.pdb -type f) ]] || fail "driver PDB not cached"
echo "symbol server: all checks passed"
