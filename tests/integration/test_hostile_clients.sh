#!/usr/bin/env bash
# test_hostile_clients.sh — the server attacked as a hostile customer would,
# over loopback (issue #14): slow clients, floods of uploads, credential
# guessing, request smuggling, a job that kills the server, leaks to
# view-link holders, the token list.  Each attack asserts its bound: time,
# status codes, Retry-After, and the /metrics counters.
#
# Attackers come from their own loopback addresses (127.0.0.2 …; Linux
# routes all of 127/8 to lo), so per-address limits are exercised while the
# checks come from 127.0.0.1.
source "$(dirname "${BASH_SOURCE[0]}")/server_lib.sh"

DUMP="$DT_TEST_DATA/user/lldb__sigsegv.dmp"
metric() { # NAME{labels} — the value in /metrics, 0 when absent
  curl -s "${AUTH[@]}" "$URL/metrics" | awk -v k="$1" '$1 == k { print $2; found=1 } END { if (!found) print 0 }'
}
ge() { # description minimum actual
  if [[ $3 =~ ^[0-9]+$ ]] && (( $3 >= $2 )); then ok; else bad "$1: expected >= $2, got '$3'"; fi
}
header_of() { # FILE NAME — a response header's value from curl -D
  tr -d '\r' <"$1" | awk -v n="$(tr A-Z a-z <<<"$2")" -F': ' 'tolower($1) == n { print $2 }' | tail -1
}

# ---- 1. slowloris: 200 connections trickling headers -------------------
cat >"$WORK/slowloris.py" <<'EOF'
# slowloris.py PORT N SECONDS same|distinct — N connections each sending one
# header line a second (from 127.0.0.2, or each from its own address), while
# /healthz and /api/me are timed from 127.0.0.1.  Prints the worst latency,
# failed checks, and how many attack connections the server cut.
import socket, sys, threading, time, urllib.request
port, n, dur, mode = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
cut = [0]
lock = threading.Lock()
def attacker(i):
    src = '127.0.0.2' if mode == 'same' else '127.0.%d.%d' % (1 + i // 250, 1 + i % 250)
    end = time.time() + dur
    while time.time() < end:
        try:
            s = socket.socket(); s.bind((src, 0)); s.settimeout(5)
            s.connect(('127.0.0.1', port))
            s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\n')
            while time.time() < end:
                time.sleep(1)
                s.sendall(b'X-Slow: 1\r\n')
        except OSError:
            with lock:
                cut[0] += 1
            time.sleep(0.3)
        finally:
            s.close()
threads = [threading.Thread(target=attacker, args=(i,), daemon=True) for i in range(n)]
for t in threads: t.start()
time.sleep(1.5)  # let the attack build up
worst, fails, checks = 0.0, 0, 0
end = time.time() + dur - 2
while time.time() < end:
    for path in ('/healthz', '/api/me'):
        t0 = time.time()
        try:
            urllib.request.urlopen('http://127.0.0.1:%d%s' % (port, path), timeout=5).read()
        except Exception:
            fails += 1
        worst = max(worst, time.time() - t0); checks += 1
    time.sleep(0.1)
print('%.3f %d %d %d' % (worst, fails, checks, cut[0]))
EOF
start_server "$WORK/d1" --header-timeout 3
for mode in same distinct; do
  read -r worst fails checks cut < <(python3 "$WORK/slowloris.py" "$PORT" 200 10 "$mode")
  echo "slowloris ($mode address): $checks checks, worst ${worst}s, $fails failed, $cut attack connections cut"
  check "slowloris ($mode): health and API answered throughout" 0 "$fails"
  check "slowloris ($mode): every answer within 1 s" 1 "$(python3 -c "print(int($worst < 1.0))")"
  ge "slowloris ($mode): attack connections cut" 100 "$cut"
done
ge "metrics: connections closed at the header deadline" 100 "$(metric 'dt_connections_closed_total{reason="header_timeout"}')"
# One header line a second for ever: cut at the deadline (3 s), not after
# the idle timeout.
t=$(python3 - "$PORT" <<'EOF'
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); t0 = time.time()
s.sendall(b'GET / HTTP/1.1\r\n')
try:
    while time.time() - t0 < 20:
        s.sendall(b'X-A: b\r\n'); time.sleep(0.5)
        s.settimeout(0.01)
        try:
            if s.recv(1) == b'': break
        except socket.timeout: pass
except OSError: pass
print('%.1f' % (time.time() - t0))
EOF
)
check "a trickled header is cut at --header-timeout (3 s, took ${t}s)" 1 "$(python3 -c "print(int(2.5 < $t < 5))")"
stop_server

