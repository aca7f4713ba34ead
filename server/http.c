/*
 * http.c — the libmicrohttpd daemon: one thread per connection, routing,
 * who-is-asking, streaming of upload bodies, and replies with security
 * headers and JSON errors.
 *
 * An upload is refused from its headers alone when possible (token mode
 * without a token, Content-Length over the limit, too little disk, a full
 * queue): libmicrohttpd then never sends "100 Continue", so a client using
 * Expect: 100-continue does not even send the body.  Once the body flows,
 * libmicrohttpd (0.9.x) cannot answer before it ends: a refused upload
 * removes its files at once and then drops the remaining bytes unread.
 */
#include "http.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "blob.h"
#include "log.h"

#define MAX_JSON_BODY (64 * 1024)

dt_store *dt_http_store(dt_request *r)
{
    if (!r->store)
        r->store = dt_server_store(r->srv);
    return r->store;
}

const char *dt_http_arg(dt_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *dt_http_header(dt_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static void security_headers(struct MHD_Response *resp)
{
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
                            " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
    MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
}

enum MHD_Result dt_http_reply(dt_request *r, unsigned status, struct MHD_Response *resp)
{
    if (!resp)
        return MHD_NO;
    security_headers(resp);
    if (!MHD_get_response_header(resp, "Cache-Control"))
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ok = MHD_queue_response(r->conn, status, resp);
    MHD_destroy_response(resp);
    r->replied = 1;
    r->status = status;
    return ok;
}

void dt_http_set_bytes(dt_request *r, int64_t bytes)
{
    r->bytes = bytes;
}

enum MHD_Result dt_http_text(dt_request *r, unsigned status, const char *content_type, char *text)
{
    if (!text)
        return dt_http_error(r, 500, "internal", "out of memory");
    r->bytes = (int64_t)strlen(text);
    struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", content_type);
    return dt_http_reply(r, status, resp);
}

enum MHD_Result dt_http_json(dt_request *r, unsigned status, cJSON *json)
{
    char *text = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!text) {
        static const char oom[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}";
        struct MHD_Response *resp = MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom,
                                                                    MHD_RESPMEM_PERSISTENT);
        MHD_add_response_header(resp, "Content-Type", "application/json");
        return dt_http_reply(r, 500, resp);
    }
    /* A final newline keeps curl output on the terminal readable. */
    size_t n = strlen(text);
    char *nl = realloc(text, n + 2);
    if (nl) {
        nl[n] = '\n';
        nl[n + 1] = 0;
        text = nl;
    }
    return dt_http_text(r, status, "application/json", text);
}

enum MHD_Result dt_http_error(dt_request *r, unsigned status, const char *code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *o = cJSON_CreateObject();
    cJSON *e = cJSON_AddObjectToObject(o, "error");
    cJSON_AddStringToObject(e, "code", code);
    cJSON_AddStringToObject(e, "message", msg);
    return dt_http_json(r, status, o);
}

/* The value of cookie `name` from the Cookie header, copied into out. */
static int cookie_value(dt_request *r, const char *name, char *out, size_t len)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
    if (!v || strlen(v) >= len)
        return 0;
    strcpy(out, v);
    return 1;
}

static void identify(dt_request *r)
{
    memset(&r->who, 0, sizeof r->who);
    const char *auth = dt_http_header(r, "Authorization");
    char session[128];
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *tok = auth + 7;
        while (*tok == ' ')
            tok++;
        dt_store *st = dt_http_store(r);
        r->who.role = st ? dt_store_token_lookup(st, tok, &r->who.token_id) : DT_ROLE_ANONYMOUS;
        r->who.bad_credentials = r->who.role == DT_ROLE_ANONYMOUS;
    } else if (cookie_value(r, "dt_session", session, sizeof session)) {
        dt_store *st = dt_http_store(r);
        r->who.role = st ? dt_store_session_lookup(st, session, &r->who.token_id) : DT_ROLE_ANONYMOUS;
        r->who.via_cookie = r->who.role != DT_ROLE_ANONYMOUS;
        /* A stale cookie just means "logged out"; it is not an error. */
    }
}

/* Cookie-authenticated changes must come from our own pages: SameSite=Strict
 * already stops other sites; the Origin check covers old browsers. */
static int origin_ok(dt_request *r)
{
    if (!r->who.via_cookie)
        return 1;
    const char *origin = dt_http_header(r, "Origin");
    const char *host = dt_http_header(r, "Host");
    if (!origin)
        return 1;
    if (!host)
        return 0;
    const char *p = strstr(origin, "://");
    return p && strcmp(p + 3, host) == 0;
}

