/*
 * kdump_analyze.h — test-only: a kernel dump from kdump_writer put through
 * the whole analysis (dt_analyze), as the kernel-wait tests need it: the
 * dump written to a temporary file (a triage dump, or a full dump of the
 * same system), analysed, the file removed.
 */
#ifndef DT_TEST_KDUMP_ANALYZE_H
#define DT_TEST_KDUMP_ANALYZE_H

#include <cjson/cJSON.h>
#include <stdbool.h>

#include "kdump_writer.h"

/* The report of s written as a full dump (full) or a triage dump; the
 * caller frees it with cJSON_Delete.  When seed_name is given and
 * DT_KW_SEED_DIR is set, the triage dump is also kept there under that
 * name (fuzz seeds for tests/fuzz/seeds/fuzz_kdump).  Fails the test on
 * any error. */
cJSON *dt_kw_analyze(const dt_kw_system *s, bool full, const char *seed_name);

#endif
