/*
 * json_read.h — tolerant readers for report JSON: numbers that may be hex
 * strings ("0x1f"), optional strings and booleans.  Report parts come from
 * several producers and from stored, older reports, so readers accept both
 * spellings and treat anything else as absent.
 */
#ifndef DT_TRIAGE_JSON_READ_H
#define DT_TRIAGE_JSON_READ_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

/* Strings (dt_json_get_str) and "0x…" writers (dt_json_add_hex) are the report's. */
#include "report/json_util.h"

bool dt_json_u64(const cJSON *obj, const char *key, uint64_t *out);
bool dt_json_bool(const cJSON *obj, const char *key, bool *out);
bool dt_json_num(const cJSON *obj, const char *key, double *out);

#endif
