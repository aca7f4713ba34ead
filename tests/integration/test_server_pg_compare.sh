#!/usr/bin/env bash
# test_server_pg_compare.sh — the same API behaviour byte for byte on both
# stores: one scenario (tokens, uploads by three principals, a reused
# upload, list filters and text search of every kind, cursor pages, the
# report and a thread row, signatures and a signature's days, the workflow
# and comments, a reanalysis, a deletion, token revocation, a login) runs
# against `serve` on its SQLite file and against `serve --database
# postgresql://…` on a real PostgreSQL started here (pg_lib.sh).  Every
# response body is recorded with its status; what differs between any two
# runs whatever the store (upload ids, view keys, secrets, clock times,
# analysis durations) is replaced by stable names in order of appearance;
# the two transcripts must then be identical.
source "$(dirname "$0")/server_lib.sh"
source "$(dirname "$0")/pg_lib.sh"
trap 'cleanup; pg_stop' EXIT
pg_start
export DT_TEST_PG_BIN=$PG_BINDIR
D=$DT_TEST_DATA
gunzip -c "$D/paired/hello_block.dmp.gz" >"$WORK/hello_block.dmp"

# rec NAME METHOD PATH [curl args…] — records "NAME STATUS BODY" and keeps
# the body in $BODY.
rec() {
  local name=$1 m=$2 p=$3; shift 3
  local code
  code=$(curl -s -o "$WORK/body" -w '%{http_code}' -X "$m" "$@" "$URL$p")
  BODY=$(cat "$WORK/body")
  printf '== %s %s\n%s\n' "$name" "$code" "$BODY" >>"$OUT"
}

# rec_code NAME METHOD PATH [curl args…] — records only the status: the
# body of a 202 reanalysis races the worker that takes the job at once
# (queued or analyzing), whatever the store.
rec_code() {
  local name=$1 m=$2 p=$3; shift 3
  printf '== %s %s\n\n' "$name" "$(curl -s -o /dev/null -w '%{http_code}' -X "$m" "$@" "$URL$p")" >>"$OUT"
}

scenario() { # OUT [pg]
  OUT=$1; : >"$OUT"
  if [[ ${2:-} == pg ]]; then export DT_TEST_PG_SOCK=$PG_SOCK; else unset DT_TEST_PG_SOCK; fi
  # The same data directory for both runs: reports name the stored files.
  rm -rf "$WORK/data"
  start_server "$WORK/data"
  local S=(-H "Authorization: Bearer $ADMIN") J=(-H 'Content-Type: application/json')
  rec token-alice POST /api/tokens "${S[@]}" "${J[@]}" -d '{"role":"uploader","name":"alice"}'
  local A=(-H "Authorization: Bearer $(jq -r .token <<<"$BODY")")
  rec token-bob POST /api/tokens "${S[@]}" "${J[@]}" -d '{"role":"uploader","name":"bob"}'
  local B=(-H "Authorization: Bearer $(jq -r .token <<<"$BODY")")
  # One upload at a time, each analysed before the next: the same order of
  # sequence numbers on both stores.
  rec up-pair POST /api/dumps "${A[@]}" -F "user=@$WORK/hello_block.dmp" -F "kernel=@$D/paired/hello_block.Kernel.dmp" \
    -F "note=Contoso Ltd: stuck after login" -F "case_id=CASE-7" -F "customer=Contoso"
  local U1; U1=$(jq -r .id <<<"$BODY"); wait_done "$U1" >/dev/null
  rec up-anon POST /api/dumps -F "user=@$D/user/lldb__sigsegv.dmp" -F "note=print dialog, 100% CPU"
  local U2; U2=$(jq -r .id <<<"$BODY"); wait_done "$U2" >/dev/null
  rec up-bob POST /api/dumps "${B[@]}" -F "user=@$D/user/breakpad__minidump2.dmp" -F "case_id=SR-1"
  local U3; U3=$(jq -r .id <<<"$BODY"); wait_done "$U3" >/dev/null
  rec up-reused POST /api/dumps "${B[@]}" --data-binary "@$D/user/lldb__sigsegv.dmp"
  local U4; U4=$(jq -r .id <<<"$BODY")
  local u
  for u in "$U1" "$U2" "$U3" "$U4"; do rec "get-$u" GET "/api/dumps/$u" "${S[@]}"; done
  rec report GET "/api/dumps/$U1/report" "${S[@]}"
  local tid; tid=$(jq -r '.user.threads[0].thread_id // empty' <<<"$BODY")
  [[ -n $tid ]] && rec thread GET "/api/dumps/$U1/threads/$tid" "${S[@]}"
  rec list GET /api/dumps "${S[@]}"
  rec list-alice GET /api/dumps "${A[@]}"
  rec list-bob GET /api/dumps "${B[@]}"
  rec page1 GET "/api/dumps?limit=2" "${S[@]}"
  rec page2 GET "/api/dumps?limit=2&cursor=$(jq -r .next_cursor <<<"$BODY")" "${S[@]}"
  local q
  for q in contoso CONTOSO "ntoso L" "se-7" -7 "100%" "100%_" "%" hello_block dmp "a%22b" "$U2" nothing; do
    rec "q=$q" GET "/api/dumps?q=$(jq -rn --arg v "$q" '$v|@uri')" "${S[@]}"
  done
  rec status-done GET "/api/dumps?status=done" "${S[@]}"
  rec process GET "/api/dumps?process=$(jq -rn --arg v "$(jq -r '.summary.process // ""' <(curl -s "${S[@]}" "$URL/api/dumps/$U1"))" '$v|@uri')" "${S[@]}"
  rec signatures GET /api/signatures "${S[@]}"
  rec signatures-alice GET /api/signatures "${A[@]}"
  local sig; sig=$(jq -r '.items[0].signature // ""' <<<"$BODY")
  rec sig-detail GET "/api/signatures/detail?signature=$(jq -rn --arg v "$sig" '$v|@uri')" "${S[@]}"
  rec sig-list GET "/api/dumps?signature=$(jq -rn --arg v "$sig" '$v|@uri')" "${S[@]}"
  rec wf-get GET "/api/dumps/$U1/workflow" "${S[@]}"
  rec wf-patch PATCH "/api/dumps/$U1/workflow" "${S[@]}" "${J[@]}" -d '{"state":"investigating","assignee":"Dana","ticket":"SR-4711"}'
  rec wf-patch2 PATCH "/api/dumps/$U1/workflow" "${S[@]}" "${J[@]}" -d '{"assignee":null}'
  rec wf-patch3 PATCH "/api/dumps/$U2/workflow" "${S[@]}" "${J[@]}" -d '{"assignee":"dana"}'
  rec wf-bad PATCH "/api/dumps/$U1/workflow" "${S[@]}" "${J[@]}" -d '{"state":"bogus"}'
  rec comment POST "/api/dumps/$U1/comments" "${S[@]}" "${J[@]}" -d '{"text":"seen at Contoso too"}'
  rec comment2 POST "/api/dumps/$U1/comments" "${S[@]}" "${J[@]}" -d '{"text":"second"}'
  rec comments GET "/api/dumps/$U1/comments" "${S[@]}"
  rec state-new GET "/api/dumps?state=new" "${S[@]}"
  rec state-inv GET "/api/dumps?state=investigating" "${S[@]}"
  rec assignee GET "/api/dumps?assignee=DANA" "${S[@]}"
  rec_code reanalyze POST "/api/dumps/$U3/reanalyze" "${S[@]}"
  wait_done "$U3" >/dev/null
  rec after-reanalyze GET "/api/dumps/$U3" "${S[@]}"
  rec delete DELETE "/api/dumps/$U4" "${S[@]}"
  rec deleted GET "/api/dumps/$U4" "${S[@]}"
  rec tokens GET /api/tokens "${S[@]}"
  rec revoke DELETE /api/tokens/3 "${S[@]}"
  rec revoked-use GET /api/dumps "${B[@]}"
  rec revoke-missing DELETE /api/tokens/99 "${S[@]}"
  rec login POST /api/login "${J[@]}" -d "{\"token\":\"$ADMIN\"}"
  rec me GET /api/me "${S[@]}"
  rec final-list GET /api/dumps "${S[@]}"
  stop_server
}

