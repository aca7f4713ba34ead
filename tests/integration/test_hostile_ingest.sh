#!/usr/bin/env bash
# test_hostile_ingest.sh — issue #14, the ingest half: hostile uploads meet
# hard bounds.  Every input is built here from small pieces, as small as the
# attack it stands for, and every check asserts the bound: time, the
# server's RSS (sampled from /proc/PID/status), bytes left on disk, status
# codes and failure messages.
#   1. a tar.bz2 whose skipped first entry inflates to 256 MiB: stopped by the
#      ratio limit after ~1 MiB, in well under a second of unpacking
#   2. a tar.xz whose LZMA2 header asks for a 2 GiB (and a 1 GiB)
#      dictionary: refused, the server's RSS flat (decoding runs in a child
#      whose address space is --unpack-memory)
#   3. Content-Encoding: gzip expanding 1000:1: 413 at the ratio limit; with
#      the ratio raised, --min-free-space stops it as bytes are written (507)
#   5. a 4-byte "MDMP" and an 8-byte "PAGEDU64" body: 400, not 202
#   6. a .dmp.gz of 600 MiB inflated: analyzed (inflated by the server under
#      data/tmp, not under the analyzer's 512 MiB output limit)
#   9. invalid UTF-8 in note/customer and in a Breakpad MODULE name: stored
#      and echoed as valid UTF-8 with U+FFFD
#  11. a garbage 7z: failed with a message, never "(null)"
#   +  compression nested 3 times and 100 entries: refused by their limits
source "$(dirname "$0")/server_lib.sh"
U="$DT_TEST_DATA/user/rizin__calc.dmp"
K="$DT_TEST_DATA/paired/hello_block.Kernel.dmp"
DATA="$WORK/data"

# Peak VmRSS (kB) of the server while a command runs.
rss_during() { # outfile cmd…
  local out=$1; shift
  local peak=0 r
  "$@" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    r=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)
    (( r > peak )) && peak=$r
    sleep 0.05
  done
  wait "$pid" || true
  echo "$peak" >"$out"
}
now_ms() { date +%s%3N; }
# error text of a failed upload (waits for it)
failed_error() { # id
  local s; s=$(wait_done "$1" 60)
  [[ $s == failed ]] || { echo "status=$s"; return; }
  curl -s "${AUTH[@]}" "$URL/api/dumps/$1" | jq -r .error
}

python3 - "$WORK" "$U" <<'PY'
import io, lzma, os, struct, sys, tarfile, zipfile, zlib, gzip, bz2
work, user = sys.argv[1], sys.argv[2]
head = open(user, 'rb').read()
class Zeros(io.RawIOBase):
    def __init__(s, n): s.n = n
    def readable(s): return True
    def readinto(s, b):
        k = min(len(b), s.n); b[:k] = bytes(k); s.n -= k; return k
def add(t, name, data=None, size=None):
    ti = tarfile.TarInfo(name)
    if data is not None:
        ti.size = len(data); t.addfile(ti, io.BytesIO(data))
    else:
        ti.size = size; t.addfile(ti, io.BufferedReader(Zeros(size), 1 << 20))
# 1. skipped first entry of 256 MiB zeros, then the real dump
with tarfile.open(f'{work}/skipbomb.tar.bz2', 'w:bz2') as t:
    add(t, 'junk.bin', size=256 << 20)
    add(t, 'calc.dmp', head)
# 2. a tar.xz whose LZMA2 dictionary byte asks for 2 GiB (and one for 1 GiB)
raw = io.BytesIO()
with tarfile.open(fileobj=raw, mode='w') as t:
    add(t, 'calc.dmp', head)
xz = bytearray(lzma.compress(raw.getvalue(), format=lzma.FORMAT_XZ,
                             filters=[{"id": lzma.FILTER_LZMA2, "preset": 1}]))
hsize = (xz[12] + 1) * 4            # block header after the 12-byte stream header
assert xz[14] == 0x21 and xz[15] == 1  # one LZMA2 filter, 1 property byte
for name, bits in (('dict2g', 38), ('dict1g', 36)):
    b = bytearray(xz)
    b[16] = bits                     # dictionary size = 2 << (bits/2 + 11)
    b[12 + hsize - 4:12 + hsize] = struct.pack('<I', zlib.crc32(bytes(b[12:12 + hsize - 4])))
    open(f'{work}/{name}.tar.xz', 'wb').write(b)
# 3. a gzip body: the dump's head, then 256 MiB of zeros (~1000:1)
with open(f'{work}/expand.gz', 'wb') as f:
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    f.write(z.compress(head[:65536]))
    chunk = bytes(1 << 20)
    for _ in range(256):
        f.write(z.compress(chunk))
    f.write(z.flush())
