#!/usr/bin/env bash
# test_doc_citations.sh — every docs/*.md a source file names exists and every
# part/section of docs/formats.md it cites has a heading
# (scripts/check_doc_citations.sh), and the check itself fails on planted
# violations in a copy, so it cannot pass vacuously: a missing document, a
# missing section, a range reaching past the last section, a citation cut by a
# line break, and a heading removed from the document.
# The planted names are assembled at run time so that this file itself cites
# nothing that is missing.
set -euo pipefail
: "${DT_SOURCE_DIR:?DT_SOURCE_DIR must name the source tree}"
check="$DT_SOURCE_DIR/scripts/check_doc_citations.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$check" "$DT_SOURCE_DIR" || fail "the tree has broken documentation citations"

mkdir -p "$tmp/src"
cp -R "$DT_SOURCE_DIR/analyzer" "$DT_SOURCE_DIR/docs" "$tmp/src/"
"$check" "$tmp/src" >/dev/null || fail "the unmodified copy is refused"

fm=formats.md
nope=nope
target="$tmp/src/analyzer/formats/pe.c"
n=$(wc -l <"$target")
{
  echo "/* see docs/$nope.md */"
  echo "/* layout: docs/$fm Z.9 */"
  echo "/* contexts: docs/$fm A.10–A.12 */"
  echo "/* threads (docs/$fm"
  echo " * C.7) */"
  echo "/* fine: docs/$fm part A, C.4–C.6, B-D and F.1 */"
} >>"$target"
if out=$("$check" "$tmp/src"); then
  fail "planted broken citations passed"
fi
expect() { grep -qF -- "$1" <<<"$out" || fail "not reported: $1
--- output:
$out"; }
expect "analyzer/formats/pe.c:$((n + 1)): docs/$nope.md does not exist"
expect "analyzer/formats/pe.c:$((n + 2)): docs/$fm Z.9:"
expect "analyzer/formats/pe.c:$((n + 3)): docs/$fm A.12:"
expect "analyzer/formats/pe.c:$((n + 4)): docs/$fm C.7:"
[[ $(grep -c '^analyzer/' <<<"$out") == 4 ]] || fail "expected exactly 4 broken citations:
$out"
grep -q ':.*A\.11:' <<<"$out" && fail "A.11 exists but was reported: $out"

# The document side: removing a heading breaks the code that cites it.
rm -rf "$tmp/src" && mkdir -p "$tmp/src"
cp -R "$DT_SOURCE_DIR/analyzer" "$DT_SOURCE_DIR/docs" "$tmp/src/"
sed -i -E 's/^### A\.11 /### A.11x /' "$tmp/src/docs/formats.md"
if out=$("$check" "$tmp/src"); then
  fail "removing the A.11 heading passed"
fi
grep -q "analyzer/base/cpu_context.c:[0-9]*: docs/$fm A.11:" <<<"$out" ||
  fail "the citation of A.11 in cpu_context.c is not named: $out"

rm "$tmp/src/docs/$fm"
if out=$("$check" "$tmp/src"); then
  fail "a missing docs/$fm passed"
fi
grep -q "docs/$fm does not exist" <<<"$out" || fail "the missing docs/$fm is not named: $out"
echo "doc citations: ok"
