/*
 * unwind_amd64.c — x64 frames: the Windows virtual-unwind algorithm over
 * .pdata/UNWIND_INFO, with Breakpad's fallbacks (see unwind_amd64.h).
 *
 * The unwind codes describe the prolog in reverse, so applying them in
 * order undoes it: pops restore registers, allocations give back stack,
 * SET_FPREG recovers RSP from the frame register, saves are reloaded
 * relative to the frame base (RSP, or the frame register minus its offset
 * once the prolog set it).  Two cases need the code itself: an RIP inside
 * a prolog undoes only the codes whose instructions already ran, and an RIP
 * inside an epilog (recognised by the instruction forms Windows allows
 * there) is finished by emulating the remaining pops and the return, since
 * the frame is already partly torn down.
 */
#include "unwind/unwind_amd64.h"

#include "unwind/scan.h"

#include <string.h>

#define X64_MAX_CHAIN 32

/* Registers a callee must preserve; everything else is unknown in a caller. */
#define X64_NONVOLATILE                                                                            \
    ((UINT64_C(1) << DT_AMD64_RBX) | (UINT64_C(1) << DT_AMD64_RBP) | (UINT64_C(1) << DT_AMD64_RSI) | \
     (UINT64_C(1) << DT_AMD64_RDI) | (UINT64_C(1) << DT_AMD64_R12) | (UINT64_C(1) << DT_AMD64_R13) | \
     (UINT64_C(1) << DT_AMD64_R14) | (UINT64_C(1) << DT_AMD64_R15) | (UINT64_C(1) << DT_AMD64_RSP) | \
     (UINT64_C(1) << DT_AMD64_RIP))

static void keep_nonvolatile(dt_cpu_context *c)
{
    c->valid &= X64_NONVOLATILE;
}

static bool pop_reg(const dt_addrspace *as, dt_cpu_context *c, int reg, uint64_t *rsp)
{
    uint64_t v;
    if (!dt_as_u64(as, *rsp, &v))
        return false;
    dt_ctx_set(c, reg, v);
    *rsp += 8;
    return true;
}

/*
 * Recognises an epilog at rip and, if so, emulates it to the return.
 * Returns 1 when emulated, 0 when rip is not in an epilog, -1 on missing
 * memory.
 */
static int try_epilog(const dt_pe *pe, uint32_t rva, const dt_pe_runtime_function *rf,
                      const dt_unwind_info *ui, const dt_addrspace *as, dt_cpu_context *c)
{
    uint8_t code[64];
    size_t n = dt_pe_read(pe, rva, code, sizeof code);
    if (n < 1)
        return 0;
    uint64_t rsp = c->regs[DT_AMD64_RSP];
    size_t i = 0;
    /* add rsp, imm8 / imm32 */
    if (n >= 4 && code[0] == 0x48 && code[1] == 0x83 && code[2] == 0xC4) {
        rsp += (uint64_t)(int64_t)(int8_t)code[3];
        i = 4;
    } else if (n >= 7 && code[0] == 0x48 && code[1] == 0x81 && code[2] == 0xC4) {
        rsp += (uint64_t)(int64_t)(int32_t)dt_le32(code + 3);
        i = 7;
    } else if (n >= 4 && (code[0] == 0x48 || code[0] == 0x49) && code[1] == 0x8D &&
               ((code[2] >> 3) & 7) == 4 && ui->frame_reg) {
        /* lea rsp, [frame_reg + disp] */
        uint8_t mod = code[2] >> 6, rm = (uint8_t)((code[2] & 7) | ((code[0] & 1) << 3));
        if (rm != ui->frame_reg || (rm & 7) == 4)
            return 0;
        uint64_t base;
        if (!dt_ctx_get(c, rm, &base))
            return 0;
        if (mod == 1) {
            rsp = base + (uint64_t)(int64_t)(int8_t)code[3];
            i = 4;
        } else if (mod == 2 && n >= 7) {
            rsp = base + (uint64_t)(int64_t)(int32_t)dt_le32(code + 3);
            i = 7;
        } else {
            return 0;
        }
    }
    /* First pass: the shape must be pops then a return or a tail jump. */
    size_t j = i;
    while (j < n) {
        if (code[j] >= 0x58 && code[j] <= 0x5F)
            j += 1;
        else if (j + 1 < n && code[j] == 0x41 && code[j + 1] >= 0x58 && code[j + 1] <= 0x5F)
            j += 2;
        else
            break;
    }
    if (j >= n)
        return 0;
    uint64_t ret_extra = 0;
    bool ok = false;
    if (code[j] == 0xC3) {
        ok = true;
    } else if (j + 1 < n && code[j] == 0xF3 && code[j + 1] == 0xC3) {
        ok = true;
    } else if (j + 2 < n && code[j] == 0xC2) {
        ret_extra = dt_le16(code + j + 1);
        ok = true;
    } else if (j + 4 < n && code[j] == 0xE9) {
        int64_t target = (int64_t)rva + (int64_t)j + 5 + (int32_t)dt_le32(code + j + 1);
        ok = target < (int64_t)rf->begin || target >= (int64_t)rf->end;
    } else if (j + 1 < n && code[j] == 0xEB) {
        int64_t target = (int64_t)rva + (int64_t)j + 2 + (int8_t)code[j + 1];
        ok = target < (int64_t)rf->begin || target >= (int64_t)rf->end;
    } else if (j + 1 < n && code[j] == 0xFF && code[j + 1] == 0x25) {
        ok = true;
    } else if (j + 2 < n && code[j] == 0x48 && code[j + 1] == 0xFF && code[j + 2] == 0x25) {
        ok = true;
    }
    if (!ok)
        return 0;
    /* Second pass: emulate. */
    for (size_t k = i; k < j;) {
        int reg;
        if (code[k] == 0x41) {
            reg = 8 + (code[k + 1] - 0x58);
            k += 2;
        } else {
            reg = code[k] - 0x58;
            k += 1;
        }
        if (!pop_reg(as, c, reg, &rsp))
            return -1;
    }
    uint64_t rip;
    if (!dt_as_u64(as, rsp, &rip))
        return -1;
    dt_ctx_set(c, DT_AMD64_RIP, rip);
    dt_ctx_set(c, DT_AMD64_RSP, rsp + 8 + ret_extra);
    return 1;
}

