/*
 * log.h — the server's structured log: one JSON object per line on stderr
 * (requests, jobs, retention).  Lines are written with one fwrite under the
 * stdio lock so threads never interleave within a line.  Callers must never
 * put secrets (tokens, view keys, session cookies) into an event.
 */
#ifndef DT_SERVER_LOG_H
#define DT_SERVER_LOG_H

#include <cjson/cJSON.h>
#include <stdint.h>

/* Adds "time" (UTC, ms) and "event", prints the line, frees o. */
void dt_log_event(const char *event, cJSON *o);
/* Milliseconds on the monotonic clock, for durations. */
int64_t dt_log_mono_ms(void);
/* Copies a request path for logging with any secret part hidden: the view
 * key in /v/{key} becomes /v/-.  (Query strings are never logged.) */
void dt_log_safe_path(const char *url, char *out, size_t len);

#endif
