#!/usr/bin/env bash
# Acceptance: the role matrix — anonymous / uploader / other uploader / staff
# (and a view-key holder) × every endpoint (resumable /api/uploads too) — plus browser login sessions,
# token-only upload mode, security headers on every response, and the static
# pages (content types, no directory traversal).
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
WEB="$WORK/web"
mkdir -p "$WEB/static"
echo '<!doctype html><title>upload</title>' >"$WEB/index.html"
echo '<!doctype html><title>list</title>' >"$WEB/list.html"
echo '<!doctype html><title>triage</title>' >"$WEB/triage.html"
echo 'console.log(1);' >"$WEB/static/app.js"
echo 'body{}' >"$WEB/static/style.css"
ln -s /etc/passwd "$WEB/static/evil.txt"
echo secret >"$WORK/outside.txt"

start_server "$DATA" --web-dir "$WEB"
STAFF=(-H "Authorization: Bearer $ADMIN")
mk_token() { curl -s "${STAFF[@]}" -H 'Content-Type: application/json' -d "{\"role\":\"$1\",\"name\":\"$2\"}" "$URL/api/tokens" | jq -r .token; }
UP1_TOKEN=$(mk_token uploader alice)
UP2_TOKEN=$(mk_token uploader bob)
UP1=(-H "Authorization: Bearer $UP1_TOKEN")
UP2=(-H "Authorization: Bearer $UP2_TOKEN")
ANON=()

# code METHOD PATH who… → HTTP status
code() { local m=$1 p=$2; shift 2; curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$URL$p"; }

# Uploads by each principal.
gunzip -c "$D/paired/hello_block.dmp.gz" >"$WORK/hello_block.dmp"
r1=$(curl -s "${UP1[@]}" -F "user=@$WORK/hello_block.dmp" -F "kernel=@$D/paired/hello_block.Kernel.dmp" "$URL/api/dumps")
U1=$(jq -r .id <<<"$r1"); K1=$(jq -r .status_url <<<"$r1" | sed 's/.*key=//')
r0=$(curl -s -F "user=@$D/user/lldb__sigsegv.dmp" "$URL/api/dumps")
U0=$(jq -r .id <<<"$r0"); K0=$(jq -r .view_url <<<"$r0" | sed 's/.*key=//')
check "anonymous upload (open mode)" queued "$(jq -r .status <<<"$r0")"
check "status_url carries the key" "/api/dumps/$U0?key=$K0" "$(jq -r .status_url <<<"$r0")"
check "view_url is the triage page" "/triage/$U0?key=$K0" "$(jq -r .view_url <<<"$r0")"
wait_done "$U1" >/dev/null; wait_done "$U0" >/dev/null

check "me: anonymous" anonymous "$(curl -s "$URL/api/me" | jq -r .role)"
check "me: uploader" uploader "$(curl -s "${UP1[@]}" "$URL/api/me" | jq -r .role)"
check "me: staff" staff "$(curl -s "${STAFF[@]}" "$URL/api/me" | jq -r .role)"
check "bad token: 401" 401 "$(code GET /api/me -H 'Authorization: Bearer nope-not-a-token')"

# The matrix for U1 (uploaded by alice): anonymous, key holder, alice, bob, staff.
KEY="?key=$K1"
for ep in "" /report /threads/1 /files/user /files/kernel; do
  want_thread=200
  check "GET dumps/U1$ep anonymous"    401 "$(code GET "/api/dumps/$U1$ep")"
  check "GET dumps/U1$ep wrong key"    404 "$(code GET "/api/dumps/$U1$ep?key=0000")"
  check "GET dumps/U1$ep other's key"  404 "$(code GET "/api/dumps/$U1$ep?key=$K0")"
  check "GET dumps/U1$ep bob"          404 "$(code GET "/api/dumps/$U1$ep" "${UP2[@]}")"
  [[ $ep == /threads/1 ]] && continue   # thread ids depend on the analyzer's report
  check "GET dumps/U1$ep key holder"   200 "$(code GET "/api/dumps/$U1$ep$KEY")"
  check "GET dumps/U1$ep alice"        200 "$(code GET "/api/dumps/$U1$ep" "${UP1[@]}")"
  check "GET dumps/U1$ep staff"        200 "$(code GET "/api/dumps/$U1$ep" "${STAFF[@]}")"
done
# A thread of the report: the first user thread, readable like the upload.
tid=$(curl -s "$URL/api/dumps/$U1/report$KEY" | jq -r '.user.threads[0].thread_id')
check "thread by key holder" 200 "$(code GET "/api/dumps/$U1/threads/$tid$KEY")"
check "thread by alice" "$tid" "$(curl -s "${UP1[@]}" "$URL/api/dumps/$U1/threads/$tid" | jq -r .user.thread_id)"
check "thread by bob" 404 "$(code GET "/api/dumps/$U1/threads/$tid" "${UP2[@]}")"
check "no such thread" 404 "$(code GET "/api/dumps/$U1/threads/999999999" "${STAFF[@]}")"
# The short view link redirects to the triage page with the key.
check "/v/{key} redirects" "302 $URL/triage/$U1?key=$K1" \
  "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$URL/v/$K1")"
