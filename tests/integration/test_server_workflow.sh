#!/usr/bin/env bash
# Acceptance (#17): the support workflow on a real server with curl —
# triage state, assignee, ticket, comments (migration 006, stored in
# SQLite, kept across a restart), list filters by state and assignee, the
# signature detail with counts per day — and the role matrix: only staff
# read or write the workflow; a view-key holder and the uploader get 403, a
# stranger 404, anonymous 401.  Bad input is 400; the upload's deletion
# takes its workflow with it.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
start_server "$DATA"
STAFF=(-H "Authorization: Bearer $ADMIN")
JSON=(-H 'Content-Type: application/json')
mk_token() { curl -s "${STAFF[@]}" "${JSON[@]}" -d "{\"role\":\"$1\",\"name\":\"$2\"}" "$URL/api/tokens" | jq -r .token; }
ALICE=(-H "Authorization: Bearer $(mk_token uploader alice)")
BOB=(-H "Authorization: Bearer $(mk_token uploader bob)")
code() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$URL$p"; }

r1=$(curl -s "${ALICE[@]}" -F "user=@$D/user/lldb__sigsegv.dmp" "$URL/api/dumps")
U1=$(jq -r .id <<<"$r1"); K1=$(jq -r .view_url <<<"$r1" | sed 's/.*key=//')
r2=$(curl -s "${STAFF[@]}" -F "user=@$D/user/breakpad__minidump2.dmp" "$URL/api/dumps")
U2=$(jq -r .id <<<"$r2")
check "U1 analysed" done "$(wait_done "$U1")"
check "U2 analysed" done "$(wait_done "$U2")"

# Fresh uploads are "new", with no comments.
w=$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1/workflow")
check "new upload: state new" new "$(jq -r .state <<<"$w")"
check "new upload: no assignee" null "$(jq -r .assignee <<<"$w")"
check "new upload: no comments" 0 "$(jq '.comments | length' <<<"$w")"
check "workflow names its upload" "$U1" "$(jq -r .id <<<"$w")"

# Role matrix on GET/PATCH workflow and POST comments.
for ep in workflow comments; do
  check "GET $ep anonymous" 401 "$(code GET "/api/dumps/$U1/$ep")"
  check "GET $ep view key" 403 "$(code GET "/api/dumps/$U1/$ep?key=$K1")"
  check "GET $ep owner (uploader)" 403 "$(code GET "/api/dumps/$U1/$ep" "${ALICE[@]}")"
  check "GET $ep other uploader" 404 "$(code GET "/api/dumps/$U1/$ep" "${BOB[@]}")"
  check "GET $ep staff" 200 "$(code GET "/api/dumps/$U1/$ep" "${STAFF[@]}")"
done
check "PATCH view key" 403 "$(code PATCH "/api/dumps/$U1/workflow?key=$K1" "${JSON[@]}" -d '{"state":"resolved"}')"
check "PATCH owner" 403 "$(code PATCH "/api/dumps/$U1/workflow" "${ALICE[@]}" "${JSON[@]}" -d '{"state":"resolved"}')"
check "comment by owner" 403 "$(code POST "/api/dumps/$U1/comments" "${ALICE[@]}" "${JSON[@]}" -d '{"text":"hi"}')"
check "comment with view key" 403 "$(code POST "/api/dumps/$U1/comments?key=$K1" "${JSON[@]}" -d '{"text":"hi"}')"
check "nothing changed by the refused calls" new "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1/workflow" | jq -r .state)"
check "DELETE workflow: 405" 405 "$(code DELETE "/api/dumps/$U1/workflow" "${STAFF[@]}")"
check "no such upload: 404" 404 "$(code GET "/api/dumps/000000000000000000000000/workflow" "${STAFF[@]}")"

