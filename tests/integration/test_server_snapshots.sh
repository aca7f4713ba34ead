#!/usr/bin/env bash
# test_server_snapshots.sh — several dumps of one hang sent apart (issue #16,
# docs/api.md): POST /api/dumps/{id}/snapshots adds later snapshots to an
# upload, which is analysed again as a series; only its uploader token (or
# staff) may add them, at most 8 user dumps, none while it is analysed, none
# to an archive upload.  An archive holding the series is a series too.
# Kernel parts pair with user parts by name, also past the third file of an
# upload (the server once read only three file rows per upload, so a
# kernel part sent fourth was left out).  Every report names the files as
# they were uploaded (inputs, series.snapshots[].file/kernel_file), never by
# a path on the server (blobs, DATA/tmp links and inflated copies).
source "$(dirname "$0")/server_lib.sh"
S=$DT_TEST_DATA/wine/series
command -v jq >/dev/null || { echo "jq missing" >&2; exit 77; }
start_server "$WORK/data" --symbols "$S/bin"
STAFF=(-H "Authorization: Bearer $ADMIN")
mk_token() { curl -s "${STAFF[@]}" -H 'Content-Type: application/json' -d "{\"role\":\"uploader\",\"name\":\"$1\"}" "$URL/api/tokens" | jq -r .token; }
ALICE=(-H "Authorization: Bearer $(mk_token alice)")
BOB=(-H "Authorization: Bearer $(mk_token bob)")
code() { curl -s -o "$WORK/last.json" -w '%{http_code}' "$@"; }

# 1. The first snapshot alone, then the two later ones, one request each.
out=$(curl -s "${ALICE[@]}" -F "user=@$S/series_hang.1.dmp.gz" "$URL/api/dumps")
id=$(jq -r .id <<<"$out")
key=$(jq -r .status_url <<<"$out" | sed 's/.*key=//')
check "first snapshot analysed" "done" "$(wait_done "$id" 120)"
r=$(curl -s "${STAFF[@]}" "$URL/api/dumps/$id/report")
check "no series yet" "null" "$(jq -c .series <<<"$r")"
# The report names the file as uploaded, never the server's copy of it.
check "input named as uploaded" "series_hang.1.dmp.gz" "$(jq -r .inputs.user <<<"$r")"
no_server_paths() { # LABEL REPORT: no path of the server's data directory anywhere in it
  local hits
  hits=$(grep -o -E "$WORK/data[^\"]*|/blobs/[^\"]*|/tmp/(series|inflated)-[^\"]*" <<<"$2" | sort -u | head -3 || true)
  check "$1: no server paths" "" "$hits"
}
no_server_paths "single report" "$r"
check "symbol paths not shown" '["<symbols 1>"]' "$(jq -c .inputs.symbols <<<"$r")"
# Another uploader sends the same dump under another name: the analysis is
# reused, and the report names the file as that uploader did, never as the
# first one did.
out=$(curl -s "${BOB[@]}" -F "user=@$S/series_hang.1.dmp.gz;filename=bob-copy.dmp.gz" "$URL/api/dumps")
bid=$(jq -r .id <<<"$out")
check "same dump from bob: reused" "true" "$(jq -r .reused <<<"$out")"
rb=$(curl -s "${BOB[@]}" "$URL/api/dumps/$bid/report")
check "reused report names bob's file" "bob-copy.dmp.gz" "$(jq -r .inputs.user <<<"$rb")"
check "reused report: alice's name nowhere" 0 "$(grep -c 'series_hang.1.dmp.gz' <<<"$rb" || true)"
check "alice's report unchanged" "series_hang.1.dmp.gz" \
      "$(curl -s "${ALICE[@]}" "$URL/api/dumps/$id/report" | jq -r .inputs.user)"

# Who may add: not another uploader (404, as for any upload it cannot see),
# not the view key (read-only: 403), not anonymous (401).
check "other uploader: 404" 404 "$(code "${BOB[@]}" -F "user=@$S/series_hang.2.dmp.gz" "$URL/api/dumps/$id/snapshots")"
check "view key: 403" 403 "$(code -F "user=@$S/series_hang.2.dmp.gz" "$URL/api/dumps/$id/snapshots?key=$key")"
check "anonymous: 401" 401 "$(code -F "user=@$S/series_hang.2.dmp.gz" "$URL/api/dumps/$id/snapshots")"
check "GET: 405" 405 "$(code "${ALICE[@]}" "$URL/api/dumps/$id/snapshots")"
check "no user dump: 400" 400 "$(code "${ALICE[@]}" -F "kernel=@$DT_TEST_DATA/paired/hello_block.Kernel.dmp" "$URL/api/dumps/$id/snapshots")"

check "owner adds snapshot 2" 202 "$(code "${ALICE[@]}" -F "user=@$S/series_hang.2.dmp.gz" "$URL/api/dumps/$id/snapshots")"
check "requeued" "queued analyzing" "$(jq -r '[.status] | map(select(. == "queued" or . == "analyzing")) | length | if . == 1 then "queued analyzing" else "no" end' "$WORK/last.json")"
check "two user files" 2 "$(jq '[.files[] | select(.role=="user")] | length' "$WORK/last.json")"
check "two snapshots analysed" "done" "$(wait_done "$id" 180)"
check "staff adds snapshot 3" 202 "$(code "${STAFF[@]}" -F "user=@$S/series_hang.3.dmp.gz" "$URL/api/dumps/$id/snapshots")"
check "series analysed" "done" "$(wait_done "$id" 180)"
r=$(curl -s "${ALICE[@]}" "$URL/api/dumps/$id/report")
check "three snapshots compared" 3 "$(jq .series.compared <<<"$r")"
check "in time order" "0 10 24" "$(jq -r '[.series.snapshots[].seconds] | map(tostring) | join(" ")' <<<"$r")"
check "spinner" "spinning" "$(jq -r '.series.threads[] | select(.thread_name=="spinner") | .state' <<<"$r")"
check "snapshots named as uploaded" "series_hang.1.dmp.gz series_hang.2.dmp.gz series_hang.3.dmp.gz" \
  "$(jq -r '[.series.snapshots[].file] | join(" ")' <<<"$r")"
