/*
 * server.h — the state of one running server, shared by the HTTP handlers
 * (http.c, api_*.c) and the analysis workers (worker.c).  One instance lives
 * in dt_cli_serve's frame; nothing here is global.
 */
#ifndef DT_SERVER_SERVER_H
#define DT_SERVER_SERVER_H

#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "metrics.h"
#include "store.h"

#define DT_MAX_WORKERS 64

typedef struct dt_server {
    dt_server_config cfg;
    char db_path[1200];
    /* PostgreSQL: the HTTP handlers' connections, kept open between
     * requests (store_pool.h); NULL: each request opens its own. */
    struct dt_store_pool *store_pool;
    char analyzer[1200];        /* absolute path of the binary run as `… analyze` */
    char instance[80];          /* lease owner name: host:pid:random */

    pthread_mutex_t mu;
    pthread_cond_t wake;        /* a job was queued, or we are stopping */
    int stopping;               /* no new leases, no new uploads */
    int kill_running;           /* drain grace is over: kill children, requeue */
    int running;                /* analyses in progress */
    pthread_t workers[DT_MAX_WORKERS];
    int nworkers;
    /* What each worker holds (under mu), for the heartbeat thread that
     * renews the leases (worker.c); lost: the lease was taken from it. */
    struct dt_worker_slot {
        struct dt_server *srv;
        int64_t job_id;         /* 0: idle */
        int lost;
    } slots[DT_MAX_WORKERS];
    pthread_t heartbeat;
    int heartbeat_running;      /* the thread was started */
    int heartbeat_stop;         /* under mu */

    /* Counters since start (under mu), for /metrics. */
    uint64_t uploads_accepted, upload_bytes_accepted, uploads_rejected;
    uint64_t analyses_done, analyses_failed;
    uint64_t next_request_id;   /* request ids in the log */
    dt_metrics metrics;         /* atomics: HTTP statuses, jobs claimed, durations (metrics.h) */
    const char *role;           /* "serve" or "worker", for /metrics */

    struct MHD_Daemon *daemon;

    /* Per-client limits (ratelimit.h); created by dt_http_start, NULL before
     * (then nothing is limited). */
    struct dt_ratelimit *limits;
    /* Connection deadlines (http.c): every open connection is registered
     * here; a watchdog thread closes those past their header or body
     * deadline or below the minimum body rate. */
    pthread_mutex_t conn_mu;
    struct dt_conn *conns;      /* under conn_mu: list of open connections */
    pthread_t conn_watchdog;
    int conn_watchdog_running;  /* the thread was started */
    int conn_watchdog_stop;     /* under conn_mu */
    pthread_cond_t conn_wake;   /* tells the watchdog to stop */
    uint64_t conn_closed_header, conn_closed_body, conn_closed_slow; /* under conn_mu, for /metrics */

    /* Resumable uploads (tus.c): PATCHes in progress and running hashes;
     * created by dt_http_start. */
    struct dt_tus_registry *tus;

    /* Retention (retention.c). */
    pthread_t retention_thread;
    int retention_running;      /* the thread was started */
    int retention_stop;         /* under mu: the thread should return */
} dt_server;

/* Opens a store connection for the calling thread (NULL on failure). */
dt_store *dt_server_store(dt_server *srv);
/* Tells the workers a job may be waiting. */
void dt_server_notify_job(dt_server *srv);

#endif
