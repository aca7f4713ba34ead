/*
 * metrics.c — see metrics.h.  The text follows the Prometheus exposition
 * format 0.0.4: HELP and TYPE before each family, cumulative histogram
 * buckets ending with +Inf, _sum and _count.
 */
#include "metrics.h"

#include <stdarg.h>
#include <stdio.h>

const double dt_metrics_duration_bounds[DT_METRICS_DURATION_BUCKETS] = { 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800 };

void dt_metrics_http_status(dt_metrics *m, unsigned status)
{
    if (status >= 100 && status < DT_METRICS_MAX_STATUS)
        atomic_fetch_add(&m->http_status[status], 1);
}

void dt_metrics_analysis(dt_metrics *m, int64_t duration_ms)
{
    if (duration_ms < 0)
        duration_ms = 0;
    size_t i = 0;
    while (i < DT_METRICS_DURATION_BUCKETS && (double)duration_ms > dt_metrics_duration_bounds[i] * 1000.0)
        i++;
    atomic_fetch_add(&m->duration_bucket[i], 1);
    atomic_fetch_add(&m->duration_ms_sum, (uint64_t)duration_ms);
    atomic_fetch_add(&m->duration_count, 1);
}

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len = *len + (size_t)n < cap ? *len + (size_t)n : cap - 1;
}

size_t dt_metrics_text(const dt_metrics *m, const dt_process_labels *who, char *buf, size_t cap)
{
    size_t len = 0;
    if (!cap)
        return 0;
    buf[0] = 0;
    put(buf, cap, &len,
        "# HELP dt_process_info This process: its role (serve or worker), lease owner name, store and blob store.\n"
        "# TYPE dt_process_info gauge\n"
        "dt_process_info{role=\"%s\",instance=\"%s\",version=\"%s\",store=\"%s\",blob_store=\"%s\"} 1\n",
        who->role, who->instance, DT_VERSION, who->store, who->blob_store);
    put(buf, cap, &len, "# HELP dt_http_requests_total HTTP replies of this process by status code.\n"
                        "# TYPE dt_http_requests_total counter\n");
    for (unsigned s = 100; s < DT_METRICS_MAX_STATUS; s++) {
        uint64_t v = atomic_load(&m->http_status[s]);
        if (v)
            put(buf, cap, &len, "dt_http_requests_total{code=\"%u\"} %llu\n", s, (unsigned long long)v);
    }
    put(buf, cap, &len,
        "# HELP dt_jobs_claimed_total Jobs leased by this process's workers.\n"
        "# TYPE dt_jobs_claimed_total counter\ndt_jobs_claimed_total %llu\n"
        "# HELP dt_jobs_requeued_total Jobs this process gave back unfinished (drain).\n"
        "# TYPE dt_jobs_requeued_total counter\ndt_jobs_requeued_total %llu\n",
        (unsigned long long)atomic_load(&m->jobs_claimed), (unsigned long long)atomic_load(&m->jobs_requeued));
    put(buf, cap, &len, "# HELP dt_worker_analysis_seconds Wall clock of the jobs this process ran to a result.\n"
                        "# TYPE dt_worker_analysis_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t i = 0; i < DT_METRICS_DURATION_BUCKETS; i++) {
        cum += atomic_load(&m->duration_bucket[i]);
        put(buf, cap, &len, "dt_worker_analysis_seconds_bucket{le=\"%g\"} %llu\n", dt_metrics_duration_bounds[i],
            (unsigned long long)cum);
    }
    cum += atomic_load(&m->duration_bucket[DT_METRICS_DURATION_BUCKETS]);
    put(buf, cap, &len,
        "dt_worker_analysis_seconds_bucket{le=\"+Inf\"} %llu\ndt_worker_analysis_seconds_sum %.3f\n"
        "dt_worker_analysis_seconds_count %llu\n",
        (unsigned long long)cum, (double)atomic_load(&m->duration_ms_sum) / 1000.0,
        (unsigned long long)atomic_load(&m->duration_count));
    return len;
}
