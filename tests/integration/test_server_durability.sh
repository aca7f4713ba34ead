#!/usr/bin/env bash
# Durability order of an upload (issue #22): the server under strace takes one
# upload, and the log must show, before the `HTTP/1.1 202` reply starts on the
# socket:
#   1. the spool file fsync'ed (the fd still names data/tmp/…),
#   2. then renamed to data/blobs/XX/<sha256 of what the client sent>,
#   3. then data/blobs/XX and data/blobs fsync'ed (the new name is durable),
#   4. then the commit of the row durable: on SQLite the database's WAL
#      fsync'ed/fdatasync'ed (synchronous=FULL); on PostgreSQL (under
#      DT_TEST_PG_SOCK, test_server_pg_ops.sh) the COMMIT answered by the
#      server (CommandComplete read back on the request's own thread; the
#      WAL flush is then PostgreSQL's, synchronous_commit=on),
# each call having returned 0 before the reply's first byte is written.  A
# `kill -9` after the 202 cannot lose the upload (bench/fault_kill.sh checks
# the same from the outside, byte for byte).
set -euo pipefail
source "$(dirname "$0")/server_lib.sh"
command -v strace >/dev/null || { echo "SKIP: strace not installed (scripts/bootstrap.sh --tests)"; exit 77; }
strace -qq -o /dev/null true 2>/dev/null || { echo "SKIP: ptrace not permitted here (container without CAP_SYS_PTRACE?)"; exit 77; }

DATA="$WORK/data"
TRACE="$WORK/strace.log"
LOG="$WORK/server.log"
STRACE_PID="" REAL_PID=""
stop_traced() {
  if [[ -n $REAL_PID ]]; then kill -TERM "$REAL_PID" 2>/dev/null || true; fi
  if [[ -n $STRACE_PID ]]; then wait "$STRACE_PID" 2>/dev/null || true; fi
  REAL_PID="" STRACE_PID=""
}
trap 'stop_traced; cleanup' EXIT

