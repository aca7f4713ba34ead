#!/usr/bin/env bash
# bench/fault_kill.sh — SIGKILL the server at random moments while uploads
# stream in and analyses run, restart it, and repeat; then check that no
# acknowledged upload is lost and nothing is left half-done:
#   * every upload that got a 2xx with an id is in the database and ends `done`
#     (the `DT_TEST_HOOK=hang` ones, there to keep an analysis running at a
#     kill, end `failed` — done or failed is all that is asked of them);
#   * the client keeps the SHA-256 of every file part it sent that got a 2xx;
#     after every restart it downloads the files acknowledged since the
#     previous one, and at the end every acknowledged file
#     (`/files/user?key=…`), and compares the bytes with them;
#   * every upload row has its files and its job, every `done` one its report;
#   * data/tmp is empty, every blob on disk is named by a files row and every
#     files row's blob exists with the right SHA-256 (no orphans either way);
#   * the store's integrity check is ok (SQLite's PRAGMA integrity_check, or
#     amcheck on PostgreSQL: server_lib.sh's store_integrity);
#   * the run proved something: at least KILLS uploads acknowledged, at least
#     one kill cut an upload mid-body (a rate-limited curl still sending, its
#     spool in data/tmp) and at least one landed while a job was leased.
# usage: DT_BIN=build/dumptriage DT_TEST_DATA=tests/data bench/fault_kill.sh [KILLS] [SEED]
# The store is read through server_lib.sh (store_sql), so the same run works
# on PostgreSQL under DT_TEST_PG_SOCK (tests/integration/test_server_pg_ops.sh).
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
# One line per acknowledged file part: id key role sha256-of-what-was-sent kind
ACKED="$WORK/acked"; : >"$ACKED"; : >"$WORK/codes"
files=(); for f in "$D"/*.dmp; do [[ $(head -c 4 "$f") == MDMP ]] && files+=("$f"); done
# The hang uploads' analysis must outlive the kill window (<= 1.9 s), then end.
SERVE_ARGS=(--min-free-space 1M --workers 2 --test-hooks --analysis-timeout 4)
# On PostgreSQL a restarted server leaves the killed one's leases to expire
# (server/instance.h) instead of requeueing them at once: a short lease keeps
# the final drain quick.
[[ -n ${DT_TEST_PG_SOCK:-} ]] && SERVE_ARGS+=(--lease 10)

# upload FILE NOTE KIND [curl args…] — POSTs FILE as the `user` part; on a 2xx
# records the id, view key and the SHA-256 of the bytes sent.  Fails when
# curl gets no reply (the server died).
upload() {
  local f=$1 note=$2 kind=$3; shift 3
  local sha reply code id key
  sha=$(sha256sum "$f" | cut -d' ' -f1)
  reply=$(mktemp "$WORK/reply.XXXXXX")
  code=$(curl -s -o "$reply" -w '%{http_code}' "$@" -F "user=@$f" -F "note=$note" "$URL/api/dumps") || { rm -f "$reply"; return 1; }
  echo "$code" >>"$WORK/codes"
  if [[ $code == 2?? ]]; then
    id=$(jq -r .id "$reply"); key=$(jq -r .status_url "$reply" | sed -n 's/.*[?&]key=//p')
    if [[ $id =~ ^[0-9a-f]+$ && -n $key ]]; then echo "$id $key user $sha $kind" >>"$ACKED"; fi
  fi
  rm -f "$reply"
}

# One uploader: uploads until its server dies.
uploader() { # tag
  local i=0 f
  while :; do
    # A real dump plus 16 random bytes after its streams: distinct content,
    # so every upload gets its own blob and its own analysis (no reuse).
    f="$WORK/up.$1.dmp"
    { cat "${files[$(( (RANDOM + i) % ${#files[@]} ))]}"; head -c 16 /dev/urandom; } >"$f"
    upload "$f" "kill $1 $i" normal --max-time 20 || return 0
    i=$((i + 1))
  done
}

# verify_bytes [FROM] — downloads every acknowledged file after line FROM of
# $ACKED (default: all) and compares its SHA-256 (and the X-Content-SHA256
# header) with what the client sent.  Sets VERIFIED and MISMATCH.
verify_bytes() {
  local id key role sha kind got hdr
  VERIFIED=0 MISMATCH=0
  while read -r id key role sha kind; do
    hdr=$(curl -s --max-time 30 -o "$WORK/body" -w '%header{x-content-sha256}' "$URL/api/dumps/$id/files/$role?key=$key") || hdr=""
    got=$(sha256sum "$WORK/body" | cut -d' ' -f1); rm -f "$WORK/body"
    VERIFIED=$((VERIFIED + 1))
    if [[ $got != "$sha" || $hdr != "$sha" ]]; then
      MISMATCH=$((MISMATCH + 1))
      echo "fault_kill: upload $id ($kind) $role: sent $sha, downloaded $got (header '$hdr')" >&2
    fi
  done < <(tail -n +$(( ${1:-0} + 1 )) "$ACKED")
}
verify_total=0 verify_bad=0 verified_upto=0

kills=0 at_analysis=0 at_real_analysis=0 at_upload=0
t0=$(date +%s)
while (( kills < KILLS )); do
  start_server "$DATA" "${SERVE_ARGS[@]}"
  # What was acknowledged since the previous restart (the uploads a kill can
  # have hurt) reads back byte for byte; everything is read again at the end.
  n=$(wc -l <"$ACKED")
  verify_bytes "$verified_upto"; verified_upto=$n
  verify_total=$((verify_total + VERIFIED)) verify_bad=$((verify_bad + MISMATCH))
  uploader "$kills.a" & u1=$!
  uploader "$kills.b" & u2=$!
  # A slow upload, so some kills land mid-body.
  upload "$D/crashdump-mcp__electron.dmp" "kill $kills slow" slow --max-time 30 --limit-rate 300K >/dev/null 2>&1 & u3=$!
  # An analysis that hangs (until --analysis-timeout), so some kills land while
  # a job is leased whatever the machine's speed.
  if (( kills % 2 == 0 )); then
    { cat "$D/lldb__sigsegv.dmp"; head -c 16 /dev/urandom; } >"$WORK/hang.dmp"
    upload "$WORK/hang.dmp" "kill $kills DT_TEST_HOOK=hang" hang --max-time 10 || true
  fi
  sleep "$(( RANDOM % 15 / 10 )).$(( RANDOM % 10 ))"
  busy=$(store_sql "$DATA" "SELECT COUNT(*) FROM jobs WHERE state = 'leased'" 2>/dev/null || echo 0)
  busy_real=$(store_sql "$DATA" "SELECT COUNT(*) FROM jobs j JOIN uploads u ON u.seq = j.upload_seq WHERE j.state = 'leased' AND u.note NOT LIKE '%DT_TEST_HOOK%'" 2>/dev/null || echo 0)
  tmpf=$(find "$DATA/tmp" -type f 2>/dev/null | wc -l)
  slow_running=0; kill -0 "$u3" 2>/dev/null && slow_running=1
  kill9_server
  kills=$((kills + 1))
  (( busy > 0 )) && at_analysis=$((at_analysis + 1))
  (( busy_real > 0 )) && at_real_analysis=$((at_real_analysis + 1))
  (( slow_running && tmpf > 0 )) && at_upload=$((at_upload + 1))
  wait "$u1" "$u2" 2>/dev/null || true
  wait "$u3" 2>/dev/null || true
done
kill_secs=$(( $(date +%s) - t0 ))

# Final restart: let the queue drain, then audit.
start_server "$DATA" "${SERVE_ARGS[@]}"
for _ in $(seq 1 600); do
  pending=$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads WHERE status IN ('queued', 'analyzing')")
  (( pending == 0 )) && break
  sleep 0.2
done
check "queue drained after the last restart" 0 "$pending"
cut -d' ' -f1 "$ACKED" | sort -u >"$WORK/acked_sorted"
awk '$5 != "hang" {print $1}' "$ACKED" | sort -u >"$WORK/acked_normal"
store_sql "$DATA" 'SELECT id FROM uploads' | sort >"$WORK/rows"
n_acked=$(wc -l <"$WORK/acked_sorted"); n_rows=$(wc -l <"$WORK/rows")
n_hang=$(awk '$5 == "hang"' "$ACKED" | wc -l)
check "acknowledged uploads lost" 0 "$(comm -23 "$WORK/acked_sorted" "$WORK/rows" | wc -l)"
check "acknowledged uploads not done" 0 "$(store_sql "$DATA" "SELECT id FROM uploads WHERE status <> 'done'" | sort | comm -12 - "$WORK/acked_normal" | wc -l)"
check "acknowledged uploads neither done nor failed" 0 "$(store_sql "$DATA" "SELECT id FROM uploads WHERE status NOT IN ('done', 'failed')" | sort | comm -12 - "$WORK/acked_sorted" | wc -l)"
verify_bytes
verify_total=$((verify_total + VERIFIED)) verify_bad=$((verify_bad + MISMATCH))
check "acknowledged files downloaded at the end" "$(wc -l <"$ACKED")" "$VERIFIED"
check "downloads differing from what was sent (all restarts)" 0 "$verify_bad"
# The run must have tested something (a server that refuses every upload,
# or kills that never land mid-work, would pass the checks above vacuously).
n_normal=$(wc -l <"$WORK/acked_normal")
if (( n_normal < KILLS )); then bad "acknowledged uploads: $n_normal, want at least $KILLS"; else ok; fi
if (( at_upload < 1 )); then bad "no kill landed during an upload (slow curl still sending, spool in data/tmp)"; else ok; fi
if (( at_analysis < 1 )); then bad "no kill landed while a job was leased"; else ok; fi
check "uploads without files" 0 "$(store_sql "$DATA" 'SELECT COUNT(*) FROM uploads u WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq)')"
check "uploads without job" 0 "$(store_sql "$DATA" 'SELECT COUNT(*) FROM uploads u WHERE u.reused_from IS NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_seq = u.seq)')"
check "done uploads without report" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads WHERE status = 'done' AND report_id IS NULL")"
# On a shared store (PostgreSQL) a starting server never assumes it is
# alone (server/instance.h): the killed servers' temp files stay until
# nobody has touched them for longer than any upload or analysis may idle
# (a day at least), and the next start removes them then.  So there, age
# them past that bound and start again: none may be left either way.
if [[ -n ${DT_TEST_PG_SOCK:-} ]]; then
  stale=$(find "$DATA/tmp" -type f | wc -l)
  find "$DATA/tmp" -mindepth 1 -maxdepth 1 -exec touch -h -d '30 days ago' {} +
  # Blobs placed by a killed server whose row never committed are kept
  # under the same bound (a live server elsewhere may be about to commit).
  find "$DATA/blobs" -type f -exec touch -h -d '30 days ago' {} +
  stop_server
  start_server "$DATA" "${SERVE_ARGS[@]}"
  echo "fault_kill: PostgreSQL: $stale temp files of killed servers kept at the restart, aged past the idle bound, restarted"
fi
check "temp files left" 0 "$(find "$DATA/tmp" -type f | wc -l)"
store_sql "$DATA" 'SELECT DISTINCT sha256 FROM files' | sort >"$WORK/shas"
(cd "$DATA/blobs" && find . -type f | sed -E 's#^\./(..)/#\1#') | sort >"$WORK/blobs"
check "orphan blobs (on disk, in no row)" 0 "$(comm -13 "$WORK/shas" "$WORK/blobs" | wc -l)"
check "missing blobs (in a row, not on disk)" 0 "$(comm -23 "$WORK/shas" "$WORK/blobs" | wc -l)"
badsha=0
while read -r sha; do
  [[ $(sha256sum "$DATA/blobs/${sha:0:2}/${sha:2}" 2>/dev/null | cut -d' ' -f1) == "$sha" ]] || badsha=$((badsha + 1))
done <"$WORK/shas"
check "blobs with wrong content" 0 "$badsha"
check "integrity_check" ok "$(store_integrity "$DATA")"
failed=$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads WHERE status = 'failed'")
echo "fault_kill: $kills SIGKILLs in ${kill_secs}s ($at_analysis with an analysis leased ($at_real_analysis a real one, not a hang hook)" \
     "and $at_upload cutting the slow upload mid-body with its spool in data/tmp, sampled just before the kill);" \
     "$n_acked uploads acknowledged ($n_hang with the hang hook), $n_rows rows ($((n_rows - n_acked)) committed but unacknowledged), $failed failed," \
     "$verify_total downloads compared with the bytes sent ($verify_bad differing), replies $(sort "$WORK/codes" | uniq -c | awk '{print $2 "x" $1}' | paste -sd' ')," \
     "$(wc -l <"$WORK/shas") blobs"
stop_server
finish
