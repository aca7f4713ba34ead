/*
 * health.h — readiness of one process: can it reach its store and its blob
 * store right now?  Shared by serve's /readyz (api_misc.c) and the worker's
 * metrics listener (worker_http.c), so a load balancer or orchestrator asks
 * every process the same question.
 */
#ifndef DT_SERVER_HEALTH_H
#define DT_SERVER_HEALTH_H

#include <cjson/cJSON.h>

#include "server.h"

/* {"status":"ready"|"not_ready","draining":bool,
 *  "checks":{"database":{"ok":bool,"ms":N[,"error":…]},
 *            "blob_store":{"ok":bool,"ms":N,"kind":"fs"[,"error":…]}}}.
 * The database check opens a new connection and counts the queue; the
 * blob store check writes, fsyncs, renames, reads back and removes a probe
 * (blob.h).  A draining process is not ready either.  Error texts may name
 * server paths: only with show_errors (staff).  *ready gets the verdict. */
cJSON *dt_health_ready(dt_server *srv, int show_errors, int *ready);

#endif