# Staff change it.
w=$(curl -s -X PATCH "${STAFF[@]}" "${JSON[@]}" -d '{"state":"investigating","assignee":"Dana","ticket":"SR-4711"}' "$URL/api/dumps/$U1/workflow")
check "PATCH: state" investigating "$(jq -r .state <<<"$w")"
check "PATCH: assignee" Dana "$(jq -r .assignee <<<"$w")"
check "PATCH: ticket" SR-4711 "$(jq -r .ticket <<<"$w")"
check "PATCH: updated_by is the admin token" true "$(jq '.updated_by.token_id > 0' <<<"$w")"
check "PATCH: updated_at is a time" true "$(jq '.updated_at | test("^20[0-9]{2}-")' <<<"$w")"
w=$(curl -s -X PATCH "${STAFF[@]}" "${JSON[@]}" -d '{"state":"waiting_for_customer"}' "$URL/api/dumps/$U1/workflow")
check "PATCH state only keeps assignee" Dana "$(jq -r .assignee <<<"$w")"
check "PATCH state only keeps ticket" SR-4711 "$(jq -r .ticket <<<"$w")"
check "PATCH: bad state 400" 400 "$(code PATCH "/api/dumps/$U1/workflow" "${STAFF[@]}" "${JSON[@]}" -d '{"state":"closed"}')"
check "PATCH: empty body 400" 400 "$(code PATCH "/api/dumps/$U1/workflow" "${STAFF[@]}" "${JSON[@]}" -d '{}')"
check "PATCH: not JSON 400" 400 "$(code PATCH "/api/dumps/$U1/workflow" "${STAFF[@]}" "${JSON[@]}" -d 'state=new')"
check "PATCH: assignee not a string 400" 400 "$(code PATCH "/api/dumps/$U1/workflow" "${STAFF[@]}" "${JSON[@]}" -d '{"assignee":5}')"
long=$(head -c 201 /dev/zero | tr '\0' x)
check "PATCH: assignee over 200 bytes 400" 400 "$(code PATCH "/api/dumps/$U1/workflow" "${STAFF[@]}" "${JSON[@]}" -d "{\"assignee\":\"$long\"}")"
check "PATCH: newline in ticket 400" 400 "$(code PATCH "/api/dumps/$U1/workflow" "${STAFF[@]}" "${JSON[@]}" -d '{"ticket":"a\nb"}')"
check "after bad PATCHes the state stays" waiting_for_customer "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1/workflow" | jq -r .state)"
curl -s -o /dev/null -X PATCH "${STAFF[@]}" "${JSON[@]}" -d '{"state":"resolved","assignee":"Eve"}' "$URL/api/dumps/$U2/workflow"

# Comments, in order, text kept exactly (markup is data).
c=$(curl -s -w '\n%{http_code}' "${STAFF[@]}" "${JSON[@]}" -d '{"text":"first look: <b>ReadFile</b> on a pipe"}' "$URL/api/dumps/$U1/comments")
check "comment: 201" 201 "$(tail -1 <<<"$c")"
c=$(curl -s "${STAFF[@]}" "${JSON[@]}" -d '{"text":"customer asked\nfor the kernel dump"}' "$URL/api/dumps/$U1/comments")
check "two comments" 2 "$(jq '.comments | length' <<<"$c")"
check "comment text kept" 'first look: <b>ReadFile</b> on a pipe' "$(jq -r '.comments[0].text' <<<"$c")"
check "multi-line comment kept" $'customer asked\nfor the kernel dump' "$(jq -r '.comments[1].text' <<<"$c")"
check "comment author" true "$(jq '.comments[0].author.token_id > 0' <<<"$c")"
check "empty comment 400" 400 "$(code POST "/api/dumps/$U1/comments" "${STAFF[@]}" "${JSON[@]}" -d '{"text":"   "}')"
check "comment without text 400" 400 "$(code POST "/api/dumps/$U1/comments" "${STAFF[@]}" "${JSON[@]}" -d '{}')"
big=$(head -c 9000 /dev/zero | tr '\0' y)
check "comment over 8 KiB 400" 400 "$(code POST "/api/dumps/$U1/comments" "${STAFF[@]}" "${JSON[@]}" -d "{\"text\":\"$big\"}")"