check "/v/{bad key}" 404 "$(code GET "/v/000000000000000000000000000000000000000000000000")"
check "download is byte-exact" "$(sha256sum <"$D/paired/hello_block.Kernel.dmp")" \
  "$(curl -s "$URL/api/dumps/$U1/files/kernel$KEY" | sha256sum)"
check "U0 with its key" 200 "$(code GET "/api/dumps/$U0?key=$K0")"
check "U0 key does not open U1" 404 "$(code GET "/api/dumps/$U1?key=$K0")"
check "alice cannot see anonymous U0" 404 "$(code GET "/api/dumps/$U0" "${UP1[@]}")"

check "list anonymous"  401 "$(code GET /api/dumps)"
check "list alice: only hers" "$U1" "$(curl -s "${UP1[@]}" "$URL/api/dumps" | jq -r '[.items[].id] | join(",")')"
check "list bob: nothing" 0 "$(curl -s "${UP2[@]}" "$URL/api/dumps" | jq '.items | length')"
check "list staff: all" 2 "$(curl -s "${STAFF[@]}" "$URL/api/dumps" | jq '.items | length')"
check "signatures anonymous" 401 "$(code GET /api/signatures)"
check "signatures uploader" 200 "$(code GET /api/signatures "${UP1[@]}")"
check "signatures staff" 200 "$(code GET /api/signatures "${STAFF[@]}")"
check "signatures shape" true "$(curl -s "${STAFF[@]}" "$URL/api/signatures" | jq '.items | type == "array"')"
check "metrics anonymous" 401 "$(code GET /metrics)"
check "metrics uploader" 403 "$(code GET /metrics "${UP1[@]}")"
check "metrics staff" 200 "$(code GET /metrics "${STAFF[@]}")"
check "healthz anonymous" 200 "$(code GET /healthz)"
check "readyz anonymous" 200 "$(code GET /readyz)"
check "readyz hides errors from uploaders" null "$(curl -s "${UP1[@]}" "$URL/readyz" | jq -r '.checks.database.error')"
check "tokens anonymous" 401 "$(code POST /api/tokens -d '{"role":"uploader"}')"
check "tokens uploader" 403 "$(code POST /api/tokens "${UP1[@]}" -d '{"role":"staff"}')"
check "tokens staff" 201 "$(code POST /api/tokens "${STAFF[@]}" -d '{"role":"uploader","name":"x"}')"
check "tokens bad role" 400 "$(code POST /api/tokens "${STAFF[@]}" -d '{"role":"root"}')"

for ep in /reanalyze; do
  check "POST U1$ep anonymous" 401 "$(code POST "/api/dumps/$U1$ep")"
  check "POST U1$ep key holder" 403 "$(code POST "/api/dumps/$U1$ep$KEY")"
  check "POST U1$ep alice" 403 "$(code POST "/api/dumps/$U1$ep" "${UP1[@]}")"
  check "POST U1$ep bob" 404 "$(code POST "/api/dumps/$U1$ep" "${UP2[@]}")"
  check "POST U1$ep staff" 202 "$(code POST "/api/dumps/$U1$ep" "${STAFF[@]}")"
done
check "reanalysis completes" done "$(wait_done "$U1")"
check "DELETE anonymous" 401 "$(code DELETE "/api/dumps/$U0")"
check "DELETE key holder" 403 "$(code DELETE "/api/dumps/$U0?key=$K0")"
check "DELETE alice (not hers)" 404 "$(code DELETE "/api/dumps/$U0" "${UP1[@]}")"
check "DELETE alice (hers)" 403 "$(code DELETE "/api/dumps/$U1" "${UP1[@]}")"
check "DELETE staff" 200 "$(code DELETE "/api/dumps/$U0" "${STAFF[@]}")"
check "deleted is gone" 404 "$(code GET "/api/dumps/$U0" "${STAFF[@]}")"

