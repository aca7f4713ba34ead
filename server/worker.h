/*
 * worker.h — owns the analysis worker pool: each worker leases a job from the
 * store, unpacks an archive if the upload was one, runs the analyzer child,
 * and stores its report or its failure.
 */
#ifndef DT_SERVER_WORKER_H
#define DT_SERVER_WORKER_H

#include "server.h"

/* Makes a failure message safe to show with the upload (to view-link
 * holders): every blob path of files[] becomes that file's upload name
 * ("the user dump" … when it had none), any other path under data_dir
 * becomes "<data>".  In place, truncated at len. */
void dt_worker_public_message(const char *data_dir, const dt_file_rec *files, int nfiles, char *msg, size_t len);

/* Starts srv->cfg.workers threads (those started so far keep running on
 * failure: dt_workers_stop stops them). */
dt_status dt_workers_start(dt_server *srv, dt_error *err);
/* Drain: no new leases; waits up to drain_grace seconds for running
 * analyses, then kills the rest and requeues their jobs; joins the threads. */
void dt_workers_stop(dt_server *srv);

#endif