# serve is started by hand (under strace), so the store's arguments come from
# server_lib.sh's pg_store_for: none on SQLite, --database postgresql://…
# under DT_TEST_PG_SOCK.
pg_store_for "$DATA"
ENGINE=sqlite; [[ ${#DB_ARGS[@]} -gt 0 ]] && ENGINE=postgresql
strace -f -y -qq -s 64 -e trace=fsync,fdatasync,rename,renameat,renameat2,sendto,sendmsg,write,writev,recvfrom,recvmsg \
  -o "$TRACE" "$DT_BIN" serve --listen 127.0.0.1:0 --data-dir "$DATA" --admin-token "$ADMIN" --workers 1 \
  ${DB_ARGS[@]+"${DB_ARGS[@]}"} >"$LOG" 2>&1 &
STRACE_PID=$!
for _ in $(seq 1 200); do
  grep -q 'listening on' "$LOG" && break
  kill -0 "$STRACE_PID" 2>/dev/null || { cat "$LOG" >&2; echo "server died at start" >&2; exit 1; }
  sleep 0.1
done
REAL_PID=$(pgrep -P "$STRACE_PID" | head -1)
URL="http://127.0.0.1:$(grep -o 'listening on http://[^/]*' "$LOG" | sed 's/.*://')"

# Distinct content, so the blob is new (a known blob skips the rename).
f="$WORK/durable.dmp"
{ cat "$DT_TEST_DATA/user/lldb__sigsegv.dmp"; head -c 32 /dev/urandom; } >"$f"
sent=$(sha256sum "$f" | cut -d' ' -f1)
code=$(curl -s -o "$WORK/reply.json" -w '%{http_code}' -F "user=@$f" -F "note=durability" "$URL/api/dumps")
check "upload answered" 202 "$code"
id=$(jq -r .id "$WORK/reply.json")
key=$(jq -r .status_url "$WORK/reply.json" | sed -n 's/.*[?&]key=//p')
check "reply names the sent bytes' SHA-256" "$sent" "$(jq -r '.files[0].sha256' "$WORK/reply.json")"
check "download equals the sent bytes" "$sent" "$(curl -s "$URL/api/dumps/$id/files/user?key=$key" | sha256sum | cut -d' ' -f1)"
stop_traced

# Orders the log: each call's completion line (a blocking call is split into
# `<unfinished ...>` and `<... NAME resumed>`; it counts where it returned),
# and the line where the 202 reply's write starts.
result=$(python3 - "$TRACE" "$DATA" "$sent" "$ENGINE" <<'PY'
import re, sys
trace, data, sha, engine = sys.argv[1], sys.argv[2].rstrip('/'), sys.argv[3], sys.argv[4]
calls = []          # (name, args_text, start_line, end_line, ok, pid)
pending = {}        # pid -> (name, args, start)
for n, line in enumerate(open(trace, errors='replace'), 1):
    m = re.match(r'(\d+)\s+(.*)', line.rstrip('\n'))
    if not m:
        continue
    pid, rest = m.groups()
    if rest.startswith('<... '):
        r = re.match(r'<\.\.\. (\w+) resumed>(.*)', rest)
        if r and pid in pending:
            name, args, start = pending.pop(pid)
            calls.append((name, args + r.group(2), start, n, re.search(r'= 0\s*$', r.group(2)) is not None, pid))
        continue
    c = re.match(r'(\w+)\((.*)', rest)
    if not c:
        continue
    name, args = c.groups()
    if args.endswith('<unfinished ...>'):
        pending[pid] = (name, args[:-len('<unfinished ...>')], n)
    else:
        calls.append((name, args, n, n, re.search(r'= 0\s*$', args) is not None, pid))

def first(pred):
    found = [c for c in calls if pred(c)]
    return min(found, key=lambda c: c[3]) if found else None

blob = '%s/blobs/%s/%s' % (data, sha[:2], sha[2:])
reply = first(lambda c: c[0] in ('sendto', 'sendmsg', 'write', 'writev') and 'HTTP/1.1 202' in c[1])
ren = first(lambda c: c[0].startswith('rename') and blob in c[1])
out = {}
out['reply'] = reply[2] if reply else -1
out['rename'] = ren[3] if ren and ren[4] else -1
tmp = re.search(r'"([^"]*/tmp/[^"]*)"', ren[1]).group(1) if ren else None
def synced(path_pred, after):
    c = first(lambda c: c[0] in ('fsync', 'fdatasync') and c[4] and c[3] > after
              and (lambda m: m and path_pred(m.group(1)))(re.match(r'\d+<([^>]*)>', c[1])))
    return c[3] if c else -1
out['blob_fsync'] = synced(lambda p: tmp is not None and p == tmp, -1) if tmp else -1
out['dir_fsync'] = synced(lambda p: p == '%s/blobs/%s' % (data, sha[:2]), out['rename'])
out['blobs_fsync'] = synced(lambda p: p == '%s/blobs' % data, out['rename'])
if engine == 'postgresql':
    # libpq's COMMIT (a simple Query) answered with CommandComplete "COMMIT",
    # read on the thread that then writes the 202.
    rpid = reply[5] if reply else None
    c = first(lambda c: c[0] in ('recvfrom', 'recvmsg') and c[5] == rpid and c[3] > out['rename']
              and re.search(r'C\\0\\0\\0\\vCOMMIT\\0', c[1]) and re.search(r'= [1-9][0-9]*\s*$', c[1]))
    out['wal_fsync'] = c[3] if c else -1
else:
    out['wal_fsync'] = synced(lambda p: p.endswith('dumptriage.sqlite-wal'), out['rename'])
print(' '.join('%s=%d' % kv for kv in out.items()))
PY
)
echo "durability ($ENGINE): strace line numbers: $result"
declare -A at
for kv in $result; do at[${kv%%=*}]=${kv#*=}; done
order() { # description earlier later
  if (( $2 >= 0 && $3 >= 0 && $2 < $3 )); then ok; else bad "$1 (line $2, then line $3; -1 = not seen)"; fi
}
(( ${at[reply]} >= 0 )) && ok || bad "no HTTP/1.1 202 written on a socket in the trace"
order "spool file fsync'ed before its rename to the blob name" "${at[blob_fsync]}" "${at[rename]}"
order "blob renamed before the 202" "${at[rename]}" "${at[reply]}"
order "blob's directory fsync'ed (after the rename) before the 202" "${at[dir_fsync]}" "${at[reply]}"
order "data/blobs fsync'ed (after the rename) before the 202" "${at[blobs_fsync]}" "${at[reply]}"
if [[ $ENGINE == postgresql ]]; then
  order "PostgreSQL answered the COMMIT (after the rename) before the 202" "${at[wal_fsync]}" "${at[reply]}"
else
  order "database WAL synced (after the rename) before the 202" "${at[wal_fsync]}" "${at[reply]}"
fi
order "spool fsync'ed before the 202" "${at[blob_fsync]}" "${at[reply]}"
if (( FAILS > 0 )); then
  echo "durability: the trace (line: call):" >&2
  grep -n -E 'fsync|fdatasync|rename|HTTP/1\.1 [0-9]|COMMIT' "$TRACE" | head -60 >&2
fi
finish
