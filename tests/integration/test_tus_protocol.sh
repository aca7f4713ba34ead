#!/usr/bin/env bash
# Acceptance (#18): tus 1.0 conformance of /api/uploads, extension by
# extension (core, creation, creation-with-upload, creation-defer-length,
# termination, expiration, checksum), gzip-member chunks, case uploads of two
# files, per-client limits, and bad input — each refused with a clear 4xx and
# nothing stored half.  Real server, real curl.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
USER_DMP="$D/user/rizin__calc.dmp"
TV=(-H "Tus-Resumable: 1.0.0")
OCT=(-H "Content-Type: application/offset+octet-stream")

# hdr NAME FILE — a header's value from a curl -D dump.
hdr() { tr -d '\r' <"$2" | awk -v n="$(tr '[:upper:]' '[:lower:]' <<<"$1")" 'BEGIN{IGNORECASE=1} tolower($1)==n":" {sub(/^[^:]*: /,""); v=$0} END{print v}'; }
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
b64() { printf %s "$1" | base64 -w0; }
create() { # extra curl args… → Location path (headers in $WORK/h)
  curl -s -D "$WORK/h" -o "$WORK/b" -X POST "${TV[@]}" "$@" "$URL/api/uploads" >/dev/null
  hdr Location "$WORK/h"
}
offset_of() { curl -s -I "${TV[@]}" "$@" | tr -d '\r' | awk 'tolower($1)=="upload-offset:"{print $2}'; }
patch() { # LOC OFFSET FILE [curl args…] → status (headers in $WORK/ph)
  local loc=$1 off=$2 file=$3; shift 3
  curl -s -D "$WORK/ph" -o "$WORK/pb" -w '%{http_code}' -X PATCH "${TV[@]}" "${OCT[@]}" -H "Upload-Offset: $off" \
    --data-binary @"$file" "$@" "$URL$loc"
}
tus_files() { find "$DATA/tus" -type f | wc -l; }

start_server "$DATA" --max-part-size 64M --tus-max-uploads 6
SZ=$(stat -c %s "$USER_DMP")

# --- Discovery (OPTIONS) and the version check.
curl -s -D "$WORK/h" -o /dev/null -X OPTIONS "$URL/api/uploads"
check "OPTIONS: 204" 204 "$(tr -d '\r' <"$WORK/h" | awk 'NR==1{print $2}')"
check "Tus-Version" 1.0.0 "$(hdr Tus-Version "$WORK/h")"
for ext in creation creation-with-upload creation-defer-length termination expiration checksum; do
  [[ ,$(hdr Tus-Extension "$WORK/h"), == *,$ext,* ]] && ok || bad "Tus-Extension lacks $ext"
done
check "Tus-Max-Size is --max-part-size" $((64 << 20)) "$(hdr Tus-Max-Size "$WORK/h")"
[[ $(hdr Tus-Checksum-Algorithm "$WORK/h") == *sha1* ]] && ok || bad "Tus-Checksum-Algorithm lacks sha1"
check "no Tus-Resumable: 412" 412 "$(code -X POST -H "Upload-Length: 10" "$URL/api/uploads")"
check "wrong Tus-Resumable: 412" 412 "$(code -X POST -H "Tus-Resumable: 0.2.2" -H "Upload-Length: 10" "$URL/api/uploads")"

