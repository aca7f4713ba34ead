#!/usr/bin/env bash
# test_cli_series.sh — `dumptriage analyze --series` on a real series (issue
# #16): tests/data/wine/series holds one live run of series_hang.exe dumped
# three times under Wine (see its README.md).  Every thread's series verdict
# is asserted, then the ways a series goes wrong: a snapshot cut short
# (damaged) and one with a broken stream directory (unusable) are left out
# with warnings, a duplicate is noticed, a dump of another process is refused
# (and compared with --allow-mismatch), kernel dumps pair by name.
set -euo pipefail
bin=${DT_BIN:?} data=${DT_TEST_DATA:?}
S=$data/wine/series
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

# 1. The real series, given out of order: ordered by dump time.
"$bin" analyze --series --symbols "$S/bin" "$S/series_hang.3.dmp.gz" "$S/series_hang.1.dmp.gz" \
    "$S/series_hang.2.dmp.gz" >"$work/series.json"
python3 - "$work/series.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["series"]
snaps = s["snapshots"]
assert [x["file"].rsplit("/", 1)[1] for x in snaps] == \
    ["series_hang.1.dmp.gz", "series_hang.2.dmp.gz", "series_hang.3.dmp.gz"], snaps
assert [x["argument"] for x in snaps] == [1, 2, 0]
assert [x["status"] for x in snaps] == ["ok"] * 3
assert [x["seconds"] for x in snaps] == [0, 10, 24], [x["seconds"] for x in snaps]
assert all(x["pid"] == 32 for x in snaps)
assert snaps[2]["report"] and d["user"]["dump"]["time"] == snaps[2]["time"], "the document is the newest report"
assert s["compared"] == 3 and s["warnings"] == [], s["warnings"]

want = {  # name: (tid, state, presence, stuck)
    "main": (36, "not_moved", "all", True),
    "reader": (248, "not_moved", "all", True),
    "deadlock-A": (252, "not_moved", "all", True),
    "deadlock-B": (260, "not_moved", "all", True),
    "spinner": (264, "spinning", "all", False),
    "progress": (268, "progressing", "all", False),
    "timer": (272, "idle", "all", False),
    "latecomer": (300, "idle", "appeared", False),
    "finisher": (276, "exited", "exited", False),
    "watcher": (288, "exited", "exited", False),
}
got = {t["thread_name"]: t for t in s["threads"]}
assert set(got) == set(want), sorted(got)
for name, (tid, state, presence, stuck) in want.items():
    t = got[name]
    assert (t["thread_id"], t["state"], t["presence"], t["stuck"]) == (tid, state, presence, stuck), (name, t)
    assert len(t["snapshots"]) == 3

# Single snapshots call the progressing thread "sleeping" or "unknown" and
# never stuck, the deadlocked ones stuck: the series agrees where it must.
dl = got["deadlock-A"]
assert dl["not_moved_seconds"] == 24 and dl["verdict"].startswith("did not move for 24 s (3 snapshots): deadlocked"), dl
assert [x["change"] for x in dl["snapshots"]] == ["first", "same", "same"]
# Wine's critical-section wait times out and waits again: a return address
# moved inside RtlpWaitForCriticalSection between the first two dumps.
assert dl["snapshots"][1]["ip_moved"] is True, dl["snapshots"][1]
sp = got["spinner"]
assert [x["change"] for x in sp["snapshots"]] == ["first", "spinning", "spinning"], sp["snapshots"]
assert sp["cpu_ms"] > 12000 and sp["cpu_seconds_of"] == 24, sp
assert all(x["top_frame"].startswith("series_hang!df_spin_step+") for x in sp["snapshots"])
assert sp["verdict"].startswith("spinning in series_hang!df_spin_step: used 1"), sp["verdict"]
pr = got["progress"]
assert [x["change"] for x in pr["snapshots"]] == ["first", "changed", "changed"], pr["snapshots"]
assert pr["snapshots"][1]["changed"]["before"] == "series_hang!df_stage_parse", pr["snapshots"][1]
assert pr["verdict"].startswith("progressing, not stuck"), pr["verdict"]
late = got["latecomer"]
assert late["snapshots"][0] is None and late["snapshots"][1]["change"] == "appeared"
assert got["finisher"]["snapshots"][1] is None and got["finisher"]["last_seen"] == 0
assert got["timer"]["verdict"].startswith("idle"), got["timer"]["verdict"]

v = s["verdicts"]
assert v["primary"]["thread_id"] == 252 and v["primary"]["thread_name"] == "deadlock-A", v["primary"]
assert v["signature"] == "deadlock|critical_section|series_hang!df_lock_second", v["signature"]
assert v["counts"] == {"threads": 10, "stuck": 4, "not_moved": 4, "spinning": 1, "progressing": 1,
                       "idle": 2, "appeared": 1, "exited": 2, "single": 0}, v["counts"]
order = [t["thread_name"] for t in s["threads"]]
assert order[0] == "deadlock-A" and set(order[1:4]) == {"deadlock-B", "main", "reader"}, order
assert order[4:6] == ["spinner", "progress"], order
print("series verdicts: ok")
PY

