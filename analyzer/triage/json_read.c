/*
 * json_read.c — see json_read.h.
 */
#include "triage/json_read.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

static bool parse_u64(const cJSON *v, uint64_t *out)
{
    if (cJSON_IsNumber(v)) {
        if (v->valuedouble < 0 || v->valuedouble > 18446744073709549568.0)
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