# ---- 2. slow and endless bodies ---------------------------------------
start_server "$WORK/d2" --body-timeout 4 --min-body-rate 2K
cat >"$WORK/slowbody.py" <<'EOF'
# slowbody.py PORT RATE(bytes/s) — a raw upload declaring 10 MB, sent at RATE;
# prints the seconds until the server cut it.
import socket, sys, time
s = socket.create_connection(('127.0.0.1', int(sys.argv[1]))); rate = int(sys.argv[2]); t0 = time.time()
s.sendall(b'POST /api/dumps HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n'
          b'Content-Length: 10000000\r\n\r\nMDMP')
try:
    while time.time() - t0 < 60:
        s.sendall(b'\0' * max(1, rate // 10)); time.sleep(0.1)
except OSError: pass
print('%.1f' % (time.time() - t0))
EOF
t_total=$(python3 "$WORK/slowbody.py" "$PORT" 20000)
check "a body still flowing after --body-timeout (4 s) is cut (took ${t_total}s)" 1 "$(python3 -c "print(int(3.5 < $t_total < 8))")"
stop_server
start_server "$WORK/d2b" --min-body-rate 2K
t_slow=$(python3 "$WORK/slowbody.py" "$PORT" 200)
check "a body below --min-body-rate (2K, sent at 200 B/s) is cut after one 20 s window (took ${t_slow}s)" 1 "$(python3 -c "print(int(19 < $t_slow < 25))")"
check "metrics: slow bodies cut" 1 "$(metric 'dt_connections_closed_total{reason="slow_body"}')"
check "no spool left behind" 0 "$(find "$WORK/d2b/tmp" -type f | wc -l)"
stop_server

# ---- 3. upload floods: queue share, rate, in-flight bytes ---------------
# One worker stuck on a hanging analysis keeps everything else queued.
start_server "$WORK/d3" --workers 1 --test-hooks --analysis-timeout 60 --drain-grace 1 --max-queue 40 --max-queue-per-client 10 \
  --upload-rate 10 --max-client-inflight 1M
curl -s -F "user=@$DUMP" -F "note=DT_TEST_HOOK=hang" --interface 127.0.0.9 "$URL/api/dumps" >/dev/null
codes=""
for i in $(seq 1 14); do
  codes+="$(curl -s -o /dev/null -D "$WORK/h" -w '%{http_code}' --interface 127.0.0.2 --data-binary "@$DUMP" "$URL/api/dumps") "
done
n202=$(grep -o 202 <<<"$codes" | wc -l); n429=$(grep -o 429 <<<"$codes" | wc -l)
check "flooding client: its share of the queue (10) accepted" 10 "$n202"
check "flooding client: the rest refused with 429" 4 "$n429"
ra=$(header_of "$WORK/h" Retry-After)
check "queue share: Retry-After present" 1 "$([[ $ra =~ ^[0-9]+$ ]] && echo 1 || echo 0)"
check "another client still gets in" 202 "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 --data-binary "@$DUMP" "$URL/api/dumps")"
check "metrics: queue-share refusals" 4 "$(metric 'dt_throttled_total{reason="queue_share"}')"
# Rate: 10 a minute (also the burst); one client's 11th upload within the
# minute is 429 (one token comes back every 6 s, so a slow machine may let
# one more through).
codes=""
for i in $(seq 1 14); do
  codes+="$(curl -s -o /dev/null -D "$WORK/h" -w '%{http_code}' --interface 127.0.0.4 -H 'Content-Type: application/octet-stream' --data-binary 'not a dump' "$URL/api/dumps") "
done
check "upload rate: the first 10 are looked at (415: not a dump)" "415 415 415 415 415 415 415 415 415 415" "$(cut -d' ' -f1-10 <<<"$codes")"
ge "upload rate: then 429s" 3 "$(grep -o 429 <<<"$codes" | wc -l)"
ra=$(header_of "$WORK/h" Retry-After)
check "upload rate: the last has Retry-After 1-6 s (10/min)" 1 "$([[ $ra =~ ^[1-6]$ ]] && echo 1 || echo 0)"
ge "metrics: upload-rate refusals" 1 "$(metric 'dt_throttled_total{reason="upload_rate"}')"
# In-flight: one slow 3 MB upload in progress; a second from the same
# client declaring 2 MB is refused from its headers.
head -c 3000000 /dev/zero | { printf 'MDMP'; cat; } >"$WORK/big.bin"
curl -s -o /dev/null --limit-rate 200K --interface 127.0.0.5 -H 'Content-Type: application/octet-stream' \
  --data-binary "@$WORK/big.bin" "$URL/api/dumps" & slow_pid=$!
sleep 1
code=$(curl -s -o "$WORK/out.json" -D "$WORK/h" -w '%{http_code}' --interface 127.0.0.5 -H 'Content-Type: application/octet-stream' --data-binary "@$WORK/big.bin" "$URL/api/dumps")
check "in-flight bytes: a second large upload while one runs is 429" 429 "$code"
check "in-flight bytes: Retry-After" 1 "$([[ -n $(header_of "$WORK/h" Retry-After) ]] && echo 1 || echo 0)"
check "in-flight bytes: another client is not affected" 202 "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.6 --data-binary "@$DUMP" "$URL/api/dumps")"
ge "metrics: in-flight refusals" 1 "$(metric 'dt_throttled_total{reason="inflight_bytes"}')"
kill "$slow_pid" 2>/dev/null || true; wait "$slow_pid" 2>/dev/null || true
stop_server

# ---- 4. credential guessing ---------------------------------------------
start_server "$WORK/d4" --auth-failures 5
upload=$(curl -s --data-binary "@$DUMP" "$URL/api/dumps"); id=$(jq -r .id <<<"$upload")
t0=$(date +%s%N)
codes=$(python3 - "$PORT" <<'EOF'
import http.client, sys, socket
from collections import Counter
c = Counter()
for i in range(1000):
    h = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), source_address=('127.0.0.2', 0), timeout=5)
    h.request('GET', '/api/dumps', headers={'Authorization': 'Bearer guess-%06d' % i})
    r = h.getresponse(); r.read(); c[r.status] += 1
    if r.status == 429 and not r.getheader('Retry-After'): c['no-retry-after'] += 1
    h.close()
print(c[401], c[429], c['no-retry-after'])
EOF
)
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
read -r n401 n429 nora <<<"$codes"
echo "1000 bad bearer tokens in ${ms} ms: $n401 looked at (401), $n429 refused (429)"
# 5 free failures, the 6th starts a 1 s backoff, each later one that gets
# through after a backoff doubles it: at most a few more in these seconds.
# backoffs of 1, 2, 4 … s: in T seconds at most log2(T + 1) + 1 more get through.
max401=$(python3 -c "import math; print(6 + int(math.log2($ms / 1000 + 1)) + 1)")
check "bad tokens: only --auth-failures (5), the one starting the backoff and one per elapsed backoff (<= $max401) are looked at" 1 "$(( n401 >= 6 && n401 <= max401 ? 1 : 0 ))"
check "bad tokens: the rest 429" 1000 "$((n401 + n429))"
check "bad tokens: every 429 has Retry-After" 0 "$nora"
check "the guessing address still gets /healthz" 200 "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.2 "$URL/healthz")"
check "staff from another address unaffected" 200 "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$URL/api/dumps")"
codes=""
for i in $(seq 1 8); do
  codes+="$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.3 -d '{"token":"guess-'$i'-xxxxxxxxxxxx"}' "$URL/api/login") "
