/*
 * unwind_x86.h — 32-bit x86 frames: Breakpad STACK WIN/CFI through the
 * hooks, then the EBP chain, then scanning with the call-instruction test.
 */
#ifndef DT_UNWIND_UNWIND_X86_H
#define DT_UNWIND_UNWIND_X86_H

#include "unwind/walker.h"

bool dt_unwind_x86_step(dt_walker *w, const dt_frame *callee, size_t index, dt_cpu_context *caller,
                        dt_unwind_result *how);

#endif
