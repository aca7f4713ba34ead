#!/usr/bin/env python3
"""tus_client.py — a small tus 1.0 client for the integration tests (test_tus_*.sh).

Uploads FILE to URL/api/uploads in chunks, resuming from the server's offset
(HEAD) after any connection error or server restart, until done or --deadline
seconds pass.  With --gzip every chunk is sent as its own gzip member
(Content-Encoding: gzip).  --state keeps the upload's URL so a second run
resumes it.  Exits 6 if HEAD ever reports less than a PATCH acknowledged
(an acknowledged byte lost).  Prints one JSON line: {"location","upload_id","view_url","sha256"}.

Written for the tests only (no tus client is packaged for Python in Debian);
the browser uses tus-js-client and customers the C uploader.
"""
import argparse
import base64
import gzip
import hashlib
import http.client
import json
import os
import sys
import time
import urllib.parse


def request(base, method, path, headers, body=None, timeout=30):
    u = urllib.parse.urlsplit(base)
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
    try:
        c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        c.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("file")
    ap.add_argument("--chunk", type=int, default=1 << 20)
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--token")
    ap.add_argument("--meta", action="append", default=[], help="key=value")
    ap.add_argument("--state")
    ap.add_argument("--deadline", type=float, default=120)
    ap.add_argument("--checksum", action="store_true", help="send Upload-Checksum: sha1")
    a = ap.parse_args()
    size = os.path.getsize(a.file)
    h = {"Tus-Resumable": "1.0.0"}
    if a.token:
        h["Authorization"] = "Bearer " + a.token
    meta = ",".join(
        k + " " + base64.b64encode(v.encode()).decode()
        for k, v in (m.split("=", 1) for m in a.meta + ["filename=" + os.path.basename(a.file)])
    )
    loc = None
    if a.state and os.path.exists(a.state):
        loc = open(a.state).read().strip() or None
    end = time.time() + a.deadline
    final = {}
    acked = 0  # the highest offset a 204 acknowledged: HEAD may never go below it
    with open(a.file, "rb") as f:
        while time.time() < end:
            try:
                if not loc:
                    st, hd, body = request(a.url, "POST", "/api/uploads",
                                           dict(h, **{"Upload-Length": str(size), "Upload-Metadata": meta}))
                    if st != 201:
                        print("create: %d %s" % (st, body.decode(errors="replace")), file=sys.stderr)
                        if st >= 500:
                            time.sleep(0.2)
                            continue
                        return 2
                    loc = hd["location"]
                    if a.state:
                        with open(a.state, "w") as s:
                            s.write(loc)
                st, hd, body = request(a.url, "HEAD", loc, h)
                if st != 200:
                    print("head: %d" % st, file=sys.stderr)
                    if st >= 500:
                        time.sleep(0.2)
                        continue
                    return 3
                off = int(hd["upload-offset"])
                if off < acked:
                    print("LOST: offset %d acknowledged, HEAD says %d" % (acked, off), file=sys.stderr)
                    return 6
                if off == size:
                    final = hd
                    break
                f.seek(off)
                raw = f.read(a.chunk)
                body = gzip.compress(raw) if a.gzip else raw
                ph = dict(h, **{"Upload-Offset": str(off), "Content-Type": "application/offset+octet-stream"})
                if a.gzip:
                    ph["Content-Encoding"] = "gzip"
                if a.checksum:
                    ph["Upload-Checksum"] = "sha1 " + base64.b64encode(hashlib.sha1(body).digest()).decode()
                st, hd, rb = request(a.url, "PATCH", loc, ph, body)
                if st == 204:
                    acked = max(acked, int(hd["upload-offset"]))
                    if int(hd["upload-offset"]) == size:
                        final = hd
                        break
                    continue
                if st in (409, 423) or st >= 500:
                    time.sleep(0.1)  # someone else's chunk, or a server going down: ask HEAD again
                    continue
                print("patch: %d %s" % (st, rb.decode(errors="replace")), file=sys.stderr)
                return 4
            except (OSError, http.client.HTTPException, KeyError, ValueError):
                time.sleep(0.2)  # the server is down or restarting
        else:
            print("deadline passed", file=sys.stderr)
            return 5
    # The completing PATCH may have been lost in a kill: HEAD tells the outcome.
    for _ in range(200):
        if final.get("dumptriage-upload-id"):
            break
        try:
            st, final, _ = request(a.url, "HEAD", loc, h)
        except (OSError, http.client.HTTPException):
            pass
        time.sleep(0.1)
    sha = hashlib.sha256(open(a.file, "rb").read()).hexdigest()
    print(json.dumps({"location": loc, "upload_id": final.get("dumptriage-upload-id"),
                      "view_url": final.get("dumptriage-view-url"), "sha256": sha}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
