#!/usr/bin/env bash
# test_server_s3.sh — a real server with --blob-store s3 on a real radosgw
# (s3_lib.sh): a paired upload (user .dmp.gz + kernel dump) and a zip
# holding both (so the unpacking child places what it finds, in the same
# store) are analysed to the expected verdict; their blobs are objects in
# the bucket and nothing is under DATA/blobs; the dump download is the
# bytes uploaded; deleting an upload removes the objects only it used;
# /readyz is 200 with the s3 store and 503 once radosgw is stopped.  Keys
# reach the server in the environment only.  The same pair on the
# filesystem store gives the timing to compare.
source "$(dirname "$0")/server_lib.sh"
source "$(dirname "$0")/s3_lib.sh"
trap 's3_stop; cleanup' EXIT
paired=$DT_TEST_DATA/paired
gunzip -c "$paired/hello_block.dmp.gz" >"$WORK/hello_block.dmp"
cp "$paired/hello_block.Kernel.dmp" "$WORK/"
(cd "$WORK" && zip -q pair.zip hello_block.dmp hello_block.Kernel.dmp)

t0=$EPOCHREALTIME
s3_start
echo "s3_start: $(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.1f", b-a}') s"
B=$S3_ENDPOINT/$S3_BUCKET
objects() { s3_curl -sS "$B?list-type=2&prefix=blobs%2F" | grep -o '<Key>blobs/[^<]*</Key>' | sed 's/<[^>]*>//g' | sort; }

analyse_pair() { # prints the seconds from upload to done
  local a=$EPOCHREALTIME out id
  out=$(curl -s "${AUTH[@]}" -F "user=@$paired/hello_block.dmp.gz" -F "kernel=@$paired/hello_block.Kernel.dmp" "$URL/api/dumps")
  id=$(jq -r .id <<<"$out")
  check "pair accepted" queued "$(jq -r .status <<<"$out")"
  check "pair analysed" done "$(wait_done "$id" 120)"
  PAIR_ID=$id
  awk -v a="$a" -v b="$EPOCHREALTIME" 'BEGIN{printf "%.2f", b-a}' >"$WORK/secs"
}

# The filesystem store first, for the figures.
start_server "$WORK/fsdata"
analyse_pair
echo "fs store: pair upload to done $(cat "$WORK/secs") s"
stop_server

AWS_ACCESS_KEY_ID=$S3_ACCESS_KEY AWS_SECRET_ACCESS_KEY=$S3_SECRET_KEY \
  start_server "$WORK/data" --blob-store s3 --s3-endpoint "$S3_ENDPOINT" --s3-bucket "$S3_BUCKET" --s3-region "$S3_REGION"
grep -q "$S3_SECRET_KEY" "/proc/$SERVER_PID/cmdline" && bad "the secret is on the server's command line" || ok
code=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "${AUTH[@]}" "$URL/readyz")
check "/readyz with s3" 200 "$code"
grep -q '"s3"' "$WORK/ready.json" && ok || bad "/readyz does not name the s3 store: $(cat "$WORK/ready.json")"
check "/metrics names the s3 blob store" 1 \
  "$(curl -s "${AUTH[@]}" "$URL/metrics" | grep -c '^dt_process_info{.*store="sqlite",blob_store="s3"}')"

analyse_pair
echo "s3 store: pair upload to done $(cat "$WORK/secs") s"
s=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$PAIR_ID")
check "paired pid" 32 "$(jq -r .summary.pid <<<"$s")"
check "verdict" "blocked 3 min in a synchronous read" "$(jq -r .summary.verdict <<<"$s" | cut -c1-35)"
pair_id=$PAIR_ID
user_sha=$(sha256sum "$paired/hello_block.dmp.gz" | cut -d' ' -f1)
kern_sha=$(sha256sum "$paired/hello_block.Kernel.dmp" | cut -d' ' -f1)
objects >"$WORK/obj1"
check "objects after the pair" "$(printf 'blobs/%s/%s\nblobs/%s/%s\n' "${kern_sha:0:2}" "$kern_sha" "${user_sha:0:2}" "$user_sha" | sort)" "$(cat "$WORK/obj1")"

out=$(curl -s "${AUTH[@]}" -F "file=@$WORK/pair.zip" "$URL/api/dumps")
zip_id=$(jq -r .id <<<"$out")
check "zip accepted" queued "$(jq -r .status <<<"$out")"
check "zip analysed" done "$(wait_done "$zip_id" 120)"
s=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$zip_id")
check "zip: paired pid" 32 "$(jq -r .summary.pid <<<"$s")"
check "zip: verdict" "blocked 3 min in a synchronous read" "$(jq -r .summary.verdict <<<"$s" | cut -c1-35)"
zip_sha=$(sha256sum "$WORK/pair.zip" | cut -d' ' -f1)
dmp_sha=$(sha256sum "$WORK/hello_block.dmp" | cut -d' ' -f1)
objects >"$WORK/obj2"
for sha in "$zip_sha" "$dmp_sha" "$kern_sha" "$user_sha"; do
  grep -qx "blobs/${sha:0:2}/$sha" "$WORK/obj2" && ok || bad "blob $sha not in the bucket: $(cat "$WORK/obj2")"
done
check "objects after the zip" 4 "$(wc -l <"$WORK/obj2")"
check "nothing under data/blobs" "" "$(find "$WORK/data/blobs" -type f | head -3)"

# The stored user dump reads back as uploaded.
code=$(curl -s -o "$WORK/user.back" -w '%{http_code}' "${AUTH[@]}" "$URL/api/dumps/$pair_id/files/user")
check "user dump download" 200 "$code"
cmp -s "$WORK/user.back" "$paired/hello_block.dmp.gz" && ok || bad "the downloaded user dump differs"

# Deleting the pair removes its user .dmp.gz object; the kernel dump is
# still used by the zip's upload and stays.
check "delete pair" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${AUTH[@]}" "$URL/api/dumps/$pair_id")"
objects >"$WORK/obj3"
grep -qx "blobs/${user_sha:0:2}/$user_sha" "$WORK/obj3" && bad "the deleted pair's user dump is still in the bucket" || ok
grep -qx "blobs/${kern_sha:0:2}/$kern_sha" "$WORK/obj3" && ok || bad "the kernel dump the zip still uses was removed"
check "delete zip upload" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${AUTH[@]}" "$URL/api/dumps/$zip_id")"
check "bucket empty after both deletions" "" "$(objects)"

s3_stop
code=$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "${AUTH[@]}" "$URL/readyz")
check "/readyz after radosgw stopped" 503 "$code"
stop_server
finish
