#!/usr/bin/env bash
# Acceptance (#18): the command-line uploader `dumptriage upload` against a
# real server: a user + kernel dump as one case (compressed chunks), the
# triage URL and --wait's verdict; an uploader killed mid-way and run again
# continues from its state file; a server killed -9 mid-way while the
# uploader pauses and resumes; every documented exit code.
source "$(dirname "$0")/server_lib.sh"
D="$DT_TEST_DATA"
DATA="$WORK/data"
UP="$(dirname "$DT_BIN")/dumptriage-upload"
export DT_UPLOAD_STATE_DIR="$WORK/state"
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
serve() { start_server "$DATA" --listen "127.0.0.1:$P" --test-hooks --drain-grace 1 "$@"; }
gunzip -c "$D/paired/hello_block.dmp.gz" >"$WORK/user.dmp"
K="$D/paired/hello_block.Kernel.dmp"
sha() { sha256sum "$1" | cut -c1-64; }
upload_of() { # triage URL → upload JSON
  local id=${1##*/triage/}; id=${id%%\?*}
  curl -s "${AUTH[@]}" "$URL/api/dumps/$id"
}

serve
# --- The analyzer binary stays lean; `dumptriage upload` execs the uploader.
ldd "$DT_BIN" | grep -q libcurl && bad "dumptriage links libcurl" || ok
"$DT_BIN" upload --help >"$WORK/help" && ok || bad "dumptriage upload --help"
grep -q -- "--wait" "$WORK/help" && ok || bad "help lists --wait"

# --- One case: user + kernel dump, --wait prints the verdict.
rc=0; "$DT_BIN" upload --server "$URL" --note "from the cli" --case CASE-9 --customer ACME --wait \
  "$WORK/user.dmp" "$K" >"$WORK/out" 2>"$WORK/err" || rc=$?
check "upload + wait: exit 0" 0 $rc
url=$(head -1 "$WORK/out")
[[ $url == "$URL/triage/"*"?key="* ]] && ok || bad "prints the triage URL ('$url')"
check "verdict printed" 1 "$(grep -c '^verdict: blocked' "$WORK/out")"
check "status printed" "status: done" "$(grep '^status:' "$WORK/out")"
j=$(upload_of "$url")
check "both files in one upload" "kernel,user" "$(jq -r '[.files[].role] | sort | join(",")' <<<"$j")"
check "user dump SHA-256 (sent compressed)" "$(sha "$WORK/user.dmp")" "$(jq -r '.files[] | select(.role=="user") | .sha256' <<<"$j")"
check "kernel dump SHA-256" "$(sha "$K")" "$(jq -r '.files[] | select(.role=="kernel") | .sha256' <<<"$j")"
check "note" "from the cli" "$(jq -r .note <<<"$j")"
check "case" CASE-9 "$(jq -r .case_id <<<"$j")"
check "customer" ACME "$(jq -r .customer <<<"$j")"
grep -q "ratio" "$WORK/err" && ok || bad "progress shows the compression ratio"
grep -q "progress: 100%" "$WORK/err" && ok || bad "plain progress lines when not a terminal"
check "state file removed after success" 0 "$(find "$WORK/state" -type f | wc -l)"

# --- Interrupted uploader, run again: continues from the state file.
{ cat "$WORK/user.dmp"; head -c $((6 << 20)) /dev/urandom; } >"$WORK/big.dmp"
"$UP" upload --server "$URL" --chunk 1 --limit-rate 1500000 "$WORK/big.dmp" >/dev/null 2>&1 &
up=$!
sleep 3
kill -9 "$up"; wait "$up" 2>/dev/null || true
check "state file kept" 1 "$(find "$WORK/state" -type f -name '*.state' | wc -l)"
loc=$(awk '$1=="file"{print $3}' "$WORK"/state/*.state)
off=$(curl -s -I -H "Tus-Resumable: 1.0.0" "$URL$loc" | tr -d '\r' | awk 'tolower($1)=="upload-offset:"{print $2}')
((off > 0 && off < $(stat -c %s "$WORK/big.dmp"))) && ok || bad "interrupted: part stored (offset '$off')"
rc=0; "$UP" upload --server "$URL" --chunk 1 "$WORK/big.dmp" >"$WORK/out" 2>"$WORK/err" || rc=$?
check "resumed run: exit 0" 0 $rc
grep -q "resuming an interrupted upload" "$WORK/err" && ok || bad "resumed run says it resumes"
first=$(grep -m1 '^progress:' "$WORK/err" | grep -o '[0-9.]* [KMG]iB of' | head -1)
[[ $first != "0 B of" ]] && ok || bad "resumed run starts past 0 ($first)"
check "resumed upload: SHA-256" "$(sha "$WORK/big.dmp")" "$(upload_of "$(head -1 "$WORK/out")" | jq -r '.files[0].sha256')"

# --- Server killed -9 while the uploader sends: it pauses, then finishes.
{ cat "$WORK/user.dmp"; head -c $((6 << 20)) /dev/urandom; } >"$WORK/big2.dmp"
"$UP" upload --server "$URL" --chunk 1 --limit-rate 1500000 "$WORK/big2.dmp" >"$WORK/out" 2>"$WORK/err" &
up=$!
sleep 2
kill9_server
sleep 2
serve
rc=0; wait "$up" || rc=$?
check "through a server kill: exit 0" 0 $rc
grep -q "paused — will resume" "$WORK/err" && ok || bad "says paused — will resume"
check "through a server kill: SHA-256" "$(sha "$WORK/big2.dmp")" "$(upload_of "$(head -1 "$WORK/out")" | jq -r '.files[0].sha256')"

# --- Exit codes.
rc=0; "$UP" upload >/dev/null 2>&1 || rc=$?; check "no file: exit 2" 2 $rc
rc=0; "$UP" upload --bogus x "$WORK/user.dmp" >/dev/null 2>&1 || rc=$?; check "unknown option: exit 2" 2 $rc
rc=0; "$UP" upload --server "$URL" "$WORK/missing.dmp" >/dev/null 2>&1 || rc=$?; check "missing file: exit 3" 3 $rc
head -c 100000 /dev/urandom >"$WORK/noise.bin"
rc=0; "$UP" upload --server "$URL" "$WORK/noise.bin" >/dev/null 2>"$WORK/err" || rc=$?; check "not a dump: exit 4" 4 $rc
grep -q "415" "$WORK/err" && ok || bad "refusal names the status"
rc=0; "$UP" upload --server "http://127.0.0.1:1" --give-up 2 "$WORK/user.dmp" >/dev/null 2>&1 || rc=$?; check "unreachable: exit 5" 5 $rc
cp "$D/user/lldb__sigsegv.dmp" "$WORK/crash.dmp"
rc=0; "$UP" upload --server "$URL" --note "DT_TEST_HOOK=crash" --wait "$WORK/crash.dmp" >"$WORK/out" 2>/dev/null || rc=$?
check "failed analysis with --wait: exit 6" 6 $rc
grep -q "^error: crash" "$WORK/out" && ok || bad "failed analysis prints its error"
cp "$D/user/rizin__calc.dmp" "$WORK/hang.dmp"
rc=0; "$UP" upload --server "$URL" --note "DT_TEST_HOOK=hang" --wait --wait-timeout 3 "$WORK/hang.dmp" >/dev/null 2>&1 || rc=$?
check "--wait timed out: exit 7" 7 $rc
stop_server

# --- Token mode: refused without a token, accepted with $DUMPTRIAGE_TOKEN.
rm -rf "$DATA"
serve --upload-auth token
rc=0; "$UP" upload --server "$URL" "$WORK/user.dmp" >/dev/null 2>&1 || rc=$?; check "token mode, no token: exit 4" 4 $rc
rc=0; DUMPTRIAGE_TOKEN=$ADMIN "$UP" upload --server "$URL" "$WORK/user.dmp" >/dev/null 2>&1 || rc=$?
check "token from the environment: exit 0" 0 $rc
stop_server
finish
