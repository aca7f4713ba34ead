/*
 * worker.h — the analysis worker pool: each worker leases a job from the
 * store, unpacks an archive if the upload was one, runs the analyzer child,
 * and stores its report or its failure.
 */
#ifndef DT_SERVER_WORKER_H
#define DT_SERVER_WORKER_H

#include "server.h"

/* Starts srv->cfg.workers threads.  0 ok, -1 error. */
int dt_workers_start(dt_server *srv);
/* Drain: no new leases; waits up to drain_grace seconds for running
 * analyses, then kills the rest and requeues their jobs; joins the threads. */
void dt_workers_stop(dt_server *srv);

#endif
