/*
 * metrics.h — this process's own counters for /metrics, beyond the ones
 * dt_server already kept (uploads, analyses done/failed): HTTP replies by
 * status code, jobs claimed and requeued, and a histogram of the analyses
 * this process ran.  Per process on purpose: with several API servers and
 * workers on one store (docs/operations.md, "Scaling") Prometheus scrapes
 * each and sums; the store-wide gauges (queue depth…) come from the store
 * and are the same from every process.
 *
 * Counters are C11 atomics: the HTTP threads and workers bump them without
 * a lock.
 */
#ifndef DT_SERVER_METRICS_H
#define DT_SERVER_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define DT_METRICS_MAX_STATUS 600
#define DT_METRICS_DURATION_BUCKETS 11

typedef struct {
    _Atomic uint64_t http_status[DT_METRICS_MAX_STATUS]; /* replies by status code (100..599) */
    _Atomic uint64_t jobs_claimed;      /* leases taken by this process's workers */
    _Atomic uint64_t jobs_requeued;     /* given back without a result (drain) */
    _Atomic uint64_t duration_bucket[DT_METRICS_DURATION_BUCKETS + 1]; /* per bound, last: +Inf (not cumulative) */
    _Atomic uint64_t duration_ms_sum;
    _Atomic uint64_t duration_count;
} dt_metrics;

/* Upper bounds (seconds) of the analysis duration buckets. */
extern const double dt_metrics_duration_bounds[DT_METRICS_DURATION_BUCKETS];

void dt_metrics_http_status(dt_metrics *m, unsigned status);
/* One analysis this process ran to a result (done or failed), wall clock. */
void dt_metrics_analysis(dt_metrics *m, int64_t duration_ms);

/* What dt_process_info names, so that a scrape of many processes tells
 * them apart and shows which store and blob store each one runs on. */
typedef struct {
    const char *role;       /* "serve" or "worker" */
    const char *instance;   /* the lease owner name */
    const char *store;      /* "sqlite" or "postgresql" */
    const char *blob_store; /* "fs" or "s3" */
} dt_process_labels;

/* Appends the Prometheus text of m to buf (NUL-terminated, capacity cap).
 * Returns the length written (truncated at cap). */
size_t dt_metrics_text(const dt_metrics *m, const dt_process_labels *who, char *buf, size_t cap);

#endif
