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

#include <stdio.h>

#include <cjson/cJSON.h>

#include "base/view.h"
#include "model/kernel_dump.h"
#include "symbols/symbolizer.h"
#include "base/error.h"

/* The JSON object for one analyzed kernel dump, with function names from
 * sym (may be NULL); caller frees (cJSON_Delete).  NULL on OOM. */
cJSON *dt_kernel_report(const dt_kernel_dump *kd, dt_symbolizer *sym);

/* Writes the text rendering of a kernel report object (as made above) to
 * out (report/kernel_report_text.c). */
void dt_kernel_report_text(const cJSON *kernel, FILE *out);

#endif
