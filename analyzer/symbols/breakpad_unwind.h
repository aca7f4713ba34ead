/*
 * breakpad_unwind.h — one stack frame's unwind from Breakpad symbol data:
 * STACK WIN (x86 FPO / FrameData programs) and STACK CFI rules.
 *
 * Given the callee's registers and the stack memory, these compute the
 * caller's registers the way Breakpad's x86/amd64 walkers do, including the
 * `.raSearchStart` return-address scan that MSVC frame data needs.  They
 * know nothing about modules: the walker passes a callback that says
 * whether an address is plausible code.
 */
#ifndef DT_SYMBOLS_BREAKPAD_UNWIND_H
#define DT_SYMBOLS_BREAKPAD_UNWIND_H

#include <stdbool.h>
#include <stdint.h>

#include "formats/breakpad_sym.h"
#include "base/cpu_context.h"
#include "base/addrspace.h"

typedef struct {
    const dt_addrspace *as;          /* target memory (the stack) */
    /* Optional: true when addr lies in a loaded module (and in a known
     * function when symbols say so).  Without it no stack scan happens. */
    bool (*is_code)(void *ctx, uint64_t addr);
    void *ctx;
    /* STACK WIN parameter size of the callee's own callee (the frame below),
     * 0 when unknown; `.cbCalleeParams`. */
    uint32_t callee_param_size;
    /* The callee is the first frame (registers from the thread context). */
    bool context_frame;
} dt_breakpad_unwind_env;

/* x86 STACK WIN unwind of callee (at module-relative rva) into *caller.
 * *scanned is set when the return address came from a stack scan (lower
 * trust); *param_size receives the record's parameter size, to pass as
 * callee_param_size for the next frame.  False when no record covers rva or
 * the program fails. */
bool dt_breakpad_unwind_win(const dt_breakpad_sym *sym, uint32_t rva, const dt_cpu_context *callee,
                            const dt_breakpad_unwind_env *env, dt_cpu_context *caller,
                            bool *scanned, uint32_t *param_size);

/* STACK CFI unwind (x86, amd64, arm64): caller IP = .ra, caller SP = .cfa,
 * registers with rules recovered from them, callee-saved registers without
 * rules carried over.  False when no CFI covers rva or a rule fails. */
bool dt_breakpad_unwind_cfi(const dt_breakpad_sym *sym, uint32_t rva, const dt_cpu_context *callee,
                            const dt_addrspace *as, dt_cpu_context *caller);

#endif
