#!/usr/bin/env python3
"""gen_big_minidump.py — test-only writer of multi-GB full-memory minidumps.

Takes a real full-memory minidump (e.g. tests/data/wine/hello_block.dmp.gz)
and grows one Memory64List range by EXTRA bytes of zeros, written as a file
hole, so the result is a valid dump of a process with EXTRA more bytes of
captured memory while using almost no disk.  Only the range's DataSize
changes: Memory64List data is contiguous from BaseRva in array order, so the
ranges after the grown one simply move EXTRA bytes further into the file.
The grown range is the one followed by the largest unused address gap, so no
ranges overlap.  Refuses dumps whose memory data is not the file's tail
(then other streams' RVAs would move too), except for small records after the
memory data that only the module list points at (module names, CodeView
records: Wine writes those last), which are moved in front of it.

usage: gen_big_minidump.py SOURCE(.dmp|.dmp.gz) OUT EXTRA_BYTES
"""
import gzip
import struct
import sys

MEMORY64_LIST = 9
MODULE_LIST = 4


def relocate_tail(data, dirs, mem64_loc, base, tail_at):
    """Moves data[tail_at:] to just before the memory data (at base); returns
    the new buffer and BaseRva.  Every RVA into the moved bytes must be one we
    know how to patch (directory, module names/CodeView/Misc), else refuse."""
    tail = bytes(data[tail_at:])
    shift = tail_at - base  # moved bytes go down by this much
    for stype, size, rva in dirs:
        if rva >= tail_at:
            sys.exit("stream %d lives after the memory data; unsupported" % stype)
    # Pad so the memory data moves by whole pages: its file offsets keep
    # their alignment, and with it the analyzer's zero-copy mapping.
    pad = -len(tail) % 4096
    out = bytearray(data[:base]) + tail + bytes(pad) + data[base:tail_at]
    for stype, size, rva in dirs:
        if stype != MODULE_LIST:
            continue
        n = struct.unpack_from("<I", out, rva)[0]
        for m in range(min(n, (size - 4) // 108)):
            e = rva + 4 + 108 * m
            for off in (20, 80, 88):  # ModuleNameRva, CvRecord.Rva, MiscRecord.Rva
                r = struct.unpack_from("<I", out, e + off)[0]
                if r >= tail_at:
                    struct.pack_into("<I", out, e + off, r - shift)
    return out, base + len(tail) + pad


def write_chunked(f, buf):
    view = memoryview(buf)
    for off in range(0, len(view), 65536):
        f.write(view[off:off + 65536])


def main():
    src, out, extra = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if extra % 4096:
        sys.exit("EXTRA_BYTES must be a multiple of 4096")
    opener = gzip.open if src.endswith(".gz") else open
    with opener(src, "rb") as f:
        data = bytearray(f.read())
    if data[:4] != b"MDMP":
        sys.exit("not a minidump")
    nstreams, dir_rva = struct.unpack_from("<II", data, 8)
    loc = None
    dirs = [struct.unpack_from("<III", data, dir_rva + 12 * i) for i in range(min(nstreams, 4096))]
    for stype, size, rva in dirs:
        if stype == MEMORY64_LIST:
            loc = rva
    if loc is None:
        sys.exit("no Memory64List stream")
    count, base = struct.unpack_from("<QQ", data, loc)
    ranges = [struct.unpack_from("<QQ", data, loc + 16 + 16 * i) for i in range(count)]
    total = sum(s for _, s in ranges)
    tail_at = base + total
    if tail_at > len(data):
        sys.exit("memory data runs past the end of the file")
    if tail_at < len(data):
        # Writers put small records (module CodeView/Misc records, names)
        # after the memory data; move them in front of it and repoint the
        # module list's RVAs (32-bit RVAs could not reach past a 4 GB hole).
        data, base = relocate_tail(data, dirs, loc, base, tail_at)
        struct.pack_into("<Q", data, loc + 8, base)
    # Largest gap after a range (the last one is bounded by the top of the
    # x64 user address space).
    best, best_gap = None, -1
    order = sorted(range(count), key=lambda i: ranges[i][0])
    for k, i in enumerate(order):
        end = ranges[i][0] + ranges[i][1]
        nxt = ranges[order[k + 1]][0] if k + 1 < len(order) else 0x7FFFFFFF0000
        if nxt - end > best_gap:
            best, best_gap = i, nxt - end
    if best_gap < extra:
        sys.exit("no address gap of %d bytes" % extra)
    start, size = ranges[best]
    struct.pack_into("<QQ", data, loc + 16 + 16 * best, start, size + extra)
    split = base + sum(s for _, s in ranges[: best + 1])
    with open(out, "wb") as f:
        # 64 KiB writes, like cp or zcat: one huge write() leaves the page
        # cache in large folios, which fault-around then maps whole into the
        # analyzer, doubling its RSS for reasons that are not its own.
        write_chunked(f, data[:split])
        f.seek(extra, 1)  # the hole: EXTRA bytes of zeros, no disk blocks
        write_chunked(f, data[split:])
        f.truncate(len(data) + extra)  # when the hole is the file's end
    print("%s: range %d at %#x grown by %d bytes to %d; file %d bytes" %
          (out, best, start, extra, size + extra, len(data) + extra))


if __name__ == "__main__":
    main()
