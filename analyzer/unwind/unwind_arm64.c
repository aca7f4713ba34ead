/*
 * unwind_arm64.c — ARM64 frames (see unwind_arm64.h).
 *
 * Full .xdata records carry byte-coded unwind ops that, like x64's, undo
 * the prolog when run in order; an epilog scope gives the first op that
 * applies inside that epilog, and a PC in the prolog skips the ops whose
 * instructions had not run yet (one op per instruction).  Packed entries
 * describe the canonical frame (int register save area at the top, then
 * FP registers, homed arguments, then the FP/LR pair and locals); only the
 * body form is decoded, which is where every return address lies.  Without
 * unwind data the FP/LR chain works because Windows ARM64 code keeps FP as a
 * frame chain.
 */
#include "unwind/unwind_arm64.h"

#include "unwind/scan.h"

#define A64_MAX_CODES 1024
#define A64_NONVOLATILE_MASK                                                                       \
    (((UINT64_C(1) << 29) - (UINT64_C(1) << 19)) | (UINT64_C(1) << DT_ARM64_FP) |                    \
     (UINT64_C(1) << DT_ARM64_SP) | (UINT64_C(1) << DT_ARM64_PC))

uint64_t dt_arm64_strip_pac(uint64_t addr)
{
    const uint64_t mask = (UINT64_C(1) << 48) - 1;
    return (addr >> 55) & 1 ? addr | ~mask : addr & mask;
}

/* Restores count consecutive X registers from memory at addr. */
static bool load_regs(const dt_addrspace *as, dt_cpu_context *c, int first, int count, uint64_t addr)
{
    for (int i = 0; i < count; i++) {
        uint64_t v;
        if (first + i > DT_ARM64_LR)
            return false;
        if (!dt_as_u64(as, addr + (uint64_t)i * 8, &v))
            return false;
        dt_ctx_set(c, first + i, v);
    }
    return true;
}

/* Length in bytes of the op starting with byte b. */
static size_t op_length(uint8_t b)
{
    if (b < 0xC0)
        return 1;
    if (b < 0xE0)
        return 2;
    if (b == 0xE0)
        return 4;
    if (b == 0xE2)
        return 2;
    if (b == 0xE7)
        return 3;
    return 1;
}

/*
 * Runs ops from codes[start] until end.  Returns false on unknown or
 * unsupported ops and missing memory.
 */
