/*
 * instance.h — what every long-running process of one store does before it
 * serves or analyses: `serve` (HTTP, with or without workers) and `worker`
 * (analyses only) share a file root (--data-dir / --blob-dir) and a store
 * (--database), several of them at once (docs/operations.md, "Scaling").
 *
 * Each process holds DATA/server.lock shared for its whole life.  A process
 * that finds nobody else holding it (an exclusive flock succeeds) is alone,
 * so every lease and temp file it finds belongs to a dead process: it runs
 * the full start-up recovery (temp files removed, every leased job
 * requeued, unreferenced blobs and unfinished resumable uploads tidied)
 * before sharing the lock.  A process that starts beside live ones must not
 * touch their temp files or leases; it removes only temp files and
 * unreferenced blobs untouched for longer than any upload or analysis may
 * idle, and leaves dead processes' leases to expire (workers requeue
 * expired leases).  On a
 * shared store (PostgreSQL, workers on other hosts) a process never
 * assumes it is alone: only the second kind of recovery runs.
 */
#ifndef DT_SERVER_INSTANCE_H
#define DT_SERVER_INSTANCE_H

#include "server.h"

typedef struct {
    int lock_fd;      /* DATA/server.lock, held shared until dt_instance_end */
    int alone;        /* no other process of this file root was running at start */
    int requeued;     /* recovery figures, for the start-up line */
    int orphans;
    int tmp_removed;
} dt_instance;

/* Fills srv from srv->cfg (analyzer path, database, instance name, mutex
 * and condition), creates the file root, takes the lock, applies the
 * migrations and runs the start-up recovery described above; a process
 * that serves HTTP (serves_http) also makes sure a staff token exists.  cmd
 * names the command in messages.  0 ok; -1 after printing why to stderr. */
int dt_instance_start(dt_server *srv, const char *cmd, int serves_http, dt_instance *inst);
/* Releases what dt_instance_start took. */
void dt_instance_end(dt_server *srv, dt_instance *inst);

/* Seconds a temp file may stay untouched before a process starting beside
 * live ones removes it: longer than any upload body may stall and any
 * analysis or unpacking may run. */
int64_t dt_instance_tmp_max_idle(const dt_server_config *cfg);

#endif
