/*
 * kernel_stacks.h — the stacks of every thread of a kernel dump.
 *
 * The kernel model (model/kernel_dump.h) supplies each thread's start
 * context, its stack bounds and the kernel address space; this walks them
 * with the one stack walker (unwind/stackwalk.h) and fills the threads'
 * frames[].  docs/kernel.md, "Stack frames", describes the result.
 */
#ifndef DT_UNWIND_KERNEL_STACKS_H
#define DT_UNWIND_KERNEL_STACKS_H

#include "model/kernel_dump.h"
#include "symbols/symbolizer.h"

/* Walks every thread that has a start context, replacing its frames (at
 * most kd->options.max_frames, 0 = 256):
 *   1. the walker's frames from the start context while they are unwound
 *      (.pdata/.xdata, Breakpad CFI through sym, frame pointers);
 *   2. beyond the last of those, the frames of a kernel stack scan that lie
 *      deeper on the stack: on x64/x86 every word of the stack that points
 *      just past a call in a driver's code section, on ARM64 the FP/LR chain.
 * sym may be NULL.  With it, unwinding uses its CFI and its PE files, and
 * the drivers on some stack are annotated (debug_file, symbol_source);
 * without it, PE files come from kd->options.image_file when set.
 * Walking again replaces the frames of the previous walk. */
void dt_kernel_walk_stacks(dt_kernel_dump *kd, dt_symbolizer *sym);

#endif
