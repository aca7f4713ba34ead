/*
 * frames_json.h — a walked stack as the report's frames[], with names.
 *
 * Shared by the user and kernel parts so that a frame reads the same on both
 * sides of the joined stack (minidump-stackwalk's field names: frame, ip, sp,
 * trust, module, module_offset, function, function_offset, file, line,
 * missing_symbols, plus module_short, symbol_provider and export_only).
 */
#ifndef DT_REPORT_FRAMES_JSON_H
#define DT_REPORT_FRAMES_JSON_H

#include <cjson/cJSON.h>

#include "base/addrspace.h"
#include "symbols/symbolizer.h"
#include "unwind/stackwalk.h"

/* A new array (caller owns) for st; sym may be NULL (module+offset only).
 * Caller frames 1..nonvolatile_frames also get the non-volatile registers
 * the unwinder recovered ("nonvolatile", "nonvolatile_restored"): triage
 * reads a wait API's arguments from them.  Bounded because the wait APIs
 * sit near the top of a stack and a 500-thread process must not carry 256
 * register sets per thread; 0 for none. */
cJSON *dt_report_frames(const dt_stack *st, dt_symbolizer *sym, const dt_addrspace *as, size_t nonvolatile_frames);

/* How many caller frames of a user stack carry their non-volatile registers. */
#define DT_REPORT_USER_NONVOLATILE_FRAMES 8

/* Adds loaded_symbols / missing_symbols / symbol_source to every object of
 * modules_json whose base_addr is a module of list (after annotating it
 * through sym). */
void dt_report_annotate_modules(cJSON *modules_json, dt_module_list *list, dt_symbolizer *sym,
                                const dt_addrspace *as);

#endif
