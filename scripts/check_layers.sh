#!/usr/bin/env bash
# check_layers.sh [ROOT] — fails when an #include in analyzer/ points upward.
#
# The analyzer's layers, lowest first (docs/architecture.md):
#   base → formats → memory → model → symbols → unwind → triage → report
#        → analysis → cli
# A file may include its own layer and any layer below it, never one above.
# The analyzer never includes the server (server headers are included
# without a directory, so any include without a known layer directory is
# flagged too).  ROOT defaults to the repository; tests point it at a copy
# with a planted violation.
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
layers=(base formats memory model symbols unwind triage report analysis cli)
declare -A rank
for i in "${!layers[@]}"; do rank[${layers[$i]}]=$i; done

bad=0
while IFS= read -r -d '' file; do
  rel=${file#"$root"/analyzer/}
  layer=${rel%%/*}
  if [[ -z ${rank[$layer]+x} ]]; then
    echo "check_layers: $file: analyzer/$layer is not a known layer"; bad=1; continue
  fi
  while IFS=: read -r line inc; do
    target=$(sed -E 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"([^"]*)".*/\1/' <<<"$inc")
    dir=${target%%/*}
    if [[ $target != */* || -z ${rank[$dir]+x} ]]; then
      echo "check_layers: analyzer/$rel:$line: \"$target\" is outside the analyzer's layers"; bad=1
    elif (( rank[$dir] > rank[$layer] )); then
      echo "check_layers: analyzer/$rel:$line: $layer includes \"$target\" from the higher layer $dir"; bad=1
    fi
  done < <(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$file" || true)
done < <(find "$root/analyzer" -type f \( -name '*.c' -o -name '*.h' \) -print0)

if (( bad )); then
  echo "check_layers: upward or unknown includes found (layers: ${layers[*]})"
  exit 1
fi
echo "check_layers: ok (${layers[*]})"