# 6. a 600 MiB .dmp.gz: a real minidump, then zeros
with open(f'{work}/big.dmp.gz', 'wb') as f:
    z = zlib.compressobj(1, zlib.DEFLATED, 31)
    f.write(z.compress(head))
    chunk = bytes(1 << 20)
    for _ in range(600):
        f.write(z.compress(chunk))
    f.write(z.flush())
# 11. a garbage 7z
open(f'{work}/garbage.7z', 'wb').write(b"7z\xbc\xaf\x27\x1c" + os.urandom(4000))
# + compression nested 3 times: tar.gz.gz.gz
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode='w') as t:
    add(t, 'calc.dmp', head)
data = buf.getvalue()
for _ in range(3):
    data = gzip.compress(data)
open(f'{work}/nested.tar.gz.gz.gz', 'wb').write(data)
# + 100 entries
with zipfile.ZipFile(f'{work}/many.zip', 'w') as zf:
    for i in range(100):
        zf.writestr(f'e{i}.txt', b'x')
    zf.writestr('calc.dmp', head)
# 9. a Breakpad file whose MODULE name is not UTF-8
open(f'{work}/bad.sym', 'wb').write(b"MODULE windows x86_64 5A9832E5287241C1838ED98914E9B7FF1 t\xff\xfeest.pdb\n"
                                    b"FILE 0 a.c\nFUNC 1000 10 0 f\n")
PY
ls -la "$WORK" | awk '{print $5, $9}' | grep -v '^ *$' | sed 's/^/  input: /'

start_server "$DATA" --workers 1 --unpack-memory 256M
base_rss=$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status")
up() { curl -s "${AUTH[@]}" -X POST -T "$1" "$URL/api/dumps" | jq -r .id; }

# 1. the skipped 256 MiB entry: stopped after ~1 MiB of unpacking
t0=$(now_ms); id=$(up "$WORK/skipbomb.tar.bz2"); err=$(failed_error "$id"); t1=$(now_ms)
echo "1. skipped-entry bomb ($(stat -c %s "$WORK/skipbomb.tar.bz2") bytes): $((t1 - t0)) ms: $err"
[[ $err == *"ratio limit"* ]] && ok || bad "skipped-entry bomb: $err"
(( t1 - t0 < 10000 )) && ok || bad "skipped-entry bomb took $((t1 - t0)) ms"
check "1. nothing left in tmp" 0 "$(find "$DATA/tmp" -mindepth 1 | wc -l)"

# 2. LZMA2 dictionaries of 2 GiB and 1 GiB: refused, server RSS flat
for d in dict2g dict1g; do
  rss_during "$WORK/rss" bash -c "id=\$(curl -s -H 'Authorization: Bearer $ADMIN' -X POST -T '$WORK/$d.tar.xz' '$URL/api/dumps' | jq -r .id); echo \$id >'$WORK/id'; for _ in \$(seq 1 300); do s=\$(curl -s -H 'Authorization: Bearer $ADMIN' '$URL/api/dumps/'\$id | jq -r .status); [[ \$s == failed || \$s == done ]] && break; sleep 0.1; done"
  id=$(cat "$WORK/id"); err=$(failed_error "$id"); peak=$(cat "$WORK/rss")
  echo "2. $d ($(stat -c %s "$WORK/$d.tar.xz") bytes): server RSS $((base_rss / 1024)) → peak $((peak / 1024)) MB: $err"
  [[ $err == archive:* ]] && ok || bad "$d: $err"
  (( peak < base_rss + 100 * 1024 )) && ok || bad "$d: server RSS rose to $peak kB (from $base_rss)"
done
check "2. nothing left in tmp" 0 "$(find "$DATA/tmp" -mindepth 1 | wc -l)"

# 3. Content-Encoding: gzip expanding ~1000:1: 413 at the ratio limit
t0=$(now_ms)
code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X POST -H 'Content-Encoding: gzip' --data-binary @"$WORK/expand.gz" "$URL/api/dumps")
t1=$(now_ms)
echo "3. gzip body $(stat -c %s "$WORK/expand.gz") bytes → $code in $((t1 - t0)) ms: $(jq -r .error.message "$WORK/out.json")"
check "3. gzip expansion refused" 413 "$code"
check "3. no blob over 1 MiB" 0 "$(find "$DATA/blobs" -type f -size +1M | wc -l)"
check "3. nothing left in tmp" 0 "$(find "$DATA/tmp" -mindepth 1 | wc -l)"

