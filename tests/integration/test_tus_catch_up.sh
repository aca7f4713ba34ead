#!/usr/bin/env bash
# A kill between the durable offset of a resumable upload's last byte and
# its completion leaves a whole file unfinished.  A server alone on its
# store finishes it at start; on a shared store (PostgreSQL) nothing is
# tidied at start, and test_tus_kill there lost about one upload in three
# runs: the client saw HEAD say "all bytes here" and never got an upload id.
# The next HEAD or GET must finish it (server/tus.c catch_up).  The state
# such a kill leaves is made here directly, while the server runs: the
# bytes in data/tus/<id> and the offset at the length, state 'receiving'.
# Runs on SQLite, and on PostgreSQL from test_server_pg_ops.sh.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
start_server "$DATA" --workers 1
H=(-H "Tus-Resumable: 1.0.0")

# crash_state FILE — creates an upload of FILE's size and leaves it as the
# kill would: bytes durable, offset recorded, not completed.  Prints its id.
crash_state() {
  local size loc id
  size=$(stat -c %s "$1")
  loc=$(curl -s -D - -o /dev/null "${AUTH[@]}" "${H[@]}" -X POST -H "Upload-Length: $size" \
    -H "Upload-Metadata: filename $(basename "$1" | base64 -w0)" "$URL/api/uploads" |
    tr -d '\r' | awk -F': ' 'tolower($1) == "location" {print $2}')
  id=${loc##*/}
  cp "$1" "$DATA/tus/$id"
  store_sql "$DATA" "UPDATE tus_uploads SET \"offset\" = $size WHERE id = '$id'" >/dev/null
  echo "$id"
}

# A whole minidump: HEAD finishes it and names the upload.
dump=$(ls "$D"/user/*.dmp | head -1)
id=$(crash_state "$dump")
check "crash state: one unfinished row at full offset" 1 \
  "$(store_sql "$DATA" "SELECT COUNT(*) FROM tus_uploads WHERE id = '$id' AND state = 'receiving'")"
hdr=$(curl -s -I "${AUTH[@]}" "${H[@]}" "$URL/api/uploads/$id" | tr -d '\r')
up=$(awk -F': ' 'tolower($1) == "dumptriage-upload-id" {print $2}' <<<"$hdr")
[[ -n $up ]] && ok || bad "HEAD of a whole unfinished upload named no upload ($hdr)"
check "HEAD status" 200 "$(head -1 <<<"$hdr" | cut -d' ' -f2)"
check "HEAD offset" "$(stat -c %s "$dump")" "$(awk -F': ' 'tolower($1) == "upload-offset" {print $2}' <<<"$hdr")"
check "stored SHA-256" "$(sha256sum "$dump" | cut -c1-64)" \
  "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$up" | jq -r '.files[0].sha256')"
check "analysed" done "$(wait_done "$up")"
check "tus row finished" finished "$(store_sql "$DATA" "SELECT state FROM tus_uploads WHERE id = '$id'")"
check "tus file removed" 0 "$(find "$DATA/tus" -name "$id" | wc -l)"
# Asking again changes nothing: the same upload, one row.
up2=$(curl -s "${AUTH[@]}" "$URL/api/uploads/$id" | jq -r .upload_id)
check "GET afterwards: same upload" "$up" "$up2"
check "one upload row" 1 "$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads")"

# Through GET as well, for a second whole dump.
dump2=$(ls "$D"/user/*.dmp | sed -n 2p)
id=$(crash_state "$dump2")
check "GET finishes it too" "$(sha256sum "$dump2" | cut -c1-64)" \
  "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$(curl -s "${AUTH[@]}" "$URL/api/uploads/$id" | jq -r .upload_id)" |
     jq -r '.files[0].sha256')"

# Whole bytes that are no dump: refused as a completing PATCH would be, and
# nothing is kept.
head -c 70000 /dev/urandom >"$WORK/noise.bin"
id=$(crash_state "$WORK/noise.bin")
check "HEAD of whole noise: 415" 415 "$(curl -s -o /dev/null -w '%{http_code}' -I "${AUTH[@]}" "${H[@]}" "$URL/api/uploads/$id")"
check "noise: row gone" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM tus_uploads WHERE id = '$id'")"
check "noise: file gone" 0 "$(find "$DATA/tus" -name "$id" | wc -l)"
check "two upload rows in all" 2 "$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads")"
stop_server
finish
