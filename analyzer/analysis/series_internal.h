/*
 * series_internal.h — what the files of the series analysis share
 * (series.c, series_plan.c, series_snapshot.c, series_identity.c,
 * series_compare.c, series_verdicts.c, series_util.c).  Not for use outside
 * analyzer/analysis/series*.c; the public entry points are series.h.
 *
 * The flow (docs/report.md, "series"): plan the work (route, pair, order by
 * dump time) → analyse one snapshot at a time and summarize its report into
 * per-thread facts → check it is of the same process and not a duplicate →
 * merge it into the series model (report/series_report.h) → compare each
 * thread across the snapshots → the series verdicts (primary thread,
 * signature, summary) → JSON (report/series_report.c).
 */
#ifndef DT_ANALYSIS_SERIES_INTERNAL_H
#define DT_ANALYSIS_SERIES_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "analysis/series.h"
#include "base/error.h"
#include "report/series_report.h"
#include "triage/rules.h"

/* ---- series_util.c: small helpers ---- */

/* NULL for NULL or on OOM. */
char *dt_series_strdup(const char *s);
/* FNV-1a, for the frame, place and register hashes. */
#define DT_SERIES_FNV_START UINT64_C(0xcbf29ce484222325)
uint64_t dt_series_fnv(uint64_t h, const void *p, size_t n);
/* Appends a formatted line to a warning list (dropped on OOM). */
void dt_series_warn(char ***list, size_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "2026-12-04T18:49:54Z" → Unix seconds. */
bool dt_series_parse_time(const char *s, int64_t *out);
/* "4.9 s", "12 s", "11 min". */
void dt_series_fmt_seconds(double s, char *out, size_t n);
/* A formatted, allocated string (NULL on OOM). */
char *dt_series_strf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- series_plan.c: the work list ---- */

/* One snapshot to analyse: a user dump and its kernel dump (or NULL). */
typedef struct {
    const char *user, *kernel;
    int arg_index;
    bool has_time;
    int64_t time;
} dt_series_input;

/* Routes req's paths by content, pairs kernel dumps with user dumps
 * (dt_series_pair) and orders the snapshots by dump time; in holds
 * DT_SERIES_MAX entries. */
dt_status dt_series_plan(const dt_series_request *req, dt_series_input *in, size_t *nin, dt_error *err);

/* ---- series_snapshot.c: one snapshot's facts ---- */

/* A snapshot's threads, before it is known whether the snapshot counts. */
typedef struct {
    uint64_t tid;
    char *name;
    dt_series_tsnap ts;
} dt_series_pending_thread;

typedef struct {
    dt_series_pending_thread *t;
    size_t n;
} dt_series_pending;

void dt_series_tsnap_free(dt_series_tsnap *t);
void dt_series_pending_free(dt_series_pending *p);
/* Copies what the comparison needs out of one report document into s (the
 * snapshot's identity) and p (its threads). DT_ERR_NOMEM only. */
dt_status dt_series_summarize(const cJSON *doc, dt_series_snapshot *s, dt_series_pending *p);
/* Why an analysed snapshot is still not fit to compare (cut short, no
 * threads), or "" — from the report's "user" part. */
void dt_series_damage(const cJSON *user, char *why, size_t n);

/* ---- series_identity.c: same process, same dump ---- */

/* Why snapshot b is of another process than a (pid, image, create time), or
 * "" when it is of a's process. */
void dt_series_process_mismatch(const dt_series_snapshot *a, const dt_series_snapshot *b, char *why, size_t n);
/* Whether b (with its pending threads p) is the same dump as the series'
 * snapshot k. */
bool dt_series_is_duplicate(const dt_series *s, size_t k, const dt_series_snapshot *b, const dt_series_pending *p);

/* ---- series_compare.c: one thread across the snapshots ---- */

/* Sets every step's change, then t's presence, state, CPU and wait growth,
 * stuck and verdict.  t->first_seen must be -1 on entry. */
void dt_series_classify_thread(dt_series *s, dt_series_thread *t);

/* ---- series_verdicts.c: the series as a whole ---- */

/* Orders the threads (primary first), sets s->primary, the signature and
 * the summary line; every thread must be classified. */
void dt_series_verdicts(dt_series *s, const dt_rules *rules);

#endif
