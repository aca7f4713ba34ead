/*
 * store_pool.h — connections to the store kept open between HTTP requests.
 * Each request used to open its own connection: nothing for SQLite (a file
 * open), but a PostgreSQL connection is a new server process, a handshake
 * and authentication — about as long as the request itself.  The pool
 * hands an idle connection to the next request instead; a connection
 * stays one thread's at a time, as dt_store requires.
 */
#ifndef DT_SERVER_STORE_POOL_H
#define DT_SERVER_STORE_POOL_H

#include "store.h"

typedef struct dt_store_pool dt_store_pool;

/* A pool for the store at target (dt_store_open's), keeping at most
 * max_idle connections open while unused.  NULL when out of memory. */
dt_store_pool *dt_store_pool_new(const char *target, int max_idle);
/* An idle connection, or a new one (NULL with err set if it cannot be
 * opened). */
dt_store *dt_store_pool_take(dt_store_pool *p, dt_error *err);
/* Back to the pool (closed instead when the pool is full, or when the
 * connection is left inside a transaction).  NULL is ignored. */
void dt_store_pool_give(dt_store_pool *p, dt_store *s);
/* Closes the idle connections and frees the pool. */
void dt_store_pool_free(dt_store_pool *p);

#endif
