#!/usr/bin/env bash
# check_doc_citations.sh [ROOT] — fails when a source file cites a document
# that does not exist, or a part/section of docs/formats.md without a heading.
#
# Scanned: analyzer/ server/ web/ tests/ bench/ scripts/ docker/ (and the top
# CMakeLists.txt), files *.c *.h *.js *.mjs *.sh *.py *.sql *.rules *.cmake,
# CMakeLists.txt and Dockerfile*.  Every "docs/<name>.md" in them must exist.
# A mention of formats.md followed by part or section names is checked
# against the headings of docs/formats.md, whose convention is
#   "## Part A — title"   and   "### A.11 title".
# Citation forms understood after "formats.md" (optionally behind a closing
# backquote, "(" or ":", and an optional "part"/"parts"/"section"/"§"):
#   part A · A · A.11 · C.4–C.6 (each of C.4, C.5, C.6) · B-D (parts B, C, D)
#   and lists of those joined by "," "/" "&" or "and", e.g. "C, C.1–C.3".
# A citation cut by a line break ("formats.md" ends the line) continues on
# the next line after its comment leader.  ROOT defaults to the repository;
# tests point it at a copy with planted violations.
# Output: one "path:line: …" line per broken citation, then a summary; exit 1.
set -euo pipefail
export LC_ALL=C
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
root=${root%/}
dirs=(analyzer server web tests bench scripts docker)
formats="$root/docs/formats.md"

# Headings of docs/formats.md.
declare -A part=() section=()
if [[ -f $formats ]]; then
  while IFS= read -r h; do
    if [[ $h =~ ^##[[:space:]]+Part[[:space:]]+([A-Z])([[:space:]]|$) ]]; then
      part[${BASH_REMATCH[1]}]=1
    elif [[ $h =~ ^###[[:space:]]+([A-Z]\.[0-9]+)([[:space:]]|$) ]]; then
      section[${BASH_REMATCH[1]}]=1
    fi
  done <"$formats"
fi

bad=0
broken() { echo "$1:$2: $3"; bad=$((bad + 1)); }

# One part letter or section number; $1 file, $2 line, $3 ref.
check_ref() {
  local ref=$3
  if [[ $ref == *.* ]]; then
    [[ -n ${section[$ref]+x} ]] ||
      broken "$1" "$2" "docs/formats.md $ref: no \"### $ref\" heading in docs/formats.md"
  else
    [[ -n ${part[$ref]+x} ]] ||
      broken "$1" "$2" "docs/formats.md part $ref: no \"## Part $ref\" heading in docs/formats.md"
  fi
}

# One list item: a ref or a range of refs.
check_item() {
  local f=$1 l=$2 item=$3 a b i
  if [[ $item != *-* ]]; then check_ref "$f" "$l" "$item"; return; fi
  a=${item%%-*} b=${item#*-}
  if [[ $a != *.* && $b != *.* ]]; then            # parts B-D
    local from to
    from=$(printf '%d' "'$a") to=$(printf '%d' "'$b")
    if ((from > to)); then broken "$f" "$l" "docs/formats.md $item: backward range"; return; fi
    for ((i = from; i <= to; i++)); do check_ref "$f" "$l" "$(printf "\\$(printf '%03o' "$i")")"; done
  elif [[ $a == *.* && $b == *.* && ${a%%.*} == "${b%%.*}" ]]; then   # sections C.4-C.6
    local n=$((10#${a#*.})) m=$((10#${b#*.}))
    if ((n > m)); then broken "$f" "$l" "docs/formats.md $item: backward range"; return; fi
    ((m - n > 100)) && m=$((n + 100))
    for ((i = n; i <= m; i++)); do check_ref "$f" "$l" "${a%%.*}.$i"; done
  else                                              # mixed (C-C.3, B.4-C.2): the ends
    check_ref "$f" "$l" "$a"
    check_ref "$f" "$l" "$b"
  fi
}

ref='[A-Z](\.[0-9]+)?'
dash='[[:space:]]*(-|–|—)[[:space:]]*'
item="$ref($dash$ref)?"
sep='([[:space:]]*[,/&][[:space:]]*|[[:space:]]+and[[:space:]]+)'
cite_re="^(([Pp]arts?|[Ss]ections?|§)[[:space:]]*)?($item($sep$item)*)([^A-Za-z0-9]|$)"

# The part/section list after one mention of formats.md ($3 = text after it).
check_formats_tail() {
  local f=$1 l=$2 tail=$3 list
  tail=${tail#\`}
  tail=${tail#\"}
  tail=${tail#\'}
  if [[ $tail =~ ^[[:space:]]*$ ]]; then               # cut by a line break
    tail=$(sed -n "$((l + 1))p" "$root/$f")
    tail=$(sed -E 's@^[[:space:]]*(\*|//|#|--|;)?[[:space:]]*@@' <<<"$tail")
  fi
  tail=$(sed -E 's/^[[:space:]]*[(:,]?[[:space:]]*//' <<<"$tail")
  [[ $tail =~ $cite_re ]] || return 0
  list=${BASH_REMATCH[3]}
  list=$(sed -E 's/[[:space:]]*(–|—)[[:space:]]*/-/g; s/[[:space:]]*-[[:space:]]*/-/g;
                 s/[[:space:]]+and[[:space:]]+/,/g; s/[[:space:]]*[,/&][[:space:]]*/,/g' <<<"$list")
  local -a items
  IFS=, read -r -a items <<<"$list"
  for it in "${items[@]}"; do check_item "$f" "$l" "$it"; done
}

targets=()
for d in "${dirs[@]}"; do [[ -d $root/$d ]] && targets+=("$root/$d"); done
[[ -f $root/CMakeLists.txt ]] && targets+=("$root/CMakeLists.txt")
((${#targets[@]})) || { echo "check_doc_citations: nothing to scan under $root"; exit 1; }
includes=(--include='*.c' --include='*.h' --include='*.js' --include='*.mjs' --include='*.sh'
          --include='*.py' --include='*.sql' --include='*.rules' --include='*.cmake'
          --include=CMakeLists.txt --include='Dockerfile*')

cited=0
while IFS= read -r hit; do
  file=${hit%%:*} rest=${hit#*:}
  line=${rest%%:*} text=${rest#*:}
  rel=${file#"$root"/}
  # Every docs/<name>.md (not part of a longer path component like mydocs/).
  t=$text
  while [[ $t =~ (^|[^A-Za-z0-9_.-])docs/([A-Za-z0-9_.-]+\.md) ]]; do
    cited=$((cited + 1))
    doc=${BASH_REMATCH[2]}
    [[ -f $root/docs/$doc ]] || broken "$rel" "$line" "docs/$doc does not exist"
    t=${t#*docs/"$doc"}
  done
  # Every formats.md followed by parts or sections.
  t=$text
  while [[ $t =~ (^|[^A-Za-z0-9_.-]|docs/)formats\.md ]]; do
    t=${t#*"${BASH_REMATCH[0]}"}
    [[ -f $formats ]] && check_formats_tail "$rel" "$line" "$t"
  done
done < <(grep -rnE "${includes[@]}" --exclude-dir=node_modules --exclude-dir=.git \
           '(docs/[A-Za-z0-9_.-]+|formats)\.md' "${targets[@]}" || true)

if ((bad)); then
  echo "check_doc_citations: $bad broken citation(s) (parts: ${!part[*]}; sections: ${#section[@]})"
  exit 1
fi
echo "check_doc_citations: ok ($cited citations of docs/*.md; formats.md parts: $(tr ' ' '\n' <<<"${!part[*]}" | sort | tr -d '\n'), ${#section[@]} sections)"