# Browser login: cookie session with HttpOnly + SameSite=Strict.
hdr=$(curl -s -D - -o /dev/null -H 'Content-Type: application/json' -d "{\"token\":\"$ADMIN\"}" "$URL/api/login")
cookie=$(grep -i '^set-cookie:' <<<"$hdr" | tr -d '\r')
check "login cookie HttpOnly" 1 "$(grep -c HttpOnly <<<"$cookie")"
check "login cookie SameSite=Strict" 1 "$(grep -c 'SameSite=Strict' <<<"$cookie")"
sid=$(sed -E 's/.*dt_session=([0-9a-f]+).*/\1/' <<<"$cookie")
COOK=(-H "Cookie: dt_session=$sid")
check "session sees all" 200 "$(code GET /api/dumps "${COOK[@]}")"
check "session role" staff "$(curl -s "${COOK[@]}" "$URL/api/me" | jq -r .role)"
check "cross-origin POST with the cookie refused" 403 \
  "$(code POST "/api/dumps/$U1/reanalyze" "${COOK[@]}" -H 'Origin: http://evil.example')"
check "login with a bad token" 401 "$(code POST /api/login -d '{"token":"wrong-token-123456"}')"
check "logout" 200 "$(code POST /api/logout "${COOK[@]}")"
check "session ended" 401 "$(code GET /api/dumps "${COOK[@]}")"

# Security headers on every kind of response.  The policy is compared whole
# (server/http.c's value, byte for byte), once per response: a directive added
# or loosened ('unsafe-inline', a second script source) fails here.
CSP="default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
CSP+=" object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
for p in / /api/me /api/dumps /nonexistent "/api/dumps/$U1$KEY" /static/app.js; do
  h=$(curl -s -D - -o /dev/null "$URL$p" | tr -d '\r')
  check "one Content-Security-Policy header on $p" 1 "$(grep -ci '^Content-Security-Policy:' <<<"$h" || true)"
  check "Content-Security-Policy on $p" "$CSP" "$(sed -nE 's/^[Cc]ontent-[Ss]ecurity-[Pp]olicy: //p' <<<"$h")"
  grep -qi '^X-Content-Type-Options: nosniff' <<<"$h" && grep -qi '^Referrer-Policy: no-referrer' <<<"$h" \
    && ok || bad "security headers missing on $p"
done
check "error JSON shape" not_found "$(curl -s "$URL/api/nothing" | jq -r .error.code)"

# Static pages and traversal.
ctype() { curl -s -o /dev/null -w '%{content_type}' "$URL$1"; }
check "/ is the upload page" "text/html; charset=utf-8" "$(ctype /)"
check "/ content" '<!doctype html><title>upload</title>' "$(curl -s "$URL/")"
check "/list" '<!doctype html><title>list</title>' "$(curl -s "$URL/list")"
check "/triage/{id}" '<!doctype html><title>triage</title>' "$(curl -s "$URL/triage/$U1?key=$K1")"
check "js type" "text/javascript; charset=utf-8" "$(ctype /static/app.js)"
check "css type" "text/css; charset=utf-8" "$(ctype /static/style.css)"
for p in /static/../../outside.txt /static/..%2f..%2foutside.txt /static/%2e%2e/index.html /static/evil.txt \
         /static/.hidden /static//etc/passwd /../outside.txt; do
  check "traversal $p" 404 "$(curl -s --path-as-is -o /dev/null -w '%{http_code}' "$URL$p")"
done

# Resumable uploads (tus, /api/uploads): a token's upload is seen and
# written only by that token and staff (404 to anyone else, so an id does
# not leak whether it exists); an anonymous upload's 96-bit id is its
# credential.
TV=(-H "Tus-Resumable: 1.0.0")
OCT=(-H "Content-Type: application/offset+octet-stream")
tus_create() { curl -s -D - -o /dev/null -X POST "${TV[@]}" -H "Upload-Length: 1000" "$@" "$URL/api/uploads" \
  | tr -d '\r' | awk 'tolower($1)=="location:"{print $2}'; }
tus_patch() { local loc=$1 off=$2; shift 2; head -c 100 /dev/zero | curl -s -o /dev/null -w '%{http_code}' -X PATCH \
  "${TV[@]}" "${OCT[@]}" -H "Upload-Offset: $off" --data-binary @- "$@" "$URL$loc"; }
check "tus OPTIONS anonymous" 204 "$(code OPTIONS /api/uploads)"
TA=$(tus_create "${UP1[@]}")
[[ $TA =~ ^/api/uploads/[0-9a-f]{24}$ ]] && ok || bad "alice's tus creation: '$TA'"
for who in anonymous bob; do
  args=(); [[ $who == bob ]] && args=("${UP2[@]}")
  check "tus HEAD alice's, $who"   404 "$(code HEAD "$TA" "${TV[@]}" "${args[@]}")"
  check "tus GET alice's, $who"    404 "$(code GET "$TA" "${TV[@]}" "${args[@]}")"
  check "tus PATCH alice's, $who"  404 "$(tus_patch "$TA" 0 "${args[@]}")"
  check "tus DELETE alice's, $who" 404 "$(code DELETE "$TA" "${TV[@]}" "${args[@]}")"
