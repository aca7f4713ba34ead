#!/usr/bin/env python3
"""zero_mapped_views.py DUMP - keeps a committed full-memory dump small: the
bytes of read-only mapped file views (MemoryInfoList: MEM_MAPPED,
PAGE_READONLY, e.g. Wine's locale.nls / sortdefault.nls, 3.3 MB of the
inline_jit dump) are zeroed in place in the Memory64List data.  Stacks,
images, heaps and private executable memory stay as written.  Prints what
it zeroed."""
import struct
import sys

MEM_MAPPED, PAGE_READONLY = 0x40000, 0x02

with open(sys.argv[1], "r+b") as f:
    d = bytearray(f.read())
    n, rva = struct.unpack_from("<II", d, 8)
    streams = {}
    for i in range(n):
        t, size, r = struct.unpack_from("<III", d, rva + 12 * i)
        streams.setdefault(t, (size, r))
    hs, es, cnt = struct.unpack_from("<IIQ", d, streams[16][1])
    views = []
    for k in range(cnt):
        base, _, _, _, size, state, prot, typ, _ = struct.unpack_from("<QQIIQIIII", d, streams[16][1] + hs + es * k)
        if typ == MEM_MAPPED and prot == PAGE_READONLY and state == 0x1000:
            views.append((base, size))
    rcount, data = struct.unpack_from("<QQ", d, streams[9][1])
    off = data
    zeroed = 0
    for k in range(rcount):
        start, size = struct.unpack_from("<QQ", d, streams[9][1] + 16 + 16 * k)
        for vb, vs in views:
            lo, hi = max(start, vb), min(start + size, vb + vs)
            if lo < hi:
                d[off + lo - start:off + hi - start] = bytes(hi - lo)
                zeroed += hi - lo
        off += size
    f.seek(0)
    f.write(d)
print(f"zeroed {zeroed} bytes of {len(views)} read-only mapped views")
