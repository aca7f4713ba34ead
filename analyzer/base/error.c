/*
 * error.c — dt_error and dt_warnings (see error.h for the policy).
 */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

dt_status dt_error_set(dt_error *err, dt_status code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

const char *dt_status_name(dt_status code)
{
    switch (code) {
    case DT_OK: return "ok";
    case DT_ERR_IO: return "io";
    case DT_ERR_FORMAT: return "format";
    case DT_ERR_TRUNCATED: return "truncated";
    case DT_ERR_CORRUPT: return "corrupt";
    case DT_ERR_UNSUPPORTED: return "unsupported";
    case DT_ERR_NOMEM: return "nomem";
    case DT_ERR_ARG: return "argument";
    case DT_ERR_NOT_FOUND: return "not_found";
    }
    return "unknown";
}

/* A hostile file can produce one warning per record; past this many the rest
 * only count, so a warning list cannot grow without bound. */
#define DT_WARNINGS_MAX 1000

void dt_warn(dt_warnings *w, const char *fmt, ...)
{
    if (!w)
        return;
    if (w->count >= DT_WARNINGS_MAX) {
        w->dropped++;
        return;
    }
    if (w->count == w->cap) {
        size_t ncap = w->cap ? w->cap * 2 : 8;
        char **n = realloc(w->items, ncap * sizeof *n);
        if (!n) {
            w->dropped++;
            return;
        }
        w->items = n;
        w->cap = ncap;
    }
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *s = strdup(buf);
    if (!s) {
        w->dropped++;
        return;
    }
    w->items[w->count++] = s;
}

void dt_warnings_free(dt_warnings *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->count; i++)
        free(w->items[i]);
    free(w->items);
    memset(w, 0, sizeof *w);
}