check "newest input named as uploaded" "series_hang.3.dmp.gz" "$(jq -r .inputs.user <<<"$r")"
no_server_paths "series report" "$r"
s=$(curl -s "${ALICE[@]}" "$URL/api/dumps/$id")
check "summary from the series" "deadlock|critical_section|series_hang!df_lock_second" "$(jq -r .summary.signature <<<"$s")"

# Limits: 3 + 6 user dumps is over 8; nothing of the refused body is kept.
blobs=$(find "$WORK/data" -path '*blobs*' -type f | wc -l)
args=(); for i in 1 2 3 4 5 6; do args+=(-F "user=@$S/series_hang.$((i % 3 + 1)).dmp.gz;filename=x$i.dmp.gz"); done
check "over 8 user dumps: 400" 400 "$(code "${ALICE[@]}" "${args[@]}" "$URL/api/dumps/$id/snapshots")"
grep -q "at most 8" "$WORK/last.json" || bad "refusal names the limit: $(cat "$WORK/last.json")"
check "refused blobs dropped" "$blobs" "$(find "$WORK/data" -path '*blobs*' -type f | wc -l)"

# 2. An archive holding the series (tar.gz of the three dumps): one series.
mkdir -p "$WORK/arch"
for i in 1 2 3; do gzip -dc "$S/series_hang.$i.dmp.gz" >"$WORK/arch/series_hang.$i.dmp"; done
tar -C "$WORK/arch" -czf "$WORK/series.tar.gz" series_hang.3.dmp series_hang.1.dmp series_hang.2.dmp
out=$(curl -s "${ALICE[@]}" -F "archive=@$WORK/series.tar.gz" "$URL/api/dumps")
aid=$(jq -r .id <<<"$out")
check "archive series analysed" "done" "$(wait_done "$aid" 180)"
r=$(curl -s "${ALICE[@]}" "$URL/api/dumps/$aid/report")
check "archive: three snapshots" 3 "$(jq .series.compared <<<"$r")"
check "archive: time order" "0 10 24" "$(jq -r '[.series.snapshots[].seconds] | map(tostring) | join(" ")' <<<"$r")"
check "archive: snapshots named as in the archive" "series_hang.1.dmp series_hang.2.dmp series_hang.3.dmp" \
  "$(jq -r '[.series.snapshots[].file] | join(" ")' <<<"$r")"
no_server_paths "archive series report" "$r"
check "archive upload takes no snapshots" 409 "$(code "${ALICE[@]}" -F "user=@$S/series_hang.2.dmp.gz" "$URL/api/dumps/$aid/snapshots")"
check "archive reanalysed is still a series" 202 "$(code "${STAFF[@]}" -X POST "$URL/api/dumps/$aid/reanalyze")"
check "archive reanalysis done" "done" "$(wait_done "$aid" 180)"
check "archive reanalysis: three snapshots" 3 "$(curl -s "${ALICE[@]}" "$URL/api/dumps/$aid/report" | jq .series.compared)"

# 3. Kernel parts paired by name, sent fourth and third in reverse order:
#    a.dmp ↔ a.Kernel.dmp (of its process), b.dmp ↔ b.Kernel.dmp (of
#    another image).  By upload order a.dmp would get b.Kernel.dmp instead;
#    with only three file rows read, a.dmp would get none.  (b.dmp is a copy
#    of a.dmp: the series notices the duplicate.)
mkpair=${DT_BUILD_DIR:?}/dt_mkpair
[[ -x $mkpair ]] || { echo "dt_mkpair not built" >&2; exit 1; }
gzip -dc "$DT_TEST_DATA/wine/hello_block.dmp.gz" >"$WORK/a.dmp"
cp "$WORK/a.dmp" "$WORK/b.dmp"
"$mkpair" "$WORK/a.Kernel.dmp" 32 hello_block.ex
"$mkpair" "$WORK/b.Kernel.dmp" 32 other_image.ex
out=$(curl -s "${ALICE[@]}" -F "user=@$WORK/a.dmp" -F "user=@$WORK/b.dmp" -F "kernel=@$WORK/b.Kernel.dmp" \
  -F "kernel=@$WORK/a.Kernel.dmp" "$URL/api/dumps")
pid=$(jq -r .id <<<"$out")
check "four files recorded" 4 "$(jq '.files | length' <<<"$out")"
check "pair series analysed" "done" "$(wait_done "$pid" 180)"
r=$(curl -s "${ALICE[@]}" "$URL/api/dumps/$pid/report")
check "a.dmp has its own kernel dump" "ok a.Kernel.dmp" \
  "$(jq -r '.series.snapshots[] | select(.file == "a.dmp") | "\(.status) \(.kernel_file)"' <<<"$r")"
check "b.dmp has b.Kernel.dmp" "b.Kernel.dmp" \
  "$(jq -r '.series.snapshots[] | select(.file == "b.dmp") | .kernel_file' <<<"$r")"
no_server_paths "paired series report" "$r"
check "the kept snapshot was paired" "true" "$(jq '.kernel != null' <<<"$r")"
stop_server
finish
