/*
 * http.c — owns the libmicrohttpd daemon (one thread per connection),
 * routing, who-is-asking, streaming of upload bodies, replies with security
 * headers and JSON errors, and the defences against hostile clients that
 * sit at the connection: deadlines, per-address connection caps and the
 * per-client upload and credential limits (ratelimit.c holds the table).
 *
 * An upload is refused from its headers alone when possible (token mode
 * without a token, Content-Length over the limit, too little disk, a full
 * queue, a per-client limit): libmicrohttpd then never sends "100 Continue",
 * so a client using Expect: 100-continue does not even send the body.  Once
 * the body flows, libmicrohttpd (0.9.x) cannot answer before it ends: a
 * refused upload removes its files at once and then drops the remaining
 * bytes unread.
 *
 * Deadlines: libmicrohttpd's own timeout counts only idle time, so a client
 * sending one header byte every few seconds would hold its connection (and,
 * here, a thread) for ever.  Every connection is therefore registered
 * (MHD_OPTION_NOTIFY_CONNECTION) with the phase it is in — headers, body,
 * reply — and a watchdog thread shuts down the socket of one that spends
 * more than --header-timeout on its headers (counted again from the end of
 * each request on a kept-alive connection), more than --body-timeout on a
 * body, or sends its body slower than --min-body-rate over any 20 s window.
 * shutdown(2), not close(2): the descriptor stays libmicrohttpd's; its
 * thread sees end-of-stream and cleans up as for a client that went away.
 * The record is removed in the CLOSED notification, under the same mutex,
 * before libmicrohttpd closes the descriptor, so a shut-down descriptor is
 * never one reused by a newer connection.
 *
 * libmicrohttpd answers some malformed requests itself (400, 414 URI too
 * long, 431 headers too large) before any handler runs; 0.9.75 has no hook
 * to add headers to those replies, so they lack the security headers.  They
 * carry a fixed text body and no client data (docs/security.md).
 */
#include "http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "api_snapshots.h"
#include "blob.h"
#include "log.h"
#include "ratelimit.h"
#include "store_pool.h"
#include "tus.h"

#define MAX_JSON_BODY (64 * 1024)
#define BODY_RATE_WINDOW_MS 20000
#define WATCHDOG_TICK_MS 250

typedef enum { CONN_HEADERS = 0, CONN_BODY, CONN_REPLY } conn_phase;

/* One open connection, for the deadline watchdog (all fields under
 * srv->conn_mu). */
struct dt_conn {
    struct dt_conn *next, *prev;
    MHD_socket fd;
    conn_phase phase;
    int64_t phase_ms;        /* monotonic ms when the phase began */
    int64_t window_ms;       /* start of the current body-rate window */
    uint64_t window_bytes;   /* body bytes in that window */
    const char *closed_why;  /* set once the watchdog shut it down */
};

dt_store *dt_http_store(dt_request *r)
{
    if (!r->store && r->srv->store_pool) {
        dt_error err = { 0 };
        r->store = dt_store_pool_take(r->srv->store_pool, &err);
        if (!r->store)
            fprintf(stderr, "dumptriage: %s\n", err.message);
    } else if (!r->store) {
        r->store = dt_server_store(r->srv);
    }
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
    if (r->retry_after) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", r->retry_after);
        MHD_add_response_header(resp, "Retry-After", secs);
    }
    if (r->location)
        MHD_add_response_header(resp, "Location", r->location);
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

enum MHD_Result dt_http_throttled(dt_request *r, unsigned seconds, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->retry_after = seconds ? seconds : 1;
    return dt_http_error(r, 429, "too_many_requests", "%s; retry after %u s", msg, r->retry_after);
}

bool dt_http_auth_blocked(dt_request *r, unsigned *seconds)
{
    return dt_ratelimit_auth_blocked(r->srv->limits, r->ip_key, dt_log_mono_ms(), seconds);
}

void dt_http_auth_failed(dt_request *r, int kind)
{
    dt_ratelimit_auth_failed(r->srv->limits, r->ip_key, (dt_auth_kind)kind, dt_log_mono_ms());
}

/* The client's address: the peer's, or with --trust-proxy and a loopback
 * peer the last X-Forwarded-For entry (the one the proxy appended; earlier
 * ones are whatever the client claimed). */
