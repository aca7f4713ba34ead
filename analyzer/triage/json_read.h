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

bool dt_json_u64(const cJSON *obj, const char *key, uint64_t *out);
const char *dt_json_str(const cJSON *obj, const char *key); /* NULL when absent/not a string */
bool dt_json_bool(const cJSON *obj, const char *key, bool *out);
bool dt_json_num(const cJSON *obj, const char *key, double *out);
/* Adds "0x…" for a 64-bit value. */
void dt_json_add_hex(cJSON *obj, const char *key, uint64_t v);

#endif
