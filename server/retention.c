/*
 * retention.c — see retention.h.
 *
 * Order inside a sweep: whole uploads past --retain-reports first (that frees
 * their dumps too), then dump files past --retain-dumps, then the size limit,
 * oldest first, until the stored dumps fit.  Uploads still queued or being
 * analyzed are never purged (the analyzer may be reading the blob).  Each
 * pass handles at most BATCH uploads per query and MAX_PER_SWEEP in all, so a
 * sweep over a huge backlog ends and lets the server stop; the next sweep
 * continues.
 */
#include "retention.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "blob_gc.h"
#include "log.h"

#define BATCH 64
#define MAX_PER_SWEEP 10000
#define DAY 86400

int64_t dt_retention_now(const dt_server *srv)
{
    (void)srv;
    return (int64_t)time(NULL);
}

void dt_retention_log_deletion(const char *what, const char *reason, const char *upload_id, int files,
                               int64_t bytes, size_t blobs_removed, int64_t age_seconds)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    cJSON_AddStringToObject(o, "deleted", what);
    cJSON_AddStringToObject(o, "reason", reason);
    cJSON_AddStringToObject(o, "upload_id", upload_id);
    if (files >= 0)
        cJSON_AddNumberToObject(o, "files", files);
    if (bytes >= 0)
        cJSON_AddNumberToObject(o, "bytes", (double)bytes);
    cJSON_AddNumberToObject(o, "blobs_removed", (double)blobs_removed);
    if (age_seconds >= 0)
        cJSON_AddNumberToObject(o, "age_days", (double)(age_seconds / DAY));
    dt_log_event("deletion", o);
}

static int stop_requested(dt_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    int stop = srv->retention_stop;
    pthread_mutex_unlock(&srv->mu);
    return stop;
}

/* Purges the dump files of one upload; 1 if anything was purged. */
static int purge_one(dt_server *srv, dt_store *st, int64_t seq, int64_t now, const char *reason, int64_t *freed)
{
    dt_purge_result pr;
    dt_error err = { 0 };
    if (dt_store_upload_purge_files(st, seq, now, reason, &pr, &err) != DT_OK)
        return -1;
    size_t removed = dt_blob_gc(srv->cfg.data_dir, st, pr.orphans, pr.norphans);
    if (pr.files > 0)
        dt_retention_log_deletion("dump_files", reason, pr.upload_id, pr.files, pr.bytes, removed,
                                  now - pr.created_at);
    if (freed)
        *freed += pr.bytes;
    int did = pr.files > 0;
    dt_store_purge_free(&pr);
    return did;
}

/* Deletes one whole upload (report included); 1 if it was deleted. */
static int delete_one(dt_server *srv, dt_store *st, int64_t seq, int64_t now)
{
    char id[33] = "";
    int64_t created = now;
    dt_store_upload_by_seq(st, seq, id, &created);
    size_t removed = 0;
    if (dt_blob_gc_delete_upload(srv->cfg.data_dir, st, seq, &removed, NULL) != DT_OK)
        return 0;
    dt_retention_log_deletion("upload", "retain-reports", id, -1, -1, removed, now - created);
    return 1;
}

/* Deletes (whole_uploads) or purges the dumps of the uploads created before
 * `before`, oldest first, in batches, within the budget. */
static int sweep_older(dt_server *srv, dt_store *st, int64_t now, int64_t before, int whole_uploads, int *budget)
{
    int64_t seqs[BATCH];
    int done = 0;
    while (*budget > 0 && !stop_requested(srv)) {
        int n = dt_store_retention_uploads(st, before, !whole_uploads, seqs, BATCH);
        int progressed = 0;
        for (int i = 0; i < n && *budget > 0 && !stop_requested(srv); i++, (*budget)--)
            if ((whole_uploads ? delete_one(srv, st, seqs[i], now)
                               : purge_one(srv, st, seqs[i], now, "retain-dumps", NULL)) > 0)
                progressed++;
        done += progressed;
        if (n < BATCH || !progressed)
            break;
    }
    return done;
}

static int purge_over_size(dt_server *srv, dt_store *st, int64_t now, int *budget)
{
    int64_t total = dt_store_dump_bytes(st);
    int64_t limit = (int64_t)srv->cfg.max_dump_bytes;
    int64_t seqs[BATCH];
    int done = 0;
    while (total > limit && *budget > 0 && !stop_requested(srv)) {
        int n = dt_store_retention_uploads(st, INT64_MAX, 1, seqs, BATCH);
        int progressed = 0;
        for (int i = 0; i < n && total > limit && *budget > 0 && !stop_requested(srv); i++, (*budget)--) {
            if (purge_one(srv, st, seqs[i], now, "max-dump-bytes", NULL) > 0) {
                progressed++;
                /* Measured again: a purged row may share its blob with a kept one. */
                total = dt_store_dump_bytes(st);
            }
        }
        done += progressed;
        if (n < BATCH || !progressed)
            break;
    }
    return done;
}

int dt_retention_sweep(dt_server *srv, dt_store *st)
{
    if (!st)
        return -1;
    int64_t now = dt_retention_now(srv);
    int budget = MAX_PER_SWEEP;
    int n = 0;
    if (srv->cfg.retain_reports_days)
        n += sweep_older(srv, st, now, now - (int64_t)srv->cfg.retain_reports_days * DAY, 1, &budget);
    if (srv->cfg.retain_dumps_days)
        n += sweep_older(srv, st, now, now - (int64_t)srv->cfg.retain_dumps_days * DAY, 0, &budget);
    if (srv->cfg.max_dump_bytes)
        n += purge_over_size(srv, st, now, &budget);
    cJSON *o = cJSON_CreateObject();
    if (o) {
        cJSON_AddNumberToObject(o, "uploads_changed", n);
        cJSON_AddNumberToObject(o, "dump_bytes", (double)dt_store_dump_bytes(st));
        dt_log_event("retention_sweep", o);
    }
    return n;
}

static void *retention_main(void *arg)
{
    dt_server *srv = arg;
    for (;;) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += srv->cfg.retention_interval;
        pthread_mutex_lock(&srv->mu);
        int rc = 0;
        /* srv->wake is also broadcast for jobs: wait out the full interval. */
        while (!srv->retention_stop && rc != ETIMEDOUT)
            rc = pthread_cond_timedwait(&srv->wake, &srv->mu, &ts);
        int stop = srv->retention_stop;
        pthread_mutex_unlock(&srv->mu);
        if (stop)
            break;
        dt_store *st = dt_server_store(srv);
        dt_retention_sweep(srv, st);
        dt_store_close(st);
    }
    return NULL;
}

static int enabled(const dt_server *srv)
{
    return srv->cfg.retain_dumps_days || srv->cfg.retain_reports_days || srv->cfg.max_dump_bytes;
}

dt_status dt_retention_start(dt_server *srv, dt_error *err)
{
    if (!enabled(srv))
        return DT_OK;
    int e = pthread_create(&srv->retention_thread, NULL, retention_main, srv);
    if (e != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot start the retention thread: %s", strerror(e));
    srv->retention_running = 1;
    return DT_OK;
}

void dt_retention_stop(dt_server *srv)
{
    if (!srv->retention_running)
        return;
    pthread_mutex_lock(&srv->mu);
    srv->retention_stop = 1;
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->mu);
    pthread_join(srv->retention_thread, NULL);
    srv->retention_running = 0;
}
