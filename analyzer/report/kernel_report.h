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

#include "io/view.h"
#include "model/kernel_dump.h"
#include "util/error.h"

/* The JSON object for one analyzed kernel dump; caller frees (cJSON_Delete).
 * NULL on OOM. */
cJSON *dt_kernel_report(const dt_kernel_dump *kd);

/* Text rendering of a kernel report object (as made above); caller frees.
 * NULL on OOM. */
char *dt_kernel_report_text(const cJSON *kernel);

/* Convenience for the CLI/worker: analyze a kernel dump held in file and
 * return its report (caller frees).  NULL with err set when the header is
 * unusable.  opts may be NULL. */
cJSON *dt_kernel_analyze_view(dt_view file, const dt_kernel_options *opts, dt_error *err);

#endif
