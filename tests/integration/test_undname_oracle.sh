#!/usr/bin/env bash
# test_undname_oracle.sh — the MSVC undecorator (analyzer/symbols/undname.c)
# against llvm-undname, live: every decorated public of every PDB in
# tests/data (as llvm-pdbutil lists them) and the tricky names clang emits
# for tests/data/symbols/undname_tricky.cpp (x64 and x86 MSVC ABI) must come
# out exactly as llvm-undname prints them.  The committed
# undname_oracle.tsv (test_undname) is this test's output of its day.
set -euo pipefail
data=${DT_TEST_DATA:?} build=${DT_BUILD_DIR:?}
for t in llvm-undname llvm-pdbutil llvm-nm clang++; do
  command -v $t >/dev/null || { echo "SKIP: $t missing (scripts/bootstrap.sh --tests installs llvm, clang)"; exit 77; }
done
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
find "$data" -name '*.pdb' -type f | sort | while read -r pdb; do
  { llvm-pdbutil dump -publics "$pdb" | grep -o '`?[^`]*`' || true; } | tr -d '`'
done >"$work/names"
# compiled under its bare name: anonymous namespaces are hashed from the path
cp "$data/symbols/undname_tricky.cpp" "$work/"
for target in x86_64-pc-windows-msvc i686-pc-windows-msvc; do
  (cd "$work" && clang++ -std=c++20 -target $target -c undname_tricky.cpp -o t.obj -Wno-everything)
  llvm-nm "$work/t.obj" | awk '{print $NF}' | grep '^?' >>"$work/names"
done
sort -u "$work/names" -o "$work/names"
llvm-undname <"$work/names" >"$work/llvm.out"
"$build/dt_undname" <"$work/names" >"$work/ours.tsv"
python3 - "$work/llvm.out" "$work/ours.tsv" "$data/symbols/undname_oracle.tsv" <<'PY'
import sys
want = {}
for block in open(sys.argv[1]).read().split("\n\n"):
    lines = block.strip("\n").split("\n")
    if len(lines) >= 2:
        want[lines[0]] = lines[1]
ours = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[2]))
committed = dict(l.rstrip("\n").split("\t", 1) for l in open(sys.argv[3]))
assert len(want) >= 1200, len(want)
bad = [(k, v, ours.get(k)) for k, v in want.items() if ours.get(k) != v]
for k, v, o in bad[:20]:
    print("MISMATCH", k, "\n  llvm-undname:", v, "\n  ours:        ", o)
assert not bad, "%d of %d names differ" % (len(bad), len(want))
missing = set(want) - set(committed)
assert not missing, "undname_oracle.tsv lacks %d names: regenerate it" % len(missing)
print("undname: %d names equal llvm-undname's (%d string literals)" %
      (len(want), sum(k.startswith("??_C@") for k in want)))
PY
