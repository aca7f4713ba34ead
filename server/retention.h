/*
 * retention.h — deleting what the server no longer should keep: dump files
 * (they hold customer memory) after --retain-dumps days or above
 * --max-dump-bytes, whole uploads after --retain-reports days.  One sweep at
 * start, then one every --retention-interval seconds on a thread that stops
 * with the server.  Every deletion is one log line (log.h).
 */
#ifndef DT_SERVER_RETENTION_H
#define DT_SERVER_RETENTION_H

#include "server.h"
#include "store.h"

/* The clock retention measures ages against (the store's created_at clock). */
int64_t dt_retention_now(const dt_server *srv);
/* One sweep over the store (all configured limits); returns how many
 * uploads were purged or deleted, -1 on a store error. */
int dt_retention_sweep(dt_server *srv, dt_store *st);
/* Starts the periodic thread when any limit is set. */
dt_status dt_retention_start(dt_server *srv, dt_error *err);
/* Stops and joins it (no-op if not started). */
void dt_retention_stop(dt_server *srv);
/* Logs one deletion (reason: staff, retain-dumps, retain-reports,
 * max-dump-bytes); files/bytes/age < 0 are left out. */
void dt_retention_log_deletion(const char *what, const char *reason, const char *upload_id, int files,
                               int64_t bytes, size_t blobs_removed, int64_t age_seconds);

#endif
