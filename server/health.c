/*
 * health.c — see health.h.  Each check is timed: a store or a network
 * filesystem that answers slowly shows in "ms" before it fails outright.
 */
#include "health.h"

#include "blob.h"
#include "log.h"

static void add_check(cJSON *checks, const char *name, int ok, int64_t ms, const char *kind, const char *error,
                      int show_errors)
{
    cJSON *c = cJSON_AddObjectToObject(checks, name);
    if (!c)
        return;
    cJSON_AddBoolToObject(c, "ok", ok);
    cJSON_AddNumberToObject(c, "ms", (double)ms);
    if (kind)
        cJSON_AddStringToObject(c, "kind", kind);
    if (!ok && show_errors && error && error[0])
        cJSON_AddStringToObject(c, "error", error);
}

cJSON *dt_health_ready(dt_server *srv, int show_errors, int *ready)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *checks = cJSON_CreateObject();

    int64_t t0 = dt_log_mono_ms();
    dt_error derr = { 0 };
    dt_store *st = dt_store_open(srv->db_path, NULL, &derr);
    int db_ok = st && dt_store_queue_depth(st) >= 0;
    if (st && !db_ok)
        dt_error_set(&derr, DT_ERR_IO, "the store does not answer queries");
    dt_store_close(st);
    add_check(checks, "database", db_ok, dt_log_mono_ms() - t0, NULL, derr.message, show_errors);

    t0 = dt_log_mono_ms();
    dt_error berr = { 0 };
    dt_blob_store *bs = dt_blob_store_open(&srv->cfg, &berr);
    int blob_ok = bs && bs->ops->check(bs, &berr) == DT_OK;
    add_check(checks, "blob_store", blob_ok, dt_log_mono_ms() - t0, bs ? bs->ops->name : NULL, berr.message,
              show_errors);
    dt_blob_store_free(bs);

    pthread_mutex_lock(&srv->mu);
    int draining = srv->stopping;
    pthread_mutex_unlock(&srv->mu);
    int ok = db_ok && blob_ok && !draining;
    cJSON_AddStringToObject(o, "status", ok ? "ready" : "not_ready");
    cJSON_AddStringToObject(o, "role", srv->role ? srv->role : "serve");
    cJSON_AddBoolToObject(o, "draining", draining);
    cJSON_AddItemToObject(o, "checks", checks);
    *ready = ok;
    return o;
}
