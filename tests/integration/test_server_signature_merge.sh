#!/usr/bin/env bash
# Acceptance (#19): a hang's bucket when its symbols arrive later.  A real
# server on loopback gets the Wine hello_block dump three times (staff
# twice, an uploader once) and wait_chain once, all without their PDBs: two
# buckets, hello_block's signature A ends in the bare module.  One of the
# staff's hello_block uploads then loses its dump to the retention policy.
# Staff upload hello_block.pdb: the two uploads that still have their dump
# are re-analysed with it and their signature becomes B
# (…|hello_block!df_read_stdin|…); the purged one cannot be and is left
# alone (still done, still A).  Checked: exact counts (A=1, B=2, C=1), the
# workflow set on one upload went with it, the store recorded two moves
# A -> B (migration 008), the old bucket's detail lists them, answers 307 to
# B with merged_into once nothing is left in it (at once for the uploader,
# whose only upload moved; for staff after the purged upload is deleted),
# and a reanalysis that keeps the signature records nothing.
# test_server_pg_signature_merge.sh runs this script on PostgreSQL.
source "$(dirname "$0")/server_lib.sh"
command -v jq >/dev/null || { echo "SKIP: jq missing" >&2; exit 77; }

D="$DT_TEST_DATA/wine"
unset DUMPTRIAGE_SYMBOL_PATH _NT_SYMBOL_PATH || true
export DUMPTRIAGE_SYMBOL_OFFLINE=1
A='hang|kernelbase!readfile|hello_block|-|-'
B='hang|kernelbase!readfile|hello_block!df_read_stdin|-|-'
C='hang|kernelbase!waitforsingleobject|wait_chain|-|-'
DATA="$WORK/data"
start_server "$DATA"
STAFF=(-H "Authorization: Bearer $ADMIN")
JSON=(-H 'Content-Type: application/json')
UPTOKEN=$(curl -s "${STAFF[@]}" "${JSON[@]}" -d '{"role":"uploader","name":"customer"}' "$URL/api/tokens" | jq -r .token)
UP=(-H "Authorization: Bearer $UPTOKEN")
enc() { jq -rn --arg s "$1" '$s | @uri'; }
detail() { # SIGNATURE [curl args…] → body; HTTP status and Location in $WORK/hdr
  local s=$1; shift
  curl -s -D "$WORK/hdr" "$@" "$URL/api/signatures/detail?signature=$(enc "$s")"
}
status_of() { head -1 "$WORK/hdr" | awk '{print $2}'; }
location_of() { # decoded, so that either percent-encoding of '!' compares equal
  grep -i '^Location:' "$WORK/hdr" | sed 's/^[^:]*: *//' | tr -d '\r' \
    | python3 -c 'import sys, urllib.parse; print(urllib.parse.unquote(sys.stdin.read().strip()))'
}
buckets() { # [curl args…] → "signature=count" lines, sorted
  curl -s "$@" "$URL/api/signatures" | jq -r '.items[] | "\(.signature)=\(.count)"' | sort
}

