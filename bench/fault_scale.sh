#!/usr/bin/env bash
# bench/fault_scale.sh — issue #20's acceptance run: 3 worker processes and
# 2 API servers on one PostgreSQL and one shared blob directory, N uploads
# (default 500) from C clients (default 8), random kill -9 of workers and of
# API servers while it runs, and one restart of PostgreSQL itself
# (`pg_ctl stop -m immediate`, a crash, then start) half-way.  Then:
#   * every acknowledged upload (a 202 with an id) ends `done`;
#   * each job's result is stored once: one job per upload, all `done`, one
#     report per upload, no report that no upload shows;
#   * no orphan rows (files or jobs without their upload, an upload without
#     files or job) and no upload left queued, analysing or failed;
#   * blobs: every blob on disk is named by a files row and every row's blob
#     exists with its SHA-256 — counted while the processes still run, and
#     again after all are stopped and one process starts alone (the only
#     sweep of a blob a killed API server placed but never recorded).
# A client whose upload got no 202 (its server was killed, or PostgreSQL was
# down) sends it again to the other server, as a real client would; an
# upload the server committed but could not acknowledge is then stored twice
# (counted as "stored but not acknowledged"; analysed like the others).
#
# usage: DT_BIN=build/dumptriage bench/fault_scale.sh
#   DT_SCALE_UPLOADS (500), DT_SCALE_CLIENTS (8), DT_SCALE_KILL_EVERY (seconds
#   between kills, 2), DT_SCALE_SEED (random seed).  Exit 0 only if every
#   check holds and at least one worker, one API server and PostgreSQL were
#   killed.  tests/integration/test_ops_scale_chaos_pg.sh runs a short
#   version on every ./test; the 500-upload figures are in docs/operations.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DT_BIN=${DT_BIN:-$HERE/../build/dumptriage}
DT_TEST_DATA=${DT_TEST_DATA:-$HERE/../tests/data}
N=${DT_SCALE_UPLOADS:-500}
CLIENTS=${DT_SCALE_CLIENTS:-8}
KILL_EVERY=${DT_SCALE_KILL_EVERY:-2}
RANDOM=${DT_SCALE_SEED:-$$}
for t in curl jq sha256sum python3; do
  command -v "$t" >/dev/null || { echo "SKIP: $t missing" >&2; exit 77; }
