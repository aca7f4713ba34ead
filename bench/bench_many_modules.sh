#!/usr/bin/env bash
# bench_many_modules.sh [BUILD_DIR [N1 N2 N3…]] — analysis time and peak RSS
# of minidumps listing N1, N2, … modules (default 10 000 / 40 000 / 160 000;
# bench/gen_many_modules.py).  The cost must grow linearly: each 4× more
# modules may cost about 4× more, not 16×.  The ratio is taken on CPU
# seconds (user + system), which other load on the machine does not inflate
# as it does wall time; below 0.2 CPU-s the figure (10 ms accounting ticks,
# start-up) is too coarse for a ratio, so a smaller step counts as 0.2 s and
# the larger steps carry the check.  Prints a table and the ratios; exits 1
# if a 4× step grows by more than 6× (CPU or peak RSS).  The smoke run
# (test_ops_bench_smoke.sh) uses smaller counts.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
bin=${1:-$HERE/../build}/dumptriage
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
shift || true
sizes=("$@"); ((${#sizes[@]})) || sizes=(10000 40000 160000)
echo "| modules | file (MB) | wall (s) | CPU (s) | peak RSS (MB) | CPU vs previous | RSS vs previous |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
prev="" prevkb=""
status=0
for n in "${sizes[@]}"; do
  python3 "$HERE/gen_many_modules.py" "$n" "$work/m.dmp"
  /usr/bin/time -f '%e %U %S %M' -o "$work/t" "$bin" analyze --format json "$work/m.dmp" >/dev/null
  read -r secs user sys kb <"$work/t"
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')
  ratio=- rratio=-
  if [[ -n $prev ]]; then
    ratio=$(awk -v a="$cpu" -v b="$prev" 'BEGIN { printf "%.1f×", a / (b > 0.2 ? b : 0.2) }')
    rratio=$(awk -v a="$kb" -v b="$prevkb" 'BEGIN { printf "%.1f×", a / b }')
    awk -v a="$cpu" -v b="$prev" 'BEGIN { exit !(a > 6 * (b > 0.2 ? b : 0.2)) }' && status=1
    awk -v a="$kb" -v b="$prevkb" 'BEGIN { exit !(a > 6 * b) }' && status=1
  fi
  printf '| %d | %.1f | %.2f | %s | %d | %s | %s |\n' "$n" "$(echo "$(stat -c %s "$work/m.dmp") / 1000000" | bc -l)" "$secs" "$cpu" \
    $((kb / 1024)) "$ratio" "$rratio"
  prev=$cpu prevkb=$kb
done
exit $status