static dt_x64_unwind_status unwind_function(const dt_pe *pe, const dt_addrspace *as, dt_pe_runtime_function rf,
                                            uint32_t rva, bool exact, dt_cpu_context *caller,
                                            bool *machine_frame);

dt_x64_unwind_status dt_unwind_amd64_pdata(const dt_pe *pe, uint64_t base, const dt_addrspace *as,
                                           const dt_cpu_context *callee, bool exact,
                                           dt_cpu_context *caller, bool *machine_frame)
{
    *caller = *callee;
    *machine_frame = false;
    uint64_t rip, rsp;
    if (!dt_ctx_get(callee, DT_AMD64_RIP, &rip) || !dt_ctx_get(callee, DT_AMD64_RSP, &rsp))
        return DT_X64_UNWIND_FAILED;
    uint64_t lookup = exact ? rip : rip - 1;
    if (lookup < base || lookup - base >= pe->size_of_image)
        return DT_X64_UNWIND_FAILED;
    uint32_t rva = (uint32_t)(lookup - base);
    dt_pe_runtime_function rf;
    if (!dt_pe_pdata_find(pe, rva, &rf)) {
        dt_pe_runtime_function first;
        if (!exact || !dt_pe_pdata_get(pe, 0, &first))
            return DT_X64_UNWIND_FAILED; /* no table, or not a leaf we can prove */
        uint64_t ret;
        if (!dt_as_u64(as, rsp, &ret))
            return DT_X64_UNWIND_FAILED;
        keep_nonvolatile(caller);
        dt_ctx_set(caller, DT_AMD64_RIP, ret);
        dt_ctx_set(caller, DT_AMD64_RSP, rsp + 8);
        return DT_X64_UNWIND_LEAF;
    }
    return unwind_function(pe, as, rf, rva, exact, caller, machine_frame);
}

/* The virtual unwind of one function whose RUNTIME_FUNCTION rf (RVAs from
 * pe's base) covers rva; caller starts as a copy of the callee. */
