#!/usr/bin/env python3
# gen_many_modules.py N OUT — writes a minimal minidump whose only stream is a
# ModuleListStream of N modules (distinct bases, one shared name): the shape
# of a fuzzer's slow input that made the report quadratic in the module count
# (docs/fuzzing.md).  Used by bench_many_modules.sh.
import struct, sys
n = int(sys.argv[1]); out = sys.argv[2]
name = "C:\\m.dll".encode('utf-16le')
hdr_size = 32; dir_size = 12
mod_off = hdr_size + dir_size
mods_size = 4 + n * 108
name_off = mod_off + mods_size
buf = bytearray()
buf += struct.pack('<IIIIIIQ', 0x504d444d, 0xa793, 1, hdr_size, 0, 0, 0)
buf += struct.pack('<III', 4, mods_size, mod_off)
buf += struct.pack('<I', n)
for i in range(n):
    e = struct.pack('<QIII', 0x10000000 + i * 0x10000, 0x8000, 0, 0) + struct.pack('<I', name_off)
    e += b'\0' * (108 - len(e))
    buf += e
buf += struct.pack('<I', len(name)) + name + b'\0\0'
open(out, 'wb').write(buf)
