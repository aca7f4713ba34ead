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
#include "store.h"

#define DT_MAX_WORKERS 64

typedef struct dt_server {
    dt_server_config cfg;
    char db_path[1200];
    char analyzer[1200];        /* absolute path of the binary run as `… analyze` */
    char instance[80];          /* lease owner name: host:pid:random */

    pthread_mutex_t mu;
    pthread_cond_t wake;        /* a job was queued, or we are stopping */
    int stopping;               /* no new leases, no new uploads */
    int kill_running;           /* drain grace is over: kill children, requeue */
    int running;                /* analyses in progress */
    pthread_t workers[DT_MAX_WORKERS];
    int nworkers;

    /* Counters since start (under mu), for /metrics. */
    uint64_t uploads_accepted, upload_bytes_accepted, uploads_rejected;
    uint64_t analyses_done, analyses_failed;
    uint64_t next_request_id;   /* request ids in the log */

    struct MHD_Daemon *daemon;

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