# --- Creation, core PATCH, HEAD.
loc=$(create -H "Upload-Length: $SZ" -H "Upload-Metadata: filename $(b64 calc.dmp),note $(b64 'tus note'),case $(b64 CASE-1)")
[[ $loc =~ ^/api/uploads/[0-9a-f]{24}$ ]] && ok || bad "creation: Location '$loc'"
check "creation: 201" 201 "$(tr -d '\r' <"$WORK/h" | awk 'NR==1{print $2}')"
check "creation: Upload-Offset 0" 0 "$(hdr Upload-Offset "$WORK/h")"
[[ -n $(hdr Upload-Expires "$WORK/h") ]] && ok || bad "creation: no Upload-Expires"
head -c 10000 "$USER_DMP" >"$WORK/p1"; tail -c +10001 "$USER_DMP" >"$WORK/p2"
check "PATCH 1: 204" 204 "$(patch "$loc" 0 "$WORK/p1")"
check "PATCH 1: Upload-Offset" 10000 "$(hdr Upload-Offset "$WORK/ph")"
curl -s -I "${TV[@]}" "$URL$loc" >"$WORK/h"
check "HEAD: offset" 10000 "$(hdr Upload-Offset "$WORK/h")"
check "HEAD: length" "$SZ" "$(hdr Upload-Length "$WORK/h")"
check "HEAD: metadata echoed" "filename $(b64 calc.dmp),note $(b64 'tus note'),case $(b64 CASE-1)" "$(hdr Upload-Metadata "$WORK/h")"
check "HEAD: Cache-Control" no-store "$(hdr Cache-Control "$WORK/h")"
check "HEAD: Tus-Resumable" 1.0.0 "$(hdr Tus-Resumable "$WORK/h")"
# Wrong offsets: behind, ahead; wrong content type; past the length.
check "PATCH at a stale offset: 409" 409 "$(patch "$loc" 0 "$WORK/p2")"
check "PATCH ahead of the offset: 409" 409 "$(patch "$loc" 20000 "$WORK/p2")"
check "PATCH without Upload-Offset: 400" 400 "$(code -X PATCH "${TV[@]}" "${OCT[@]}" --data-binary @"$WORK/p2" "$URL$loc")"
check "PATCH with another Content-Type: 415" 415 "$(code -X PATCH "${TV[@]}" -H "Upload-Offset: 10000" -H "Content-Type: application/octet-stream" --data-binary @"$WORK/p2" "$URL$loc")"
cat "$WORK/p2" "$WORK/p2" >"$WORK/toolong"
check "PATCH past Upload-Length: 413" 413 "$(patch "$loc" 10000 "$WORK/toolong")"
check "offset unchanged after refusals" 10000 "$(offset_of "$URL$loc")"
# Checksum: a wrong one is 460 and nothing is kept; the right one passes.
check "bad checksum: 460" 460 "$(patch "$loc" 10000 "$WORK/p2" -H "Upload-Checksum: sha1 $(printf x | openssl dgst -sha1 -binary | base64)")"
check "bad checksum: offset unchanged" 10000 "$(offset_of "$URL$loc")"
check "unknown checksum algorithm: 400" 400 "$(patch "$loc" 10000 "$WORK/p2" -H "Upload-Checksum: crc32 AAAA")"
check "malformed checksum: 400" 400 "$(patch "$loc" 10000 "$WORK/p2" -H "Upload-Checksum: sha1 !!")"
check "file cut back to the durable offset" 10000 "$(stat -c %s "$DATA/tus/${loc##*/}")"
check "good checksum: 204" 204 "$(patch "$loc" 10000 "$WORK/p2" -H "Upload-Checksum: sha256 $(openssl dgst -sha256 -binary "$WORK/p2" | base64)")"
uid=$(hdr Dumptriage-Upload-Id "$WORK/ph")
[[ $uid =~ ^[0-9a-f]{24}$ ]] && ok || bad "completion: no upload id ('$uid')"
[[ $(hdr Dumptriage-View-Url "$WORK/ph") == /triage/$uid\?key=* ]] && ok || bad "completion: view url"
check "tus file removed once the upload is stored" 0 "$(tus_files)"
check "upload analysed" done "$(wait_done "$uid")"
j=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$uid")
check "upload: sha256 of the dump" "$(sha256sum "$USER_DMP" | cut -c1-64)" "$(jq -r '.files[0].sha256' <<<"$j")"
check "upload: role" user "$(jq -r '.files[0].role' <<<"$j")"
check "upload: name" calc.dmp "$(jq -r '.files[0].name' <<<"$j")"
check "upload: note" "tus note" "$(jq -r .note <<<"$j")"
check "upload: case" CASE-1 "$(jq -r .case_id <<<"$j")"
check "GET upload resource: finished" finished "$(curl -s "$URL$loc" | jq -r .state)"
check "HEAD after completion: offset = length" "$SZ" "$(offset_of "$URL$loc")"
check "chunk after completion: 409" 409 "$(patch "$loc" "$SZ" "$WORK/p2")"
check "chunk after completion at 0: 409" 409 "$(patch "$loc" 0 "$WORK/p1")"

# --- Deduplication: the same dump again reuses the analysis and the blob.
loc=$(create -H "Upload-Length: $SZ" "${OCT[@]}" --data-binary @"$USER_DMP")
check "creation-with-upload: 201" 201 "$(tr -d '\r' <"$WORK/h" | awk 'NR==1{print $2}')"
check "creation-with-upload: offset" "$SZ" "$(hdr Upload-Offset "$WORK/h")"
uid2=$(hdr Dumptriage-Upload-Id "$WORK/h")
check "same dump again: reused" true "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$uid2" | jq -r .reused)"
check "one blob for both" 1 "$(find "$DATA/blobs" -type f -name "$(sha256sum "$USER_DMP" | cut -c3-64)" | wc -l)"

