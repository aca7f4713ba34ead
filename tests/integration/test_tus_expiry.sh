#!/usr/bin/env bash
# Acceptance (#18): abandoned resumable uploads expire on a timer and free
# their space — with no request touching them — while an upload that keeps
# receiving chunks is kept; Upload-Expires says when (--tus-expiry after the
# last chunk).  Real server (--tus-expiry 4: a sweep every second), real curl.
source "$(dirname "$0")/server_lib.sh"
DATA="$WORK/data"
USER_DMP="$DT_TEST_DATA/user/rizin__calc.dmp"
TV=(-H "Tus-Resumable: 1.0.0")
OCT=(-H "Content-Type: application/offset+octet-stream")
hdr() { tr -d '\r' <"$2" | awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" 'tolower($1)==n":" {sub(/^[^:]*: /,""); v=$0} END{print v}'; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
create() { curl -s -D "$WORK/h" -o /dev/null -X POST "${TV[@]}" "$@" "$URL/api/uploads"; hdr Location "$WORK/h"; }
patch() { # LOC OFFSET FILE → status (headers in $WORK/ph)
  curl -s -D "$WORK/ph" -o /dev/null -w '%{http_code}' -X PATCH "${TV[@]}" "${OCT[@]}" -H "Upload-Offset: $2" \
    --data-binary @"$3" "$URL$1"
}
epoch() { date -u -d "$1" +%s; }
tus_bytes() { find "$DATA/tus" -type f -printf '%s\n' | awk '{n+=$1} END{print n+0}'; }

command -v curl >/dev/null || { echo "curl missing" >&2; exit 77; }
start_server "$DATA" --tus-expiry 4 --tus-max-uploads 2
SZ=$(stat -c %s "$USER_DMP")
half=$((SZ / 2))
head -c "$half" "$USER_DMP" >"$WORK/p1"
tail -c +$((half + 1)) "$USER_DMP" >"$WORK/p2"
head -c 4096 "$WORK/p2" >"$WORK/p2a"

# Upload-Expires on creation and PATCH: an HTTP date --tus-expiry ahead.
now=$(date -u +%s)
abandoned=$(create -H "Upload-Length: $SZ")
exp=$(hdr Upload-Expires "$WORK/h")
[[ $exp =~ ^[A-Z][a-z]{2},\ [0-9]{2}\ [A-Z][a-z]{2}\ [0-9]{4}\ [0-9:]{8}\ GMT$ ]] && ok || bad "creation: Upload-Expires '$exp'"
e=$(epoch "$exp"); (( e >= now + 3 && e <= now + 6 )) && ok || bad "creation: expires $e, now $now"
check "PATCH: 204" 204 "$(patch "$abandoned" 0 "$WORK/p1")"
e2=$(epoch "$(hdr Upload-Expires "$WORK/ph")"); (( e2 >= e )) && ok || bad "PATCH did not renew the expiry ($e2 < $e)"
curl -s -I "${TV[@]}" "$URL$abandoned" >"$WORK/hh"
check "HEAD: Upload-Expires" "$(hdr Upload-Expires "$WORK/ph")" "$(hdr Upload-Expires "$WORK/hh")"
check "the half upload holds its bytes" "$half" "$(tus_bytes)"

# A second upload keeps receiving (a chunk a second); the abandoned one gets
# no request at all from here on.
live=$(create -H "Upload-Length: $SZ")
check "the per-client limit is reached" 429 "$(code -X POST "${TV[@]}" -H "Upload-Length: 10" "$URL/api/uploads")"
off=0
for i in 1 2 3 4 5 6 7; do
  sleep 1
  check "live PATCH $i" 204 "$(patch "$live" "$off" "$WORK/p2a")"
  off=$((off + 4096))
done
# 7 s after its last chunk, 3 s past its expiry: the timer removed the
# abandoned upload's file and row; the live one is whole.
[[ ! -e "$DATA/tus/${abandoned##*/}" ]] && ok || bad "the abandoned upload's file is still there"
check "only the live upload's bytes remain" "$off" "$(tus_bytes)"
grep -q '"event":"tus_expired","removed":1' "$SERVER_LOG" && ok || bad "no tus_expired event in the log"
check "expired: 404" 404 "$(code -I "${TV[@]}" "$URL$abandoned")"
check "live: offset" "$off" "$(curl -s -I "${TV[@]}" "$URL$live" | tr -d '\r' | awk 'tolower($1)=="upload-offset:"{print $2}')"
# Its place under the per-client limit is free again.
check "a new upload fits under the limit" 201 "$(code -X POST "${TV[@]}" -H "Upload-Length: 10" "$URL/api/uploads")"
stop_server
finish
