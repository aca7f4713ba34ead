/*
 * worker_http.c — see worker_http.h.  A separate, minimal daemon rather than
 * http.c's: no uploads, no sessions, no static pages, so none of their
 * limits and state are needed; one thread answers (the requests are rare
 * and short), with a connection limit and a timeout so a slow client cannot
 * hold it.
 */
#include "worker_http.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "health.h"

struct dt_worker_http {
    dt_server *srv;
    struct MHD_Daemon *daemon;
};

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type, char *body)
{
    if (!body)
        return MHD_NO;
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

static enum MHD_Result json_reply(struct MHD_Connection *c, unsigned status, cJSON *o)
{
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    return reply(c, status, "application/json", text);
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static dt_role caller_role(dt_server *srv, struct MHD_Connection *c)
{
    const char *auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return DT_ROLE_ANONYMOUS;
    dt_store *st = dt_server_store(srv);
    int64_t id = 0;
    dt_role role = st ? dt_store_token_lookup(st, auth + 7, &id) : DT_ROLE_ANONYMOUS;
    dt_store_close(st);
    return role;
}

static enum MHD_Result metrics(dt_server *srv, struct MHD_Connection *c, unsigned *status)
{
    dt_role role = caller_role(srv, c);
    if (role != DT_ROLE_STAFF) {
        *status = role == DT_ROLE_ANONYMOUS ? 401 : 403;
        return reply(c, *status, "text/plain", dupstr("metrics need a staff token\n"));
    }
    *status = 200;
    dt_store *st = dt_server_store(srv);
    char *store_text = st ? dt_store_metrics(st) : NULL;
    dt_process_labels who = { srv->role ? srv->role : "worker", srv->instance,
                              dt_store_target_is_shared(srv->db_path) ? "postgresql" : "sqlite",
                              srv->cfg.blob_store[0] ? srv->cfg.blob_store : "fs" };
    dt_store_close(st);
    pthread_mutex_lock(&srv->mu);
    unsigned long long done = srv->analyses_done, failed = srv->analyses_failed;
    int running = srv->running;
    pthread_mutex_unlock(&srv->mu);
    char process_text[8192];
    dt_metrics_text(&srv->metrics, &who, process_text, sizeof process_text);
    size_t cap = (store_text ? strlen(store_text) : 0) + sizeof process_text + 1024;
    char *text = malloc(cap);
    if (text)
        snprintf(text, cap,
                 "# HELP dt_analyses_completed_total Analyses stored since start.\n"
                 "# TYPE dt_analyses_completed_total counter\ndt_analyses_completed_total %llu\n"
                 "# HELP dt_analyses_failed_total Analyses failed since start.\n"
                 "# TYPE dt_analyses_failed_total counter\ndt_analyses_failed_total %llu\n"
                 "# HELP dt_workers_busy Workers running an analysis now.\n# TYPE dt_workers_busy gauge\n"
                 "dt_workers_busy %d\n%s%s",
                 done, failed, running, process_text, store_text ? store_text : "");
    free(store_text);
    return reply(c, 200, "text/plain; version=0.0.4", text);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    (void)upload_data;
    struct dt_worker_http *h = cls;
    if (!*con_cls) { /* first call: headers only */
        *con_cls = h;
        return MHD_YES;
    }
    if (*upload_data_size) {
        *upload_data_size = 0; /* no endpoint takes a body */
        return MHD_YES;
    }
    unsigned status = 404;
    enum MHD_Result rc;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0) {
        status = 405;
        rc = reply(c, status, "text/plain", dupstr("only GET here\n"));
    } else if (strcmp(url, "/healthz") == 0) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddStringToObject(o, "role", "worker");
        cJSON_AddStringToObject(o, "version", DT_VERSION);
        status = 200;
        rc = json_reply(c, status, o);
    } else if (strcmp(url, "/readyz") == 0) {
        int ready = 0;
        cJSON *o = dt_health_ready(h->srv, caller_role(h->srv, c) == DT_ROLE_STAFF, &ready);
        status = ready ? 200 : 503;
        rc = json_reply(c, status, o);
    } else if (strcmp(url, "/metrics") == 0) {
        rc = metrics(h->srv, c, &status);
    } else {
        rc = reply(c, status, "text/plain", dupstr("no such endpoint on a worker\n"));
    }
    dt_metrics_http_status(&h->srv->metrics, status);
    return rc;
}

struct dt_worker_http *dt_worker_http_start(dt_server *srv, const char *spec, unsigned *port, dt_error *err)
{
    const char *colon = strrchr(spec, ':');
    if (!colon || colon == spec || colon - spec >= 256) {
        dt_error_set(err, DT_ERR_ARG, "--metrics-listen: expected HOST:PORT, got %s", spec);
        return NULL;
    }
    char host[256];
    memcpy(host, spec, (size_t)(colon - spec));
    host[colon - spec] = 0;
    char *end;
    unsigned long p = strtoul(colon + 1, &end, 10);
    if (*end || end == colon + 1 || p > 65535) {
        dt_error_set(err, DT_ERR_ARG, "--metrics-listen: bad port in %s", spec);
        return NULL;
    }
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    int rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || !res) {
        dt_error_set(err, DT_ERR_ARG, "--metrics-listen: cannot resolve %s: %s", host, gai_strerror(rc));
        return NULL;
    }
    struct dt_worker_http *h = calloc(1, sizeof *h);
    if (!h) {
        freeaddrinfo(res);
        dt_error_set(err, DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    h->srv = srv;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (res->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, (uint16_t)p, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR, res->ai_addr,
                                 MHD_OPTION_CONNECTION_TIMEOUT, 10u, MHD_OPTION_CONNECTION_LIMIT, 16u,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024), MHD_OPTION_END);
    freeaddrinfo(res);
    if (!h->daemon) {
        free(h);
        dt_error_set(err, DT_ERR_IO, "cannot listen on %s (in use?)", spec);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : (unsigned)p;
    return h;
}

void dt_worker_http_stop(struct dt_worker_http *h)
{
    if (!h)
        return;
    MHD_stop_daemon(h->daemon);
    free(h);
}
