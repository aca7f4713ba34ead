#!/usr/bin/env bash
# test_server_gzip_parts.sh — customers send `.dmp.gz`: a gzip-compressed
# dump in the `user` (or `kernel`) part, beside the other dump, is that dump
# (stored as uploaded, kind "minidump+gzip"; the analyzer inflates it), not
# an archive to be refused next to a second file.
source "$(dirname "$0")/server_lib.sh"
start_server "$WORK/data"
paired=$DT_TEST_DATA/paired
gzip -c "$paired/hello_block.Kernel.dmp" >"$WORK/k.dmp.gz"
for kernel in "$paired/hello_block.Kernel.dmp" "$WORK/k.dmp.gz"; do
  out=$(curl -s "${AUTH[@]}" -F "user=@$paired/hello_block.dmp.gz" -F "kernel=@$kernel" "$URL/api/dumps")
  id=$(jq -r .id <<<"$out")
  check "gzip parts accepted ($kernel)" "queued" "$(jq -r '.status' <<<"$out")"
  check "user part kind" "minidump+gzip" "$(jq -r '.files[] | select(.role=="user") | .kind' <<<"$out")"
  check "analysis done" "done" "$(wait_done "$id" 120)"
  s=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id")
  check "paired pid" "32" "$(jq -r .summary.pid <<<"$s")"
  check "verdict" "blocked 3 min in a synchronous read" "$(jq -r .summary.verdict <<<"$s" | cut -c1-35)"
done
# The stored id of a gzip part is the SHA-256 of the bytes as sent (not of
# the inflated dump).  Like hello_block.dmp.gz (6.7 MB) this part is past
# the spool's 4 MiB inline limit, so the hash is the one computed behind the
# writer (hash_behind.h); its random tail makes it a blob no other test has.
{ gzip -dc "$paired/hello_block.dmp.gz"; head -c $((6 << 20)) /dev/urandom; } | gzip -1 -c >"$WORK/big.dmp.gz"
out=$(curl -s "${AUTH[@]}" -F "user=@$WORK/big.dmp.gz" -F "kernel=@$paired/hello_block.Kernel.dmp" "$URL/api/dumps")
check "large gzip part kind" "minidump+gzip" "$(jq -r '.files[] | select(.role=="user") | .kind' <<<"$out")"
check "large gzip part stored as sent" "$(sha256sum "$WORK/big.dmp.gz" | cut -d' ' -f1)" \
  "$(jq -r '.files[] | select(.role=="user") | .sha256' <<<"$out")"
check "large gzip part analysed" "done" "$(wait_done "$(jq -r .id <<<"$out")" 120)"
# a gzip of something that is not a dump is still an archive, refused beside a dump
head -c 4096 /dev/urandom | gzip -c >"$WORK/junk.gz"
code=$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" -F "user=@$paired/hello_block.dmp.gz" -F "kernel=@$WORK/junk.gz" "$URL/api/dumps")
check "non-dump gzip beside a dump" "400" "$code"
stop_server
finish
