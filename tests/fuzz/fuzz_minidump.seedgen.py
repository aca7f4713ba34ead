#!/usr/bin/env python3
"""fuzz_minidump.seedgen.py — writes the small synthetic seeds in
tests/fuzz/seeds/fuzz_minidump/: one ARM64 and one x86 minidump that each
hold every stream kind the parser decodes (the real corpus has no ARM64
dump, and no single file with all streams), so the fuzzer starts from
inputs that reach every decoder.  Layouts: docs/formats.md part A.

Usage: tests/fuzz/fuzz_minidump.seedgen.py [OUTDIR]
"""
import os
import struct
import sys


def mdstring(s):
    b = s.encode("utf-16-le")
    return struct.pack("<I", len(b)) + b + b"\0\0"


class Dump:
    def __init__(self, nstreams):
        self.buf = bytearray(32 + 12 * nstreams)
        struct.pack_into("<IIII", self.buf, 0, 0x504D444D, 0xA793, nstreams, 32)
        self.n = 0
        self.dir_end = 32 + 12 * nstreams

    def blob(self, data):
        at = len(self.buf)
        self.buf += data
        return at

    def stream(self, stype, data):
        assert self.n < (self.dir_end - 32) // 12, "directory full"
        at = self.blob(data)
        struct.pack_into("<III", self.buf, 32 + 12 * self.n, stype, len(data), at)
        self.n += 1
        return at