static void client_address(dt_request *r)
{
    snprintf(r->client, sizeof r->client, "unknown");
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = ci ? ci->client_addr : NULL;
    bool loopback = false;
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, r->client, sizeof r->client);
        loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        /* A proxy in another container or host (--trust-proxy-net) counts
         * as one on this machine. */
        if (r->srv->cfg.trust_proxy_net[0] && dt_config_in_net(r->srv->cfg.trust_proxy_net, ntohl(in->sin_addr.s_addr)) == 1)
            loopback = true;
    } else if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, r->client, sizeof r->client);
        loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
    }
    const char *xff = r->srv->cfg.trust_proxy && loopback ? dt_http_header(r, "X-Forwarded-For") : NULL;
    if (xff && *xff) {
        const char *last = strrchr(xff, ',');
        last = last ? last + 1 : xff;
        while (*last == ' ')
            last++;
        size_t n = strcspn(last, " ");
        if (n > 0 && n < sizeof r->client && strspn(last, "0123456789abcdefABCDEF.:") >= n) {
            memcpy(r->client, last, n);
            r->client[n] = 0;
        }
    }
    snprintf(r->ip_key, sizeof r->ip_key, "ip:%s", r->client);
    snprintf(r->client_key, sizeof r->client_key, "%s", r->ip_key);
}

/* ---- connection deadlines ---- */

static struct dt_conn *conn_of(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static void conn_enter(dt_server *srv, struct dt_conn *cn, conn_phase phase)
{
    if (!cn)
        return;
    int64_t now = dt_log_mono_ms();
    pthread_mutex_lock(&srv->conn_mu);
    cn->phase = phase;
    cn->phase_ms = cn->window_ms = now;
    cn->window_bytes = 0;
    pthread_mutex_unlock(&srv->conn_mu);
}

static void conn_body_bytes(dt_server *srv, struct dt_conn *cn, size_t n)
{
    if (!cn)
        return;
    pthread_mutex_lock(&srv->conn_mu);
    cn->window_bytes += n;
    pthread_mutex_unlock(&srv->conn_mu);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    dt_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct dt_conn *cn = calloc(1, sizeof *cn);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        if (!cn || !ci) {
            free(cn); /* not watched: only the idle timeout applies to it */
            return;
        }
        cn->fd = ci->connect_fd;
        cn->phase = CONN_HEADERS;
        cn->phase_ms = cn->window_ms = dt_log_mono_ms();
        pthread_mutex_lock(&srv->conn_mu);
        cn->next = srv->conns;
        if (srv->conns)
            srv->conns->prev = cn;
        srv->conns = cn;
        pthread_mutex_unlock(&srv->conn_mu);
        *socket_context = cn;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        struct dt_conn *cn = *socket_context;
        if (!cn)
            return;
        pthread_mutex_lock(&srv->conn_mu);
        if (cn->prev)
            cn->prev->next = cn->next;
        else
            srv->conns = cn->next;
        if (cn->next)
            cn->next->prev = cn->prev;
        pthread_mutex_unlock(&srv->conn_mu);
        free(cn);
        *socket_context = NULL;
    }
}

/* Which deadline, if any, the connection has passed (under conn_mu). */
static const char *conn_overdue(const dt_server_config *cfg, struct dt_conn *c, int64_t now)
{
    if (c->phase == CONN_HEADERS)
        return cfg->header_timeout && now - c->phase_ms > (int64_t)cfg->header_timeout * 1000 ? "header_timeout"
                                                                                              : NULL;
    if (c->phase != CONN_BODY)
        return NULL; /* a reply being read slowly: only the idle timeout applies */
    if (cfg->body_timeout && now - c->phase_ms > (int64_t)cfg->body_timeout * 1000)
        return "body_timeout";
    if (cfg->min_body_rate && now - c->window_ms >= BODY_RATE_WINDOW_MS) {
        if ((double)c->window_bytes * 1000.0 < (double)cfg->min_body_rate * (double)(now - c->window_ms))
            return "slow_body";
        c->window_ms = now;
        c->window_bytes = 0;
    }
    return NULL;
}

