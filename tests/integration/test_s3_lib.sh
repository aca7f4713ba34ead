#!/usr/bin/env bash
# test_s3_lib.sh — s3_lib.sh brings up a real S3-compatible store (Ceph
# radosgw on a one-OSD memstore cluster) that answers SigV4-signed
# requests: bucket create (in s3_start), PUT/GET of a 100 MB object compared
# byte for byte, HEAD, ListObjectsV2, DELETE; and it really checks
# signatures and payload hashes (a wrong secret, an unsigned request and a
# wrong x-amz-content-sha256 are refused).  The bootstrap installs the
# Ceph packages (scripts/bootstrap.sh --tests), so on CI it never skips.
set -euo pipefail
source "$(dirname "$0")/s3_lib.sh"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/dt-s3test.XXXXXX")
cleanup() { s3_stop; rm -rf "$WORK"; }
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

t0=$EPOCHREALTIME
s3_start
t1=$EPOCHREALTIME
echo "s3_start: $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}') s, endpoint $S3_ENDPOINT bucket $S3_BUCKET"
B=$S3_ENDPOINT/$S3_BUCKET

head -c 100000000 /dev/urandom >"$WORK/big"
big_sha=$(sha256sum "$WORK/big" | cut -d' ' -f1)

# PUT with a signed payload: radosgw hashes the body and compares.
out=$(S3_CONTENT_SHA256=$big_sha s3_curl -sS -o "$WORK/put.out" -T "$WORK/big" "$B/dir/big.bin" \
  -w '%{http_code} %{time_total} %{speed_upload}')
read -r code secs speed <<<"$out"
[[ $code == 200 ]] || fail "PUT 100 MB: HTTP $code $(cat "$WORK/put.out")"
echo "PUT 100 MB: ${secs} s, $(awk -v s="$speed" 'BEGIN{printf "%.0f", s/1e6}') MB/s"

out=$(s3_curl -sS -o "$WORK/big.get" "$B/dir/big.bin" -w '%{http_code} %{time_total} %{speed_download}')
read -r code secs speed <<<"$out"
[[ $code == 200 ]] || fail "GET 100 MB: HTTP $code"
cmp "$WORK/big" "$WORK/big.get" || fail "GET returned other bytes than were PUT"
echo "GET 100 MB: ${secs} s, $(awk -v s="$speed" 'BEGIN{printf "%.0f", s/1e6}') MB/s, same bytes"

s3_curl -sS -I "$B/dir/big.bin" >"$WORK/head" || fail "HEAD: curl failed"
head -n1 "$WORK/head" | grep -q ' 200' || fail "HEAD: $(head -n1 "$WORK/head")"
grep -qi '^content-length: 100000000' "$WORK/head" || fail "HEAD: wrong Content-Length: $(cat "$WORK/head")"

printf 'small' >"$WORK/small"
code=$(s3_curl -sS -o /dev/null -w '%{http_code}' -T "$WORK/small" "$B/other.txt")
[[ $code == 200 ]] || fail "PUT small: HTTP $code"

# curl 7.88 signs the query as written (no sorting, no re-encoding): the
# caller writes it canonical — keys sorted, '/' as %2F.
code=$(s3_curl -sS -o "$WORK/list.xml" -w '%{http_code}' "$B?list-type=2&prefix=dir%2F")
[[ $code == 200 ]] || fail "ListObjectsV2: HTTP $code"
grep -q '<KeyCount>1</KeyCount>' "$WORK/list.xml" || fail "ListObjectsV2 prefix dir/: $(cat "$WORK/list.xml")"
grep -q '<Key>dir/big.bin</Key><LastModified>[^<]*</LastModified><ETag>[^<]*</ETag><Size>100000000</Size>' "$WORK/list.xml" \
  || fail "ListObjectsV2 lacks dir/big.bin of 100000000 bytes: $(cat "$WORK/list.xml")"

# The server checks what it is sent: wrong secret, no signature, wrong
# payload hash.
code=$(S3_SECRET_KEY=${S3_SECRET_KEY%?}x s3_curl -s -o /dev/null -w '%{http_code}' "$B/dir/big.bin")
[[ $code == 403 ]] || fail "GET with a wrong secret: HTTP $code, expected 403"
code=$(curl -s -o /dev/null -w '%{http_code}' "$B/dir/big.bin")
[[ $code == 403 ]] || fail "unsigned GET: HTTP $code, expected 403"
code=$(S3_CONTENT_SHA256=$big_sha s3_curl -s -o "$WORK/bad.out" -w '%{http_code}' -T "$WORK/small" "$B/bad.txt")
[[ $code == 400 ]] && grep -q XAmzContentSHA256Mismatch "$WORK/bad.out" \
  || fail "PUT with a wrong payload hash: HTTP $code $(cat "$WORK/bad.out")"

code=$(s3_curl -sS -o /dev/null -w '%{http_code}' -X DELETE "$B/dir/big.bin")
[[ $code == 204 ]] || fail "DELETE: HTTP $code"
code=$(s3_curl -s -o /dev/null -w '%{http_code}' -I "$B/dir/big.bin")
[[ $code == 404 ]] || fail "HEAD after DELETE: HTTP $code, expected 404"
code=$(s3_curl -sS -o "$WORK/list.xml" -w '%{http_code}' "$B?list-type=2")
[[ $code == 200 ]] && grep -q '<KeyCount>1</KeyCount>' "$WORK/list.xml" && grep -q '<Key>other.txt</Key>' "$WORK/list.xml" \
  || fail "ListObjectsV2 after DELETE: HTTP $code $(cat "$WORK/list.xml")"

for f in "$S3_DIR"/run/*.pid; do
  awk '/^Name:/{n=$2} /^VmRSS:/{r=$2} /^VmHWM:/{h=$2} END{print n, r, h}' "/proc/$(cat "$f")/status"
done | awk '{printf "%s %d MB (peak %d)  ", $1, $2/1024, $3/1024; s+=$2; p+=$3}
  END{printf "total RSS %d MB, sum of peaks %d MB\n", s/1024, p/1024}'
dir=$S3_DIR
pids=$(cat "$S3_DIR"/run/*.pid)
s3_stop
[[ ! -e $dir ]] || fail "s3_stop left $dir"
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null; then fail "s3_stop left process $pid: $(ps -o cmd= -p "$pid")"; fi
done
echo "test_s3_lib: radosgw $(radosgw --version | awk '{print $3}') served SigV4 PUT/GET/HEAD/LIST/DELETE"
