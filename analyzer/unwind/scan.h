/*
 * scan.h — the last-resort unwinder: search the stack for a return address,
 * and the call-site rules every scan uses (the walker's per-frame scan and
 * the kernel's whole-stack scan, unwind/kernel_stacks.h).
 *
 * A word is taken only when it points into a module's code (and into a
 * known function when symbols say so) and the bytes just before it decode
 * as a call instruction, so data pointers into images are not mistaken for
 * frames.
 */
#ifndef DT_UNWIND_SCAN_H
#define DT_UNWIND_SCAN_H

#include "unwind/walker.h"

#define DT_SCAN_WORDS 40
#define DT_SCAN_WORDS_FIRST_FRAME 160

/* True when the bytes before ret decode as a call ending exactly at ret
 * (E8 rel32, FF /2 in its register and memory forms, with REX on x64).
 * from_file: the bytes were read from the image file, not from target
 * memory; then an `FF 15 disp32` starting 5 bytes before ret counts too —
 * the on-disk `call [__imp_X]` that import call optimization rewrote in
 * memory to `call X` (E8 rel32) + nop, so the real return address sits one
 * byte inside the file's instruction.  Read from memory, that pattern is a
 * mid-instruction address and is refused. */
bool dt_scan_call_precedes(const uint8_t *before, size_t n, bool x64, bool from_file);

/* The call-site test for a candidate return address on x86/x64: 1 when the
 * code before ret (target memory first, else the module's image file) ends
 * in a call, 0 when it does not, -1 when the code bytes are not available. */
int dt_scan_call_site(dt_walker *w, uint64_t ret);

/* True when the ARM64 instruction before a return address is a call
 * (BL, BLR, BLRAA/BLRAB and their zero-modifier forms). */
bool dt_scan_arm64_call_precedes(uint32_t insn);

/* Scans `words` pointer-sized words upward from sp.  On success *ret is the
 * return address found and *slot the address holding it. */
bool dt_scan_for_return(dt_walker *w, uint64_t sp, size_t words, uint64_t *ret, uint64_t *slot);

#endif
