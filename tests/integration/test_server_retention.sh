#!/usr/bin/env bash
# Acceptance (issue #9): retention and structured logs, with the real server,
# SQLite and curl.  Uploads are made "old" by moving their created_at back in
# the SQLite file while the server is stopped (no test-only clock in the
# server).  Checks: --retain-dumps purges dump blobs but keeps reports
# (files[].purged, /files/user 410), a blob shared with a newer upload is
# kept; staff DELETE removes an orphaned blob and logs; --retain-reports
# deletes whole uploads leaving no orphan row or blob; --max-dump-bytes purges
# oldest first on the periodic sweep; one JSON log line per request, job and
# deletion, with no token or view key in any log.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA/user"
DATA="$WORK/data"
DB="$DATA/dumptriage.sqlite"
LOGS=()
A_FILE="$D/breakpad__minidump2.dmp"
B_FILE="$D/lldb__fizzbuzz_no_heap.dmp"
C_FILE="$D/crashdump-mcp__symbol-heavy.dmp"
X_FILE="$D/breakpad__thread_name_list.dmp"

upload() { curl -s -F "user=@$1" "$URL/api/dumps"; }
code() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$URL$p"; }
blob_of() { local sha=$1; echo "$DATA/blobs/${sha:0:2}/${sha:2}"; }
sha_of() { sha256sum "$1" | cut -d' ' -f1; }
jlog() { grep '^{' "$2" | jq -r "$1"; } # FILTER LOG: the JSON lines of a log

# ---- phase 1: four uploads; D has A's content (its blob is shared) ----
start_server "$DATA"; LOGS+=("$SERVER_LOG")
rA=$(upload "$A_FILE"); A=$(jq -r .id <<<"$rA"); KA=$(jq -r .status_url <<<"$rA" | sed 's/.*key=//')
rB=$(upload "$B_FILE"); B=$(jq -r .id <<<"$rB"); KB=$(jq -r .status_url <<<"$rB" | sed 's/.*key=//')
rC=$(upload "$C_FILE"); C=$(jq -r .id <<<"$rC")
check "A analyzed" done "$(wait_done "$A")"
check "B analyzed" done "$(wait_done "$B")"
check "C analyzed" done "$(wait_done "$C")"
rD=$(upload "$A_FILE"); Dd=$(jq -r .id <<<"$rD")
check "D reuses A's analysis" true "$(jq -r .reused <<<"$rD")"
check "files not purged yet" false "$(curl -s "$URL/api/dumps/$A?key=$KA" | jq -r '.files[0].purged')"
check "view-key short link served" 302 "$(code GET "/v/$KA")"
stop_server
SHA_A=$(sha_of "$A_FILE"); SHA_B=$(sha_of "$B_FILE"); SHA_C=$(sha_of "$C_FILE")
[[ -f $(blob_of "$SHA_A") && -f $(blob_of "$SHA_B") ]] && ok || bad "blobs stored"

# A and B are two days old now.
store_sql "$DATA" "UPDATE uploads SET created_at = created_at - 2*86400 WHERE id IN ('$A', '$B');"

# ---- phase 2: --retain-dumps 1 ----
start_server "$DATA" --retain-dumps 1; LOGS+=("$SERVER_LOG")
[[ ! -f $(blob_of "$SHA_B") ]] && ok || bad "B's dump blob deleted"
[[ -f $(blob_of "$SHA_A") ]] && ok || bad "A's blob kept: newer upload D still references it"
[[ -f $(blob_of "$SHA_C") ]] && ok || bad "C's blob kept (new)"
check "A report still served" 200 "$(code GET "/api/dumps/$A/report?key=$KA")"
check "B report still served" 200 "$(code GET "/api/dumps/$B/report" "${AUTH[@]}")"
check "A /files/user gone" 410 "$(code GET "/api/dumps/$A/files/user?key=$KA")"
check "B /files/user gone" 410 "$(code GET "/api/dumps/$B/files/user" "${AUTH[@]}")"
check "410 is a JSON error" gone "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$B/files/user" | jq -r .error.code)"
check "B files[].purged" true "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$B" | jq -r '.files[0].purged')"
check "B status stays done" done "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$B" | jq -r .status)"
check "C files not purged" false "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$C" | jq -r '.files[0].purged')"
check "D (shares A's blob) downloadable" 200 "$(code GET "/api/dumps/$Dd/files/user" "${AUTH[@]}")"
check "reanalysis of a purged upload refused" 410 "$(code POST "/api/dumps/$B/reanalyze" "${AUTH[@]}")"
check "deletion lines: A then B (oldest first), retain-dumps" "$A $B" \
  "$(jlog 'select(.event=="deletion" and .reason=="retain-dumps") | .upload_id' "$SERVER_LOG" | tr '\n' ' ' | sed 's/ $//')"