static bool run_codes(const uint8_t *codes, size_t ncodes, size_t start, const dt_addrspace *as,
                      dt_cpu_context *c, bool *pc_set, bool *machine)
{
    uint64_t sp = c->regs[DT_ARM64_SP];
    int save_next = 2; /* registers the next pair-save restores */
    size_t i = start;
    for (int guard = 0; i < ncodes && guard < A64_MAX_CODES; guard++) {
        uint8_t b = codes[i];
        size_t len = op_length(b);
        if (i + len > ncodes)
            return false;
        uint8_t b1 = len > 1 ? codes[i + 1] : 0;
        if (b < 0x20) {                                  /* alloc_s */
            sp += (uint64_t)(b & 0x1F) * 16;
        } else if (b < 0x40) {                           /* save_r19r20_x */
            if (!load_regs(as, c, 19, save_next, sp))
                return false;
            sp += (uint64_t)(b & 0x1F) * 8;
            save_next = 2;
        } else if (b < 0x80) {                           /* save_fplr */
            if (!load_regs(as, c, DT_ARM64_FP, 2, sp + (uint64_t)(b & 0x3F) * 8))
                return false;
        } else if (b < 0xC0) {                           /* save_fplr_x */
            if (!load_regs(as, c, DT_ARM64_FP, 2, sp))
                return false;
            sp += ((uint64_t)(b & 0x3F) + 1) * 8;
        } else if (b < 0xC8) {                           /* alloc_m */
            sp += (uint64_t)(((b & 7) << 8) | b1) * 16;
        } else if (b < 0xD0) {                           /* save_regp, save_regp_x */
            int reg = 19 + (((b & 3) << 2) | (b1 >> 6));
            uint64_t z = b1 & 0x3F;
            if (b < 0xCC) {
                if (!load_regs(as, c, reg, save_next, sp + z * 8))
                    return false;
            } else {
                if (!load_regs(as, c, reg, save_next, sp))
                    return false;
                sp += (z + 1) * 8;
            }
            save_next = 2;
        } else if (b < 0xD4) {                           /* save_reg */
            int reg = 19 + (((b & 3) << 2) | (b1 >> 6));
            if (!load_regs(as, c, reg, 1, sp + (uint64_t)(b1 & 0x3F) * 8))
                return false;
        } else if (b < 0xD6) {                           /* save_reg_x */
            int reg = 19 + (((b & 1) << 3) | (b1 >> 5));
            if (!load_regs(as, c, reg, 1, sp))
                return false;
            sp += ((uint64_t)(b1 & 0x1F) + 1) * 8;
        } else if (b < 0xD8) {                           /* save_lrpair */
            int reg = 19 + 2 * (((b & 1) << 2) | (b1 >> 6));
            uint64_t at = sp + (uint64_t)(b1 & 0x3F) * 8;
            if (!load_regs(as, c, reg, 1, at) || !load_regs(as, c, DT_ARM64_LR, 1, at + 8))
                return false;
        } else if (b < 0xDA) {                           /* save_fregp */
            save_next = 2;
        } else if (b < 0xDC) {                           /* save_fregp_x */
            sp += ((uint64_t)(b1 & 0x3F) + 1) * 8;
            save_next = 2;
        } else if (b < 0xDE) {                           /* save_freg */
        } else if (b == 0xDE) {                          /* save_freg_x */
            sp += ((uint64_t)(b1 & 0x1F) + 1) * 8;
        } else if (b == 0xDF) {                          /* alloc_z: SVE-sized, unknowable here */
            return false;
        } else if (b == 0xE0) {                          /* alloc_l */
            sp += (uint64_t)(((uint32_t)codes[i + 1] << 16) | ((uint32_t)codes[i + 2] << 8) | codes[i + 3]) * 16;
        } else if (b == 0xE1) {                          /* set_fp */
            sp = c->regs[DT_ARM64_FP];
        } else if (b == 0xE2) {                          /* add_fp */
            sp = c->regs[DT_ARM64_FP] - (uint64_t)b1 * 8;
        } else if (b == 0xE3) {                          /* nop */
        } else if (b == 0xE4 || b == 0xE5) {             /* end, end_c */
            break;
        } else if (b == 0xE6) {                          /* save_next */
            save_next += 2;
        } else if (b == 0xE7) {                          /* save_any_reg */
            uint8_t b2 = codes[i + 2];
            bool pair = (b1 >> 6) & 1, wb = (b1 >> 5) & 1;
            int reg = b1 & 0x1F, cls = b2 >> 6;
            uint64_t off = b2 & 0x3F;
            uint64_t at = wb ? sp : sp + off * (cls == 2 ? 16 : 8);
            if (cls == 0 && reg >= 19 && !load_regs(as, c, reg, pair ? 2 : 1, at))
                return false;
            if (wb)
                sp += (off + 1) * 16;
        } else if (b == 0xE9) {                          /* MSFT_OP_MACHINE_FRAME */
            uint64_t nsp, npc;
            if (!dt_as_u64(as, sp, &nsp) || !dt_as_u64(as, sp + 8, &npc))
                return false;
            dt_ctx_set(c, DT_ARM64_PC, npc);
            sp = nsp;
            *pc_set = *machine = true;
        } else if (b == 0xEA) {                          /* MSFT_OP_CONTEXT: a CONTEXT at sp */
            uint64_t v;
            for (int r = 0; r <= DT_ARM64_LR; r++) {
                if (!dt_as_u64(as, sp + 8 + (uint64_t)r * 8, &v))
                    return false;
                dt_ctx_set(c, r, v);
            }
            uint64_t npc, nsp;
            if (!dt_as_u64(as, sp + 0x100, &nsp) || !dt_as_u64(as, sp + 0x108, &npc))
                return false;
            dt_ctx_set(c, DT_ARM64_PC, npc);
            sp = nsp;
            *pc_set = *machine = true;
        } else if (b == 0xEC || b == 0xFC) {             /* clear_unwound_to_call, pac_sign_lr */
        } else {                                         /* trap frame, EC context, reserved */
            return false;
        }
        i += len;
    }
    dt_ctx_set(c, DT_ARM64_SP, sp);
    return true;
}

/* Number of ops (= instructions) from codes[start] up to the end op. */
static size_t count_ops(const uint8_t *codes, size_t ncodes, size_t start)
{
    size_t n = 0, i = start;
    while (i < ncodes && n < A64_MAX_CODES) {
        if (codes[i] == 0xE4 || codes[i] == 0xE5)
            break;
        i += op_length(codes[i]);
        n++;
    }
    return n;
}

/* Skips `skip` ops starting at start; returns the byte index reached. */
static size_t skip_ops(const uint8_t *codes, size_t ncodes, size_t start, size_t skip)
{
    size_t i = start;
    while (skip-- && i < ncodes)
        i += op_length(codes[i]);
    return i;
}

