/*
 * walker_hooks.h — the symbolizer as the stack walker's outside help.
 *
 * The walker (unwind/stackwalk.h) defines what it can ask through
 * dt_stackwalk_hooks; this fills that struct from a symbolizer, so the
 * glue between the two layers lives in one place: Breakpad STACK WIN/CFI
 * unwinding, PE files from the symbol directories, and Breakpad's
 * "does the debug information name a function here" test.
 */
#ifndef DT_SYMBOLS_WALKER_HOOKS_H
#define DT_SYMBOLS_WALKER_HOOKS_H

#include "symbols/symbolizer.h"
#include "unwind/stackwalk.h"

/* Fills *hooks with callbacks on s (which must outlive the walks). */
void dt_symbolizer_walker_hooks(dt_symbolizer *s, dt_stackwalk_hooks *hooks);

#endif