check "A deletion line says its blob was kept" 0 \
  "$(jlog "select(.event==\"deletion\" and .upload_id==\"$A\") | .blobs_removed" "$SERVER_LOG")"
check "sweep logged" 1 "$(jlog 'select(.event=="retention_sweep") | .event' "$SERVER_LOG" | wc -l)"
# Staff delete of D: A's blob has no unpurged reference left, so it goes.
check "staff delete D" 200 "$(code DELETE "/api/dumps/$Dd" "${AUTH[@]}")"
[[ ! -f $(blob_of "$SHA_A") ]] && ok || bad "A's blob removed once D is deleted"
check "staff deletion logged" "staff 1" \
  "$(jlog "select(.event==\"deletion\" and .upload_id==\"$Dd\") | \"\(.reason) \(.blobs_removed)\"" "$SERVER_LOG")"
check "D gone" 404 "$(code GET "/api/dumps/$Dd" "${AUTH[@]}")"
t0=$(date +%s%N)
stop_server
stop_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
(( stop_ms < 5000 )) && ok || bad "SIGTERM stops the retention thread promptly (took $stop_ms ms)"
grep -q '"event":"request"' "${LOGS[-1]}" || bad "request lines"

# ---- phase 3: --retain-reports 1 ----
start_server "$DATA" --retain-reports 1; LOGS+=("$SERVER_LOG")
check "A deleted" 404 "$(code GET "/api/dumps/$A" "${AUTH[@]}")"
check "B deleted" 404 "$(code GET "/api/dumps/$B" "${AUTH[@]}")"
check "C kept" 200 "$(code GET "/api/dumps/$C" "${AUTH[@]}")"
check "C report kept" 200 "$(code GET "/api/dumps/$C/report" "${AUTH[@]}")"
check "deletion lines: A and B, retain-reports" "$A $B" \
  "$(jlog 'select(.event=="deletion" and .reason=="retain-reports") | .upload_id' "$SERVER_LOG" | tr '\n' ' ' | sed 's/ $//')"
stop_server
check "no upload row of A or B" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads WHERE id IN ('$A','$B')")"
check "no orphan file rows" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM files WHERE upload_seq NOT IN (SELECT seq FROM uploads)")"
check "no orphan job rows" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM jobs WHERE upload_seq NOT IN (SELECT seq FROM uploads)")"
check "no orphan reports" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM reports WHERE id NOT IN (SELECT report_id FROM uploads WHERE report_id IS NOT NULL)")"
check "no orphan thread rows" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM threads WHERE report_id NOT IN (SELECT id FROM reports)")"
on_disk=$(find "$DATA/blobs" -type f | sed "s|$DATA/blobs/||; s|/||" | sort | tr '\n' ' ')
check "blobs on disk = unpurged rows (C only)" "$SHA_C " "$on_disk"

