#!/usr/bin/env bash
# campaign.sh BINARY NAME SECONDS OUTDIR — one long, hand-run fuzzing
# campaign of a libFuzzer target (the short regression runs of ./test are
# run_fuzz.sh).  Starts from the committed seeds and the test-data
# directories in tests/fuzz/NAME.dirs, grows OUTDIR/corpus, and keeps going
# after a finding (restarting with the time left) so that one bug does not
# end the hour; every finding lands in OUTDIR/artifacts/.  At the end it
# writes OUTDIR/summary.txt: wall and CPU seconds, executions, coverage at
# start and end, corpus size and findings — the figures docs/fuzzing.md
# records.  Merge the grown corpus into the seeds with seeds_merge.sh.
# DT_FUZZ_MAX_LEN sets -max_len (default 1 MiB); DT_FUZZ_RUNS stops the
# campaign once that many executions are done (over all its rounds), so a
# "10 M executions" campaign ends there instead of at the time limit.
set -euo pipefail
bin=$(realpath "$1") name=$2 secs=$3 out=$4
source "$(dirname "$0")/seed_dirs.sh"
maxlen=${DT_FUZZ_MAX_LEN:-1048576}
runs=${DT_FUZZ_RUNS:-0}
mkdir -p "$out/corpus" "$out/artifacts"
out=$(realpath "$out")
mapfile -t dirs < <(seed_dirs "$name")
dirs=("$out/corpus" "${dirs[@]}")

start=$(date +%s) round=0 execs=0
cpu_before=$(awk '{print $16+$17}' /proc/$$/stat)
while :; do
  left=$((start + secs - $(date +%s)))
  ((left > 5)) || break
  runs_arg=()
  if ((runs > 0)); then
    ((execs < runs)) || break
    runs_arg=(-runs=$((runs - execs)))
  fi
  round=$((round + 1))
  log=$out/run$round.log
  # -timeout is generous because the targets share two cores during a
  # campaign; a genuinely slow input still shows up as a timeout artifact.
  set +e
  (cd "$out" && exec "$bin" -max_total_time="$left" -timeout=60 -rss_limit_mb=3072 \
    -malloc_limit_mb=2048 -max_len="$maxlen" "${runs_arg[@]}" -print_final_stats=1 \
    -artifact_prefix="$out/artifacts/" "${dirs[@]}") >"$log" 2>&1
  rc=$?
  set -e
  n=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  execs=$((execs + ${n:-0}))
  ((rc == 0)) || echo "round $round ended with $rc: $(grep -m1 -E '^==[0-9]+==ERROR|^SUMMARY|ERROR: libFuzzer' "$log" || true)" >>"$out/findings.txt"
done
end=$(date +%s)
read -r cutime cstime < <(awk '{print $16, $17}' /proc/$$/stat)
tck=$(getconf CLK_TCK)
first=$(grep -m1 INITED "$out/run1.log" || true)
last=$(grep -E '^#[0-9]+.*cov:' "$out/run$round.log" | tail -1 || true)
{
  echo "target      $name"
  echo "wall_s      $((end - start))"
  echo "cpu_s       $(( (cutime + cstime - cpu_before) / tck ))"
  echo "rounds      $round"
  echo "executions  $execs"
  echo "start       $first"
  echo "end         $last"
  echo "corpus      $(find "$out/corpus" -type f | wc -l) files, $(du -sh "$out/corpus" | cut -f1)"
  echo "peak_rss    $(sed -n 's/^stat::peak_rss_mb: *//p' "$out"/run*.log | sort -n | tail -1) MB"
  echo "findings    $(find "$out/artifacts" -type f | wc -l)"
} >"$out/summary.txt"
cat "$out/summary.txt"