static void *conn_watchdog(void *arg)
{
    dt_server *srv = arg;
    pthread_mutex_lock(&srv->conn_mu);
    while (!srv->conn_watchdog_stop) {
        int64_t now = dt_log_mono_ms();
        for (struct dt_conn *c = srv->conns; c; c = c->next) {
            if (c->closed_why)
                continue;
            const char *why = conn_overdue(&srv->cfg, c, now);
            if (!why)
                continue;
            c->closed_why = why;
            shutdown(c->fd, SHUT_RDWR);
            if (why[0] == 'h')
                srv->conn_closed_header++;
            else if (why[0] == 'b')
                srv->conn_closed_body++;
            else
                srv->conn_closed_slow++;
        }
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += WATCHDOG_TICK_MS * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&srv->conn_wake, &srv->conn_mu, &ts);
    }
    pthread_mutex_unlock(&srv->conn_mu);
    return NULL;
}

void dt_http_conn_stats(dt_server *srv, dt_conn_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!srv->limits)
        return; /* the registry exists once the daemon started */
    pthread_mutex_lock(&srv->conn_mu);
    for (const struct dt_conn *c = srv->conns; c; c = c->next)
        out->open++;
    out->closed_header = srv->conn_closed_header;
    out->closed_body = srv->conn_closed_body;
    out->closed_slow = srv->conn_closed_slow;
    pthread_mutex_unlock(&srv->conn_mu);
}

/* The value of cookie `name` from the Cookie header, copied into out. */
static bool cookie_value(dt_request *r, const char *name, char *out, size_t len)
{
    const char *v = MHD_lookup_connection_value(r->conn, MHD_COOKIE_KIND, name);
    if (!v || strlen(v) >= len)
        return false;
    strcpy(out, v);
    return true;
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
        /* A client backing off after failed guesses gets no answer about
         * this token either (route() replies 429). */
        unsigned wait;
        if (dt_http_auth_blocked(r, &wait)) {
            r->retry_after = wait;
            return;
        }
        dt_store *st = dt_http_store(r);
        r->who.role = st ? dt_store_token_lookup(st, tok, &r->who.token_id) : DT_ROLE_ANONYMOUS;
        r->who.bad_credentials = r->who.role == DT_ROLE_ANONYMOUS;
        if (r->who.bad_credentials && st)
            dt_http_auth_failed(r, DT_AUTH_TOKEN);
        if (r->who.role != DT_ROLE_ANONYMOUS)
            snprintf(r->client_key, sizeof r->client_key, "t:%lld", (long long)r->who.token_id);
    } else if (cookie_value(r, "dt_session", session, sizeof session)) {
        dt_store *st = dt_http_store(r);
        r->who.role = st ? dt_store_session_lookup(st, session, &r->who.token_id) : DT_ROLE_ANONYMOUS;
        r->who.via_cookie = r->who.role != DT_ROLE_ANONYMOUS;
        /* A stale cookie just means "logged out"; it is not an error (and
         * a 256-bit session id is not worth guessing). */
        if (r->who.via_cookie)
            snprintf(r->client_key, sizeof r->client_key, "t:%lld", (long long)r->who.token_id);
    }
}

/* Cookie-authenticated changes must come from our own pages: SameSite=Strict
 * already stops other sites; the Origin check covers old browsers. */
bool dt_http_origin_ok(dt_request *r)
{
    if (!r->who.via_cookie)
        return true;
    const char *origin = dt_http_header(r, "Origin");
    const char *host = dt_http_header(r, "Host");
    if (!origin)
        return true;
    if (!host)
        return false;
    const char *p = strstr(origin, "://");
    return p && strcmp(p + 3, host) == 0;
}

/* The per-client queue share: --max-queue-per-client, or half the queue. */
static unsigned queue_share(const dt_server_config *cfg)
{
    if (cfg->max_queue_per_client)
        return cfg->max_queue_per_client;
    return cfg->max_queue > 1 ? (cfg->max_queue + 1) / 2 : 1;
}