done
check "login guesses: 401 ×6 then 429" "401 401 401 401 401 401 429 429 " "$codes"
codes=""
for i in $(seq 1 8); do
  codes+="$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.4 "$URL/api/dumps/$id?key=guess$i") "
done
check "view-key guesses: 404 ×6 then 429" "404 404 404 404 404 404 429 429 " "$codes"
check "short view-link guesses from that address: 429" 429 "$(curl -s -o /dev/null -w '%{http_code}' --interface 127.0.0.4 "$URL/v/guess")"
ge "metrics: token failures" 6 "$(metric 'dt_auth_failures_total{kind="token"}')"
ge "metrics: login failures" 6 "$(metric 'dt_auth_failures_total{kind="login"}')"
ge "metrics: view-key failures" 6 "$(metric 'dt_auth_failures_total{kind="view_key"}')"
ge "metrics: backoff refusals" 990 "$(metric 'dt_throttled_total{reason="auth_backoff"}')"

# ---- 5. framing: Content-Length with chunked ----------------------------
resp=$(printf 'POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n' \
  | python3 -c "
import socket, sys
s = socket.create_connection(('127.0.0.1', $PORT)); s.sendall(sys.stdin.buffer.read()); out = b''
while True:
    d = s.recv(65536)
    if not d: break
    out += d
print(out.split(b'\r\n')[0].decode())")
check "Content-Length + Transfer-Encoding: chunked is refused" "HTTP/1.1 400 Bad Request" "$resp"

# ---- 6. the token list and revocation -----------------------------------
tok=$(curl -s "${AUTH[@]}" -d '{"role":"uploader","name":"ci"}' "$URL/api/tokens")
tid=$(jq -r .id <<<"$tok"); secret=$(jq -r .token <<<"$tok")
list=$(curl -s "${AUTH[@]}" "$URL/api/tokens")
check "token list: the new token, by name" ci "$(jq -r --argjson i "$tid" '.items[] | select(.id == $i) | .name' <<<"$list")"
check "token list: fields" '["created_at","id","last_used_at","name","revoked","role"]' "$(jq -c '.items[0] | keys' <<<"$list")"
check "token list: no secret or hash anywhere" 0 "$(grep -c -e "$secret" -e "$(printf %s "$secret" | sha256sum | cut -c1-64)" <<<"$list" || true)"
check "uploader may not list tokens" 403 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $secret" "$URL/api/tokens")"
check "revoke" true "$(curl -s -X DELETE "${AUTH[@]}" "$URL/api/tokens/$tid" | jq -r .revoked)"
check "revoked token is refused" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $secret" "$URL/api/dumps")"
check "list shows it revoked" true "$(curl -s "${AUTH[@]}" "$URL/api/tokens" | jq -r --argjson i "$tid" '.items[] | select(.id == $i) | .revoked')"
check "revoke unknown id" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X DELETE "${AUTH[@]}" "$URL/api/tokens/999999")"