static enum MHD_Result begin_upload(dt_request *r)
{
    dt_server *srv = r->srv;
    if (r->who.bad_credentials)
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    if (!srv->cfg.upload_open && r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "uploads need an uploader or staff token");
    if (!origin_ok(r))
        return dt_http_error(r, 403, "forbidden", "cross-origin request refused");
    pthread_mutex_lock(&srv->mu);
    int stopping = srv->stopping;
    pthread_mutex_unlock(&srv->mu);
    if (stopping)
        return dt_http_error(r, 503, "busy", "the server is shutting down");
    const char *cl = dt_http_header(r, "Content-Length");
    uint64_t length = cl ? strtoull(cl, NULL, 10) : 0;
    if (length > srv->cfg.max_request_size)
        return dt_http_error(r, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                             (unsigned long long)srv->cfg.max_request_size);
    uint64_t free_bytes = dt_blob_free_space(srv->cfg.data_dir);
    if (free_bytes != UINT64_MAX && free_bytes < srv->cfg.min_free_space + length)
        return dt_http_error(r, 507, "insufficient_storage", "not enough free space on the server for this upload");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    if (dt_store_queue_depth(st) >= (int64_t)srv->cfg.max_queue)
        return dt_http_error(r, 503, "busy", "too many analyses are waiting; try again later");
    dt_upload_limits lim = { srv->cfg.data_dir, srv->cfg.max_part_size, srv->cfg.max_request_size };
    int status;
    const char *code;
    char msg[300];
    r->upload = dt_upload_begin(r->conn, &lim, dt_http_header(r, "Content-Type"),
                                dt_http_header(r, "Content-Encoding"), dt_http_arg(r, "role"), &status, &code, msg,
                                sizeof msg);
    if (!r->upload)
        return dt_http_error(r, (unsigned)status, code, "%s", msg);
    return MHD_YES;
}

static enum MHD_Result upload_failed(dt_request *r)
{
    int status;
    const char *code, *msg;
    dt_upload_error(r->upload, &status, &code, &msg);
    pthread_mutex_lock(&r->srv->mu);
    r->srv->uploads_rejected++;
    pthread_mutex_unlock(&r->srv->mu);
    return dt_http_error(r, (unsigned)status, code, "%s", msg);
}

static int is_path(const char *url, const char *p)
{
    return strcmp(url, p) == 0;
}

static enum MHD_Result route(dt_request *r)
{
    const char *m = r->method, *url = r->url;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    int post = strcmp(m, "POST") == 0;
    if (strncmp(url, "/api/", 5) != 0 && !is_path(url, "/healthz") && !is_path(url, "/metrics")) {
        if (!get)
            return dt_http_error(r, 405, "method_not_allowed", "%s is not allowed here", m);
        return dt_static_serve(r);
    }
    if (r->who.bad_credentials && !is_path(url, "/healthz") && !is_path(url, "/api/login"))
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    if (!get && !origin_ok(r))
        return dt_http_error(r, 403, "forbidden", "cross-origin request refused");
    if (r->body_too_large)
        return dt_http_error(r, 413, "too_large", "request body larger than %d bytes", MAX_JSON_BODY);
    if (is_path(url, "/healthz") && get)
        return dt_api_healthz(r);
    if (is_path(url, "/metrics") && get)
        return dt_api_metrics(r);
    if (is_path(url, "/api/dumps") && post)
        return dt_api_upload_finish(r);
    if (strncmp(url, "/api/dumps", 10) == 0 && (url[10] == 0 || url[10] == '/'))
        return dt_api_dumps(r, url + 10);
    if (is_path(url, "/api/symbols"))
        return dt_api_symbols(r);
    if (is_path(url, "/api/signatures") && get)
        return dt_api_signatures(r);
    if (is_path(url, "/api/me") && get)
        return dt_api_me(r);
    if (is_path(url, "/api/login") && post)
        return dt_api_login(r);
    if (is_path(url, "/api/logout") && post)
        return dt_api_logout(r);
    if (is_path(url, "/api/tokens"))
        return post ? dt_api_tokens(r) : dt_http_error(r, 405, "method_not_allowed", "use POST");
    return dt_http_error(r, 404, "not_found", "no such endpoint: %s %s", m, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    dt_server *srv = cls;
    dt_request *r = *con_cls;
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r)
            return MHD_NO;
        *con_cls = r;
        r->srv = srv;
        r->conn = conn;
        r->method = method;
        r->url = url;
        r->start_ms = dt_log_mono_ms();
        r->bytes = -1;
        dt_log_safe_path(url, r->path, sizeof r->path);
        pthread_mutex_lock(&srv->mu);
        r->request_id = ++srv->next_request_id;
        pthread_mutex_unlock(&srv->mu);
        identify(r);
        if (strcmp(method, "POST") == 0 && strcmp(url, "/api/dumps") == 0)
            return begin_upload(r);
        if (strcmp(method, "POST") == 0 && strcmp(url, "/api/symbols") == 0)
            return dt_api_symbols_begin(r);
        return MHD_YES;
    }
    r->conn = conn;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->replied)
            return MHD_YES; /* refused already: the rest of the body is discarded */
        if (r->upload) {
            /* On failure the spools are already removed; libmicrohttpd cannot
             * reply before the body ends, so the rest is read and dropped
             * and the error goes out with the final call. */
            dt_upload_feed(r->upload, upload_data, n);
            return MHD_YES;
        }
        if (r->symbols) {
            dt_symbol_upload_feed(r->symbols, upload_data, n);
            return MHD_YES;
        }
        if (r->body_len + n > MAX_JSON_BODY) {
            r->body_too_large = 1;
            return MHD_YES;
        }
        char *nb = realloc(r->body, r->body_len + n + 1);
        if (!nb)
            return MHD_NO;
        r->body = nb;
        memcpy(r->body + r->body_len, upload_data, n);
        r->body_len += n;
        r->body[r->body_len] = 0;
        return MHD_YES;
    }
    if (r->replied)
        return MHD_YES;
    if (r->upload && dt_upload_feed(r->upload, NULL, 0) != 0)
        return upload_failed(r);
    return route(r);
}