static enum MHD_Result begin_upload(dt_request *r)
{
    dt_server *srv = r->srv;
    if (r->retry_after)
        return dt_http_throttled(r, r->retry_after, "too many failed credentials from this address");
    if (r->who.bad_credentials)
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    if (!srv->cfg.upload_open && r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "uploads need an uploader or staff token");
    if (!dt_http_origin_ok(r))
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
    /* Staff are trusted (and reanalyze without this path anyway); everyone
     * else gets a share of the queue, a rate and an in-flight budget. */
    if (r->who.role != DT_ROLE_STAFF) {
        unsigned share = queue_share(&srv->cfg);
        if (dt_store_queue_depth_for(st, r->client_key) >= (int64_t)share) {
            dt_ratelimit_count(srv->limits, DT_LIMIT_QUEUE_SHARE);
            return dt_http_throttled(r, 60, "%u analyses of yours are waiting already", share);
        }
        dt_limit_kind why;
        unsigned wait;
        if (!dt_ratelimit_upload_begin(srv->limits, r->client_key, length, dt_log_mono_ms(), &why, &wait))
            return why == DT_LIMIT_UPLOAD_RATE
                 ? dt_http_throttled(r, wait, "more than %u uploads per minute", srv->cfg.upload_rate)
                 : dt_http_throttled(r, wait, "more than %llu bytes of your uploads are in progress",
                                     (unsigned long long)srv->cfg.max_client_inflight);
        r->upload_admitted = true;
        r->reserved = length;
    }
    dt_upload_limits lim = { srv->cfg.data_dir, srv->cfg.max_part_size, srv->cfg.max_request_size,
                             srv->cfg.min_free_space, srv->cfg.max_archive_ratio };
    dt_refusal refusal = { 0 };
    r->upload = dt_upload_begin(r->conn, &lim, dt_http_header(r, "Content-Type"),
                                dt_http_header(r, "Content-Encoding"), dt_http_arg(r, "role"), &refusal);
    if (!r->upload)
        return dt_http_error(r, refusal.http, refusal.code, "%s", refusal.err.message);
    return MHD_YES;
}

static enum MHD_Result upload_failed(dt_request *r)
{
    const dt_refusal *why = dt_upload_refusal(r->upload);
    pthread_mutex_lock(&r->srv->mu);
    r->srv->uploads_rejected++;
    pthread_mutex_unlock(&r->srv->mu);
    return dt_http_error(r, why->http, why->code, "%s", why->err.message);
}

/* Counts body bytes of an admitted upload against the client's in-flight
 * budget; false when the budget is exceeded. */
static bool upload_account(dt_request *r, size_t n)
{
    if (!r->upload_admitted)
        return true;
    r->received += n;
    if (r->received <= r->reserved)
        return true;
    uint64_t more = r->received - r->reserved;
    if (!dt_ratelimit_upload_grow(r->srv->limits, r->client_key, r->reserved, more))
        return false;
    r->reserved += more;
    return true;
}

static bool is_path(const char *url, const char *p)
{
    return strcmp(url, p) == 0;
}

