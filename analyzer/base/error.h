/*
 * error.h — how the analyzer reports failure.
 *
 * Library code never prints and never exits: a function that can fail takes a
 * `dt_error *` (may be NULL) and returns a `dt_status`.  The message is a
 * one-line, human-readable reason that the CLI prints as-is and the server
 * stores with the failed job.  Non-fatal problems in an input (a truncated
 * stream, a count larger than the file) go to a `dt_warnings` list instead,
 * so that a damaged dump still yields whatever is sure.
 */
#ifndef DT_BASE_ERROR_H
#define DT_BASE_ERROR_H

#include <stddef.h>

typedef enum {
    DT_OK = 0,
    DT_ERR_IO,          /* the file could not be opened, read or mapped */
    DT_ERR_FORMAT,      /* not the format we were asked to parse */
    DT_ERR_TRUNCATED,   /* the format is right but the data ends too early */
    DT_ERR_CORRUPT,     /* structurally impossible values */
    DT_ERR_UNSUPPORTED, /* valid, but a variant we do not handle */
    DT_ERR_NOMEM,
    DT_ERR_ARG,         /* caller error */
    DT_ERR_NOT_FOUND,
} dt_status;

typedef struct {
    dt_status code;
    char message[256];
} dt_error;

/* Sets err (if non-NULL) and returns code, so callers can `return dt_error_set(...)`. */
dt_status dt_error_set(dt_error *err, dt_status code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A short stable name for a status ("io", "format", ...), used in JSON. */
const char *dt_status_name(dt_status code);

/* Warnings: an owned, growable list of strings.  Zero-initialise; free with
 * dt_warnings_free.  Adding never fails loudly: on OOM the warning is dropped
 * and `dropped` counts it. */
typedef struct {
    char **items;
    size_t count;
    size_t cap;
    size_t dropped;
} dt_warnings;

void dt_warn(dt_warnings *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dt_warnings_free(dt_warnings *w);

#endif