def build(arch):
    d = Dump(20)
    ptr64 = arch != 0
    # SystemInfo
    csd = d.blob(mdstring("Service Pack 9"))
    si = struct.pack("<HHHBBIIIIIHH", arch, 6, 0x0D08, 4, 1, 10, 0, 22000, 2, csd, 0x100, 0)
    si += (b"GenuineIntel" + struct.pack("<III", 0x6D8, 0xAFE9FBFF, 0)) if arch == 0 else struct.pack("<QQ", 3, 0)
    d.stream(7, si)
    # Memory: a stack and a module header page, both in a Memory64List.
    stack_va, stack = 0x7FF000 if ptr64 else 0x12F000, bytes(range(256)) * 4
    image_va = 0x7FF7A0000000 if ptr64 else 0x400000
    image = b"MZ" + bytes(0x3A) + struct.pack("<I", 0x40) + b"PE\0\0" + bytes(0x1000 - 0x44)
    # Thread context
    if arch == 12:
        ctx = bytearray(0x390)
        struct.pack_into("<II", ctx, 0, 0x400007, 0x60000000)
        for i in range(29):
            struct.pack_into("<Q", ctx, 8 + 8 * i, 0x1000 + i)
        struct.pack_into("<QQQQ", ctx, 0xF0, stack_va + 0x80, image_va + 0x200, stack_va + 0x40, image_va + 0x100)
    else:
        ctx = bytearray(0x2CC)
        struct.pack_into("<I", ctx, 0, 0x1003F)
        struct.pack_into("<IIIIIIIIIIII", ctx, 0x9C, 1, 2, 3, 4, 5, 6, stack_va + 0x80, image_va + 0x100,
                         0x1B, 0x246, stack_va + 0x40, 0x23)
    ctx_rva = d.blob(bytes(ctx))
    tid = 0x1234
    thread = struct.pack("<IIIIQQIIII", tid, 1, 0x20, 0, 0x7FFDF000, stack_va, len(stack), 0, len(ctx), ctx_rva)
    d.stream(3, struct.pack("<I", 1) + thread)
    # Exception (write AV at 0x45) with the same context
    exc = struct.pack("<IIIIQQII", tid, 0, 0xC0000005, 0, 0, image_va + 0x100, 2, 0)
    exc += struct.pack("<15Q", 1, 0x45, *([0] * 13)) + struct.pack("<II", len(ctx), ctx_rva)
    d.stream(6, exc)
    # ModuleList: RSDS and NB10 modules with version info
    name1, name2 = d.blob(mdstring("C:\\app\\seed.exe")), d.blob(mdstring("C:\\Windows\\System32\\ntdll.dll"))
    cv1 = d.blob(b"RSDS" + bytes(range(16)) + struct.pack("<I", 3) + b"c:\\build\\seed.pdb\0")
    cv2 = d.blob(b"NB10" + struct.pack("<III", 0, 0x5A1B2C3D, 0x11) + b"ntdll.pdb\0")
    vs = struct.pack("<IIIIII", 0xFEEF04BD, 0x10000, 0x000A0000, 0x4A610001, 0, 0) + bytes(28)

    def module(base, size, name, cv, cvlen):
        return struct.pack("<QIIII", base, size, 0, 0x61000000, name) + vs + struct.pack("<IIII", cvlen, cv, 0, 0) + bytes(16)
    mods = module(image_va, 0x20000, name1, cv1, 41) + module(image_va + 0x100000, 0x1000, name2, cv2, 26)
    d.stream(4, struct.pack("<I", 2) + mods)
    # UnloadedModuleList
    un = d.blob(mdstring("shcore.dll"))
    d.stream(14, struct.pack("<III", 12, 24, 1) + struct.pack("<QIIII", image_va + 0x200000, 0xEA000, 0, 0, un))
    # MiscInfo v5 (0x554 bytes) with pid, times, tz, build strings, cookie
    mi = bytearray(0x554)
    struct.pack_into("<IIIIII", mi, 0, 0x554, 0x3F7, 4242, 1600000000, 1, 2)
    struct.pack_into("<IIIII", mi, 0x18, 3000, 2000, 3000, 1, 0)
    struct.pack_into("<IIII", mi, 0x2C, 0x2000, 0x1, 0, 1)
    mi[0x40:0x40 + 34] = "GMT Standard Time".encode("utf-16-le")
    mi[0xE8:0xE8 + 20] = "22000.1.seed".encode("utf-16-le")
    mi[0x2F0:0x2F0 + 20] = "dbgcore.se".encode("utf-16-le")
    struct.pack_into("<I", mi, 0x550, 0xC0FFEE)
    d.stream(15, bytes(mi))
    # ThreadNames, ThreadInfoList
    tn = d.blob(mdstring("seed thread"))
    d.stream(24, struct.pack("<I", 1) + struct.pack("<IQ", tid, tn))
    d.stream(17, struct.pack("<III", 12, 64, 1) + struct.pack("<IIIIQQQQQQ", tid, 0, 0, 0x103,
             132000000000000000, 0, 10000, 20000, image_va + 0x10, 0xF))
    # HandleData v2
    ht, hn = d.blob(mdstring("Event")), d.blob(mdstring("\\BaseNamedObjects\\seed"))
    d.stream(12, struct.pack("<IIII", 16, 32, 1, 0) + struct.pack("<QIIIIIIII", 0x44, ht, hn, 0, 0x1F0003, 2, 3, 0, 0))
    # MemoryInfoList
    d.stream(16, struct.pack("<IIQ", 16, 48, 2)
             + struct.pack("<QQIIQIIII", stack_va, stack_va, 4, 0, 0x1000, 0x1000, 4, 0x20000, 0)
             + struct.pack("<QQIIQIIII", image_va, image_va, 0x80, 0, 0x20000, 0x1000, 0x20, 0x1000000, 0))
    # Token, ProcessVmCounters v2, SystemMemoryInfo
    d.stream(19, struct.pack("<IIII", 32, 1, 16, 16) + struct.pack("<IIQ", 16, 1, 0x88) + bytes(8))
    d.stream(22, struct.pack("<HHI", 2, 0x1F, 77) + struct.pack("<18Q", *range(1, 19)))
    d.stream(21, struct.pack("<HH", 1, 0) + bytes(0x1E8))
    # CommentW, Breakpad assertion + info, Crashpad info
    d.stream(11, "seed comment".encode("utf-16-le") + b"\0\0")
    ai = bytearray(776)
    ai[0:8] = "x!=0".encode("utf-16-le")
    struct.pack_into("<II", ai, 768, 12, 1)
    d.stream(0x47670002, bytes(ai))
    d.stream(0x47670001, struct.pack("<III", 3, 0x9999, tid))
    d.stream(0x43500001, struct.pack("<I", 1) + bytes(range(32)) + bytes(16))
    # Memory64List last, data contiguous at its BaseRva
    base = len(d.buf) + 16 + 2 * 16
    d.stream(9, struct.pack("<QQ", 2, base) + struct.pack("<QQ", stack_va, len(stack)) + struct.pack("<QQ", image_va, len(image)))
    assert len(d.buf) == base
    d.blob(stack + image)
    return bytes(d.buf)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "seeds", "fuzz_minidump")
    os.makedirs(out, exist_ok=True)
    for name, arch in (("synth_arm64_all_streams.dmp", 12), ("synth_x86_all_streams.dmp", 0)):
        with open(os.path.join(out, name), "wb") as f:
            f.write(build(arch))


if __name__ == "__main__":
    main()
