/*
 * api_misc.c — owns the signatures (hang buckets), health and Prometheus
 * metrics endpoints.  /healthz (liveness) reads nothing but the queue
 * depth, so it stays cheap while the server is under attack; /readyz
 * (readiness, health.h) also probes the blob store and says which
 * dependency is missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "health.h"
#include "http.h"
#include "ratelimit.h"

enum MHD_Result dt_api_signatures(dt_request *r)
{
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "signatures need a token");
    int64_t owner = r->who.role == DT_ROLE_STAFF ? -1 : r->who.token_id;
    return dt_http_json(r, 200, dt_store_signatures(dt_http_store(r), owner));
}

enum MHD_Result dt_api_healthz(dt_request *r)
{
    dt_store *st = dt_http_store(r);
    int64_t depth = st ? dt_store_queue_depth(st) : -1;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "status", depth >= 0 ? "ok" : "degraded");
    cJSON_AddStringToObject(o, "version", DT_VERSION);
    pthread_mutex_lock(&r->srv->mu);
    int stopping = r->srv->stopping;
    pthread_mutex_unlock(&r->srv->mu);
    cJSON_AddBoolToObject(o, "draining", stopping);
    return dt_http_json(r, depth >= 0 ? 200 : 503, o);
}

enum MHD_Result dt_api_readyz(dt_request *r)
{
    int ready = 0;
    cJSON *o = dt_health_ready(r->srv, r->who.role == DT_ROLE_STAFF, &ready);
    return dt_http_json(r, ready ? 200 : 503, o);
}

enum MHD_Result dt_api_metrics(dt_request *r)
{
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "metrics need a staff token");
    if (r->who.role != DT_ROLE_STAFF)
        return dt_http_error(r, 403, "forbidden", "metrics are for staff");
    char *store_text = dt_store_metrics(dt_http_store(r));
    dt_server *srv = r->srv;
    pthread_mutex_lock(&srv->mu);
    unsigned long long acc = srv->uploads_accepted, bytes = srv->upload_bytes_accepted,
                       rej = srv->uploads_rejected, done = srv->analyses_done, failed = srv->analyses_failed;
    int running = srv->running;
    pthread_mutex_unlock(&srv->mu);
    dt_conn_stats cs;
    dt_http_conn_stats(srv, &cs);
    unsigned long long open_conns = cs.open, closed_header = cs.closed_header, closed_body = cs.closed_body,
                       closed_slow = cs.closed_slow;
    char limits_text[2048];
    dt_ratelimit_metrics(srv->limits, limits_text, sizeof limits_text);
    char process_text[8192];
    dt_process_labels who = { srv->role ? srv->role : "serve", srv->instance,
                              dt_store_target_is_shared(srv->db_path) ? "postgresql" : "sqlite",
                              srv->cfg.blob_store[0] ? srv->cfg.blob_store : "fs" };
    dt_metrics_text(&srv->metrics, &who, process_text, sizeof process_text);
    size_t cap = (store_text ? strlen(store_text) : 0) + 2048 + sizeof limits_text + sizeof process_text + 1024;
    char *text = malloc(cap);
    if (!text) {
        free(store_text);
        return dt_http_error(r, 500, "internal", "out of memory");
    }
    snprintf(text, cap,
             "# HELP dt_uploads_accepted_total Uploads accepted since start.\n# TYPE dt_uploads_accepted_total counter\n"
             "dt_uploads_accepted_total %llu\n"
             "# HELP dt_upload_bytes_accepted_total Bytes of uploads accepted since start.\n"
             "# TYPE dt_upload_bytes_accepted_total counter\ndt_upload_bytes_accepted_total %llu\n"
             "# HELP dt_uploads_rejected_total Uploads refused since start.\n"
             "# TYPE dt_uploads_rejected_total counter\ndt_uploads_rejected_total %llu\n"
             "# HELP dt_analyses_completed_total Analyses stored since start.\n"
             "# TYPE dt_analyses_completed_total counter\ndt_analyses_completed_total %llu\n"
             "# HELP dt_analyses_failed_total Analyses failed since start.\n"
             "# TYPE dt_analyses_failed_total counter\ndt_analyses_failed_total %llu\n"
             "# HELP dt_workers_busy Workers running an analysis now.\n# TYPE dt_workers_busy gauge\n"
             "dt_workers_busy %d\n"
             "# HELP dt_connections_open Connections open now.\n# TYPE dt_connections_open gauge\n"
             "dt_connections_open %llu\n"
             "# HELP dt_connections_closed_total Connections closed by a deadline, by reason.\n"
             "# TYPE dt_connections_closed_total counter\n"
             "dt_connections_closed_total{reason=\"header_timeout\"} %llu\n"
             "dt_connections_closed_total{reason=\"body_timeout\"} %llu\n"
             "dt_connections_closed_total{reason=\"slow_body\"} %llu\n%s%s%s",
             acc, bytes, rej, done, failed, running, open_conns, closed_header, closed_body, closed_slow,
             limits_text, process_text, store_text ? store_text : "");
    free(store_text);
    return dt_http_text(r, 200, "text/plain; version=0.0.4", text);
}
