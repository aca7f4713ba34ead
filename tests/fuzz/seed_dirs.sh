# seed_dirs.sh — sourced by the fuzzing scripts: `seed_dirs NAME` prints the
# directories a target starts from, one a line: its committed seeds
# (tests/fuzz/seeds/NAME) and the test-data directories listed in
# tests/fuzz/NAME.dirs (under DT_TEST_DATA, default tests/data).
seed_dirs() {
  local name=$1 fuzz data d
  fuzz=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  data=${DT_TEST_DATA:-$fuzz/../data}
  [[ -d $fuzz/seeds/$name ]] && echo "$fuzz/seeds/$name"
  [[ -f $fuzz/$name.dirs ]] || return 0
  while read -r d; do
    [[ -z $d || $d == \#* ]] && continue
    [[ -d $data/$d ]] && echo "$data/$d"
  done <"$fuzz/$name.dirs"
  return 0
}
