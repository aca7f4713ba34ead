#!/usr/bin/env bash
# Acceptance (issue #20): the orphan-blob sweep runs at every start, also
# beside live processes.  A process that starts while another server runs
# removes an unreferenced blob older than the idle bound (instance.h) —
# the window of a blob placed just before its server was killed, before its
# row committed — and keeps a young unreferenced one (it may be an upload
# in flight) and an old one a file row names; alone, the young one goes
# too, but only on a store no other host reaches.  Runs on the SQLite file,
# and on PostgreSQL through test_server_orphan_sweep_pg.sh.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
OTHER=""
trap '[[ -n $OTHER ]] && kill -9 "$OTHER" 2>/dev/null; cleanup' EXIT

start_server "$DATA"
r=$(curl -s -F "user=@$D/user/breakpad__minidump2.dmp" "$URL/api/dumps")
[[ $r =~ \"id\":\"([0-9a-f]+)\" ]] && id=${BASH_REMATCH[1]} || { bad "upload refused: $r"; finish; }
check "the upload is analysed" done "$(wait_done "$id")"
kept=$(sha256sum "$D/user/breakpad__minidump2.dmp" | cut -c1-64)
check "its blob is stored" true "$([[ -f $DATA/blobs/${kept:0:2}/${kept:2} ]] && echo true || echo false)"

plant() { # CONTENT AGE → prints the sha of a blob file without a row
  local sha; sha=$(printf '%s' "$1" | sha256sum | cut -c1-64)
  mkdir -p "$DATA/blobs/${sha:0:2}"
  printf '%s' "$1" >"$DATA/blobs/${sha:0:2}/${sha:2}"
  touch -d "$2" "$DATA/blobs/${sha:0:2}/${sha:2}"
  echo "$sha"
}
blob_there() { [[ -f $DATA/blobs/${1:0:2}/${1:2} ]] && echo yes || echo no; }
old=$(plant "orphan of a killed server $RANDOM" "3 days ago")
young=$(plant "upload in flight $RANDOM" "2 minutes ago")
# Written "now" as the restart sees it, or a little after (a blob placed in
# the second of the restart, a shared filesystem's clock ahead of ours).
fresh=$(plant "placed in the second of the restart $RANDOM" "1 minute")
touch -d "3 days ago" "$DATA/blobs/${kept:0:2}/${kept:2}"

# A second server beside the live one: not alone, so only old orphans go.
OTHER=$SERVER_PID
OTHER_URL=$URL
start_server "$DATA"
check "the second server did not start alone (the first still runs)" true \
  "$(kill -0 "$OTHER" 2>/dev/null && echo true || echo false)"
check "old unreferenced blob removed beside a live server" no "$(blob_there "$old")"
check "young unreferenced blob kept" yes "$(blob_there "$young")"
check "old referenced blob kept" yes "$(blob_there "$kept")"
check "the start-up line counts the one removed" 1 \
  "$(sed -nE 's/.*, ([0-9]+) unreferenced blobs removed.*/\1/p' "$SERVER_LOG" | head -1)"
check "the first server still serves the upload's file" 200 \
  "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$OTHER_URL/api/dumps/$id/files/user")"
stop_server
SERVER_PID=$OTHER
stop_server
OTHER=""

# Alone on a SQLite file, every unreferenced blob is an orphan of a dead
# process.  On PostgreSQL no start is alone, whatever this host's lock
# says: a server on another host may have placed the blob and be about to
# commit its row, so the young one stays until it is older than the bound.
start_server "$DATA"
if [[ -n ${DT_TEST_PG_SOCK:-} ]]; then
  check "shared store: the young orphan is kept even with no other server here" yes "$(blob_there "$young")"
  stop_server
  touch -d "3 days ago" "$DATA/blobs/${young:0:2}/${young:2}"
  start_server "$DATA"
  check "shared store: removed once older than the bound" no "$(blob_there "$young")"
else
  check "alone: the young orphan is removed too" no "$(blob_there "$young")"
  check "alone: one written in the second of the start (or later) too" no "$(blob_there "$fresh")"
fi
check "alone: the referenced blob is kept" yes "$(blob_there "$kept")"
stop_server
finish