static bool unwind_xdata(const dt_pe *pe, uint32_t xdata, uint32_t offset, bool exact,
                         const dt_addrspace *as, dt_cpu_context *c, bool *pc_set, bool *machine)
{
    uint32_t hdr;
    if (!dt_pe_read_u32(pe, xdata, &hdr))
        return false;
    uint32_t pos = xdata + 4;
    uint32_t epilog_count = (hdr >> 22) & 0x1F, code_words = hdr >> 27;
    bool e_flag = (hdr >> 21) & 1;
    if (!epilog_count && !code_words) {
        uint32_t ext;
        if (!dt_pe_read_u32(pe, pos, &ext))
            return false;
        epilog_count = ext & 0xFFFF;
        code_words = (ext >> 16) & 0xFF;
        pos += 4;
    }
    uint32_t scopes_at = pos;
    if (!e_flag)
        pos += epilog_count * 4;
    uint8_t codes[255 * 4];
    size_t ncodes = (size_t)code_words * 4;
    if (dt_pe_read(pe, pos, codes, ncodes) != ncodes)
        return false;
    size_t start = 0;
    if (exact) {
        uint32_t insn = offset / 4;
        size_t prolog_ops = count_ops(codes, ncodes, 0);
        if (insn < prolog_ops) {
            start = skip_ops(codes, ncodes, 0, prolog_ops - insn);
        } else if (e_flag) {
            /* One epilog ending the function; its ops start at epilog_count
             * and the final ret is the end op. */
            uint32_t flen = hdr & 0x3FFFF;
            size_t n = count_ops(codes, ncodes, epilog_count);
            if (flen >= n + 1 && insn >= flen - n - 1 && insn < flen)
                start = skip_ops(codes, ncodes, epilog_count, insn - (flen - n - 1));
        } else {
            for (uint32_t k = 0; k < epilog_count && k < 1024; k++) {
                uint32_t scope;
                if (!dt_pe_read_u32(pe, scopes_at + k * 4, &scope))
                    break;
                uint32_t es = scope & 0x3FFFF, idx = scope >> 22;
                size_t n = count_ops(codes, ncodes, idx);
                if (insn >= es && insn <= es + n) {
                    start = skip_ops(codes, ncodes, idx, insn - es);
                    break;
                }
            }
        }
    }
    return run_codes(codes, ncodes, start, as, c, pc_set, machine);
}

static bool unwind_packed(uint32_t data, uint32_t offset, bool exact, const dt_addrspace *as,
                          dt_cpu_context *c)
{
    uint32_t flag = data & 3, regf = (data >> 13) & 7, regi = (data >> 16) & 15;
    uint32_t h = (data >> 20) & 1, cr = (data >> 21) & 3, frame = ((data >> 23) & 0x1FF) * 16;
    if (flag == 3)
        return false;
    uint64_t sp = c->regs[DT_ARM64_SP];
    if (exact && offset == 0 && flag == 1)
        return true; /* at the first instruction nothing is saved yet: pc = lr */
    uint32_t intsz = regi * 8 + (cr == 1 ? 8 : 0);
    uint32_t fpsz = regf ? (regf + 1) * 8 : 0;
    uint32_t savsz = (intsz + fpsz + 64 * h + 15) & ~15u;
    if (savsz > frame)
        return false;
    uint64_t entry;
    if (cr == 2 || cr == 3) {
        /* Chained: the FP/LR pair sits at the bottom of the frame whatever
         * the local size (stp x29,lr,[sp,#-locsz]! or sub sp; stp [sp]),
         * and FP points at it. */
        uint64_t fp = c->regs[DT_ARM64_FP];
        if (!(c->valid & (UINT64_C(1) << DT_ARM64_FP)))
            return false;
        entry = fp + frame;
        if (!load_regs(as, c, DT_ARM64_FP, 2, fp))
            return false;
    } else {
        entry = sp + frame;
        if (cr == 1 && !load_regs(as, c, DT_ARM64_LR, 1, entry - savsz + regi * 8))
            return false;
    }
    if (regi && !load_regs(as, c, 19, (int)regi, entry - savsz))
        return false;
    dt_ctx_set(c, DT_ARM64_SP, entry);
    return true;
}

