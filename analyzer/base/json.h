/*
 * json.h — small cJSON helpers shared by every layer that writes or reads the
 * report document (report builders, triage, the CLI).
 *
 * Conventions of the report (docs/report.md): addresses and other 64-bit
 * values are hex strings "0x…" (JavaScript numbers lose precision above
 * 2^53); times are ISO-8601 UTC strings; a missing string is JSON null; every
 * string that came from a dump is made valid UTF-8 before it enters the
 * document.  Adders return the added item, or NULL on OOM (the document is
 * then merely incomplete).
 */
#ifndef DT_BASE_JSON_H
#define DT_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* "0x1a2b" (lower case, no padding). */
cJSON *dt_json_hex(uint64_t v);
cJSON *dt_json_add_hex(cJSON *obj, const char *name, uint64_t v);
/* A string (sanitized to valid UTF-8), or null when s is NULL. */
cJSON *dt_json_add_str(cJSON *obj, const char *name, const char *s);
cJSON *dt_json_str(const char *s);
cJSON *dt_json_add_num(cJSON *obj, const char *name, double v);
cJSON *dt_json_add_bool(cJSON *obj, const char *name, bool v);
/* Seconds since 1970 as "2007-02-14T19:13:55Z". */
cJSON *dt_json_add_time(cJSON *obj, const char *name, int64_t unix_seconds);
/* A Windows FILETIME (100 ns since 1601) as an ISO time; null when 0. */
cJSON *dt_json_add_filetime(cJSON *obj, const char *name, uint64_t filetime);


/* Readers for renderers (tolerant: a missing or mistyped member gives the
 * fallback). */
const char *dt_json_get_str(const cJSON *obj, const char *name);
double dt_json_get_num(const cJSON *obj, const char *name, double fallback);
bool dt_json_get_bool(const cJSON *obj, const char *name);
/* A number as a 64-bit integer, 0 when absent, mistyped or out of range
 * (stored reports may be foreign: never cast an unchecked double). */
long long dt_json_get_int(const cJSON *obj, const char *name);
/* A number as an unsigned id: 0 for negative or NaN, UINT64_MAX when too
 * large (no undefined conversion whatever JSON is read). */
uint64_t dt_json_get_uint(const cJSON *obj, const char *name);
/* s, or fallback when s is NULL: for printing optional strings. */
static inline const char *dt_or(const char *s, const char *fallback) { return s ? s : fallback; }
/* Parses a "0x…" member; false when absent or malformed. */
bool dt_json_get_hex(const cJSON *obj, const char *name, uint64_t *out);

/* Readers that accept both spellings a stored or foreign report may use: a
 * number or a hex/decimal string ("0x1f"), for values that must fit 64 bits;
 * false when absent or malformed. */
bool dt_json_u64(const cJSON *obj, const char *key, uint64_t *out);
/* Present-or-not readers (the getters above return a fallback instead). */
bool dt_json_bool(const cJSON *obj, const char *key, bool *out);
bool dt_json_num(const cJSON *obj, const char *key, double *out);

#endif