# --- Creation-defer-length.
loc=$(create -H "Upload-Defer-Length: 1")
check "deferred: 201" 201 "$(tr -d '\r' <"$WORK/h" | awk 'NR==1{print $2}')"
curl -s -I "${TV[@]}" "$URL$loc" >"$WORK/h"
check "deferred: HEAD Upload-Defer-Length" 1 "$(hdr Upload-Defer-Length "$WORK/h")"
check "deferred: first chunk" 204 "$(patch "$loc" 0 "$WORK/p1")"
check "deferred: chunk with Upload-Length" 204 "$(patch "$loc" 10000 "$WORK/p2" -H "Upload-Length: $SZ")"
[[ -n $(hdr Dumptriage-Upload-Id "$WORK/ph") ]] && ok || bad "deferred: completed"
check "both Upload-Length and Defer: 400" 400 "$(code -X POST "${TV[@]}" -H "Upload-Length: 5" -H "Upload-Defer-Length: 1" "$URL/api/uploads")"
check "neither length header: 400" 400 "$(code -X POST "${TV[@]}" "$URL/api/uploads")"

# --- Huge or malformed Upload-Length.
check "Upload-Length over --max-part-size: 413" 413 "$(code -X POST "${TV[@]}" -H "Upload-Length: $((1 << 40))" "$URL/api/uploads")"
check "Upload-Length of 2^64: 400" 400 "$(code -X POST "${TV[@]}" -H "Upload-Length: 18446744073709551616" "$URL/api/uploads")"
check "negative Upload-Length: 400" 400 "$(code -X POST "${TV[@]}" -H "Upload-Length: -5" "$URL/api/uploads")"
check "bad metadata: 400" 400 "$(code -X POST "${TV[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: note !!!" "$URL/api/uploads")"
check "bad role: 400" 400 "$(code -X POST "${TV[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: role $(b64 admin)" "$URL/api/uploads")"
check "no tus file left by refused creations" 0 "$(tus_files)"

# --- Termination.
loc=$(create -H "Upload-Length: $SZ")
patch "$loc" 0 "$WORK/p1" >/dev/null
check "tus file while receiving" 1 "$(tus_files)"
check "DELETE: 204" 204 "$(code -X DELETE "${TV[@]}" "$URL$loc")"
check "HEAD after termination: 404" 404 "$(code -I "${TV[@]}" "$URL$loc")"
check "PATCH after termination: 404" 404 "$(patch "$loc" 10000 "$WORK/p2")"
check "terminated: file removed" 0 "$(tus_files)"
check "unknown id: 404" 404 "$(code -I "${TV[@]}" "$URL/api/uploads/000000000000000000000000")"
check "malformed id: 404" 404 "$(code -I "${TV[@]}" "$URL/api/uploads/..%2f..%2fdumptriage.sqlite")"

# --- Not a dump: refused at completion, nothing kept.
head -c 5000 /dev/urandom >"$WORK/noise"
loc=$(create -H "Upload-Length: 5000")
check "not a dump: 415" 415 "$(patch "$loc" 0 "$WORK/noise")"
check "not a dump: resource removed" 404 "$(code -I "${TV[@]}" "$URL$loc")"
check "not a dump: file removed" 0 "$(tus_files)"
head -c 100 "$USER_DMP" >"$WORK/short"
loc=$(create -H "Upload-Length: 100")
check "truncated minidump: 400" 400 "$(patch "$loc" 0 "$WORK/short")"

# --- Gzip-member chunks: two members in one PATCH, one in the next (a dump
# not sent before, so it is analysed, not reused).
GZ_DMP="$D/user/lldb__sigsegv.dmp"; GSZ=$(stat -c %s "$GZ_DMP")
head -c 4000 "$GZ_DMP" | gzip -c >"$WORK/g1"; head -c 10000 "$GZ_DMP" | tail -c 6000 | gzip -c >>"$WORK/g1"
tail -c +10001 "$GZ_DMP" | gzip -c >"$WORK/g2"
loc=$(create -H "Upload-Length: $GSZ" -H "Upload-Metadata: filename $(b64 calc.dmp)")
check "gzip chunk (two members): 204" 204 "$(patch "$loc" 0 "$WORK/g1" -H "Content-Encoding: gzip")"
check "gzip chunk: offset counts inflated bytes" 10000 "$(hdr Upload-Offset "$WORK/ph")"
head -c 200 "$WORK/g2" >"$WORK/g2half"
check "chunk ending inside a member: 400" 400 "$(patch "$loc" 10000 "$WORK/g2half" -H "Content-Encoding: gzip")"
check "corrupt gzip: 400" 400 "$(patch "$loc" 10000 "$WORK/noise" -H "Content-Encoding: gzip")"
check "gzip chunk with a bad checksum: 460" 460 "$(patch "$loc" 10000 "$WORK/g2" -H "Content-Encoding: gzip" -H "Upload-Checksum: md5 $(printf x | openssl dgst -md5 -binary | base64)")"
check "other Content-Encoding: 415" 415 "$(patch "$loc" 10000 "$WORK/g2" -H "Content-Encoding: br")"
check "offset unchanged" 10000 "$(offset_of "$URL$loc")"
check "last gzip chunk: 204" 204 "$(patch "$loc" 10000 "$WORK/g2" -H "Content-Encoding: gzip" -H "Upload-Checksum: sha1 $(openssl dgst -sha1 -binary "$WORK/g2" | base64)")"
guid=$(hdr Dumptriage-Upload-Id "$WORK/ph")
check "gzip upload: sha256 over the inflated dump" "$(sha256sum "$GZ_DMP" | cut -c1-64)" "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$guid" | jq -r '.files[0].sha256')"
check "gzip upload: stored inflated (kind minidump)" minidump "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$guid" | jq -r '.files[0].kind')"
check "gzip upload: analysed" done "$(wait_done "$guid")"
# A gzip bomb: 64 MiB of zeros in 64 KiB, against an upload of 1 MiB.
head -c $((64 << 20)) /dev/zero | gzip -9 -c >"$WORK/bomb"
{ head -c 1000 "$USER_DMP"; head -c $(((1 << 20) - 1000)) /dev/zero; } >"$WORK/onemeg"
loc=$(create -H "Upload-Length: $((1 << 20))")
check "gzip bomb: 413" 413 "$(patch "$loc" 0 "$WORK/bomb" -H "Content-Encoding: gzip")"
check "gzip bomb: offset 0" 0 "$(offset_of "$URL$loc")"
check "gzip bomb: nothing kept on disk" 0 "$(stat -c %s "$DATA/tus/${loc##*/}")"
check "DELETE after the bomb" 204 "$(code -X DELETE "${TV[@]}" "$URL$loc")"

# --- A case upload: user and kernel dump as two tus uploads, one upload
# (tests/data/paired: a Wine hang dump and a kernel dump of the same process).
gunzip -c "$D/paired/hello_block.dmp.gz" >"$WORK/pair_user.dmp"
PU="$WORK/pair_user.dmp"; KERNEL_DMP="$D/paired/hello_block.Kernel.dmp"
PSZ=$(stat -c %s "$PU"); KSZ=$(stat -c %s "$KERNEL_DMP")
grp=case-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
meta="case_upload $(b64 "$grp"),files $(b64 2),customer $(b64 ACME)"
lu=$(create -H "Upload-Length: $PSZ" -H "Upload-Metadata: $meta,filename $(b64 u.dmp)")
lk=$(create -H "Upload-Length: $KSZ" -H "Upload-Metadata: $meta,filename $(b64 k.dmp)")
check "third file of a two-file case: 409" 409 "$(code -X POST "${TV[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: $meta" "$URL/api/uploads")"
check "case: user file" 204 "$(patch "$lu" 0 "$PU")"
check "case: no upload after the first file" "" "$(hdr Dumptriage-Upload-Id "$WORK/ph")"
check "case: kernel file" 204 "$(patch "$lk" 0 "$KERNEL_DMP")"
cid=$(hdr Dumptriage-Upload-Id "$WORK/ph")
[[ -n $cid ]] && ok || bad "case: upload created by the last file"
check "case: HEAD of the first file names the upload" "$cid" "$(curl -s -I "${TV[@]}" "$URL$lu" | tr -d '\r' | awk 'tolower($1)=="dumptriage-upload-id:"{print $2}')"
j=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$cid")
check "case: both files in one upload" "kernel,user" "$(jq -r '[.files[].role] | sort | join(",")' <<<"$j")"
check "case: customer" ACME "$(jq -r .customer <<<"$j")"
check "case: analysed" done "$(wait_done "$cid")"
check "case needs an id for two files: 400" 400 "$(code -X POST "${TV[@]}" -H "Upload-Length: 5" -H "Upload-Metadata: files $(b64 2)" "$URL/api/uploads")"
# Two user dumps in one case: the second is refused at completion.
grp2=case-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')
m2="case_upload $(b64 "$grp2"),files $(b64 2)"
a=$(create -H "Upload-Length: $SZ" -H "Upload-Metadata: $m2"); b=$(create -H "Upload-Length: $SZ" -H "Upload-Metadata: $m2")
patch "$a" 0 "$USER_DMP" >/dev/null
check "second user dump of a case: 409" 409 "$(patch "$b" 0 "$USER_DMP")"
curl -s -o /dev/null -X DELETE "${TV[@]}" "$URL$a"

# --- Concurrent PATCH of one upload: the second gets 423.
head -c 1000 "$USER_DMP" >"$WORK/big"; head -c $((4 << 20)) /dev/urandom >>"$WORK/big"
loc=$(create -H "Upload-Length: $(stat -c %s "$WORK/big")")
curl -s -o /dev/null -X PATCH "${TV[@]}" "${OCT[@]}" -H "Upload-Offset: 0" --limit-rate 400K --data-binary @"$WORK/big" "$URL$loc" &
slow=$!
sleep 1.5
check "overlapping PATCH: 423" 423 "$(patch "$loc" 0 "$WORK/p1")"
check "DELETE during a PATCH: 423" 423 "$(code -X DELETE "${TV[@]}" "$URL$loc")"
kill "$slow" 2>/dev/null; wait "$slow" 2>/dev/null || true
sleep 0.5
# The interrupted PATCH kept what arrived (tus core: the server keeps it).
off=$(offset_of "$URL$loc")
((off > 0 && off < $(stat -c %s "$WORK/big"))) && ok || bad "interrupted PATCH kept its bytes (offset $off)"
tail -c +$((off + 1)) "$WORK/big" >"$WORK/rest"
check "resume after the interrupted PATCH" 204 "$(patch "$loc" "$off" "$WORK/rest")"
ruid=$(hdr Dumptriage-Upload-Id "$WORK/ph")
check "resumed upload: sha256" "$(sha256sum "$WORK/big" | cut -c1-64)" "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$ruid" | jq -r '.files[0].sha256')"

# --- Per-client limits: --tus-max-uploads 6 unfinished uploads.
for i in 1 2 3 4 5 6; do create -H "Upload-Length: 100" >/dev/null; done
check "7th unfinished upload: 429" 429 "$(code -X POST "${TV[@]}" -H "Upload-Length: 100" "$URL/api/uploads")"
check "staff are not limited" 201 "$(code -X POST "${TV[@]}" "${AUTH[@]}" -H "Upload-Length: 100" "$URL/api/uploads")"
stop_server

# --- Bytes limit, token mode, ownership.
rm -rf "$DATA"
start_server "$DATA" --upload-auth token --tus-max-bytes 1M
tok() { curl -s "${AUTH[@]}" -X POST -d "{\"role\":\"uploader\",\"name\":\"$1\"}" "$URL/api/tokens" | jq -r .token; }
T1=$(tok one); T2=$(tok two)
check "token mode: anonymous creation 401" 401 "$(code -X POST "${TV[@]}" -H "Upload-Length: 100" "$URL/api/uploads")"
loc=$(create -H "Authorization: Bearer $T1" -H "Upload-Length: 800000")
check "over --tus-max-bytes: 429" 429 "$(code -X POST "${TV[@]}" -H "Authorization: Bearer $T1" -H "Upload-Length: 300000" "$URL/api/uploads")"
check "other token's upload: 404" 404 "$(code -I "${TV[@]}" -H "Authorization: Bearer $T2" "$URL$loc")"
check "anonymous HEAD of a token's upload: 404" 404 "$(code -I "${TV[@]}" "$URL$loc")"
check "owner HEAD: 200" 200 "$(code -I "${TV[@]}" -H "Authorization: Bearer $T1" "$URL$loc")"
check "other token's PATCH: 404" 404 "$(patch "$loc" 0 "$WORK/p1" -H "Authorization: Bearer $T2")"
check "other token's DELETE: 404" 404 "$(code -X DELETE "${TV[@]}" -H "Authorization: Bearer $T2" "$URL$loc")"
stop_server

# --- Expiration: 410 once expired, then 404; the file is freed.
rm -rf "$DATA"
start_server "$DATA" --tus-expiry 2
loc=$(create -H "Upload-Length: $SZ")
patch "$loc" 0 "$WORK/p1" >/dev/null
loc2=$(create -H "Upload-Length: $SZ")
check "two unfinished files" 2 "$(tus_files)"
sleep 3
# 410 when a request finds it expired first, 404 once the expiry timer
# (test_tus_expiry.sh) removed it.
st=$(code -I "${TV[@]}" "$URL$loc")
[[ $st == 410 || $st == 404 ]] && ok || bad "expired: HEAD $st, not 410/404"
check "expired: then 404" 404 "$(code -I "${TV[@]}" "$URL$loc")"
check "expired: PATCH 404" 404 "$(patch "$loc" 10000 "$WORK/p2")"
create -H "Upload-Length: 10" >/dev/null # a creation sweeps expired uploads too
check "expired uploads swept, space freed" 1 "$(tus_files)"
check "swept: 404" 404 "$(code -I "${TV[@]}" "$URL$loc2")"
stop_server
finish
