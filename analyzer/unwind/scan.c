/*
 * scan.c — stack scanning for return addresses (see scan.h).
 *
 * Breakpad's rule (a word pointing into a module) is too generous on real
 * stacks: images hold data, and stale return addresses of finished calls
 * linger.  The call-instruction test below removes most data pointers; the
 * caller marks every scanned frame "scan" so readers weigh it accordingly.
 * When the code bytes before a candidate are not available (a minidump
 * without the image), the module test alone decides.
 */
#include "unwind/scan.h"

bool dt_scan_call_precedes(const uint8_t *b, size_t n, bool x64, bool from_file)
{
    (void)x64; /* REX prefixes precede the forms below, so the tails match both */
    /* call rel32 */
    if (n >= 5 && b[n - 5] == 0xE8)
        return true;
    /* the file's `call [rip+disp32]` that memory holds as `call rel32; nop`
     * [V: Wdf01000.sys rva 0x799da, 0xa866, both in rizin's PDB stack] */
    if (from_file && n >= 5 && b[n - 5] == 0xFF && b[n - 4] == 0x15)
        return true;
    /* call r / call [r] (FF /2, mod 00 or 11, no SIB, no displacement) */
    if (n >= 2 && b[n - 2] == 0xFF) {
        uint8_t m = b[n - 1];
        if ((m & 0xF8) == 0xD0)
            return true;
        if ((m & 0xF8) == 0x10 && m != 0x14 && m != 0x15)
            return true;
    }
    /* call [r + disp8] / call [sib] */
    if (n >= 3 && b[n - 3] == 0xFF) {
        uint8_t m = b[n - 2];
        if ((m & 0xF8) == 0x50 && m != 0x54)
            return true;
        if (m == 0x14 && (b[n - 1] & 7) != 5)
            return true;
    }
    /* call [sib + disp8] */
    if (n >= 4 && b[n - 4] == 0xFF && b[n - 3] == 0x54)
        return true;
    /* call [rip + disp32] / [abs32] / [r + disp32] */
    if (n >= 6 && b[n - 6] == 0xFF) {
        uint8_t m = b[n - 5];
        if (m == 0x15 || ((m & 0xF8) == 0x90 && m != 0x94))
            return true;
    }
    /* call [sib + disp32] */
    if (n >= 7 && b[n - 7] == 0xFF && (b[n - 6] == 0x94 || (b[n - 6] == 0x14 && (b[n - 5] & 7) == 5)))
        return true;
    return false;
}

bool dt_scan_arm64_call_precedes(uint32_t insn)
{
    if ((insn & 0xFC000000u) == 0x94000000u) /* bl */
        return true;
    if ((insn & 0xFFFFFC1Fu) == 0xD63F0000u) /* blr */
        return true;
    /* blraa, blrab, blraaz, blrabz */
    return (insn & 0xFEFFF800u) == 0xD63F0800u;
}

/* Bytes a call encoding can span before its return address. */
#define CALL_BYTES 7

int dt_scan_call_site(dt_walker *w, uint64_t ret)
{
    bool x64 = w->in->arch != DT_ARCH_X86;
    uint8_t before[CALL_BYTES];
    if (ret < CALL_BYTES)
        return -1;
    if (dt_as_read(w->in->memory, ret - CALL_BYTES, before, CALL_BYTES) == CALL_BYTES)
        return dt_scan_call_precedes(before, CALL_BYTES, x64, false);
    /* Not in memory: dt_walker_read_code answers from the image file. */
    if (dt_walker_read_code(w, ret - CALL_BYTES, before, CALL_BYTES) == CALL_BYTES)
        return dt_scan_call_precedes(before, CALL_BYTES, x64, true);
    return -1;
}

bool dt_scan_for_return(dt_walker *w, uint64_t sp, size_t words, uint64_t *ret, uint64_t *slot)
{
    unsigned ps = w->in->arch == DT_ARCH_X86 ? 4 : 8;
    for (size_t i = 0; i < words; i++) {
        uint64_t at = sp + i * ps, v;
        if (at < sp)
            break;
        if (w->in->stack_high && at + ps > w->in->stack_high)
            break;
        if (!dt_walker_read_ptr(w, at, &v))
            break; /* the captured stack ends here */
        if (v < 8 || !dt_walker_is_code(w, v))
            continue;
        if (w->in->arch == DT_ARCH_ARM64) {
            uint8_t insn[4];
            if (dt_walker_read_code(w, v - 4, insn, 4) == 4 && !dt_scan_arm64_call_precedes(dt_le32(insn)))
                continue;
            *ret = v;
            *slot = at;
            return true;
        }
        if (dt_scan_call_site(w, v) == 0)
            continue;
        *ret = v;
        *slot = at;
        return true;
    }
    return false;
}
