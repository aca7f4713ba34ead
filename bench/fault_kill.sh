#!/usr/bin/env bash
# bench/fault_kill.sh — SIGKILL the server at random moments while uploads
# stream in and analyses run, restart it, and repeat; then check that no
# acknowledged upload is lost and nothing is left half-done:
#   * every upload that got a 2xx with an id is in the database and ends `done`;
#   * every upload row has its files and its job, every `done` one its report;
#   * data/tmp is empty, every blob on disk is named by a files row and every
#     files row's blob exists with the right SHA-256 (no orphans either way);
#   * PRAGMA integrity_check is ok.
# usage: DT_BIN=build/dumptriage DT_TEST_DATA=tests/data bench/fault_kill.sh [KILLS] [SEED]
# (tests/integration/test_ops_kill.sh runs a short version; the figures in
# docs/reliability.md come from `nice -n 10 bench/fault_kill.sh 60`.)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
export DT_BIN=${DT_BIN:-$HERE/../build/dumptriage} DT_TEST_DATA=${DT_TEST_DATA:-$HERE/../tests/data}
KILLS=${1:-50}
RANDOM=${2:-$$}
source "$HERE/../tests/integration/server_lib.sh"
D="$DT_TEST_DATA/user"
DATA="$WORK/data"
ACKED="$WORK/acked"; : >"$ACKED"
files=(); for f in "$D"/*.dmp; do [[ $(head -c 4 "$f") == MDMP ]] && files+=("$f"); done

# One uploader: uploads until its server dies; records only acknowledged ids.
uploader() { # tag
  local i=0 f r
  while :; do
    # A real dump plus 16 random bytes after its streams: distinct content,
    # so every upload gets its own blob and its own analysis (no reuse).
    f="$WORK/up.$1.dmp"
    { cat "${files[$(( (RANDOM + i) % ${#files[@]} ))]}"; head -c 16 /dev/urandom; } >"$f"
    r=$(curl -s --max-time 20 -F "user=@$f" -F "note=kill $1 $i" "$URL/api/dumps") || return 0
    [[ $r =~ \"id\":\"([0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}" >>"$ACKED"
    i=$((i + 1))
  done
}

kills=0 at_analysis=0 at_upload=0
t0=$(date +%s)
while (( kills < KILLS )); do
  start_server "$DATA" --min-free-space 1M --workers 2
  uploader "$kills.a" & u1=$!
  uploader "$kills.b" & u2=$!
  # A slow upload, so some kills land mid-body.
  curl -s --max-time 30 --limit-rate 300K -F "user=@$D/crashdump-mcp__electron.dmp" -F "note=kill $kills slow" \
    "$URL/api/dumps" >"$WORK/slow.json" 2>/dev/null & u3=$!
  sleep "$(( RANDOM % 15 / 10 )).$(( RANDOM % 10 ))"
  busy=$(sqlite3 "$DATA/dumptriage.sqlite" "SELECT COUNT(*) FROM jobs WHERE state = 'leased'" 2>/dev/null || echo 0)
  tmpf=$(find "$DATA/tmp" -type f 2>/dev/null | wc -l)
  kill9_server
  kills=$((kills + 1))
  (( busy > 0 )) && at_analysis=$((at_analysis + 1))
  (( tmpf > 0 )) && at_upload=$((at_upload + 1))
  wait "$u1" "$u2" 2>/dev/null || true
  wait "$u3" 2>/dev/null || true
  if [[ $(cat "$WORK/slow.json" 2>/dev/null) =~ \"id\":\"([0-9a-f]+)\" ]]; then echo "${BASH_REMATCH[1]}" >>"$ACKED"; fi
  : >"$WORK/slow.json"
done
kill_secs=$(( $(date +%s) - t0 ))

# Final restart: let the queue drain, then audit.
start_server "$DATA" --min-free-space 1M --workers 2
db="$DATA/dumptriage.sqlite"
for _ in $(seq 1 600); do
  pending=$(sqlite3 "$db" "SELECT COUNT(*) FROM uploads WHERE status IN ('queued', 'analyzing')")
  (( pending == 0 )) && break
  sleep 0.2
done
check "queue drained after the last restart" 0 "$pending"
sort -u "$ACKED" >"$WORK/acked_sorted"
sqlite3 "$db" 'SELECT id FROM uploads' | sort >"$WORK/rows"
n_acked=$(wc -l <"$WORK/acked_sorted"); n_rows=$(wc -l <"$WORK/rows")
check "acknowledged uploads lost" 0 "$(comm -23 "$WORK/acked_sorted" "$WORK/rows" | wc -l)"
check "acknowledged uploads not done" 0 "$(sqlite3 "$db" "SELECT id FROM uploads WHERE status <> 'done'" | sort | comm -12 - "$WORK/acked_sorted" | wc -l)"
check "uploads without files" 0 "$(sqlite3 "$db" 'SELECT COUNT(*) FROM uploads u WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq)')"
check "uploads without job" 0 "$(sqlite3 "$db" 'SELECT COUNT(*) FROM uploads u WHERE u.reused_from IS NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_seq = u.seq)')"
check "done uploads without report" 0 "$(sqlite3 "$db" "SELECT COUNT(*) FROM uploads WHERE status = 'done' AND report_id IS NULL")"
check "temp files left" 0 "$(find "$DATA/tmp" -type f | wc -l)"
sqlite3 "$db" 'SELECT DISTINCT sha256 FROM files' | sort >"$WORK/shas"
(cd "$DATA/blobs" && find . -type f | sed -E 's#^\./(..)/#\1#') | sort >"$WORK/blobs"
check "orphan blobs (on disk, in no row)" 0 "$(comm -13 "$WORK/shas" "$WORK/blobs" | wc -l)"
check "missing blobs (in a row, not on disk)" 0 "$(comm -23 "$WORK/shas" "$WORK/blobs" | wc -l)"
badsha=0
while read -r sha; do
  [[ $(sha256sum "$DATA/blobs/${sha:0:2}/${sha:2}" 2>/dev/null | cut -d' ' -f1) == "$sha" ]] || badsha=$((badsha + 1))
done <"$WORK/shas"
check "blobs with wrong content" 0 "$badsha"
check "integrity_check" ok "$(sqlite3 "$db" 'PRAGMA integrity_check')"
failed=$(sqlite3 "$db" "SELECT COUNT(*) FROM uploads WHERE status = 'failed'")
echo "fault_kill: $kills SIGKILLs in ${kill_secs}s ($at_analysis with an analysis leased and $at_upload with an upload spooling in data/tmp, sampled just before the kill);" \
     "$n_acked uploads acknowledged, $n_rows rows ($((n_rows - n_acked)) committed but unacknowledged), $failed failed," \
     "$(wc -l <"$WORK/shas") blobs"
stop_server
finish
