/*
 * user_report.h — the "user" part of the report document: a parsed minidump
 * as JSON (docs/report.md, field names after minidump-stackwalk where the
 * concept is the same), and the debugger-style text rendered from that JSON.
 *
 * The JSON is the single source of truth: the text renderer reads only the
 * cJSON tree, so anything shown as text is also in the JSON.
 */
#ifndef DT_REPORT_USER_REPORT_H
#define DT_REPORT_USER_REPORT_H

#include <stdio.h>

#include <cjson/cJSON.h>

#include "formats/minidump.h"

/* Builds the "user" object for md.  The caller owns the result
 * (cJSON_Delete); NULL on OOM. */
cJSON *dt_user_report(const dt_minidump *md);

/* "EXCEPTION_ACCESS_VIOLATION_WRITE", "EXCEPTION_BREAKPOINT", … for an
 * exception code (params refine access violations); NULL when unknown. */
const char *dt_exception_name(uint32_t code, const uint64_t *params, uint32_t nparams);

/* Writes the human summary of a "user" object to out (WinDbg-like: `|`,
 * `~`, `lm`, `.exr`).  Tolerates missing members. */
void dt_user_report_text(const cJSON *user, FILE *out);

#endif