# ---- 7. reused_from across tenants ----------------------------------------
ta=$(curl -s "${AUTH[@]}" -d '{"role":"uploader","name":"A"}' "$URL/api/tokens" | jq -r .token)
tb=$(curl -s "${AUTH[@]}" -d '{"role":"uploader","name":"B"}' "$URL/api/tokens" | jq -r .token)
printf 'distinct content %s' "$RANDOM" >>"$WORK/a.dmp"; cat "$DUMP" "$WORK/a.dmp" >"$WORK/ab.dmp"
a=$(curl -s -H "Authorization: Bearer $ta" --data-binary "@$WORK/ab.dmp" "$URL/api/dumps"); aid=$(jq -r .id <<<"$a")
check "A's upload analyzed" done "$(wait_done "$aid")"
a2=$(curl -s -H "Authorization: Bearer $ta" --data-binary "@$WORK/ab.dmp" "$URL/api/dumps"); a2id=$(jq -r .id <<<"$a2")
check "A's own second upload names A's first" "$aid" "$(curl -s -H "Authorization: Bearer $ta" "$URL/api/dumps/$a2id" | jq -r .reused_from)"
b=$(curl -s -H "Authorization: Bearer $tb" --data-binary "@$WORK/ab.dmp" "$URL/api/dumps"); bid=$(jq -r .id <<<"$b")
check "B's identical upload reuses the report" true "$(jq -r .reused <<<"$b")"
check "B does not learn A's upload id" null "$(curl -s -H "Authorization: Bearer $tb" "$URL/api/dumps/$bid" | jq -r .reused_from)"
check "B's view-link holder neither" null "$(curl -s "$URL$(jq -r .status_url <<<"$b")" | jq -r .reused_from)"
check "B's list neither" null "$(curl -s -H "Authorization: Bearer $tb" "$URL/api/dumps" | jq -r --arg b "$bid" '.items[] | select(.id == $b) | .reused_from')"
check "staff see it" 1 "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$bid" | jq -r .reused_from | grep -cE "^($aid|$a2id)$")"

