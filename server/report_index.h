/*
 * report_index.h — the searchable summary of an analyzer report: process,
 * pid, bugcheck, verdict, signature and one row per thread, read defensively
 * from the JSON (every field may be absent or of an unexpected type; absent
 * means NULL in the store).
 */
#ifndef DT_SERVER_REPORT_INDEX_H
#define DT_SERVER_REPORT_INDEX_H

#include <cjson/cJSON.h>

#include "store.h"

/* Fills idx from the report (caller frees with dt_report_index_free). */
void dt_report_index_build(const cJSON *report, dt_report_index *idx);
void dt_report_index_free(dt_report_index *idx);

#endif
