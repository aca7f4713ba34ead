#!/usr/bin/env bash
# Acceptance: every real dump (tests/data/user, tests/data/kernel) and a
# paired case, uploaded as multipart, raw, gzip-encoded and zip, is accepted
# (202), analyzed (done), stored byte-exact (same SHA-256), and its stored
# report equals `dumptriage analyze` on the same files.  Then a 1 GiB upload
# with the server's RSS sampled, and over-limit uploads leaving nothing behind.
source "$(dirname "$0")/server_lib.sh"

DATA="$WORK/data"
start_server "$DATA" --max-request-size 1100M --max-part-size 1100M --min-free-space 1M

# Uploads go in first, checks after: analyses overlap the next uploads.
CASES="$WORK/cases.tsv"; : >"$CASES"
record() { # JSON-reply desc files…
  local desc=$2 reply=$1; shift 2
  if [[ $reply =~ \"id\":\"([0-9a-f]+)\" ]]; then
    printf '%s\t%s\t%s\n' "${BASH_REMATCH[1]}" "$desc" "$*" >>"$CASES"
  else
    bad "$desc: upload refused: $reply"
  fi
}

# verify_all: every recorded upload is done, stored byte-exact, and its
# report equals `dumptriage analyze` on the original files.
verify_all() {
  if python3 "$(dirname "${BASH_SOURCE[0]}")/server_verify.py" "$URL" "$ADMIN" "$DT_BIN" "$CASES"; then ok; else bad "verify"; fi
  : >"$CASES"
}

n=0
for f in "$DT_TEST_DATA"/user/*.dmp "$DT_TEST_DATA"/kernel/*.dmp; do
  base=$(basename "$f")
  if [[ $(head -c 4 "$f") == MDMP ]]; then part=user; else part=kernel; fi
  if [[ $(head -c 4 "$f") != MDMP && $(head -c 8 "$f") != PAGEDU64 && $(head -c 8 "$f") != PAGEDUMP ]]; then
    # Not a dump (e.g. a hex pattern sample): must be refused with 415.
    code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -F "$part=@$f" "$URL/api/dumps")
    check "$base: non-dump refused" 415 "$code"
    check "$base: error code" unsupported_media_type "$(jq -r .error.code "$WORK/out.json")"
    continue
  fi
  record "$(curl -s -F "$part=@$f" -F "note=multipart $base" "$URL/api/dumps")" "$base multipart" "$f"
  record "$(curl -s --data-binary "@$f" -H 'Content-Type: application/octet-stream' "$URL/api/dumps?role=$part")" "$base raw" "$f"
  gzip -c "$f" >"$WORK/body.gz"
  record "$(curl -s --data-binary "@$WORK/body.gz" -H 'Content-Encoding: gzip' "$URL/api/dumps")" "$base gzip" "$f"
  rm -f "$WORK/one.zip"; (cd "$(dirname "$f")" && zip -q "$WORK/one.zip" "$base")
  record "$(curl -s -F "upload_file_minidump=@$WORK/one.zip" "$URL/api/dumps")" "$base zip" "$f"
  n=$((n + 1))
done
echo "uploaded $n dumps four ways"
verify_all
r=$(curl -s --data-binary "@$DT_TEST_DATA/user/lldb__sigsegv.dmp" "$URL/api/dumps")
check "identical content again: reused" true "$(jq -r .reused <<<"$r")"
check "identical content again: done at once" done "$(jq -r .status <<<"$r")"

# A paired case: user + kernel dump, as two parts (swapped names: roles are
# sniffed), as a tar.gz, and as a zip holding both.
# tests/data/paired: a real Wine hang dump and a kernel dump of the same process.
mkdir -p "$WORK/pair"
gunzip -c "$DT_TEST_DATA/paired/hello_block.dmp.gz" >"$WORK/pair/hello_block.dmp"
cp "$DT_TEST_DATA/paired/hello_block.Kernel.dmp" "$WORK/pair/"
U="$WORK/pair/hello_block.dmp"; K="$WORK/pair/hello_block.Kernel.dmp"
r=$(curl -s -F "kernel=@$U" -F "user=@$K" -F case_id=CASE-1 -F customer=Contoso "$URL/api/dumps")
check "pair: queued" queued "$(jq -r .status <<<"$r")"
pair_id=$(jq -r .id <<<"$r")
record "$r" "pair multipart" "$U" "$K"
tar -czf "$WORK/pair.tar.gz" -C "$WORK/pair" hello_block.dmp hello_block.Kernel.dmp
record "$(curl -s -F "file=@$WORK/pair.tar.gz" "$URL/api/dumps")" "pair tar.gz" "$U" "$K"
rm -f "$WORK/pair.zip"; zip -q -j "$WORK/pair.zip" "$U" "$K"
record "$(curl -s -T "$WORK/pair.zip" -X POST "$URL/api/dumps")" "pair zip (raw body)" "$U" "$K"
gzip -c "$WORK/pair.zip" >"$WORK/pair.zip.gz"
record "$(curl -s --data-binary "@$WORK/pair.zip.gz" -H 'Content-Encoding: gzip' "$URL/api/dumps")" "pair zip gzip-encoded" "$U" "$K"
verify_all
check "pair: roles from content" "user kernel" "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$pair_id" | jq -r '[.files[].role] | join(" ")')"
check "pair: case id kept" CASE-1 "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$pair_id" | jq -r .case_id)"
r=$(curl -s -F "user=@$U" -F "kernel=@$K" "$URL/api/dumps")
check "pair again: reused" true "$(jq -r .reused <<<"$r")"
check "pair again: done at once" done "$(jq -r .status <<<"$r")"
# The summary, thread rows and signature buckets come from the report's triage part.
sig=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$pair_id/report" | jq -r .triage.primary.signature)
check "pair: report has a hang signature" true "$([[ $sig == hang\|* ]] && echo true || echo false)"
check "pair: summary signature" "$sig" "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$pair_id" | jq -r .summary.signature)"
check "pair: summary pid" 32 "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$pair_id" | jq -r .summary.pid)"
check "pair: thread 36 row" "waiting true" "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$pair_id/threads/36" | jq -r '"\(.summary.state) \(.summary.stuck)"')"
check "signatures: the pair's bucket counts its 5 uploads" 5 \
  "$(curl -s "${AUTH[@]}" "$URL/api/signatures" | jq --arg s "$sig" '.items[] | select(.signature == $s) | .count')"
check "filter by signature" 5 "$(curl -s "${AUTH[@]}" -G --data-urlencode "signature=$sig" "$URL/api/dumps" | jq '.items | length')"
check "search by frame text" true "$(curl -s "${AUTH[@]}" "$URL/api/dumps?q=ReadFile" | jq '.items | length >= 5')"

# Dumps of two different processes: accepted, then failed with the
# analyzer's reason (it refuses to pair them).
r=$(curl -s -F "user=@$DT_TEST_DATA/user/rizin__calc.dmp" -F "kernel=@$DT_TEST_DATA/kernel/rizin__triage_x64.dmp" "$URL/api/dumps")
mismatch=$(jq -r .id <<<"$r")
check "mismatched pair: failed" failed "$(wait_done "$mismatch")"
check "mismatched pair: reason" unusable "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$mismatch" | jq -r '.error | split(":")[0]')"

# Unknown content: 415 with a reason; nothing stored.
rows_before=$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=200" | jq '.items | length')
code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' --data-binary 'just some text, not a dump' "$URL/api/dumps")
check "text body: 415" 415 "$code"
check "text body: reason given" true "$(jq -r '.error.message | length > 10' "$WORK/out.json")"
code=$(curl -s -o /dev/null -w '%{http_code}' -F note=nothing "$URL/api/dumps")
check "no file: 400" 400 "$code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Encoding: br' --data-binary @"$U" "$URL/api/dumps")
check "unknown encoding: 415" 415 "$code"

# 1 GiB upload: a real minidump header followed by sparse zeros.  The server
# streams it to disk; its RSS is sampled from /proc every 50 ms.
BIG="$WORK/big.dmp"
head -c 65536 "$U" >"$BIG"; truncate -s 1G "$BIG"
max_rss=0
curl -s -T "$BIG" -X POST -H 'Content-Type: application/octet-stream' "$URL/api/dumps" >"$WORK/big.json" &
curl_pid=$!
while kill -0 $curl_pid 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
  (( rss > max_rss )) && max_rss=$rss
  sleep 0.05
done
wait $curl_pid || true
big_id=$(jq -r .id "$WORK/big.json")
check "1 GiB upload accepted" queued "$(jq -r .status "$WORK/big.json")"
check "1 GiB stored size" 1073741824 "$(jq -r '.files[0].size' "$WORK/big.json")"
limit_kb=$((64 * 1024))
if grep -q __asan_init "$DT_BIN"; then limit_kb=$((512 * 1024)); fi  # ASan (gcc: libasan, clang: static): shadow + quarantine
echo "server max RSS during the 1 GiB upload: $((max_rss / 1024)) MB (limit $((limit_kb / 1024)) MB)"
if (( max_rss > 0 && max_rss < limit_kb )); then ok; else bad "RSS during 1 GiB upload: ${max_rss} kB"; fi
wait_done "$big_id" 120 >/dev/null
curl -s -o /dev/null -X DELETE "${AUTH[@]}" "$URL/api/dumps/$big_id"
check "big blob removed with its upload" 0 "$(find "$DATA/blobs" -size +500M | wc -l)"

# Over the limit: with a Content-Length the refusal comes before the body;
# streamed (chunked) it comes when the limit is crossed; either way 413 and
# no temp file or row left.
rows_before=$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=200" | jq '.items | length')
truncate -s 1200M "$BIG"
code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -T "$BIG" -X POST "$URL/api/dumps")
check "over limit (Content-Length): 413" 413 "$code"
check "over limit: error code" too_large "$(jq -r .error.code "$WORK/out.json")"
code=$(cat "$BIG" | curl -s -o "$WORK/out.json" -w '%{http_code}' -T - -X POST "$URL/api/dumps")
check "over limit (chunked): 413" 413 "$code"
check "over limit: no temp file left" 0 "$(find "$DATA/tmp" -type f | wc -l)"
check "over limit: no row left" "$rows_before" "$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=200" | jq '.items | length')"
check "over limit: no big blob left" 0 "$(find "$DATA/blobs" -size +500M | wc -l)"
rm -f "$BIG"

# Pagination: limit + cursor walk every upload exactly once.
total=$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=200" | jq '.items | length')
seen=0; cursor=""
while :; do
  page=$(curl -s "${AUTH[@]}" "$URL/api/dumps?limit=7${cursor:+&cursor=$cursor}")
  seen=$((seen + $(jq '.items | length' <<<"$page")))
  cursor=$(jq -r '.next_cursor // empty' <<<"$page")
  [[ -n $cursor ]] || break
done
check "cursor pagination covers all" "$total" "$seen"
check "filter by status" "$mismatch" "$(curl -s "${AUTH[@]}" "$URL/api/dumps?status=failed" | jq -r '[.items[].id] | join(",")')"
check "text search finds the case" CASE-1 "$(curl -s "${AUTH[@]}" "$URL/api/dumps?q=Contoso" | jq -r '.items[0].case_id')"

stop_server
finish