U1=$(curl -s "${STAFF[@]}" -F "user=@$D/hello_block.dmp.gz" "$URL/api/dumps" | jq -r .id)
check "U1 analysed" done "$(wait_done "$U1" 120)"
U2=$(curl -s "${UP[@]}" -F "user=@$D/hello_block.dmp.gz" "$URL/api/dumps" | jq -r .id)
U3=$(curl -s "${STAFF[@]}" -F "user=@$D/wait_chain.dmp.gz" "$URL/api/dumps" | jq -r .id)
# U4: the same dump compressed otherwise — a blob of its own, which retention can delete.
zcat "$D/hello_block.dmp.gz" | gzip -1 >"$WORK/hello_block_again.dmp.gz"
U4=$(curl -s "${STAFF[@]}" -F "user=@$WORK/hello_block_again.dmp.gz" "$URL/api/dumps" | jq -r .id)
check "U2 analysed" done "$(wait_done "$U2" 120)"
check "U3 analysed" done "$(wait_done "$U3" 120)"
check "U4 analysed" done "$(wait_done "$U4" 120)"
check "without the PDB: signature A" "$A" "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1" | jq -r .summary.signature)"
# U4 is two days old and the server keeps dumps one day: its dump goes.
stop_server
store_sql "$DATA" "UPDATE uploads SET created_at = created_at - 2*86400 WHERE id = '$U4'" >/dev/null
start_server "$DATA" --retain-dumps 1
check "U4's dump purged" true "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U4" | jq -r '.files[0].purged')"
check "U1's dump kept" false "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1" | jq -r '.files[0].purged')"
sha4=$(sha256sum "$WORK/hello_block_again.dmp.gz" | cut -d' ' -f1)
check "U4's blob deleted" no "$([[ -e $DATA/blobs/${sha4:0:2}/${sha4:2} ]] && echo yes || echo no)"
check "before: two buckets" "$(printf '%s\n' "$A=3" "$C=1" | sort)" "$(buckets "${STAFF[@]}")"
d=$(detail "$A" "${STAFF[@]}")
check "before: A's detail 200" 200 "$(status_of)"
check "before: A counts 3" 3 "$(jq .count <<<"$d")"
check "before: A merged nowhere" null "$(jq -r .merged_into <<<"$d")"
check "before: no moves" "0 0" "$(jq -r '"\(.moved_to | length) \(.merged_from | length)"' <<<"$d")"
# Per-upload workflow, set while the upload is in bucket A.
curl -s -o /dev/null -X PATCH "${STAFF[@]}" "${JSON[@]}" -d '{"state":"investigating","assignee":"Dana"}' \
  "$URL/api/dumps/$U1/workflow"

# The PDB arrives: the hello_block uploads that still have their dump are
# re-analysed; not U4 (nothing to analyse: it would only fail), not wait_chain.
reply=$(curl -s "${STAFF[@]}" --data-binary "@$D/bin/clang/hello_block.pdb" "$URL/api/symbols?name=hello_block.pdb")
check "symbols: two reports queued" 2 "$(jq .reports_queued <<<"$reply")"
check "U1 re-analysed" done "$(wait_done "$U1" 120)"
check "U2 re-analysed" done "$(wait_done "$U2" 120)"
check "with the PDB: signature B" "$B" "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1" | jq -r .summary.signature)"
check "U2's stored signature B" "$B" "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U2" | jq -r .summary.signature)"
check "U3 unchanged" "$C" "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U3" | jq -r .summary.signature)"
check "U4 (no dump) left as it was" "done $A" "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U4" | jq -r '"\(.status) \(.summary.signature)"')"

# Buckets: A's two re-analysed uploads moved to B with exact counts; C untouched.
check "after: A's uploads moved to B" "$(printf '%s\n' "$A=1" "$B=2" "$C=1" | sort)" "$(buckets "${STAFF[@]}")"
check "after: the uploader's own buckets" "$B=1" "$(buckets "${UP[@]}")"
check "B lists both uploads" "$(printf '%s\n' "$U1" "$U2" | sort)" \
  "$(curl -s "${STAFF[@]}" "$URL/api/dumps?signature=$(enc "$B")" | jq -r '.items[].id' | sort)"
check "A lists the purged one" "$U4" "$(curl -s "${STAFF[@]}" "$URL/api/dumps?signature=$(enc "$A")" | jq -r '.items[].id')"
check "the workflow moved with its upload" "investigating Dana" \
  "$(curl -s "${STAFF[@]}" "$URL/api/dumps?signature=$(enc "$B")" | jq -r --arg id "$U1" '.items[] | select(.id == $id) | "\(.workflow.state) \(.workflow.assignee)"')"

# The record of the merge, in the store.
check "two moves recorded A -> B" 2 \
  "$(store_sql "$DATA" "SELECT COUNT(*) FROM signature_merges WHERE from_signature = '$A' AND into_signature = '$B'")"
