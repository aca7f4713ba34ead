/*
 * unwind_x86.c — x86 frames in Breakpad's order (see unwind_x86.h).
 *
 * 32-bit Windows code is often built without frame pointers (FPO), so the
 * EBP chain is trusted only when it lands on code; otherwise the stack is
 * scanned.  A scanned frame recovers EBP from the word below the return
 * address when that looks like a saved frame pointer (the `push ebp` right
 * after the call), which lets the next step use the chain again.
 */
#include "unwind/unwind_x86.h"

#include "unwind/scan.h"

#define X86_NONVOLATILE                                                                            \
    ((UINT64_C(1) << DT_X86_EBX) | (UINT64_C(1) << DT_X86_EBP) | (UINT64_C(1) << DT_X86_ESI) |       \
     (UINT64_C(1) << DT_X86_EDI) | (UINT64_C(1) << DT_X86_ESP) | (UINT64_C(1) << DT_X86_EIP))

static bool in_stack(const dt_walker *w, uint64_t addr)
{
    if (!w->in->stack_high)
        return true;
    return addr >= w->in->stack_low && addr < w->in->stack_high;
}

bool dt_unwind_x86_step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                        dt_unwind_result *how)
{
    const dt_addrspace *as = w->in->memory;
    uint64_t lookup = dt_walker_lookup_ip(callee);
    how->machine_frame = false;
    if (dt_walker_module(w, lookup) && dt_walker_hook_cfi(w, callee, lookup, caller, &how->trust))
        return true;
    uint64_t esp, ebp;
    if (!dt_ctx_get(&callee->context, DT_X86_ESP, &esp))
        return false;
    if (dt_ctx_get(&callee->context, DT_X86_EBP, &ebp) && (ebp & 3) == 0 && ebp >= esp && in_stack(w, ebp)) {
        uint32_t saved_ebp, ret;
        bool have = dt_as_u32(as, ebp, &saved_ebp) && dt_as_u32(as, ebp + 4, &ret);
        if (have && !saved_ebp && !ret) {
            /* The zeroed frame a thread starts with ends the chain: report a
             * 0 return address so the walk stops instead of scanning on. */
            *caller = callee->context;
            caller->valid &= X86_NONVOLATILE;
            dt_ctx_set(caller, DT_X86_EIP, 0);
            dt_ctx_set(caller, DT_X86_ESP, ebp + 8);
            how->trust = DT_TRUST_FRAME_POINTER;
            return true;
        }
        if (have && dt_walker_is_code(w, ret)) {
            *caller = callee->context;
            caller->valid &= X86_NONVOLATILE;
            dt_ctx_set(caller, DT_X86_EIP, ret);
            dt_ctx_set(caller, DT_X86_ESP, ebp + 8);
            dt_ctx_set(caller, DT_X86_EBP, saved_ebp);
            how->trust = DT_TRUST_FRAME_POINTER;
            return true;
        }
    }
    uint64_t ret, slot;
    if (!dt_scan_for_return(w, esp, index == 0 ? DT_SCAN_WORDS_FIRST_FRAME : DT_SCAN_WORDS, &ret, &slot))
        return false;
    *caller = callee->context;
    caller->valid &= X86_NONVOLATILE;
    dt_ctx_set(caller, DT_X86_EIP, ret);
    dt_ctx_set(caller, DT_X86_ESP, slot + 4);
    uint32_t below;
    bool ebp_ok = dt_ctx_get(&callee->context, DT_X86_EBP, &ebp) && ebp > slot && in_stack(w, ebp);
    if (!ebp_ok && slot >= 4 && dt_as_u32(as, slot - 4, &below) && below > slot + 4 && in_stack(w, below))
        dt_ctx_set(caller, DT_X86_EBP, below);
    how->trust = DT_TRUST_SCAN;
    return true;
}
