/*
 * worker_http.h — the `worker` command's optional listener
 * (--metrics-listen HOST:PORT): GET /healthz (alive), /readyz (health.h)
 * and /metrics (staff token, like serve's) and nothing else, so a worker
 * that takes no uploads can still be scraped and probed.
 */
#ifndef DT_SERVER_WORKER_HTTP_H
#define DT_SERVER_WORKER_HTTP_H

#include "server.h"

struct dt_worker_http;
/* Starts listening on spec ("HOST:PORT", port 0 picks one; *port gets it).
 * NULL with err set on failure. */
struct dt_worker_http *dt_worker_http_start(dt_server *srv, const char *spec, unsigned *port, dt_error *err);
/* Safe on NULL. */
void dt_worker_http_stop(struct dt_worker_http *h);

#endif