# 5. bodies that only start like dumps
printf 'MDMP' >"$WORK/mdmp4"; printf 'PAGEDU64' >"$WORK/k8"
check "5. a 4-byte MDMP refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -T "$WORK/mdmp4" "$URL/api/dumps")"
check "5. an 8-byte PAGEDU64 refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -T "$WORK/k8" "$URL/api/dumps")"
head -c 32 "$U" >"$WORK/mdmp32"
check "5. a bare MDMP header refused" 400 "$(curl -s -o /dev/null -w '%{http_code}' -X POST -T "$WORK/mdmp32" "$URL/api/dumps")"
check "5. no row for them" 0 "$(sqlite3 "$DATA/dumptriage.sqlite" "SELECT COUNT(*) FROM uploads WHERE bytes < 64")"

# 9. invalid UTF-8 in text fields: stored and echoed as valid UTF-8
printf 'caf\xe9 \xff note' >"$WORK/note.txt"
id=$(curl -s "${AUTH[@]}" -F "user=@$U" -F "note=<$WORK/note.txt" -F "customer=<$WORK/note.txt" "$URL/api/dumps" | jq -r .id)
curl -s "${AUTH[@]}" "$URL/api/dumps/$id" >"$WORK/up.json"
check "9. reply is valid UTF-8" ok "$(python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8"); print("ok")' "$WORK/up.json" 2>&1)"
check "9. note with U+FFFD" "caf� � note" "$(jq -r .note "$WORK/up.json")"
check "9. stored as valid UTF-8" ok "$(sqlite3 "$DATA/dumptriage.sqlite" "SELECT CAST(note AS BLOB) FROM uploads WHERE id='$id'" | python3 -c 'import sys; sys.stdin.buffer.read().decode("utf-8"); print("ok")' 2>&1)"
code=$(curl -s -o "$WORK/sym.json" -w '%{http_code}' "${AUTH[@]}" -X POST -T "$WORK/bad.sym" "$URL/api/symbols?name=bad.sym")
check "9. symbol reply is valid UTF-8 ($code)" ok "$(python3 -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8"); print("ok")' "$WORK/sym.json" 2>&1)"

# 11. garbage 7z: a message, never "(null)"
id=$(up "$WORK/garbage.7z"); err=$(failed_error "$id")
echo "11. garbage 7z: $err"
[[ $err == archive:* && $err != *"(null)"* ]] && ok || bad "garbage 7z: $err"

# + nesting and entry count
id=$(up "$WORK/nested.tar.gz.gz.gz"); err=$(failed_error "$id")
[[ $err == *"compressed 3 times"* ]] && ok || bad "nested: $err"
id=$(up "$WORK/many.zip"); err=$(failed_error "$id")
[[ $err == *"more than 64 entries"* ]] && ok || bad "many entries: $err"
stop_server

# 3b. ratio raised: --min-free-space is checked as the inflated bytes are
# written, not against the compressed Content-Length
free_bytes=$(( $(df -k --output=avail "$WORK" | tail -1) * 1024 ))
start_server "$DATA" --workers 1 --max-archive-ratio 100000 --min-free-space $((free_bytes - 64 * 1048576))
code=$(curl -s -o "$WORK/out.json" -w '%{http_code}' -X POST -H 'Content-Encoding: gzip' --data-binary @"$WORK/expand.gz" "$URL/api/dumps")
echo "3b. gzip body with free space for 64 MiB: $code: $(jq -r .error.message "$WORK/out.json")"
check "3b. refused as bytes are written" 507 "$code"
check "3b. nothing left in tmp" 0 "$(find "$DATA/tmp" -mindepth 1 | wc -l)"
stop_server

# 6. a .dmp.gz of 600 MiB: inflated by the server, then analyzed
start_server "$DATA" --workers 1 --max-archive-ratio 2000 --max-entry-ratio 2000
t0=$(now_ms)
id=$(curl -s "${AUTH[@]}" -F "user=@$WORK/big.dmp.gz" "$URL/api/dumps" | jq -r .id)
s=$(wait_done "$id" 300); t1=$(now_ms)
err=$(curl -s "${AUTH[@]}" "$URL/api/dumps/$id" | jq -r .error)
echo "6. 600 MiB .dmp.gz ($(stat -c %s "$WORK/big.dmp.gz") bytes): $s in $((t1 - t0)) ms ${err/null/}"
check "6. gzipped dump over 512 MiB analyzed" done "$s"
[[ $err != *output_limit* ]] && ok || bad "6. $err"
check "6. inflated copy removed" 0 "$(find "$DATA/tmp" -name 'inflated-*' | wc -l)"
stop_server
finish