done
check "tus HEAD alice's, alice"  200 "$(code HEAD "$TA" "${TV[@]}" "${UP1[@]}")"
check "tus PATCH alice's, alice" 204 "$(tus_patch "$TA" 0 "${UP1[@]}")"
check "tus HEAD alice's, staff"  200 "$(code HEAD "$TA" "${TV[@]}" "${STAFF[@]}")"
check "tus PATCH alice's, staff" 204 "$(tus_patch "$TA" 100 "${STAFF[@]}")"
check "tus offset after both" 200 "$(curl -s "${UP1[@]}" "$URL$TA" | jq -r .offset)"
check "tus bad token: 401" 401 "$(code HEAD "$TA" "${TV[@]}" -H 'Authorization: Bearer nope-not-a-token')"
# A browser session (cookie) writes only from this site's pages.
curl -s -o /dev/null -c "$WORK/tus.jar" -H 'Content-Type: application/json' -d "{\"token\":\"$UP1_TOKEN\"}" "$URL/api/login"
check "tus cookie PATCH from another site: 403" 403 \
  "$(tus_patch "$TA" 200 -b "$WORK/tus.jar" -H 'Origin: http://evil.example')"
check "tus cookie PATCH from the site" 204 "$(tus_patch "$TA" 200 -b "$WORK/tus.jar" -H "Origin: $URL")"
check "tus DELETE alice's, staff" 204 "$(code DELETE "$TA" "${TV[@]}" "${STAFF[@]}")"
check "tus gone for alice" 404 "$(code HEAD "$TA" "${TV[@]}" "${UP1[@]}")"
TB=$(tus_create "${UP1[@]}")
check "tus DELETE alice's, alice" 204 "$(code DELETE "$TB" "${TV[@]}" "${UP1[@]}")"
TN=$(tus_create)
[[ $TN =~ ^/api/uploads/[0-9a-f]{24}$ ]] && ok || bad "anonymous tus creation (open mode): '$TN'"
check "tus anonymous upload: HEAD by id" 200 "$(code HEAD "$TN" "${TV[@]}")"
check "tus anonymous upload: PATCH by id" 204 "$(tus_patch "$TN" 0)"
check "tus anonymous upload: bob may too" 200 "$(code HEAD "$TN" "${TV[@]}" "${UP2[@]}")"
check "tus unknown id: 404" 404 "$(code HEAD /api/uploads/0123456789abcdef01234567 "${TV[@]}" "${STAFF[@]}")"

stop_server

# Token-only upload mode.
start_server "$WORK/data2" --upload-auth token
check "token mode: anonymous upload refused" 401 \
  "$(code POST /api/dumps -F "user=@$D/user/lldb__sigsegv.dmp")"
UPT=$(curl -s "${STAFF[@]}" -d '{"role":"uploader"}' "$URL/api/tokens" | jq -r .token)
check "token mode: uploader upload accepted" 202 \
  "$(code POST /api/dumps -H "Authorization: Bearer $UPT" -F "user=@$D/user/lldb__sigsegv.dmp")"
# A refusal known from the headers comes before the body: with
# Expect: 100-continue, curl never sends it.
truncate -s 50M "$WORK/big.bin"
curl -sv -o /dev/null -H 'Expect: 100-continue' --data-binary @"$WORK/big.bin" "$URL/api/dumps" 2>"$WORK/v.txt" || true
check "token mode + Expect: 401 before the body" 1 "$(grep -c '< HTTP/1.1 401' "$WORK/v.txt")"
check "token mode + Expect: no 100 Continue" 0 "$(grep -c '100 Continue' "$WORK/v.txt" || true)"
# Token mode: resumable uploads too need an uploader or staff token.
TV=(-H "Tus-Resumable: 1.0.0")
check "token mode: tus OPTIONS anonymous" 204 "$(code OPTIONS /api/uploads)"
check "token mode: tus anonymous creation refused" 401 \
  "$(code POST /api/uploads "${TV[@]}" -H "Upload-Length: 1000")"
check "token mode: tus uploader creation" 201 \
  "$(code POST /api/uploads "${TV[@]}" -H "Upload-Length: 1000" -H "Authorization: Bearer $UPT")"
check "token mode: tus staff creation" 201 \
  "$(code POST /api/uploads "${TV[@]}" -H "Upload-Length: 1000" "${STAFF[@]}")"

stop_server

# Full disk and full queue.
start_server "$WORK/data3" --min-free-space 1000000T
check "not enough disk: 507" 507 "$(code POST /api/dumps -F "user=@$D/user/lldb__sigsegv.dmp")"
stop_server
start_server "$WORK/data4" --max-queue 0
check "queue full: 503 busy" busy "$(curl -s -F "user=@$D/user/lldb__sigsegv.dmp" "$URL/api/dumps" | jq -r .error.code)"
stop_server
finish
