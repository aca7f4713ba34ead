/*
 * user_stacks.h — the user part's thread stacks: every thread of a minidump
 * walked (unwind/) and named (symbols/), written into the report's
 * threads[].frames, and each module's symbol status into modules[].
 */
#ifndef DT_REPORT_USER_STACKS_H
#define DT_REPORT_USER_STACKS_H

#include <cjson/cJSON.h>

#include "formats/minidump.h"
#include "symbols/symbolizer.h"
#include "base/error.h"

/* user is the part built by dt_user_report(md); sym may be NULL.  Walk
 * problems become warnings in w (may be NULL); nothing here fails the
 * report. */
void dt_user_report_add_stacks(cJSON *user, dt_minidump *md, dt_symbolizer *sym, dt_warnings *w);

#endif
