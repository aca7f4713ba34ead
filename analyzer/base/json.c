/*
 * json.c — cJSON helpers (see json.h).  The UTF-8 sanitizer is
 * here because cJSON copies bytes verbatim: a module name with a stray 0xFF
 * would otherwise make the whole report invalid JSON for browsers.
 */
#include "base/json.h"

#include "base/utf8.h"

#include <inttypes.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

cJSON *dt_json_hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof buf, "0x%" PRIx64, v);
    return cJSON_CreateString(buf);
}

static cJSON *add(cJSON *obj, const char *name, cJSON *item)
{
    if (!item)
        return NULL;
    if (!cJSON_AddItemToObject(obj, name, item)) {
        cJSON_Delete(item);
        return NULL;
    }
    return item;
}

cJSON *dt_json_add_hex(cJSON *obj, const char *name, uint64_t v)
{
    return add(obj, name, dt_json_hex(v));
}

cJSON *dt_json_str(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    char *clean = dt_utf8_sanitize_dup(s);
    if (!clean)
        return NULL;
    cJSON *item = cJSON_CreateString(clean);
    free(clean);
    return item;
}

cJSON *dt_json_add_str(cJSON *obj, const char *name, const char *s)
{
    return add(obj, name, dt_json_str(s));
}

cJSON *dt_json_add_num(cJSON *obj, const char *name, double v)
{
    return add(obj, name, cJSON_CreateNumber(v));
}

cJSON *dt_json_add_bool(cJSON *obj, const char *name, bool v)
{
    return add(obj, name, cJSON_CreateBool(v));
}

cJSON *dt_json_add_time(cJSON *obj, const char *name, int64_t unix_seconds)
{
    time_t t = (time_t)unix_seconds;
    struct tm tm;
    char buf[40];
    if (!gmtime_r(&t, &tm) || strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        return add(obj, name, cJSON_CreateNull());
    return add(obj, name, cJSON_CreateString(buf));
}

cJSON *dt_json_add_filetime(cJSON *obj, const char *name, uint64_t filetime)
{
    /* 100 ns ticks between 1601-01-01 and 1970-01-01. */
    const uint64_t epoch_delta = UINT64_C(116444736000000000);
    if (filetime < epoch_delta)
        return add(obj, name, cJSON_CreateNull());
    return dt_json_add_time(obj, name, (int64_t)((filetime - epoch_delta) / 10000000u));
}

const char *dt_json_get_str(const cJSON *obj, const char *name)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsString(it) ? it->valuestring : NULL;
}

double dt_json_get_num(const cJSON *obj, const char *name, double fallback)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, name);
    return cJSON_IsNumber(it) ? it->valuedouble : fallback;
}

uint64_t dt_json_get_uint(const cJSON *obj, const char *name)
{
    double d = dt_json_get_num(obj, name, 0);
    if (!(d >= 0))
        return 0;
    if (d >= 18446744073709551615.0)
        return UINT64_MAX;
    return (uint64_t)d;
}

long long dt_json_get_int(const cJSON *obj, const char *name)
{
    double v = dt_json_get_num(obj, name, 0);
    if (!(v >= -9e18 && v <= 9e18))
        return 0;
    return (long long)v;
}

bool dt_json_get_bool(const cJSON *obj, const char *name)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(obj, name));
}

bool dt_json_get_hex(const cJSON *obj, const char *name, uint64_t *out)
{
    const char *s = dt_json_get_str(obj, name);
    if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !s[2])
        return false;
    char *end;
    unsigned long long v = strtoull(s + 2, &end, 16);
    if (*end)
        return false;
    *out = v;
    return true;
}

static bool parse_u64(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsNumber(v)) {
        if (!(v->valuedouble >= 0 && v->valuedouble <= 18446744073709549568.0))
            return false;
        *out = (uint64_t)v->valuedouble;
        return true;
    }
    if (cJSON_IsString(v) && v->valuestring && *v->valuestring) {
        errno = 0;
        char *end = NULL;
        unsigned long long x = strtoull(v->valuestring, &end, 0);
        if (errno || !end || *end)
            return false;
        *out = x;
        return true;
    }
    return false;
}

bool dt_json_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    return obj && parse_u64(cJSON_GetObjectItemCaseSensitive(obj, key), out);
}

bool dt_json_bool(const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!cJSON_IsBool(v))
        return false;
    *out = cJSON_IsTrue(v);
    return true;
}

bool dt_json_num(const cJSON *obj, const char *key, double *out)
{
    const cJSON *v = obj ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
    if (!cJSON_IsNumber(v))
        return false;
    *out = v->valuedouble;
    return true;
}