# Stable names for what differs between any two runs.
normalize() {
  python3 - "$1" <<'PY'
import json, re, sys
names = {}
def name(kind, v):
    key = (kind, v)
    if key not in names:
        names[key] = "<%s%d>" % (kind, sum(1 for k in names if k[0] == kind) + 1)
    return names[key]
def scrub_text(s):
    s = re.sub(r"\b[0-9a-f]{48}\b", lambda m: name("key", m.group(0)), s)
    s = re.sub(r"\b[0-9a-f]{24}\b", lambda m: name("id", m.group(0)), s)
    s = re.sub(r"dt_[0-9a-f]{48}", "<secret>", s)
    s = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", s)
    s = re.sub(r"\b\d{4}-\d\d-\d\d\b", "<day>", s)
    return s
def walk(v, k=""):
    if isinstance(v, dict):
        return {kk: walk(x, kk) for kk, x in v.items()}
    if isinstance(v, list):
        return [walk(x) for x in v]
    if isinstance(v, str):
        return scrub_text(v)
    if isinstance(v, (int, float)) and re.search(r"(time|duration|elapsed|_ms$|cpu)", k):
        return "<n>"
    return v
out = []
for block in open(sys.argv[1]).read().split("== ")[1:]:
    head, _, body = block.partition("\n")
    body = body.rstrip("\n")
    try:
        body = json.dumps(walk(json.loads(body)), sort_keys=True)
    except ValueError:
        body = scrub_text(body)
    out.append("== %s\n%s" % (scrub_text(head), body))
print("\n".join(out))
PY
}

scenario "$WORK/sqlite.txt"
scenario "$WORK/pg.txt" pg
normalize "$WORK/sqlite.txt" >"$WORK/sqlite.norm"
normalize "$WORK/pg.txt" >"$WORK/pg.norm"
nresp=$(grep -c '^== ' "$WORK/sqlite.norm")
if diff -u "$WORK/sqlite.norm" "$WORK/pg.norm" >"$WORK/diff"; then ok; else bad "the stores answer differently:"; head -40 "$WORK/diff" | cut -c1-400 >&2; fi
check "responses recorded" yes "$([[ $nresp -ge 55 ]] && echo yes || echo "no ($nresp)")"
check "uploads in PostgreSQL" 3 "$(pg_psql "$(sed 's/.*\/\([^?]*\)?.*/\1/' <<<"${DB_ARGS[1]}")" "SELECT COUNT(*) FROM uploads")"
# The scenario exercised what it meant to (on PostgreSQL's transcript).
items() { awk -v n="== $1 200" 'f { print; exit } $0 == n { f = 1 }' "$WORK/pg.txt" | jq '.items | length'; }
check "q=contoso finds the pair" 1 "$(items q=contoso)"
check "q=ntoso L (across a word)" 1 "$(items "q=ntoso L")"
check "q=-7 (short: LIKE)" 1 "$(items q=-7)"
check "q=100%_ finds nothing" 0 "$(items q=100%_)"
check "assignee=DANA (case-insensitive)" 1 "$(items assignee)"
check "state=investigating" 1 "$(items state-inv)"
check "alice sees her own only" 1 "$(items list-alice)"
echo "$nresp responses compared byte for byte (after naming ids, keys, times)"
finish