# ---- 8. no server paths in errors shown to view-link holders -------------
# A minidump with a whole header but no stream directory: the analyzer's
# message names the file it was given (a blob path).  The upload's minimum
# structure check may refuse it first; either way no path is shown.  The
# replacement itself is unit-tested (test_server_limits.c).
python3 - "$WORK/broken.dmp" <<'EOF'
import struct, sys
open(sys.argv[1], 'wb').write(struct.pack('<4sIIIIIQ', b'MDMP', 0xa793, 0, 32, 0, 0, 0) + b'\0' * 600)
EOF
r=$(curl -s -F "user=@$WORK/broken.dmp" "$URL/api/dumps")
rid=$(jq -r .id <<<"$r")
if [[ $rid != null ]]; then
  check "broken dump fails" failed "$(wait_done "$rid")"
  err=$(curl -s "$URL$(jq -r .status_url <<<"$r")" | jq -r .error)
  echo "view-link holder sees: $err"
  check "the error names no server path" 0 "$(grep -c -e "$WORK" -e '/blobs/' -e '/tmp/' <<<"$err" || true)"
  check "the error names the upload's file" 1 "$(grep -c 'broken.dmp' <<<"$err" || true)"
  check "the log keeps the detail for staff" 1 "$(grep '"event":"job"' "$SERVER_LOG" | grep "$rid" | grep -c '/blobs/' || true)"
else
  check "broken dump refused at upload instead (no path either)" 0 "$(grep -c -e "$WORK" -e '/blobs/' <<<"$r" || true)"
fi
stop_server

# ---- 9. a job that kills the server -------------------------------------
start_server "$WORK/d5" --test-hooks
r=$(curl -s -F "user=@$WORK/ab.dmp" -F "note=DT_TEST_HOOK=server_crash" "$URL/api/dumps"); cid=$(jq -r .id <<<"$r")
deaths=0
for round in 1 2 3; do
  for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$SERVER_PID" 2>/dev/null; then break; fi
  wait "$SERVER_PID" 2>/dev/null || true
  deaths=$((deaths + 1))
  start_server "$WORK/d5" --test-hooks
done
check "the job took the server down twice, not more" 2 "$deaths"
check "then it is failed" failed "$(wait_done "$cid" 10)"
check "with class server_died" server_died "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$cid" | jq -r '.error' | cut -d: -f1)"
check "the server stays up" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")"
check "and analyzes the next upload" done "$(wait_done "$(curl -s --data-binary "@$DUMP" "$URL/api/dumps" | jq -r .id)")"
stop_server

# ---- 10. the session cookie without --cookie-secure on a public address ----
"$DT_BIN" serve --listen 0.0.0.0:0 --data-dir "$WORK/d6" --admin-token "$ADMIN" >"$WORK/pub.log" 2>&1 & pub=$!
for _ in $(seq 1 50); do grep -q 'listening on' "$WORK/pub.log" && break; sleep 0.1; done
kill -TERM "$pub"; wait "$pub" 2>/dev/null || true
check "non-loopback listen without --cookie-secure logs a warning" 1 "$(grep -c 'cookie-secure' "$WORK/pub.log")"

finish
