/*
 * kernel_report.h — the "kernel" part of the analysis report, as JSON, and
 * its text rendering close to WinDbg's `!analyze -v` header, `!process`,
 * `!thread` and `k`.
 *
 * Field conventions follow the user-mode part (docs/report.md): addresses
 * are "0x…" hex strings, frames carry frame/ip/sp/trust/module/
 * module_offset/function/function_offset.  Schema: docs/kernel.md.
 */
#ifndef DT_REPORT_KERNEL_REPORT_H
#define DT_REPORT_KERNEL_REPORT_H

#include <cjson/cJSON.h>

#include "base/view.h"
#include "model/kernel_dump.h"
#include "symbols/symbolizer.h"
#include "base/error.h"

/* The JSON object for one analyzed kernel dump; caller frees (cJSON_Delete).
 * NULL on OOM. */
cJSON *dt_kernel_report(const dt_kernel_dump *kd);

/* Text rendering of a kernel report object (as made above); caller frees.
 * NULL on OOM. */
char *dt_kernel_report_text(const cJSON *kernel);

/* Re-walks every thread's stack with the generic walker (unwind/stackwalk.h:
 * .pdata/.xdata from images in the dump or, through the symbolizer, from
 * symbol directories) and keeps, per thread, the walker's unwound frames
 * followed by the model's own scan/FP frames beyond them.  With a
 * symbolizer, frames also get function names (dt_kernel_report then
 * prints them).  symbolizer may be NULL. */
void dt_kernel_walk_stacks_ex(dt_kernel_dump *kd, dt_symbolizer *symbolizer);

/* The report with function names from symbolizer (may be NULL). */
cJSON *dt_kernel_report_symbolized(const dt_kernel_dump *kd, dt_symbolizer *symbolizer);

/* Convenience for the CLI/worker: analyze a kernel dump held in file and
 * return its report (caller frees).  NULL with err set when the header is
 * unusable.  opts and symbolizer may be NULL. */
cJSON *dt_kernel_analyze_view(dt_view file, const dt_kernel_options *opts, dt_error *err);
cJSON *dt_kernel_analyze_view_symbolized(dt_view file, const dt_kernel_options *opts, dt_symbolizer *symbolizer,
                                         dt_error *err);

#endif