/* One line per request.  The path comes without its query string (view keys
 * travel as ?key=) and tokens are never read into the line. */
static void log_request(dt_request *r, enum MHD_RequestTerminationCode toe)
{
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return;
    char rid[24];
    snprintf(rid, sizeof rid, "r%llu", (unsigned long long)r->request_id);
    cJSON_AddStringToObject(o, "request_id", rid);
    cJSON_AddStringToObject(o, "method", r->method ? r->method : "");
    cJSON_AddStringToObject(o, "path", r->path);
    cJSON_AddNumberToObject(o, "status", r->status);
    if (r->bytes >= 0)
        cJSON_AddNumberToObject(o, "bytes", (double)r->bytes);
    else
        cJSON_AddNullToObject(o, "bytes");
    cJSON_AddNumberToObject(o, "duration_ms", (double)(dt_log_mono_ms() - r->start_ms));
    cJSON_AddStringToObject(o, "role", r->who.bad_credentials ? "invalid" : dt_role_name(r->who.role));
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        cJSON_AddStringToObject(o, "aborted", toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                                              : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client" : "server");
    dt_log_event("request", o);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    dt_request *r = *con_cls;
    if (!r)
        return;
    log_request(r, toe);
    dt_upload_free(r->upload); /* removes the temp files of an unfinished upload */
    dt_symbol_upload_free(r->symbols);
    dt_store_close(r->store);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

int dt_http_start(dt_server *srv, unsigned *port, char *err, size_t errlen)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
    char portstr[16];
    snprintf(portstr, sizeof portstr, "%u", srv->cfg.listen_port);
    const char *host = srv->cfg.listen_host;
    char hostbuf[256];
    if (host[0] == '[') { /* [::1]:8080 */
        snprintf(hostbuf, sizeof hostbuf, "%s", host + 1);
        char *close = strchr(hostbuf, ']');
        if (close)
            *close = 0;
        host = hostbuf;
    }
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC
                   | MHD_USE_ERROR_LOG;
    if (res->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(flags, (uint16_t)srv->cfg.listen_port, NULL, NULL, on_request, srv,
                                   MHD_OPTION_SOCK_ADDR, res->ai_addr,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.connection_timeout,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
                                   MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                   MHD_OPTION_END);
    freeaddrinfo(res);
    if (!srv->daemon) {
        snprintf(err, errlen, "cannot listen on %s:%u (in use?)", srv->cfg.listen_host, srv->cfg.listen_port);
        return -1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : srv->cfg.listen_port;
    return 0;
}

void dt_http_quiesce(dt_server *srv)
{
    if (srv->daemon) {
        MHD_socket s = MHD_quiesce_daemon(srv->daemon);
        if (s != MHD_INVALID_SOCKET)
            close(s);
    }
}

void dt_http_stop(dt_server *srv)
{
    if (srv->daemon)
        MHD_stop_daemon(srv->daemon);
    srv->daemon = NULL;
}