# The list: workflow per item for staff, filters by state and assignee.
l=$(curl -s "${STAFF[@]}" "$URL/api/dumps")
check "list: U1 workflow state" waiting_for_customer "$(jq -r --arg id "$U1" '.items[] | select(.id == $id) | .workflow.state' <<<"$l")"
check "list: U1 comment count" 2 "$(jq -r --arg id "$U1" '.items[] | select(.id == $id) | .workflow.comments' <<<"$l")"
check "list ?state=resolved" "$U2" "$(curl -s "${STAFF[@]}" "$URL/api/dumps?state=resolved" | jq -r '[.items[].id] | join(",")')"
check "list ?state=waiting_for_customer" "$U1" "$(curl -s "${STAFF[@]}" "$URL/api/dumps?state=waiting_for_customer" | jq -r '[.items[].id] | join(",")')"
check "list ?state=new (none left)" 0 "$(curl -s "${STAFF[@]}" "$URL/api/dumps?state=new" | jq '.items | length')"
check "list ?assignee=dana (any case)" "$U1" "$(curl -s "${STAFF[@]}" "$URL/api/dumps?assignee=dana" | jq -r '[.items[].id] | join(",")')"
check "uploader's list carries no workflow" null "$(curl -s "${ALICE[@]}" "$URL/api/dumps" | jq -r '.items[0].workflow')"
check "uploader cannot filter by state (ignored)" "$U1" "$(curl -s "${ALICE[@]}" "$URL/api/dumps?state=resolved" | jq -r '[.items[].id] | join(",")')"

# Signature detail: first/last seen and per-day counts.
SIG=$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1" | jq -r .summary.signature)
check "U1 has a signature" true "$([[ -n $SIG && $SIG != null ]] && echo true || echo false)"
r3=$(curl -s "${STAFF[@]}" -F "user=@$D/user/lldb__sigsegv.dmp" -F note=again "$URL/api/dumps")
wait_done "$(jq -r .id <<<"$r3")" >/dev/null
s=$(curl -s -G "${STAFF[@]}" --data-urlencode "signature=$SIG" "$URL/api/signatures/detail")
check "signature detail: count" 2 "$(jq .count <<<"$s")"
check "signature detail: one day" "$(date -u +%F):2" "$(jq -r '.days | map("\(.day):\(.count)") | join(",")' <<<"$s")"
check "signature detail: first <= last" true "$(jq '.first_seen <= .last_seen' <<<"$s")"
check "signature detail: alice sees only hers" 1 "$(curl -s -G "${ALICE[@]}" --data-urlencode "signature=$SIG" "$URL/api/signatures/detail" | jq .count)"
check "signature detail: bob sees none" 0 "$(curl -s -G "${BOB[@]}" --data-urlencode "signature=$SIG" "$URL/api/signatures/detail" | jq .count)"
check "signature detail: anonymous 401" 401 "$(code GET "/api/signatures/detail?signature=x")"
check "signature detail: no signature 400" 400 "$(code GET "/api/signatures/detail" "${STAFF[@]}")"

# Stored: a restart keeps it; the migration is recorded.
stop_server
check "migration 006 recorded" 1 "$(store_sql "$DATA" "SELECT COUNT(*) FROM schema_migrations WHERE name LIKE '006_workflow%'")"
start_server "$DATA"
w=$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U1/workflow")
check "after restart: state" waiting_for_customer "$(jq -r .state <<<"$w")"
check "after restart: comments" 2 "$(jq '.comments | length' <<<"$w")"

# Deleting the upload deletes its workflow and comments.
check "delete U1" 200 "$(code DELETE "/api/dumps/$U1" "${STAFF[@]}")"
check "workflow rows gone" 0 "$(store_sql "$DATA" "SELECT (SELECT COUNT(*) FROM comments) + (SELECT COUNT(*) FROM workflow w JOIN uploads u ON u.seq = w.upload_seq WHERE u.id = '$U1')")"
check "U2's workflow stays" resolved "$(curl -s "${STAFF[@]}" "$URL/api/dumps/$U2/workflow" | jq -r .state)"
check "me: limits for the upload page" 2048 "$(curl -s "$URL/api/me" | jq .limits.text_field_bytes)"
stop_server
finish