# ---- phase 4: --max-dump-bytes on the periodic sweep ----
DATA2="$WORK/data2"
sx=$(stat -c %s "$X_FILE"); sb=$(stat -c %s "$B_FILE"); sc=$(stat -c %s "$C_FILE")
LIMIT=$((sb + sc))
start_server "$DATA2" --max-dump-bytes "$LIMIT" --retention-interval 1; LOGS+=("$SERVER_LOG")
r1=$(upload "$X_FILE"); I1=$(jq -r .id <<<"$r1"); wait_done "$I1" >/dev/null
r2=$(upload "$B_FILE"); I2=$(jq -r .id <<<"$r2"); wait_done "$I2" >/dev/null
r3=$(upload "$C_FILE"); I3=$(jq -r .id <<<"$r3"); wait_done "$I3" >/dev/null
for _ in $(seq 1 50); do
  [[ $(curl -s "${AUTH[@]}" "$URL/api/dumps/$I1" | jq -r '.files[0].purged') == true ]] && break
  sleep 0.1
done
check "oldest (X) purged" true "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$I1" | jq -r '.files[0].purged')"
check "middle kept" false "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$I2" | jq -r '.files[0].purged')"
check "newest kept" false "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$I3" | jq -r '.files[0].purged')"
check "newest downloadable" 200 "$(code GET "/api/dumps/$I3/files/user" "${AUTH[@]}")"
check "oldest 410" 410 "$(code GET "/api/dumps/$I1/files/user" "${AUTH[@]}")"
check "oldest report kept" 200 "$(code GET "/api/dumps/$I1/report" "${AUTH[@]}")"
[[ ! -f $DATA2/blobs/$(sha_of "$X_FILE" | cut -c1-2)/$(sha_of "$X_FILE" | cut -c3-) ]] && ok || bad "X blob deleted"
check "size deletion logged" "$I1 $sx" \
  "$(jlog 'select(.event=="deletion" and .reason=="max-dump-bytes") | "\(.upload_id) \(.bytes)"' "$SERVER_LOG")"
stop_server

# ---- the logs ----
ALL="$WORK/all.log"
cat "${LOGS[@]}" >"$ALL"
bad_json=$(grep '^{' "$ALL" | while read -r l; do jq -e . >/dev/null 2>&1 <<<"$l" || echo x; done | wc -l)
check "every JSON line parses" 0 "$bad_json"
nreq=$(grep -c '"event":"request"' "$ALL")
(( nreq >= 30 )) && ok || bad "request lines: $nreq"
check "every request line has time, id, method, path, status, duration, role" 0 \
  "$(grep '"event":"request"' "$ALL" | jq -c 'select((.time|type)!="string" or (.request_id|type)!="string" or (.method|type)!="string" or (.path|type)!="string" or (.status|type)!="number" or .status<100 or (.duration_ms|type)!="number" or (.role|type)!="string")' | wc -l)"
check "a 410 request line" 1 "$(grep '"event":"request"' "$ALL" | jq -c "select(.status==410 and .path==\"/api/dumps/$I1/files/user\")" | wc -l)"
check "a file download line counts its bytes" "$sc" \
  "$(grep '"event":"request"' "$ALL" | jq -r "select(.status==200 and .path==\"/api/dumps/$I3/files/user\") | .bytes")"
# Jobs: A, B, C, X, B', C' analyzed (D reused: no job).
check "one job line per analysis" 6 "$(grep -c '"event":"job"' "$ALL")"
check "job lines complete" 0 \
  "$(grep '"event":"job"' "$ALL" | jq -c 'select(.result!="done" or (.job_id|type)!="number" or (.upload_id|length)!=24 or (.duration_ms|type)!="number" or (.claim_ms|type)!="number" or .analyzer_exit!=0)' | wc -l)"
check "job line names its upload" 1 "$(grep '"event":"job"' "$ALL" | jq -r .upload_id | grep -c "^$A\$")"
check "deletion lines" 6 "$(grep -c '"event":"deletion"' "$ALL")"
check "short link logged without its key" 1 "$(grep '"event":"request"' "$ALL" | jq -r .path | grep -c '^/v/-$')"
check "no admin token in the logs" 0 "$(grep -c -- "$ADMIN" "$ALL" || true)"
check "no view key in the logs" 0 "$(grep -c -e "$KA" -e "$KB" "$ALL" || true)"
check "no key= in the logs" 0 "$(grep -c 'key=' "$ALL" || true)"
finish
