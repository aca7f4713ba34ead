#!/usr/bin/env bash
# test_server_pid1.sh — the server as PID 1, as it runs in the Docker image
# (ENTRYPOINT is the server itself).  Found by building and running the
# image: the analysis child took "my parent is PID 1" to mean "my parent
# died and I was reparented", so every analysis in a container failed with
# exit 125.  Here the server gets its own PID namespace (unshare, as root),
# where it is PID 1, and must analyze the paired case and exit on SIGTERM
# (what `docker stop` sends).
source "$(dirname "$0")/server_lib.sh"
if ! unshare --pid --fork --mount-proc true 2>/dev/null; then
  echo "SKIP: cannot create a PID namespace here (needs root); the Docker run in docs/operations.md covers it"
  exit 77 # ctest's SKIP_RETURN_CODE
fi
data=$WORK/data
log=$WORK/server.log
unshare --pid --fork --mount-proc "$DT_BIN" serve --listen 127.0.0.1:0 --data-dir "$data" \
  --admin-token "$ADMIN" --workers 2 >"$log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$log" && break; sleep 0.1; done
PORT=$(grep -o 'listening on http://[^/]*' "$log" | sed 's/.*://')
URL="http://127.0.0.1:$PORT"
# The server process inside the namespace: its pid there is 1.
inner=$(pgrep -f -- "--data-dir $data" | while read -r p; do
  [[ $(awk '/^NSpid/ {print $NF}' /proc/$p/status) == 1 ]] && echo "$p"; done | head -1)
check "the server is PID 1 in its namespace" 1 "$(awk '/^NSpid/ {print $NF}' /proc/${inner:-0}/status 2>/dev/null)"

paired=$DT_TEST_DATA/paired
out=$(curl -s -F "user=@$paired/hello_block.dmp.gz" -F "kernel=@$paired/hello_block.Kernel.dmp" "$URL/api/dumps")
id=$(jq -r .id <<<"$out")
check "paired case analyzed under PID 1" done "$(wait_done "$id" 120)"
check "its verdict" "blocked 3 min in a synchronous read" \
  "$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id" | jq -r .summary.verdict | cut -c1-35)"

# SIGTERM to PID 1 (what `docker stop` sends) drains and exits.
kill -TERM "$inner"
for _ in $(seq 1 100); do kill -0 "$inner" 2>/dev/null || break; sleep 0.1; done
check "PID 1 exits on SIGTERM" gone "$(kill -0 "$inner" 2>/dev/null && echo running || echo gone)"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""
finish