static dt_x64_unwind_status unwind_function(const dt_pe *pe, const dt_addrspace *as, dt_pe_runtime_function rf,
                                            uint32_t rva, bool exact, dt_cpu_context *caller,
                                            bool *machine_frame)
{
    uint64_t rsp;
    if (!dt_ctx_get(caller, DT_AMD64_RSP, &rsp))
        return DT_X64_UNWIND_FAILED;
    if (!dt_pe_resolve_runtime_function(pe, &rf))
        return DT_X64_UNWIND_FAILED;
    dt_unwind_info ui;
    if (dt_pe_unwind_info(pe, rf.unwind_info, &ui, NULL) != DT_OK)
        return DT_X64_UNWIND_FAILED;
    uint32_t offset = rva - rf.begin;
    if (exact && offset >= ui.prolog_size) {
        int e = try_epilog(pe, rva, &rf, &ui, as, caller);
        if (e < 0)
            return DT_X64_UNWIND_FAILED;
        if (e > 0) {
            keep_nonvolatile(caller);
            return DT_X64_UNWIND_OK;
        }
    }
    bool machine = false;
    for (int chain = 0; chain < X64_MAX_CHAIN; chain++) {
        if (chain > 0 && dt_pe_unwind_info(pe, rf.unwind_info, &ui, NULL) != DT_OK)
            return DT_X64_UNWIND_FAILED;
        /* Only the primary entry can be mid-prolog; chained parents ran fully. */
        bool partial = chain == 0 && exact && offset < ui.prolog_size;
        uint64_t frame = rsp;
        if (ui.frame_reg) {
            bool fp_set = !partial;
            for (size_t k = 0; partial && k < ui.op_count; k++)
                if (ui.ops[k].op == DT_UWOP_SET_FPREG && ui.ops[k].code_offset <= offset)
                    fp_set = true;
            if (fp_set) {
                uint64_t fr;
                if (!dt_ctx_get(caller, ui.frame_reg, &fr))
                    return DT_X64_UNWIND_FAILED;
                frame = fr - ui.frame_offset * 16u;
            }
        }
        for (size_t k = 0; k < ui.op_count; k++) {
            const dt_unwind_op *op = &ui.ops[k];
            if (partial && op->code_offset > offset)
                continue;
            switch (op->op) {
            case DT_UWOP_PUSH_NONVOL:
                if (!pop_reg(as, caller, op->info, &rsp))
                    return DT_X64_UNWIND_FAILED;
                break;
            case DT_UWOP_ALLOC_LARGE:
            case DT_UWOP_ALLOC_SMALL:
                rsp += op->value;
                break;
            case DT_UWOP_SET_FPREG: {
                uint64_t fr;
                if (!dt_ctx_get(caller, ui.frame_reg, &fr))
                    return DT_X64_UNWIND_FAILED;
                rsp = fr - ui.frame_offset * 16u;
                break;
            }
            case DT_UWOP_SAVE_NONVOL:
            case DT_UWOP_SAVE_NONVOL_FAR: {
                uint64_t v;
                if (!dt_as_u64(as, frame + op->value, &v))
                    return DT_X64_UNWIND_FAILED;
                dt_ctx_set(caller, op->info, v);
                break;
            }
            case DT_UWOP_PUSH_MACHFRAME: {
                uint64_t at = rsp + (op->info ? 8 : 0), new_rip, new_rsp;
                if (!dt_as_u64(as, at, &new_rip) || !dt_as_u64(as, at + 24, &new_rsp))
                    return DT_X64_UNWIND_FAILED;
                dt_ctx_set(caller, DT_AMD64_RIP, new_rip);
                rsp = new_rsp;
                machine = true;
                break;
            }
            default: /* XMM saves, epilog descriptors: nothing to undo in the GPRs */
                break;
            }
        }
        if (!(ui.flags & DT_UNW_FLAG_CHAININFO) || !ui.has_chain)
            break;
        rf = ui.chained;
        if (!dt_pe_resolve_runtime_function(pe, &rf))
            return DT_X64_UNWIND_FAILED;
    }
    if (!machine) {
        uint64_t ret;
        if (!dt_as_u64(as, rsp, &ret))
            return DT_X64_UNWIND_FAILED;
        dt_ctx_set(caller, DT_AMD64_RIP, ret);
        rsp += 8;
        keep_nonvolatile(caller);
    }
    /* A machine frame restores a full interrupted context only in part: the
     * integer registers are whatever the trap handler left, so keep what the
     * codes recovered. */
    dt_ctx_set(caller, DT_AMD64_RSP, rsp);
    *machine_frame = machine;
    return DT_X64_UNWIND_OK;
}

/* Generated code registered with RtlAddFunctionTable: the table's
 * RUNTIME_FUNCTION entries (from the FunctionTable stream) are RVAs from its
 * base address, and their UNWIND_INFO (and chained entries) lie in process
 * memory at base + RVA, which a mapped pseudo-image over the dump's memory
 * reads like an image's. */
