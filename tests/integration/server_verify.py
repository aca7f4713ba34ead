#!/usr/bin/env python3
"""server_verify.py — checks recorded uploads against the real analyzer.

Usage: server_verify.py URL TOKEN DT_BIN CASES
CASES holds lines "id<TAB>description<TAB>file file…".  For each upload:
wait until it is done, check the stored files' SHA-256 against the original
files, and compare the stored report with `DT_BIN analyze FILES --format json`
(ignoring input paths, which legitimately differ; every time and duration
in the report comes from the dump and must be equal).  One process
for all cases: process start-up dominates on a loaded machine.
"""
import hashlib, json, subprocess, sys, time, urllib.request

url, token, dt_bin, cases_path = sys.argv[1:5]

def get(path):
    req = urllib.request.Request(url + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.read()

def walk(v):
    if isinstance(v, dict):
        return {k: walk(x) for k, x in v.items()
                if k not in ("file", "path", "paths", "files", "input", "inputs")}
    if isinstance(v, list):
        return [walk(x) for x in v]
    if isinstance(v, str) and ("/blobs/" in v or v.startswith("/")):
        return "<path>"
    return v

def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

fails = 0
n = 0
for line in open(cases_path):
    if not line.strip():
        continue
    uid, desc, files = line.rstrip("\n").split("\t")
    files = files.split()
    n += 1
    deadline = time.time() + 180
    while True:
        up = json.loads(get("/api/dumps/" + uid))
        if up["status"] in ("done", "failed") or time.time() > deadline:
            break
        time.sleep(0.1)
    if up["status"] != "done":
        print("FAIL: %s: status %s (%s)" % (desc, up["status"], up.get("error")))
        fails += 1
        continue
    stored = sorted(f["sha256"] for f in up["files"] if f["role"] != "archive")
    want = sorted(sha(f) for f in files)
    if stored != want:
        print("FAIL: %s: stored hashes %s, expected %s" % (desc, stored, want))
        fails += 1
        continue
    expected = subprocess.run([dt_bin, "analyze", *files, "--format", "json"], capture_output=True)
    try:
        a = walk(json.loads(expected.stdout))
        b = walk(json.loads(get("/api/dumps/%s/report" % uid)))
    except Exception as e:  # noqa: BLE001 — any parse failure is a test failure
        print("FAIL: %s: report is not JSON: %s" % (desc, e))
        fails += 1
        continue
    if a != b:
        print("FAIL: %s: stored report differs from `dumptriage analyze`" % desc)
        fails += 1
print("verified %d uploads: done, byte-exact, report equal to analyze; %d failed" % (n, fails))
sys.exit(1 if fails else 0)
