#!/usr/bin/env bash
# Acceptance (issue #9, backup): docker/backup.sh (the documented backup
# command, `dumptriage-backup` in the image) takes consistent backups while the
# server runs and uploads flow: each passes PRAGMA integrity_check, holds every
# upload acknowledged before it started, has no upload without its files and
# job, no file without its blob (sha256 verified); and a server started on a
# restored copy serves the same uploads and their reports.
source "$(dirname "$0")/server_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
D="$DT_TEST_DATA/user"
DATA="$WORK/data"
start_server "$DATA" --min-free-space 1M

# A stream of uploads in the background: real small dumps, distinct notes
# (new rows every time; identical content shares one blob).
ACKED="$WORK/acked.txt"; : >"$ACKED"
STOP="$WORK/stop"
(
  i=0
  files=("$D"/breakpad__minidump2.dmp "$D"/lldb__sigsegv.dmp "$D"/rizin__calc.dmp "$D"/symbolicator__windows.dmp)
  while [[ ! -e $STOP ]]; do
    f=${files[$((i % ${#files[@]}))]}
    r=$(curl -s -F "user=@$f" -F "note=backup-flow $i" "$URL/api/dumps" || true)
    [[ $r =~ \"id\":\"([0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}" >>"$ACKED"
    i=$((i + 1))
  done
) &
flow=$!

for round in 1 2 3; do
  while (( $(wc -l <"$ACKED") < round * 15 )); do sleep 0.1; done
  before=$(wc -l <"$ACKED")
  head -n "$before" "$ACKED" >"$WORK/acked_before"
  B="$WORK/backup$round"
  if "$SRC/docker/backup.sh" "$DATA" "$B" >"$WORK/backup.log" 2>&1; then ok; else bad "backup $round: $(cat "$WORK/backup.log")"; fi
  bdb="$B/dumptriage.sqlite"
  check "backup $round: integrity" ok "$(sqlite3 "$bdb" 'PRAGMA integrity_check')"
  sqlite3 "$bdb" 'SELECT id FROM uploads' | sort >"$WORK/in_backup"
  check "backup $round: every upload acknowledged before it is in it" 0 \
    "$(sort "$WORK/acked_before" | comm -23 - "$WORK/in_backup" | wc -l)"
  check "backup $round: uploads without files" 0 \
    "$(sqlite3 "$bdb" 'SELECT COUNT(*) FROM uploads u WHERE NOT EXISTS (SELECT 1 FROM files f WHERE f.upload_seq = u.seq)')"
  check "backup $round: uploads without a job" 0 \
    "$(sqlite3 "$bdb" 'SELECT COUNT(*) FROM uploads u WHERE u.reused_from IS NULL AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.upload_seq = u.seq)')"
  check "backup $round: done uploads without report" 0 \
    "$(sqlite3 "$bdb" "SELECT COUNT(*) FROM uploads WHERE status = 'done' AND report_id IS NULL")"
  nblob=0
  while read -r sha; do
    if [[ $(sha256sum "$B/blobs/${sha:0:2}/${sha:2}" 2>/dev/null | cut -d' ' -f1) == "$sha" ]]; then nblob=$((nblob + 1)); else bad "backup $round: blob $sha"; fi
  done < <(sqlite3 "$bdb" 'SELECT DISTINCT sha256 FROM files')
  check "backup $round: all blobs present" "$(sqlite3 "$bdb" 'SELECT COUNT(DISTINCT sha256) FROM files')" "$nblob"
  echo "backup $round: $(wc -l <"$WORK/in_backup") uploads ($before acknowledged before it), $nblob blobs"
done
touch "$STOP"; wait "$flow" || true
stop_server

# Restore the last backup into a fresh data dir and serve it.
R="$WORK/restored"; mkdir -p "$R"
cp "$WORK/backup3/dumptriage.sqlite" "$R/"; cp -R "$WORK/backup3/blobs" "$R/"
n_backup=$(sqlite3 "$R/dumptriage.sqlite" 'SELECT COUNT(*) FROM uploads')
start_server "$R" --min-free-space 1M
check "restored: same upload count" "$n_backup" "$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=200" | jq '.items | length')"
# Uploads caught queued/analyzing by the snapshot are analyzed after restore.
last=$(sqlite3 "$R/dumptriage.sqlite" 'SELECT id FROM uploads ORDER BY seq DESC LIMIT 1')
check "restored: last upload analyzed" done "$(wait_done "$last" 60)"
first=$(sqlite3 "$R/dumptriage.sqlite" 'SELECT id FROM uploads ORDER BY seq LIMIT 1')
check "restored: report served" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/api/dumps/$first/report")"
stop_server
finish
