#!/usr/bin/env bash
# test_server_pg_restart.sh — PostgreSQL restarted under a running server:
# `serve --database postgresql://…` keeps serving.  While the database is
# down an upload is refused (503, nothing half-stored) and /readyz says not
# ready; once it is back the API answers on new connections, the workers'
# long-lived connections are reset before their next statement (and LISTEN
# again), and an upload made after the restart is analysed.
source "$(dirname "$0")/server_lib.sh"
source "$(dirname "$0")/pg_lib.sh"
trap 'cleanup; pg_stop' EXIT
pg_start
export DT_TEST_PG_SOCK=$PG_SOCK DT_TEST_PG_BIN=$PG_BINDIR
D=$DT_TEST_DATA
start_server "$WORK/data"
S=(-H "Authorization: Bearer $ADMIN")

r=$(curl -s -F "user=@$D/user/lldb__sigsegv.dmp" "$URL/api/dumps")
U1=$(jq -r .id <<<"$r")
check "before: analysed" done "$(wait_done "$U1")"

pg_stop_server
code=$(curl -s -o "$WORK/down.json" -w '%{http_code}' -F "user=@$D/user/breakpad__minidump2.dmp" "$URL/api/dumps")
check "upload while the database is down: refused" yes "$([[ $code == 5* ]] && echo yes || echo "no ($code)")"
check "readyz while down" 503 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")"
sleep 2 # the idle workers meet the dead connection
pg_restart_server

check "readyz after the restart" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")"
check "the upload before the restart is still there" done "$(curl -s "${S[@]}" "$URL/api/dumps/$U1" | jq -r .status)"
r=$(curl -s -F "user=@$D/user/breakpad__minidump2.dmp" "$URL/api/dumps")
U2=$(jq -r .id <<<"$r")
check "after: accepted" queued "$(jq -r .status <<<"$r")"
check "after: analysed by the same workers" done "$(wait_done "$U2" 30)"
check "the refused upload left no row" 2 "$(pg_psql "$(sed 's/.*\/\([^?]*\)?.*/\1/' <<<"${DB_ARGS[1]}")" "SELECT COUNT(*) FROM uploads")"
kill -0 "$SERVER_PID" && ok || bad "the server died"
stop_server
finish
