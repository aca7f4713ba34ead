#!/usr/bin/env bash
# bench_many_modules.sh [BUILD_DIR] — analysis time and peak RSS of minidumps
# listing 10 000 / 40 000 / 160 000 modules (bench/gen_many_modules.py).  The
# cost must grow linearly: each 4× more modules may cost about 4× more, not
# 16×.  Prints a table and the ratios; exits 1 if a step grows by more than 6×.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$HERE/../build}/dumptriage
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
echo "| modules | file (MB) | wall (s) | peak RSS (MB) | vs previous |"
echo "|---:|---:|---:|---:|---:|"
prev=""
status=0
for n in 10000 40000 160000; do
  python3 "$HERE/gen_many_modules.py" "$n" "$work/m.dmp"
  /usr/bin/time -f '%e %M' -o "$work/t" "$bin" analyze --format json "$work/m.dmp" >/dev/null
  read -r secs kb <"$work/t"
  ratio=-; [[ -n $prev ]] && ratio=$(awk -v a="$secs" -v b="$prev" 'BEGIN { printf "%.1f×", (b > 0.01 ? a / b : a / 0.01) }')
  if [[ -n $prev ]] && awk -v a="$secs" -v b="$prev" 'BEGIN { exit !(a > 6 * (b > 0.05 ? b : 0.05)) }'; then status=1; fi
  printf '| %d | %.1f | %.2f | %d | %s |\n' "$n" "$(echo "$(stat -c %s "$work/m.dmp") / 1000000" | bc -l)" "$secs" $((kb / 1024)) "$ratio"
  prev=$secs
done
exit $status