bool dt_unwind_arm64_pdata(const dt_pe *pe, uint64_t base, const dt_addrspace *as,
                           const dt_cpu_context *callee, bool exact, dt_cpu_context *caller,
                           bool *machine_frame)
{
    *caller = *callee;
    *machine_frame = false;
    uint64_t pc, sp;
    if (!dt_ctx_get(callee, DT_ARM64_PC, &pc) || !dt_ctx_get(callee, DT_ARM64_SP, &sp))
        return false;
    uint64_t lookup = exact ? pc : pc - 4;
    if (lookup < base || lookup - base >= pe->size_of_image)
        return false;
    uint32_t rva = (uint32_t)(lookup - base);
    dt_pe_arm64_function f;
    bool pc_set = false;
    if (!dt_pe_arm64_pdata_find(pe, rva, &f)) {
        /* A leaf without unwind data: only provable at the stop point. */
        if (!exact || !(callee->valid & (UINT64_C(1) << DT_ARM64_LR)))
            return false;
    } else if (f.unwind_data & 3) {
        if (!unwind_packed(f.unwind_data, rva - f.begin, exact, as, caller))
            return false;
    } else if (!unwind_xdata(pe, f.unwind_data, rva - f.begin, exact, as, caller, &pc_set, machine_frame)) {
        return false;
    }
    if (!pc_set) {
        uint64_t lr;
        if (!dt_ctx_get(caller, DT_ARM64_LR, &lr))
            return false;
        dt_ctx_set(caller, DT_ARM64_PC, dt_arm64_strip_pac(lr));
        caller->valid &= A64_NONVOLATILE_MASK;
    }
    return true;
}

bool dt_unwind_arm64_step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                          dt_unwind_result *how)
{
    const dt_addrspace *as = w->in->memory;
    bool exact = callee->trust == DT_TRUST_CONTEXT || callee->machine_frame;
    uint64_t lookup = exact ? callee->ip : callee->ip - 4;
    const dt_module *m = dt_walker_module(w, lookup);
    how->machine_frame = false;
    if (m) {
        const dt_pe *pe = dt_walker_image(w, m);
        bool mf = false;
        if (pe && dt_unwind_arm64_pdata(pe, m->base, as, &callee->context, exact, caller, &mf)) {
            how->trust = DT_TRUST_CFI;
            how->machine_frame = mf;
            return true;
        }
        if (dt_walker_hook_cfi(w, callee, lookup, caller, &how->trust))
            return true;
    }
    /* FP/LR chain: [fp] = caller fp, [fp+8] = return address.  At the
     * context frame the function may not have saved LR yet; LR itself is the
     * better return address when it points at code and FP is not past it. */
    uint64_t fp, sp, lr;
    bool have_sp = dt_ctx_get(&callee->context, DT_ARM64_SP, &sp);
    if (dt_ctx_get(&callee->context, DT_ARM64_FP, &fp) && have_sp && (fp & 7) == 0 && fp >= sp &&
        (!w->in->stack_high || fp + 16 <= w->in->stack_high)) {
        uint64_t saved_fp, ret;
        if (dt_as_u64(as, fp, &saved_fp) && dt_as_u64(as, fp + 8, &ret)) {
            ret = dt_arm64_strip_pac(ret);
            if (dt_walker_is_code(w, ret)) {
                *caller = callee->context;
                caller->valid &= A64_NONVOLATILE_MASK;
                dt_ctx_set(caller, DT_ARM64_PC, ret);
                dt_ctx_set(caller, DT_ARM64_SP, fp + 16);
                dt_ctx_set(caller, DT_ARM64_FP, saved_fp);
                how->trust = DT_TRUST_FRAME_POINTER;
                return true;
            }
        }
    }
    if (index == 0 && dt_ctx_get(&callee->context, DT_ARM64_LR, &lr)) {
        lr = dt_arm64_strip_pac(lr);
        if (lr != callee->ip && dt_walker_is_code(w, lr)) {
            *caller = callee->context;
            caller->valid &= A64_NONVOLATILE_MASK;
            dt_ctx_set(caller, DT_ARM64_PC, lr);
            how->trust = DT_TRUST_FRAME_POINTER;
            return true;
        }
    }
    if (!have_sp)
        return false;
    uint64_t ret, slot;
    if (dt_scan_for_return(w, sp, index == 0 ? DT_SCAN_WORDS_FIRST_FRAME : DT_SCAN_WORDS, &ret, &slot)) {
        *caller = callee->context;
        caller->valid &= A64_NONVOLATILE_MASK;
        dt_ctx_set(caller, DT_ARM64_PC, dt_arm64_strip_pac(ret));
        dt_ctx_set(caller, DT_ARM64_SP, slot + 8);
        how->trust = DT_TRUST_SCAN;
        return true;
    }
    return false;
}
