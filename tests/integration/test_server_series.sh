#!/usr/bin/env bash
# test_server_series.sh — one upload carrying several dumps of one hang
# (issue #16, docs/api.md): repeated `user` parts are analysed as a series
# (`dumptriage analyze --series`); kernel parts pair with user parts by name
# (X.dmp ↔ X.Kernel.dmp), else in upload order (asserted by
# test_server_snapshots.sh, section 3); more
# kernel parts than user parts is refused; the summary's verdict and signature come from the series.
source "$(dirname "$0")/server_lib.sh"
S=$DT_TEST_DATA/wine/series
start_server "$WORK/data" --symbols "$S/bin"

# 1. The real Wine series in three user parts (given out of time order).
out=$(curl -s "${AUTH[@]}" -F "user=@$S/series_hang.3.dmp.gz" -F "user=@$S/series_hang.1.dmp.gz" \
  -F "user=@$S/series_hang.2.dmp.gz" "$URL/api/dumps")
id=$(jq -r .id <<<"$out")
check "series accepted" "queued" "$(jq -r .status <<<"$out")"
check "three user files" "3" "$(jq '[.files[] | select(.role=="user")] | length' <<<"$out")"
check "series analysed" "done" "$(wait_done "$id" 180)"
s=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id")
check "summary signature from the series" "deadlock|critical_section|series_hang!df_lock_second" \
  "$(jq -r .summary.signature <<<"$s")"
check "summary verdict from the series" "did not move for 24 s (3 snapshots): deadlocked" \
  "$(jq -r .summary.verdict <<<"$s" | cut -c1-47)"
r=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id/report")
check "report has the series" "3" "$(jq .series.compared <<<"$r")"
check "snapshots in time order" "0 10 24" "$(jq -r '[.series.snapshots[].seconds] | map(tostring) | join(" ")' <<<"$r")"
check "spinner" "spinning" "$(jq -r '.series.threads[] | select(.thread_name=="spinner") | .state' <<<"$r")"
check "progress" "progressing false" \
  "$(jq -r '.series.threads[] | select(.thread_name=="progress") | "\(.state) \(.stuck)"' <<<"$r")"
check "job directory removed" "" "$(ls "$WORK/data/tmp" | grep '^series-' || true)"

# 2. Kernel dumps for the refusal below.
mkpair=${DT_BUILD_DIR:?}/dt_mkpair
[[ -x $mkpair ]] || { echo "dt_mkpair not built" >&2; exit 1; }
gzip -dc "$DT_TEST_DATA/wine/hello_block.dmp.gz" >"$WORK/s1.dmp"
"$mkpair" "$WORK/s1.Kernel.dmp" 32 hello_block.ex
"$mkpair" "$WORK/s2.Kernel.dmp" 32 other_image.ex

# 3. More kernel parts than user parts: refused before anything is stored.
code=$(curl -s -o "$WORK/refused.json" -w '%{http_code}' "${AUTH[@]}" -F "user=@$WORK/s1.dmp" \
  -F "kernel=@$WORK/s1.Kernel.dmp" -F "kernel=@$WORK/s2.Kernel.dmp" "$URL/api/dumps")
check "two kernel dumps for one user dump" "400" "$code"
grep -q "2 kernel dumps for 1 user dumps" "$WORK/refused.json" || bad "refusal names the counts: $(cat "$WORK/refused.json")"
stop_server
finish
