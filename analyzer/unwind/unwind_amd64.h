/*
 * unwind_amd64.h — x64 unwinding: .pdata/UNWIND_INFO (the Windows
 * RtlVirtualUnwind algorithm; for generated code the dynamic function
 * tables' entries), then the RBP chain, then scanning.
 */
#ifndef DT_UNWIND_UNWIND_AMD64_H
#define DT_UNWIND_UNWIND_AMD64_H

#include "formats/pe.h"
#include "unwind/walker.h"

typedef enum {
    DT_X64_UNWIND_OK,        /* caller computed from unwind data */
    DT_X64_UNWIND_LEAF,      /* no RUNTIME_FUNCTION: leaf, rip = [rsp] */
    DT_X64_UNWIND_FAILED,    /* unwind data or stack memory missing/corrupt */
} dt_x64_unwind_status;

/*
 * One virtual unwind with the exception data of `pe`, loaded at `base`.
 * `exact` says callee->rip is where execution stopped (the context frame or
 * a machine frame): only then are partial prologs and epilogs honoured,
 * since a return address is always in a function body.  On OK/LEAF *caller
 * holds the caller's registers (volatile ones invalid); *machine_frame is
 * set when an UWOP_PUSH_MACHFRAME supplied them.
 */
dt_x64_unwind_status dt_unwind_amd64_pdata(const dt_pe *pe, uint64_t base, const dt_addrspace *as,
                                           const dt_cpu_context *callee, bool exact,
                                           dt_cpu_context *caller, bool *machine_frame);

/* One virtual unwind of generated code covered by a dynamic function table
 * (RtlAddFunctionTable; the FunctionTable stream), with its UNWIND_INFO
 * read from as.  No table entry covering the address is FAILED (a leaf in
 * generated code cannot be told from data). */
dt_x64_unwind_status dt_unwind_amd64_dynamic(const dt_md_function_tables *tables, const dt_addrspace *as,
                                             const dt_cpu_context *callee, bool exact, dt_cpu_context *caller,
                                             bool *machine_frame);

/* The caller of `callee` by the best available method. */
bool dt_unwind_amd64_step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                          dt_unwind_result *how);

#endif
