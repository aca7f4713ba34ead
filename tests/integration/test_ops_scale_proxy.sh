#!/usr/bin/env bash
# Acceptance (issue #20, operations): docker/haproxy.cfg, unchanged, started
# on loopback in front of two real `serve --workers 0 --trust-proxy` on one
# data directory, with one `dumptriage worker`: uploads posted to the proxy
# are spread over both API servers, analysed by the worker and readable
# through the proxy; after kill -9 of one API server, uploads through the
# proxy still succeed (haproxy redispatches, then its /readyz check takes
# the dead server out).  Skips (77) without haproxy.  On PostgreSQL through
# test_ops_scale_proxy_pg.sh.
source "$(dirname "$0")/server_lib.sh"
SRC=$(cd "$(dirname "$0")/../.." && pwd)
command -v haproxy >/dev/null || { echo "haproxy not installed (scripts/bootstrap.sh --tests)"; exit 77; }
D="$DT_TEST_DATA"
DATA="$WORK/data"
PIDS=()
cleanup_all() { for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; cleanup; }
trap cleanup_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

check "haproxy.cfg is valid" 0 "$(DT_PROXY_BIND=127.0.0.1:1 DT_API1=127.0.0.1:2 DT_API2=127.0.0.1:3 \
  haproxy -c -q -f "$SRC/docker/haproxy.cfg" >/dev/null 2>&1; echo $?)"

start_server "$DATA" --workers 0 --trust-proxy
API1_PID=$SERVER_PID API1_PORT=$PORT API1_LOG=$SERVER_LOG
start_server "$DATA" --workers 0 --trust-proxy
API2_PID=$SERVER_PID API2_PORT=$PORT API2_LOG=$SERVER_LOG
SERVER_PID=""
PIDS+=("$API1_PID" "$API2_PID")
[[ $API1_PORT != "$API2_PORT" ]] && ok || bad "both servers on one port"

pg_store_for "$DATA"
"$DT_BIN" worker --data-dir "$DATA" ${DB_ARGS[@]+"${DB_ARGS[@]}"} --workers 1 >"$WORK/worker.log" 2>&1 &
WPID=$!
PIDS+=("$WPID")

PPORT=$(free_port)
DT_PROXY_BIND=127.0.0.1:$PPORT DT_API1=127.0.0.1:$API1_PORT DT_API2=127.0.0.1:$API2_PORT \
  haproxy -db -f "$SRC/docker/haproxy.cfg" >"$WORK/haproxy.log" 2>&1 &
HPID=$!
PIDS+=("$HPID")
URL="http://127.0.0.1:$PPORT"
for _ in $(seq 1 100); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz") == 200 ]] && break
  kill -0 "$HPID" 2>/dev/null || { cat "$WORK/haproxy.log" >&2; echo "haproxy died" >&2; exit 1; }
  sleep 0.1
done
check "readyz through the proxy" ready "$(curl -s "$URL/readyz" | jq -r .status)"

upload_id() {
  local r; r=$(curl -s "$@" "$URL/api/dumps")
  [[ $r =~ \"id\":\"([0-9a-f]+)\" ]] && echo "${BASH_REMATCH[1]}"
}

ids=()
for f in node-minidump__windows lldb__sigsegv breakpad__minidump2 rizin__calc; do
  id=$(upload_id -F "user=@$D/user/$f.dmp")
  [[ -n $id ]] && ok || bad "upload of $f through the proxy not acknowledged"
  ids+=("$id")
done
n1=$(grep -c '"method":"POST","path":"/api/dumps"' "$API1_LOG" || true)
n2=$(grep -c '"method":"POST","path":"/api/dumps"' "$API2_LOG" || true)
(( n1 >= 1 && n2 >= 1 )) && ok || bad "uploads not spread over both servers (api1 $n1, api2 $n2)"
check "client address taken from X-Forwarded-For" 4 "$(cat "$API1_LOG" "$API2_LOG" | grep '"path":"/api/dumps"' | grep -c '"client":"127.0.0.1"')"
for id in "${ids[@]}"; do
  check "analysed ($id)" done "$(wait_done "$id" 90)"
done
check "the worker ran all four" 4 "$(grep -c '"result":"done"' "$WORK/worker.log")"
check "report through the proxy" true "$(curl -s "${AUTH[@]}" "$URL/api/dumps/${ids[0]}/report" | jq 'type == "object"')"

# One API server dies: the proxy keeps taking uploads.
kill -9 "$API1_PID"; wait "$API1_PID" 2>/dev/null || true
more=()
for f in syzygy__notepad-small-64bit symbolicator__windows; do
  code=$(curl -s -o "$WORK/up.json" -w '%{http_code}' -F "user=@$D/user/$f.dmp" "$URL/api/dumps")
  check "upload through the proxy with one server dead ($f)" 202 "$code"
  more+=("$(jq -r .id "$WORK/up.json")")
done
for id in "${more[@]}"; do
  check "analysed after the failover ($id)" done "$(wait_done "$id" 90)"
done
check "each upload has one job" 6 "$(store_sql "$DATA" "SELECT COUNT(*) FROM jobs")"
check "every job done" 6 "$(store_sql "$DATA" "SELECT COUNT(*) FROM jobs WHERE state = 'done'")"

kill -TERM "$WPID" "$API2_PID" "$HPID" 2>/dev/null || true
wait "$WPID" "$API2_PID" "$HPID" 2>/dev/null || true
PIDS=()
finish
