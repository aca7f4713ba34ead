#!/usr/bin/env bash
# test_blob_store_s3.sh — the S3 blob store (server/blob_s3.c) against a
# real radosgw (s3_lib.sh): tests/tools/blob_s3_check drives every
# dt_blob_ops member — put_stream/put_file/put_copy of a few MB, identical
# content stored once, exists with the right and a wrong size,
# open_read/local_path bytes equal (cached and downloaded), list finds
# exactly the stored blobs, remove idempotent, check ok (and 403 with a wrong
# secret), a payload that is not the named blob refused by the server, and
# a 12 MiB multipart upload in 5 MiB parts round-trips (its ETag, read with curl, says 3 parts).  Then the bucket
# is listed with curl: the tool left nothing behind.
set -euo pipefail
tool=${DT_BUILD_DIR:?}/blob_s3_check
[[ -x $tool ]] || { echo "SKIP: $tool not built" >&2; exit 77; }
source "$(dirname "$0")/s3_lib.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dt-blobs3.XXXXXX")
cleanup() { s3_stop; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

t0=$EPOCHREALTIME
s3_start
t1=$EPOCHREALTIME
echo "s3_start: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s"
export S3_ENDPOINT S3_REGION S3_BUCKET S3_ACCESS_KEY S3_SECRET_KEY
"$tool" "$WORK" || fail "blob_s3_check failed"
t2=$EPOCHREALTIME
echo "blob_s3_check: $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.1f", b-a}') s"
# The 12 MiB blob really went up in parts: a multipart ETag ends in -N.
msha=$(cat "$WORK/multipart.sha")
mkey=blobs/${msha:0:2}/$msha
s3_curl -sS -I "$S3_ENDPOINT/$S3_BUCKET/$mkey" >"$WORK/head" || fail "HEAD $mkey"
grep -qi '^etag: "[0-9a-f]*-3"' "$WORK/head" || fail "the 12 MiB blob is not a 3-part upload: $(cat "$WORK/head")"
grep -qi '^content-length: 12582912' "$WORK/head" || fail "the 12 MiB blob has another size: $(cat "$WORK/head")"
echo "multipart: $mkey has a 3-part ETag"
code=$(s3_curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$S3_ENDPOINT/$S3_BUCKET/$mkey")
[[ $code == 204 ]] || fail "DELETE $mkey: HTTP $code"
code=$(s3_curl -sS -o "$WORK/list.xml" -w '%{http_code}' "$S3_ENDPOINT/$S3_BUCKET?list-type=2")
[[ $code == 200 ]] && grep -q '<KeyCount>0</KeyCount>' "$WORK/list.xml" \
  || fail "bucket not empty after the tool: HTTP $code $(cat "$WORK/list.xml")"
echo "test_blob_store_s3: every blob op passed against radosgw"
