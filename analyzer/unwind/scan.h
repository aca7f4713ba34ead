/*
 * scan.h — the last-resort unwinder: search the stack for a return address.
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
 * (E8 rel32, FF /2 in its register and memory forms, with REX on x64). */
bool dt_scan_call_precedes(const uint8_t *before, size_t n, bool x64);

/* True when the ARM64 instruction before a return address is a call
 * (BL, BLR, BLRAA/BLRAB and their zero-modifier forms). */
bool dt_scan_arm64_call_precedes(uint32_t insn);

/* Scans `words` pointer-sized words upward from sp.  On success *ret is the
 * return address found and *slot the address holding it. */
bool dt_scan_for_return(dt_walker *w, uint64_t sp, size_t words, uint64_t *ret, uint64_t *slot);

#endif
