/*
 * symbol_hooks.h — the stack walker's hooks served by the symbolizer.
 *
 * Glue between unwind/ and symbols/: Breakpad STACK WIN/CFI unwinding
 * (with the frame information STACK WIN needs), PE files from the symbol
 * directories for modules whose image the dump lacks, and function extents
 * for judging scanned return addresses.  A module without PDB or .sym
 * symbols does not veto candidates: "no function known here" only counts
 * when the module's functions are known (Breakpad's rule).
 */
#ifndef DT_UNWIND_SYMBOL_HOOKS_H
#define DT_UNWIND_SYMBOL_HOOKS_H

#include "symbols/symbolizer.h"
#include "unwind/stackwalk.h"

typedef struct {
    const dt_module *module;
    bool has_functions;            /* a PDB or .sym knows its functions */
} dt_symbol_hooks_memo;

typedef struct {
    dt_symbolizer *symbolizer;     /* borrowed */
    const dt_addrspace *memory;    /* borrowed: the dump's memory */
    dt_symbol_hooks_memo *memo;    /* owned */
    size_t count;
} dt_symbol_hooks;

/* Points hooks at s; ctx must outlive every walk using hooks.  Free with
 * dt_symbol_hooks_free. */
void dt_symbol_hooks_init(dt_symbol_hooks *ctx, dt_stackwalk_hooks *hooks, dt_symbolizer *s,
                          const dt_addrspace *memory);
void dt_symbol_hooks_free(dt_symbol_hooks *ctx);

#endif