dt_x64_unwind_status dt_unwind_amd64_dynamic(const dt_md_function_tables *tables, const dt_addrspace *as,
                                             const dt_cpu_context *callee, bool exact, dt_cpu_context *caller,
                                             bool *machine_frame)
{
    *caller = *callee;
    *machine_frame = false;
    uint64_t rip;
    if (!tables || !dt_ctx_get(callee, DT_AMD64_RIP, &rip))
        return DT_X64_UNWIND_FAILED;
    uint64_t lookup = exact ? rip : rip - 1;
    const dt_md_function_table *t = dt_md_function_table_for(tables, lookup);
    if (!t || lookup < t->base_address || lookup - t->base_address > UINT32_MAX)
        return DT_X64_UNWIND_FAILED;
    uint32_t rva = (uint32_t)(lookup - t->base_address);
    dt_pe_runtime_function rf;
    bool found = false;
    /* RtlAddFunctionTable does not require sorted entries: look at all */
    for (uint32_t i = 0; i < t->entry_count && !found; i++) {
        dt_md_runtime_function e;
        if (dt_md_function_table_entry(tables, t, i, &e) && rva >= e.begin && rva < e.end) {
            rf = (dt_pe_runtime_function){ e.begin, e.end, e.unwind_info };
            found = true;
        }
    }
    if (!found)
        return DT_X64_UNWIND_FAILED;
    dt_pe pseudo;
    memset(&pseudo, 0, sizeof pseudo);
    pseudo.mapped = true;
    pseudo.as = as;
    pseudo.base = t->base_address;
    pseudo.machine = 0x8664;
    pseudo.pe32plus = true;
    pseudo.size_of_image = UINT32_MAX;
    return unwind_function(&pseudo, as, rf, rva, exact, caller, machine_frame);
}

bool dt_unwind_amd64_step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                          dt_unwind_result *how)
{
    const dt_addrspace *as = w->in->memory;
    uint64_t lookup = dt_walker_lookup_ip(callee);
    bool exact = callee->trust == DT_TRUST_CONTEXT || callee->machine_frame;
    const dt_module *m = dt_walker_module(w, lookup);
    how->machine_frame = false;
    if (m) {
        const dt_pe *pe = dt_walker_image(w, m);
        if (pe) {
            bool mf = false;
            dt_x64_unwind_status st =
                dt_unwind_amd64_pdata(pe, m->base, as, &callee->context, exact, caller, &mf);
            if (st != DT_X64_UNWIND_FAILED) {
                how->trust = DT_TRUST_CFI;
                how->machine_frame = mf;
                return true;
            }
        }
        if (dt_walker_hook_cfi(w, callee, lookup, caller, &how->trust))
            return true;
    } else if (w->in->generated && w->in->generated->tables) {
        bool mf = false;
        if (dt_unwind_amd64_dynamic(w->in->generated->tables, as, &callee->context, exact, caller, &mf) ==
            DT_X64_UNWIND_OK) {
            how->trust = DT_TRUST_CFI;
            how->machine_frame = mf;
            return true;
        }
    }
    /* RBP chain: [rbp] = caller rbp, [rbp+8] = return address. */
    uint64_t rbp, rsp;
    bool have_rsp = dt_ctx_get(&callee->context, DT_AMD64_RSP, &rsp);
    if (dt_ctx_get(&callee->context, DT_AMD64_RBP, &rbp) && have_rsp && (rbp & 7) == 0 && rbp >= rsp &&
        (!w->in->stack_high || rbp + 16 <= w->in->stack_high)) {
        uint64_t saved_rbp, ret;
        if (dt_as_u64(as, rbp, &saved_rbp) && dt_as_u64(as, rbp + 8, &ret) && dt_walker_is_code(w, ret)) {
            *caller = callee->context;
            keep_nonvolatile(caller);
            dt_ctx_set(caller, DT_AMD64_RIP, ret);
            dt_ctx_set(caller, DT_AMD64_RSP, rbp + 16);
            dt_ctx_set(caller, DT_AMD64_RBP, saved_rbp);
            how->trust = DT_TRUST_FRAME_POINTER;
            return true;
        }
    }
    if (!have_rsp)
        return false;
    /* The context frame's own return address sits at rsp; for callers, the
     * callee's rsp already points past its return slot. */
    uint64_t ret, slot;
    if (dt_scan_for_return(w, rsp, index == 0 ? DT_SCAN_WORDS_FIRST_FRAME : DT_SCAN_WORDS, &ret, &slot)) {
        *caller = callee->context;
        keep_nonvolatile(caller);
        dt_ctx_set(caller, DT_AMD64_RIP, ret);
        dt_ctx_set(caller, DT_AMD64_RSP, slot + 8);
        how->trust = DT_TRUST_SCAN;
        return true;
    }
    return false;
}