static enum MHD_Result route(dt_request *r)
{
    const char *m = r->method, *url = r->url;
    int get = strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0;
    int post = strcmp(m, "POST") == 0;
    if (strncmp(url, "/api/", 5) != 0 && !is_path(url, "/healthz") && !is_path(url, "/readyz")
        && !is_path(url, "/metrics")) {
        if (!get)
            return dt_http_error(r, 405, "method_not_allowed", "%s is not allowed here", m);
        unsigned wait;
        if (strncmp(url, "/v/", 3) == 0 && dt_http_auth_blocked(r, &wait))
            return dt_http_throttled(r, wait, "too many failed credentials from this address");
        return dt_static_serve(r);
    }
    /* Backing off after failed guesses: nothing that takes a credential
     * (token, view key, login) is looked at; health and metrics-free pages
     * still answer. */
    if (!is_path(url, "/healthz") && !is_path(url, "/readyz")) {
        unsigned wait = r->retry_after;
        if (wait || ((dt_http_arg(r, "key") || is_path(url, "/api/login")) && dt_http_auth_blocked(r, &wait)))
            return dt_http_throttled(r, wait, "too many failed credentials from this address");
    }
    if (r->who.bad_credentials && !is_path(url, "/healthz") && !is_path(url, "/readyz") && !is_path(url, "/api/login"))
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    if (!get && !dt_http_origin_ok(r))
        return dt_http_error(r, 403, "forbidden", "cross-origin request refused");
    if (r->body_too_large)
        return dt_http_error(r, 413, "too_large", "request body larger than %d bytes", MAX_JSON_BODY);
    if (is_path(url, "/healthz") && get)
        return dt_api_healthz(r);
    if (is_path(url, "/readyz") && get)
        return dt_api_readyz(r);
    if (is_path(url, "/metrics") && get)
        return dt_api_metrics(r);
    if (is_path(url, "/api/dumps") && post)
        return dt_api_upload_finish(r);
    if (strncmp(url, "/api/dumps", 10) == 0 && (url[10] == 0 || url[10] == '/'))
        return dt_api_dumps(r, url + 10);
    if (strncmp(url, "/api/uploads", 12) == 0 && (url[12] == 0 || url[12] == '/'))
        return dt_api_tus(r, url + 12);
    if (is_path(url, "/api/symbols"))
        return dt_api_symbols(r);
    if (is_path(url, "/api/signatures") && get)
        return dt_api_signatures(r);
    if (is_path(url, "/api/signatures/detail") && get)
        return dt_api_signature_detail(r);
    if (is_path(url, "/api/me") && get)
        return dt_api_me(r);
    if (is_path(url, "/api/login") && post)
        return dt_api_login(r);
    if (is_path(url, "/api/logout") && post)
        return dt_api_logout(r);
    if (strncmp(url, "/api/tokens", 11) == 0 && (url[11] == 0 || url[11] == '/'))
        return dt_api_tokens(r, url + 11);
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
        r->conn_state = conn_of(conn);
        conn_enter(srv, r->conn_state, CONN_BODY);
        client_address(r);
        /* RFC 9112 §6.3: a message with both is an attack on a proxy's
         * framing or a broken client; libmicrohttpd would take it as
         * chunked.  Refused before anything else. */
        if (dt_http_header(r, "Transfer-Encoding") && dt_http_header(r, "Content-Length"))
            return dt_http_error(r, 400, "bad_request", "Content-Length together with Transfer-Encoding");
        identify(r);
        if (strcmp(method, "POST") == 0 && strcmp(url, "/api/dumps") == 0)
            return begin_upload(r);
        if (strcmp(method, "POST") == 0 && dt_api_snapshots_path(url))
            return dt_api_snapshots_admit(r) ? begin_upload(r) : MHD_YES;
        if (strcmp(method, "POST") == 0 && strcmp(url, "/api/symbols") == 0)
            return dt_api_symbols_begin(r);
        if ((strcmp(method, "POST") == 0 || strcmp(method, "PATCH") == 0) && strncmp(url, "/api/uploads", 12) == 0
            && (url[12] == 0 || url[12] == '/'))
            return dt_tus_begin(r);
        return MHD_YES;
    }
    r->conn = conn;
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        conn_body_bytes(srv, r->conn_state, n);
        if (r->replied)
            return MHD_YES; /* refused already: the rest of the body is discarded */
        if (r->upload) {
            if (r->inflight_refused)
                return MHD_YES;
            if (!upload_account(r, n)) {
                /* Over the client's in-flight budget: the spools go now
                 * (freeing the disk), the 429 with the final call. */
                r->inflight_refused = true;
                dt_upload_free(r->upload);
                r->upload = NULL;
                return MHD_YES;
            }
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
        if (r->tus) {
            dt_tus_feed(r, upload_data, n);
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
    conn_enter(srv, r->conn_state, CONN_REPLY);
    if (r->replied)
        return MHD_YES;
    if (r->inflight_refused) {
        pthread_mutex_lock(&srv->mu);
        srv->uploads_rejected++;
        pthread_mutex_unlock(&srv->mu);
        return dt_http_throttled(r, 30, "more than %llu bytes of your uploads are in progress",
                                 (unsigned long long)srv->cfg.max_client_inflight);
    }
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
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        const char *why = NULL;
        if (r->conn_state) {
            pthread_mutex_lock(&r->srv->conn_mu);
            why = r->conn_state->closed_why;
            pthread_mutex_unlock(&r->srv->conn_mu);
        }
        cJSON_AddStringToObject(o, "aborted", why ? why : toe == MHD_REQUEST_TERMINATED_TIMEOUT_REACHED ? "timeout"
                                              : toe == MHD_REQUEST_TERMINATED_CLIENT_ABORT ? "client" : "server");
    }
    cJSON_AddStringToObject(o, "client", r->client);
    dt_log_event("request", o);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    dt_request *r = *con_cls;
    if (!r)
        return;
    log_request(r, toe);
    if (r->status)
        dt_metrics_http_status(&r->srv->metrics, r->status);
    if (r->upload_admitted)
        dt_ratelimit_upload_end(r->srv->limits, r->client_key, r->reserved);
    /* A kept-alive connection has --header-timeout for its next request. */
    (void)conn;
    conn_enter(r->srv, r->conn_state, CONN_HEADERS);
    dt_upload_free(r->upload); /* removes the temp files of an unfinished upload */
    dt_symbol_upload_free(r->symbols);
    dt_tus_end(r, toe == MHD_REQUEST_TERMINATED_COMPLETED_OK);
    if (r->srv->store_pool)
        dt_store_pool_give(r->srv->store_pool, r->store);
    else
        dt_store_close(r->store);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* Creates the per-client table and starts the deadline watchdog. */
static dt_status limits_start(dt_server *srv, dt_error *err)
{
    dt_ratelimit_config rc = {
        .upload_rate = srv->cfg.upload_rate,
        .inflight_bytes = srv->cfg.max_client_inflight,
        .auth_free = srv->cfg.auth_failures,
        .auth_backoff_max = srv->cfg.auth_backoff_max ? srv->cfg.auth_backoff_max : 1,
    };
    dt_status s = dt_ratelimit_new(&rc, &srv->limits, err);
    if (s != DT_OK)
        return s;
    srv->tus = dt_tus_registry_new();
    if (!srv->tus)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    pthread_mutex_init(&srv->conn_mu, NULL);
    pthread_cond_init(&srv->conn_wake, NULL);
    srv->conns = NULL;
    srv->conn_watchdog_stop = 0;
    if (pthread_create(&srv->conn_watchdog, NULL, conn_watchdog, srv) != 0)
        return dt_error_set(err, DT_ERR_IO, "cannot start the connection watchdog");
    srv->conn_watchdog_running = 1;
    return DT_OK;
}

static bool loopback_host(const char *host)
{
    return strcmp(host, "localhost") == 0 || strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0
        || strcmp(host, "[::1]") == 0;
}

dt_status dt_http_start(dt_server *srv, unsigned *port, dt_error *err)
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
    if (rc != 0 || !res)
        return dt_error_set(err, DT_ERR_ARG, "cannot resolve %s: %s", host, gai_strerror(rc));
    if (!srv->cfg.cookie_secure && !loopback_host(host)) {
        /* Not behind a TLS proxy on this machine: the session cookie would
         * travel in clear unless TLS terminates elsewhere. */
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "warning", "listening on a non-loopback address without --cookie-secure:"
                                              " the session cookie lacks Secure; serve through TLS and set"
                                              " --cookie-secure");
        dt_log_event("config", o);
    }
    dt_status ls = limits_start(srv, err);
    if (ls != DT_OK) {
        freeaddrinfo(res);
        return ls;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION | MHD_USE_ITC
                   | MHD_USE_ERROR_LOG;
    if (res->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    srv->daemon = MHD_start_daemon(flags, (uint16_t)srv->cfg.listen_port, NULL, NULL, on_request, srv,
                                   MHD_OPTION_SOCK_ADDR, res->ai_addr,
                                   MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->cfg.connection_timeout,
                                   MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections,
                                   MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)srv->cfg.max_connections_per_ip,
                                   MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
                                   MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
                                   MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
                                   MHD_OPTION_END);
    freeaddrinfo(res);
    if (!srv->daemon)
        return dt_error_set(err, DT_ERR_IO, "cannot listen on %s:%u (in use?)", srv->cfg.listen_host,
                            srv->cfg.listen_port);
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : srv->cfg.listen_port;
    return DT_OK;
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
    if (srv->conn_watchdog_running) {
        pthread_mutex_lock(&srv->conn_mu);
        srv->conn_watchdog_stop = 1;
        pthread_cond_broadcast(&srv->conn_wake);
        pthread_mutex_unlock(&srv->conn_mu);
        pthread_join(srv->conn_watchdog, NULL);
        srv->conn_watchdog_running = 0;
    }
    dt_ratelimit_free(srv->limits);
    srv->limits = NULL;
    dt_tus_registry_free(srv->tus);
    srv->tus = NULL;
}