done
source "$HERE/../tests/integration/pg_lib.sh"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/dt-fault-scale.XXXXXX")
DIR=$WORK/data
NAMES=(api1 api2 w1 w2 w3)
declare -A PID=() KILLS=()
CLIENT_PIDS=()
cleanup() {
  local n
  for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
  for n in "${CLIENT_PIDS[@]}"; do kill "$n" 2>/dev/null || true; done
  pg_stop
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' TERM INT
pg_start
pg_createdb dtscale
DB=$(pg_url dtscale)
mkdir -p "$DIR" "$WORK/in" "$WORK/out"
read -r P1 P2 < <(python3 -c 'import socket
s=[socket.socket() for _ in range(2)]
[x.bind(("127.0.0.1",0)) for x in s]
print(*[x.getsockname()[1] for x in s])')
PORTS=("$P1" "$P2")

files=(); for f in "$DT_TEST_DATA"/user/*.dmp; do [[ $(head -c 4 "$f") == MDMP ]] && files+=("$f"); done
for ((i = 0; i < N; i++)); do
  { cat "${files[$((i % ${#files[@]}))]}"; head -c 16 /dev/urandom; } >"$WORK/in/$i.dmp"
done

start() { # NAME — (re)starts that process in the background
  local n=$1
  case $n in
    api1 | api2)
      local port=${PORTS[$((${n#api} - 1))]}
      "$DT_BIN" serve --listen "127.0.0.1:$port" --data-dir "$DIR" --database "$DB" --workers 0 \
        --admin-token "fault-scale-admin-$$" --upload-rate 0 --max-queue 1000000 --max-queue-per-client 1000000 \
        --max-connections-per-ip 0 >>"$WORK/$n.log" 2>&1 &
      ;;
    *)
      "$DT_BIN" worker --data-dir "$DIR" --database "$DB" --workers 1 --lease 3 >>"$WORK/$n.log" 2>&1 &
      ;;
  esac
  PID[$n]=$!
}
alive() { kill -0 "${PID[$1]}" 2>/dev/null; }
supervise() { # restarts whatever is not running (killed, or exited at start while PostgreSQL was down)
  local n
  for n in "${NAMES[@]}"; do alive "$n" || { { wait "${PID[$n]}"; } 2>/dev/null || true; start "$n"; }; done
}
psql_q() { "$PG_BINDIR/psql" -X -q -A -t -v ON_ERROR_STOP=1 "$DB" -c "$1"; }

for n in "${NAMES[@]}"; do start "$n"; done
for _ in $(seq 1 100); do
  curl -sf "http://127.0.0.1:$P1/healthz" >/dev/null && curl -sf "http://127.0.0.1:$P2/healthz" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$P1/healthz" >/dev/null && curl -sf "http://127.0.0.1:$P2/healthz" >/dev/null \
  || { tail -n 3 "$WORK"/api*.log >&2; echo "FAIL: the API servers did not start" >&2; exit 1; }

client() { # C — uploads k = C, C+CLIENTS, … ; "k id" per acknowledged upload
  local c=$1 k attempt code body port
  for ((k = c; k < N; k += CLIENTS)); do
    for ((attempt = 0; attempt < 200; attempt++)); do
      port=${PORTS[$(((k + attempt) % 2))]}
      code=$(curl -s -m 60 -o "$WORK/out/$k" -w '%{http_code}' -F "user=@$WORK/in/$k.dmp" -F "note=scale $k" \
        "http://127.0.0.1:$port/api/dumps" 2>/dev/null) || code=000
      if [[ $code == 202 ]]; then
        body=$(<"$WORK/out/$k")
        [[ $body =~ \"id\":\"([0-9a-f]+)\" ]] && echo "$k ${BASH_REMATCH[1]}" >>"$WORK/acked.$c"
        break
      fi
      echo "$k $code" >>"$WORK/retries.$c"
      sleep 0.2
    done
  done
}

t0=$(date +%s.%N)
for ((c = 0; c < CLIENTS; c++)); do client "$c" & CLIENT_PIDS+=($!); done
clients_running() { local p; for p in "${CLIENT_PIDS[@]}"; do kill -0 "$p" 2>/dev/null && return 0; done; return 1; }
acked_count() { { cat "$WORK"/acked.* 2>/dev/null || true; } | wc -l; }
pending() { psql_q "SELECT COUNT(*) FROM jobs WHERE state IN ('queued', 'leased')" 2>/dev/null || echo 1; }

pg_restarted=0 pg_down_s=0 nkill=0 tick=0 drain_kills=0 t_posted="" deadline=$(($(date +%s) + 900))
while :; do
  sleep "$KILL_EVERY"
  supervise
  running=0; clients_running && running=1
  if ((running == 0)) && [[ -z $t_posted ]]; then t_posted=$(date +%s.%N); fi
  # PostgreSQL itself, once: when half the uploads are in (or the clients are
  # done), but only after the first worker and API server kills, which
  # must land while uploads and analyses run (a fast run would otherwise
  # restart PostgreSQL at the first turn and drain before any kill).
  if ((pg_restarted == 0 && nkill >= 2)) && (($(acked_count) * 2 >= N || running == 0)); then
    p0=$(date +%s.%N)
    pg_as "$PG_BINDIR/pg_ctl" -D "$PG_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    sleep 1
    pg_restart_server
    pg_down_s=$(echo "$(date +%s.%N) - $p0" | bc)
    pg_restarted=1
    continue
  fi
  left=$(pending)
  if ((running == 0 && nkill >= 2 && pg_restarted)) && [[ $left == 0 ]]; then break; fi
  (($(date +%s) > deadline)) && { echo "FAIL: not drained after 15 min ($left jobs pending)" >&2; break; }
  # The victim: first a worker, then an API server, then any while the
  # clients send; after that a worker every fourth turn, three at most (a
  # worker killed every turn would never finish a job).
  tick=$((tick + 1))
  if ((nkill == 0)); then v=w$((RANDOM % 3 + 1))
  elif ((nkill == 1)); then v=api$((RANDOM % 2 + 1))
  elif ((running)); then v=${NAMES[$((RANDOM % 5))]}
  elif ((drain_kills < 3 && tick % 4 == 0)); then v=w$((RANDOM % 3 + 1)); drain_kills=$((drain_kills + 1))
  else continue; fi
  kill -9 "${PID[$v]}" 2>/dev/null || true
  KILLS[${v%[0-9]}]=$((${KILLS[${v%[0-9]}]:-0} + 1))
  nkill=$((nkill + 1))
done
t1=$(date +%s.%N)
wait "${CLIENT_PIDS[@]}" 2>/dev/null || true

# --- checks, with every process still running
FAILS=0
check() { if [[ $2 == "$3" ]]; then :; else echo "FAIL: $1: expected '$2', got '$3'" >&2; FAILS=$((FAILS + 1)); fi; }
export LC_ALL=C # join and sort agree on the order of the ids
{ cat "$WORK"/acked.* 2>/dev/null || true; } | sort -k2,2 >"$WORK/acked"
acked=$(wc -l <"$WORK/acked")
retries=$( { cat "$WORK"/retries.* 2>/dev/null || true; } | wc -l) # none at all is a pass, not a pipefail exit
given_up=$((N - acked))
psql_q "SELECT id, status FROM uploads" | tr '|' ' ' | sort >"$WORK/rows"
not_done=$(join -1 2 -2 1 -o 1.2,2.2 -a 1 "$WORK/acked" "$WORK/rows" | awk '$2 != "done"' | wc -l)
check "acknowledged uploads not done" 0 "$not_done"
check "clients that gave up on an upload" 0 "$given_up"
rows=$(wc -l <"$WORK/rows")
check "uploads not done (any)" 0 "$(awk '$2 != "done"' "$WORK/rows" | wc -l)"
check "jobs not done" 0 "$(psql_q "SELECT COUNT(*) FROM jobs WHERE state <> 'done'")"
check "uploads with other than one job" 0 "$(psql_q "SELECT COUNT(*) FROM uploads u WHERE (SELECT COUNT(*) FROM jobs j WHERE j.upload_seq = u.seq) <> 1")"
check "uploads without a report" 0 "$(psql_q "SELECT COUNT(*) FROM uploads WHERE report_id IS NULL")"
check "reports shared by two uploads" 0 "$(psql_q "SELECT COUNT(*) FROM (SELECT report_id FROM uploads GROUP BY report_id HAVING COUNT(*) > 1) x")"
check "reports no upload shows (a result stored twice)" 0 "$(psql_q "SELECT COUNT(*) FROM reports r WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.report_id = r.id)")"
check "files or jobs without their upload" 0 "$(psql_q "SELECT (SELECT COUNT(*) FROM files f WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.seq = f.upload_seq)) + (SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM uploads u WHERE u.seq = j.upload_seq))")"
check "uploads without files" 0 "$(psql_q "SELECT COUNT(*) FROM uploads u WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq)")"
released=$(psql_q "SELECT COUNT(*) FROM jobs WHERE attempts > 1")
blob_check() { # prints "orphans missing bad"
  psql_q "SELECT DISTINCT sha256 FROM files WHERE purged_at IS NULL ORDER BY 1" >"$WORK/named"
  (cd "$DIR/blobs" && find . -type f | sed -E 's|^\./(..)/|\1|' | sort) >"$WORK/ondisk"
  local orphans missing bad=0 sha
  orphans=$(comm -13 "$WORK/named" "$WORK/ondisk" | wc -l)
  missing=$(comm -23 "$WORK/named" "$WORK/ondisk" | wc -l)
  while read -r sha; do
    [[ -f $DIR/blobs/${sha:0:2}/${sha:2} ]] || continue
    [[ $(sha256sum <"$DIR/blobs/${sha:0:2}/${sha:2}" | cut -c1-64) == "$sha" ]] || bad=$((bad + 1))
  done <"$WORK/named"
  echo "$orphans $missing $bad"
}
read -r orphans_live missing bad < <(blob_check)
check "files rows whose blob is missing" 0 "$missing"
check "blobs whose content is not their name" 0 "$bad"
tmp_left=$(find "$DIR/tmp" -type f -name 'part-*' | wc -l)

# --- everything stopped, one process starts: the orphan sweep.  On
# PostgreSQL no start assumes it is alone (a server on another host may be
# about to commit the row of a blob it placed), so orphans younger than the
# idle bound stay; the blobs are aged past it first, as a day's wait would.
for n in "${NAMES[@]}"; do kill -TERM "${PID[$n]}" 2>/dev/null || true; done
for n in "${NAMES[@]}"; do { wait "${PID[$n]}"; } 2>/dev/null || true; done
PID=()
find "$DIR/blobs" -type f -exec touch -h -d '30 days ago' {} +
"$DT_BIN" worker --data-dir "$DIR" --database "$DB" --workers 1 >"$WORK/alone.log" 2>&1 &
PID[alone]=$!
sleep 2 # its start-up (the sweep included) comes before its first lease
kill -TERM "${PID[alone]}"; { wait "${PID[alone]}"; } 2>/dev/null || true; unset 'PID[alone]'
read -r orphans_after missing bad < <(blob_check)
check "orphan blobs after a lone start" 0 "$orphans_after"
check "files rows whose blob is missing (after)" 0 "$missing"

check "a worker was killed" true "$( ((${KILLS[w]:-0} > 0)) && echo true || echo false)"
check "an API server was killed" true "$( ((${KILLS[api]:-0} > 0)) && echo true || echo false)"
check "PostgreSQL was restarted" 1 "$pg_restarted"
all=$(echo "$t1 - $t0" | bc)
posted=$(echo "${t_posted:-$t1} - $t0" | bc)
echo "| uploads | clients | acknowledged | stored, not acknowledged | client retries | kill -9 workers | kill -9 API servers | PostgreSQL restart (s) | jobs run again | all posted (s) | all analysed (s) | orphan blobs live / after a lone start | spools left in tmp |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '| %d | %d | %d | %d | %d | %d | %d | %.1f | %d | %.0f | %.0f | %d / %d | %d |\n' "$N" "$CLIENTS" "$acked" \
  $((rows - acked)) "$retries" "${KILLS[w]:-0}" "${KILLS[api]:-0}" "$pg_down_s" "$released" "$posted" "$all" \
  "$orphans_live" "$orphans_after" "$tmp_left"
if ((FAILS)); then
  echo "fault_scale: $FAILS checks failed (logs: $WORK kept)" >&2
  trap - EXIT
  for n in "${!PID[@]}"; do kill -9 "${PID[$n]}" 2>/dev/null || true; done
  pg_stop_server
  exit 1
fi
echo "fault_scale: ok"