# 2. Text: the series first, one line per thread and snapshot.
"$bin" analyze --series --format text --symbols "$S/bin" "$S"/series_hang.{1,2,3}.dmp.gz >"$work/series.txt"
head -1 "$work/series.txt" | grep -q '^== Series: 3 snapshots, 3 compared$' || fail "text starts with the series"
grep -q '^  Signature: deadlock|critical_section|series_hang!df_lock_second$' "$work/series.txt" || fail "text signature"
for tid in 36 248 252 260 264 268 272 276 288 300; do
    n=$(awk -v t="  thread $tid " 'index($0, t) == 1 { on = 1; next } /^  thread / { on = 0 } on && /^    #[123] /' \
        "$work/series.txt" | wc -l)
    [ "$n" = 3 ] || fail "thread $tid has $n snapshot lines, not 3"
done
grep -q '#2  spinning  running  cpu +' "$work/series.txt" || fail "spinner's CPU line"
grep -q '^== Triage' "$work/series.txt" || fail "the newest snapshot's report follows"

# 3. A damaged snapshot (cut short), an unusable one (stream directory past
#    the end) and a duplicate: left out or compared once, with warnings.
zcat "$S/series_hang.2.dmp.gz" >"$work/full2.dmp"
head -c 20000000 "$work/full2.dmp" >"$work/cut.dmp"
python3 - "$work/full2.dmp" "$work/baddir.dmp" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read(4096))
b[12:16] = (0xFFFFFFF0).to_bytes(4, "little")   # StreamDirectoryRva
open(sys.argv[2], "wb").write(b)
PY
cp "$S/series_hang.1.dmp.gz" "$work/copy_of_1.dmp.gz"
"$bin" analyze --series --symbols "$S/bin" "$S/series_hang.1.dmp.gz" "$work/cut.dmp" "$work/baddir.dmp" \
    "$work/copy_of_1.dmp.gz" "$S/series_hang.3.dmp.gz" >"$work/bad.json"
python3 - "$work/bad.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
s = d["series"]
st = {x["file"].rsplit("/", 1)[1]: x for x in s["snapshots"]}
assert st["cut.dmp"]["status"] == "damaged" and "missing" in st["cut.dmp"]["error"], st["cut.dmp"]
assert st["baddir.dmp"]["status"] == "unusable" and "stream directory" in st["baddir.dmp"]["error"], st["baddir.dmp"]
assert st["copy_of_1.dmp.gz"]["status"] == "duplicate", st["copy_of_1.dmp.gz"]
assert s["snapshots"][st["copy_of_1.dmp.gz"]["duplicate_of"]]["file"].endswith("series_hang.1.dmp.gz")
assert s["compared"] == 2, s["compared"]
w = " ".join(s["warnings"])
for f in ("cut.dmp", "baddir.dmp", "copy_of_1.dmp.gz"):
    assert f in w, (f, w)
assert sum(1 for x in d["warnings"] if x.startswith("series: ")) == 3, d["warnings"]
got = {t["thread_name"]: t for t in s["threads"]}
# Still right from the two good snapshots.
assert got["deadlock-A"]["state"] == "not_moved" and got["deadlock-A"]["stuck"]
assert got["spinner"]["state"] == "spinning" and got["progress"]["state"] == "progressing"
assert got["latecomer"]["state"] == "appeared", got["latecomer"]   # only in the 3rd of the two
print("damaged, unusable, duplicate: ok")
PY

# Nothing usable: exit status 1, one line.
set +e
"$bin" analyze --series "$work/baddir.dmp" "$work/cut.dmp" >"$work/none.out" 2>"$work/none.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "no usable snapshot: exit $rc"
[ ! -s "$work/none.out" ] && grep -q "no snapshot of the series is usable" "$work/none.err" || fail "none usable message"

# 4. Another process: refused with the reason; --allow-mismatch compares.
set +e
"$bin" analyze --series "$S/series_hang.1.dmp.gz" "$data/wine/hello_block.dmp.gz" >"$work/mm.out" 2>"$work/mm.err"; rc=$?
set -e
[ "$rc" = 1 ] || fail "another process: exit $rc"
[ ! -s "$work/mm.out" ] || fail "another process printed a report"
grep -q "is not a snapshot of the process in .*hello_block.dmp.gz (image C:.dumpfactory.series_hang.exe, not C:.dumpfactory.hello_block.exe); --allow-mismatch" \
    "$work/mm.err" || { cat "$work/mm.err"; fail "another process: reason"; }
"$bin" analyze --series --allow-mismatch "$S/series_hang.1.dmp.gz" "$data/wine/hello_block.dmp.gz" >"$work/mm.json"
python3 -c "
import json, sys
s = json.load(open(sys.argv[1]))['series']
assert s['compared'] == 2 and any(w.startswith('MISMATCH: ') for w in s['warnings']), s['warnings']
" "$work/mm.json"

# 5. Usage errors.
set +e
"$bin" analyze --series >/dev/null 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || fail "--series without files: exit $rc"
echo "series CLI: ok"
