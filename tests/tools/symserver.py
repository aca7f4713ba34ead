#!/usr/bin/env python3
"""symserver.py ROOT [LOG] — a symbol server for tests, on 127.0.0.1 (port
printed on stdout's first line).  Serves ROOT (symstore layout) under /store/,
matching path components case-insensitively as Microsoft's (IIS) server does,
and
misbehaves on purpose under other prefixes so clients can be tested against
real failure modes:
  /slow/...    waits 30 s before answering (timeouts)
  /e500/...    answers 500
  /big/...     answers 200 with an endless body (size limits)
  /garbage/... answers 404 for the file and 200 junk for its CAB name (corrupt archives)
  /ptr/...     answers file.ptr redirects to /store/ for everything
Every request is appended to LOG (method path) when LOG is given."""
import http.server, os, sys, time, socketserver

ROOT = os.path.abspath(sys.argv[1])
LOG = sys.argv[2] if len(sys.argv) > 2 else None


def resolve(root, rest):
    """The file under root for the URL path rest, each component matched
    without regard to case; None when absent."""
    path = root
    for part in rest.split("/"):
        if part in ("", ".", ".."):
            return None
        exact = os.path.join(path, part)
        if os.path.exists(exact):
            path = exact
            continue
        try:
            names = {n.lower(): n for n in os.listdir(path)}
        except OSError:
            return None
        if part.lower() not in names:
            return None
        path = os.path.join(path, names[part.lower()])
    return path if os.path.isfile(path) else None

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def send_body(self, code, body, ctype="application/octet-stream"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self):
        if LOG:
            with open(LOG, "a") as f:
                f.write("GET %s\n" % self.path)
        parts = self.path.split("/", 2)
        mode, rest = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
        if mode == "slow":
            time.sleep(30)
            return self.send_body(404, b"")
        if mode == "e500":
            return self.send_body(500, b"boom")
        if mode == "big":
            self.send_response(200)
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"\0" * 65536)
            except Exception:
                return
        if mode == "garbage":
            if rest.endswith("_"):
                return self.send_body(200, b"MSCF" + os.urandom(200))
            return self.send_body(404, b"")
        if mode == "ptr":
            if rest.endswith("/file.ptr"):
                target = rest[: -len("file.ptr")]
                name = target.split("/")[0]
                port = self.server.server_address[1]
                return self.send_body(200, ("PATH:http://127.0.0.1:%d/store/%s%s" % (port, target, name)).encode())
            return self.send_body(404, b"")
        if mode != "store" or ".." in rest:
            return self.send_body(404, b"")
        path = resolve(ROOT, rest)
        if path:
            with open(path, "rb") as f:
                return self.send_body(200, f.read())
        return self.send_body(404, b"")

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

srv = S(("127.0.0.1", 0), H)
# One write, then stdout goes away: a reader that closes its end after the
# port must not kill the server with EPIPE.
os.write(1, b"%d\n" % srv.server_address[1])
os.dup2(os.open(os.devnull, os.O_WRONLY), 1)
srv.serve_forever()
