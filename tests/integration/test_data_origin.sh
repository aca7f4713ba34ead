#!/usr/bin/env bash
# test_data_origin.sh — every file committed under tests/data has a row in
# tests/data/ORIGIN.tsv, and the row's SHA-256 and size are the file's
# (a symlink row names its target's bytes).  READMEs are documentation,
# not data, and need none.  Fails on the first kind of gap with the list.
set -euo pipefail
src=${DT_SOURCE_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$src/tests/data"
command -v git >/dev/null && git -C "$src" rev-parse --git-dir >/dev/null 2>&1 || { echo "SKIP: not a git checkout"; exit 77; }
declare -A sha size
while IFS=$'\t' read -r path s n _; do
  [[ $path == path || $path == \#* || -z $path ]] && continue
  sha[$path]=$s size[$path]=$n
done <ORIGIN.tsv
missing=() wrong=() checked=0
while IFS= read -r f; do
  [[ $f == ORIGIN.tsv || $f == *README.md ]] && continue
  checked=$((checked + 1))
  if [[ -z ${sha[$f]:-} ]]; then missing+=("$f"); continue; fi
  s=$(sha256sum "$f" | cut -d' ' -f1) n=$(stat -L -c %s "$f")
  [[ $s == "${sha[$f]}" && $n == "${size[$f]}" ]] || wrong+=("$f (row ${sha[$f]:0:12}…/${size[$f]}, file ${s:0:12}…/$n)")
done < <(git -C "$src" ls-files -- tests/data | sed 's|^tests/data/||')
((checked > 100)) || { echo "FAIL: only $checked files listed under tests/data"; exit 1; }
((${#missing[@]} == 0)) || { printf 'FAIL: no ORIGIN.tsv row for %s\n' "${missing[@]}"; exit 1; }
((${#wrong[@]} == 0)) || { printf 'FAIL: ORIGIN.tsv row does not match %s\n' "${wrong[@]}"; exit 1; }
echo "ok: $checked files under tests/data, each with a matching ORIGIN.tsv row"
