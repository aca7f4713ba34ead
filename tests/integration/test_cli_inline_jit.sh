#!/usr/bin/env bash
# test_cli_inline_jit.sh — the real Wine dump of inline_jit.exe (#19; clang
# -O2 with its PDB, tests/tools/dumpfactory/src/inline_jit.c) through the
# binary: the inline-wait thread's return address into df_serve_queue lies in
# code of df_next_batch and df_wait_batch inlined into it.  JSON
# frames[].inlines[] (innermost first, each with its own line), the triage
# verdict and first app frame name the innermost inline function, and the
# text lists every level with its source line as WinDbg's `k` does.  The jit
# thread's caller of Sleep is code generated at run time: a frame labelled
# [JIT/generated code] with its memory region (test_generated_code checks
# the unwind through its function table, which Wine's writer leaves out).
set -euo pipefail
bin=${DT_BIN:?} data=${DT_TEST_DATA:?}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
dump=$data/wine/inline_jit.dmp.gz syms=$data/wine/bin/clang
env -u DUMPTRIAGE_SYMBOL_PATH "$bin" analyze "$dump" --symbols "$syms" --format json >"$work/out.json"
env -u DUMPTRIAGE_SYMBOL_PATH "$bin" analyze "$dump" --symbols "$syms" --format text >"$work/out.txt"
python3 - "$work/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
threads = {t["thread_id"]: t for t in d["user"]["threads"]}
tid = {t.get("thread_name"): t["thread_id"] for t in d["triage"]["threads"]}
iw = threads[tid["inline-wait"]]
fr = [f for f in iw["frames"] if f.get("function") == "df_serve_queue"]
assert len(fr) == 1, iw["frames"]
f = fr[0]
# return address df_serve_queue+0x29, looked up at +0x28: the first of the
# three unrolled WaitForSingleObject calls (test_pdb_inlines checks the PDB
# reader against llvm-pdbutil and llvm-symbolizer at every byte)
assert f["function_offset"] == "0x29" and f["line"] == 62 and f["symbol_provider"] == "pdb", f
want = [("df_wait_batch", 45), ("df_next_batch", 53)]
got = [(x["function_name"], x["source_line"]) for x in f["inlines"]]
assert got == want, got
assert all(x["source_file_name"] == "C:\\build\\inline_jit.c" for x in f["inlines"]), f
tt = {t["thread_id"]: t for t in d["triage"]["threads"]}[tid["inline-wait"]]
assert tt["verdict"].endswith("WaitForSingleObject ← inline_jit!df_wait_batch"), tt["verdict"]
assert tt["first_app_frame"] == "inline_jit!df_wait_batch [inlined in inline_jit!df_serve_queue+0x29]", tt["first_app_frame"]
jt = threads[tid["jit"]]
j = jt["frames"][2]
assert j["generated_code"] is True and j["module"] is None, j
assert j["memory_region"]["protection"] == "PAGE_EXECUTE_READWRITE" and j["memory_region"]["type"] == "MEM_PRIVATE", j
jv = {t["thread_id"]: t for t in d["triage"]["threads"]}[tid["jit"]]["verdict"]
assert jv.endswith("Sleep ← [JIT/generated code]"), jv
print("inline frames:", got, "; jit frame at", j["ip"], "in", j["memory_region"]["base"])
PY
grep -qF 'inline_jit!df_wait_batch [inlined in inline_jit!df_serve_queue+0x29]' "$work/out.txt"
grep -A3 -F 'inline_jit!df_wait_batch [inlined in inline_jit!df_serve_queue+0x29]' "$work/out.txt" >"$work/levels.txt"
diff <(tail -n 3 "$work/levels.txt") - <<'TXT'
         inline_jit!df_wait_batch (inline function) [C:\build\inline_jit.c @ 45]
         inline_jit!df_next_batch (inline function) [C:\build\inline_jit.c @ 53]
         inline_jit!df_serve_queue+0x29 [C:\build\inline_jit.c @ 62]
TXT
grep -qE '^    u 02 \[JIT/generated code\] 0x[0-9a-f]+$' "$work/out.txt"
echo "text: inline levels listed, generated code labelled"
