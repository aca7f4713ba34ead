#!/usr/bin/env bash
# seeds_merge.sh BINARY NAME CORPUS [MAX_BYTES] — folds what a campaign
# (campaign.sh) found into the committed seeds tests/fuzz/seeds/NAME/.
# libFuzzer's -merge=1 keeps only the inputs of CORPUS that add coverage over
# what the fuzz target already starts from (the committed seeds and the
# test-data directories of NAME.dirs), so the seeds hold the campaign's
# discoveries and nothing the test data already covers.  Inputs larger than
# MAX_BYTES (default 64 KiB) are left out to keep the repository small; most
# structure-aware discoveries of these parsers are small.
set -euo pipefail
bin=$(realpath "$1") name=$2 corpus=$(realpath "$3") max=${4:-65536}
here=$(cd "$(dirname "$0")" && pwd)
source "$here/seed_dirs.sh"
seeds=$here/seeds/$name
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/base" "$work/cand" "$seeds"

# The baseline: everything the target already starts from, under names that
# cannot collide with libFuzzer's (it names new inputs by their SHA-1).
n=0
while read -r d; do
  for f in "$d"/*; do [[ -f $f ]] && cp "$f" "$work/base/base-$((n++))"; done
done < <(seed_dirs "$name")
find "$corpus" -maxdepth 1 -type f -size -"$((max + 1))"c -exec cp {} "$work/cand/" \;

(cd "$work" && "$bin" -merge=1 -timeout=60 -rss_limit_mb=3072 -malloc_limit_mb=2048 \
  -max_len=4194304 base cand) >"$work/merge.log" 2>&1 || { tail -20 "$work/merge.log"; exit 1; }

added=0
for f in "$work"/base/*; do
  b=$(basename "$f")
  [[ $b == base-* ]] && continue
  cp "$f" "$seeds/$b"
  added=$((added + 1))
done
echo "$name: $added inputs added to tests/fuzz/seeds/$name ($(du -sh "$seeds" | cut -f1) in all);" \
  "candidates: $(find "$work/cand" -type f | wc -l) of $(find "$corpus" -maxdepth 1 -type f | wc -l) (≤ $max bytes)"
grep -E 'MERGE-OUTER: [0-9]+ new files' "$work/merge.log" || true
