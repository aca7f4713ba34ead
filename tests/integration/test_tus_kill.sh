#!/usr/bin/env bash
# Acceptance (#18): kill -9 of the server at random moments during 20
# resumable uploads (half raw chunks, half gzip-member chunks) — after each
# restart every client resumes from HEAD; HEAD never reports less than a
# PATCH acknowledged (tus_client.py exits 6 then); all 20 complete and the
# stored files have the right SHA-256.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
CLIENT="$(dirname "$0")/tus_client.py"
N=20
KILLS=${DT_TUS_KILLS:-6}

# A fixed port, so the clients find the restarted server at the same URL.
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# The per-client limit on unfinished uploads (default 16) is not under test
# here: 20 clients start at once, and a creation whose 201 a kill swallowed
# still counts until it expires.
serve() { start_server "$DATA" --listen "127.0.0.1:$P" --workers 1 --tus-max-uploads 64; }

# 20 distinct dumps: a real minidump followed by 1-4 MiB of random bytes
# (the minimum dump check passes; the hash tells each apart).
dumps=("$D"/user/*.dmp)
for i in $(seq 1 $N); do
  src=${dumps[$((i % ${#dumps[@]}))]}
  { cat "$src"; head -c $(((1 + RANDOM % 4) << 20)) /dev/urandom; } >"$WORK/f$i.dmp"
done

serve
check "fixed port" "$P" "$PORT"
pids=()
for i in $(seq 1 $N); do
  gz=(); ((i % 2)) && gz=(--gzip)
  python3 "$CLIENT" "$URL" "$WORK/f$i.dmp" --chunk $((128 << 10)) "${gz[@]}" --deadline 300 \
    >"$WORK/out$i" 2>"$WORK/err$i" &
  pids+=($!)
done

running() { local n=0; for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && n=$((n + 1)); done; echo $n; }
mid_kills=0
for k in $(seq 1 "$KILLS"); do
  sleep "0.$((2 + RANDOM % 8))"
  (($(running) > 0)) && mid_kills=$((mid_kills + 1))
  kill9_server
  serve
done
((mid_kills >= 3)) && ok || bad "only $mid_kills kills came while uploads were running"

for i in $(seq 1 $N); do
  if wait "${pids[$((i - 1))]}"; then ok; else bad "client $i: exit $? ($(tail -2 "$WORK/err$i"))"; fi
done
for i in $(seq 1 $N); do
  id=$(jq -r .upload_id "$WORK/out$i" 2>/dev/null)
  want=$(sha256sum "$WORK/f$i.dmp" | cut -c1-64)
  got=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id" | jq -r '.files[0].sha256')
  check "upload $i: stored SHA-256" "$want" "$got"
  check "upload $i: blob content" "$want" "$(sha256sum "$DATA/blobs/${want:0:2}/${want:2}" 2>/dev/null | cut -c1-64)"
done
check "20 uploads, one each" $N "$(store_sql "$DATA" "SELECT COUNT(*) FROM uploads")"
# A creation whose 201 was lost in a kill leaves an empty resource the client
# never learnt of (it created another); it expires.  Nothing with bytes stays.
check "no tus file with bytes left" 0 "$(find "$DATA/tus" -type f -size +0 | wc -l)"
check "every tus row with bytes finished" 0 "$(store_sql "$DATA" "SELECT COUNT(*) FROM tus_uploads WHERE state != 'finished' AND \"offset\" > 0")"
echo "kills while uploading: $mid_kills of $KILLS"
stop_server
finish
