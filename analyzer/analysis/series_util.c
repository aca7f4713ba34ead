/*
 * series_util.c — the small string, hash, warning and time helpers the
 * series files share (series_internal.h), kept apart so that each of those
 * files holds only its own step of the comparison.
 */
#include "analysis/series_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

char *dt_series_strdup(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

uint64_t dt_series_fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

void dt_series_warn(char ***list, size_t *n, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **grown = realloc(*list, (*n + 1) * sizeof **list);
    if (!grown)
        return;
    *list = grown;
    char *s = dt_series_strdup(buf);
    if (s)
        (*list)[(*n)++] = s;
}

/* "2026-12-04T18:49:54Z" → Unix seconds. */
bool dt_series_parse_time(const char *s, int64_t *out)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                     &tm.tm_min, &tm.tm_sec) != 6)
        return false;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out = (int64_t)timegm(&tm);
    return true;
}
void dt_series_fmt_seconds(double s, char *out, size_t n)
{
    if (s < 10)
        snprintf(out, n, "%.1f s", s);
    else if (s < 600)
        snprintf(out, n, "%.0f s", s);
    else
        snprintf(out, n, "%.0f min", s / 60);
}

char *dt_series_strf(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return dt_series_strdup(buf);
}