check "the moves name the uploads" "$(printf '%s\n' "$U1" "$U2" | sort)" \
  "$(store_sql "$DATA" "SELECT upload_id FROM signature_merges ORDER BY upload_id")"
check "no other moves" 2 "$(store_sql "$DATA" "SELECT COUNT(*) FROM signature_merges")"

# While U4 is in it, A is a bucket of its own that says where the others went.
d=$(detail "$A" "${STAFF[@]}")
check "A with U4: 200" 200 "$(status_of)"
check "A with U4: count 1, not merged" "1 null" "$(jq -r '"\(.count) \(.merged_into)"' <<<"$d")"
check "A with U4: moved_to B" "$B 2 symbols" "$(jq -r '.moved_to[] | "\(.signature) \(.uploads) \(.kind)"' <<<"$d")"
# For the uploader A is empty already: their only upload moved.
d=$(detail "$A" "${UP[@]}")
check "uploader: 307" 307 "$(status_of)"
check "uploader: merged_into B" "$B" "$(jq -r .merged_into <<<"$d")"
check "uploader: one of their uploads moved" "$B 1" "$(jq -r '.moved_to[] | "\(.signature) \(.uploads)"' <<<"$d")"
d=$(detail "$B" "${UP[@]}")
check "uploader: B counts their 1" "1 1" "$(jq -r '"\(.count) \(.merged_from[0].uploads)"' <<<"$d")"

# Staff delete U4: A is empty, its URL answers 307 to B, saying merged_into.
check "U4 deleted" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${STAFF[@]}" "$URL/api/dumps/$U4")"
check "A lists none" 0 "$(curl -s "${STAFF[@]}" "$URL/api/dumps?signature=$(enc "$A")" | jq '.items | length')"
check "after the delete: A gone from the list" "$(printf '%s\n' "$B=2" "$C=1" | sort)" "$(buckets "${STAFF[@]}")"
d=$(detail "$A" "${STAFF[@]}")
check "A's detail: 307" 307 "$(status_of)"
check "A's detail: Location is B's" "/api/signatures/detail?signature=$B" "$(location_of)"
check "A's detail: merged_into B" "$B" "$(jq -r .merged_into <<<"$d")"
check "A's detail: count 0" 0 "$(jq .count <<<"$d")"
check "A's detail: moved_to" "$B 2 symbols" "$(jq -r '.moved_to[] | "\(.signature) \(.uploads) \(.kind)"' <<<"$d")"
d=$(detail "$A" "${STAFF[@]}" -L)
check "followed: 200" 200 "$(grep '^HTTP' "$WORK/hdr" | tail -1 | awk '{print $2}')"
check "followed: B" "$B" "$(jq -r .signature <<<"$d")"
check "followed: B counts 2" 2 "$(jq .count <<<"$d")"
check "followed: B merged from A" "$A 2 symbols" "$(jq -r '.merged_from[] | "\(.signature) \(.uploads) \(.kind)"' <<<"$d")"
check "followed: B is not merged" null "$(jq -r .merged_into <<<"$d")"
# A bucket that never moved is a plain 200 with nothing merged.
d=$(detail "$C" "${STAFF[@]}")
check "C: 200, not merged" "200 null 1" "$(status_of) $(jq -r '"\(.merged_into) \(.count)"' <<<"$d")"
check "anonymous: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/api/signatures/detail?signature=$(enc "$A")")"

# A staff reanalyze that gives the same signature records no move.
curl -s -o /dev/null -X POST "${STAFF[@]}" "$URL/api/dumps/$U1/reanalyze"
check "U1 reanalysed again" done "$(wait_done "$U1" 120)"
check "still two moves" 2 "$(store_sql "$DATA" "SELECT COUNT(*) FROM signature_merges")"
check "still B=2" "$(printf '%s\n' "$B=2" "$C=1" | sort)" "$(buckets "${STAFF[@]}")"

stop_server
if grep -q 'Sanitizer' "$SERVER_LOG"; then bad "sanitizer report in the server log"; grep -A20 Sanitizer "$SERVER_LOG" >&2; else ok; fi
finish
