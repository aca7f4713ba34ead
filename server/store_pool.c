/*
 * store_pool.c — see store_pool.h.  A stack of idle connections under a
 * mutex: the most recently used connection goes out first (its server
 * process is the warmest).  A connection that broke meanwhile (PostgreSQL
 * restarted) is reset by the SQL layer before its next statement.
 */
#include "store_pool.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "store_internal.h"

struct dt_store_pool {
    pthread_mutex_t mu;
    char *target;
    int max_idle, nidle;
    dt_store **idle;
};

dt_store_pool *dt_store_pool_new(const char *target, int max_idle)
{
    dt_store_pool *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->max_idle = max_idle > 0 ? max_idle : 1;
    p->target = strdup(target);
    p->idle = calloc((size_t)p->max_idle, sizeof *p->idle);
    if (!p->target || !p->idle || pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p->target);
        free(p->idle);
        free(p);
        return NULL;
    }
    return p;
}

dt_store *dt_store_pool_take(dt_store_pool *p, dt_error *err)
{
    dt_store *s = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->nidle > 0)
        s = p->idle[--p->nidle];
    pthread_mutex_unlock(&p->mu);
    return s ? s : dt_store_open(p->target, NULL, err);
}

void dt_store_pool_give(dt_store_pool *p, dt_store *s)
{
    if (!s)
        return;
    if (dt_db_in_txn(s->db)) {
        dt_store_close(s);
        return;
    }
    pthread_mutex_lock(&p->mu);
    if (p->nidle < p->max_idle) {
        p->idle[p->nidle++] = s;
        s = NULL;
    }
    pthread_mutex_unlock(&p->mu);
    dt_store_close(s);
}

void dt_store_pool_free(dt_store_pool *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->nidle; i++)
        dt_store_close(p->idle[i]);
    pthread_mutex_destroy(&p->mu);
    free(p->idle);
    free(p->target);
    free(p);
}
