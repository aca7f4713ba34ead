/*
 * http.h — the libmicrohttpd daemon and what every handler shares: the
 * per-request context, who is asking, and replies that always carry the
 * security headers.  Handlers live in api_*.c and static_files.c.
 */
#ifndef DT_SERVER_HTTP_H
#define DT_SERVER_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server.h"
#include "store.h"
#include "upload.h"

typedef struct {
    dt_role role;
    int64_t token_id;       /* 0 for anonymous */
    int via_cookie;         /* authenticated by the session cookie (CSRF checks apply) */
    int bad_credentials;    /* a token or cookie was sent but is not valid */
} dt_principal;

typedef struct dt_symbol_upload dt_symbol_upload; /* api_symbols.c */

typedef struct {
    dt_server *srv;
    struct MHD_Connection *conn;
    const char *method;
    const char *url;
    dt_principal who;
    dt_store *store;        /* opened lazily by dt_http_store */
    dt_upload *upload;      /* POST /api/dumps */
    dt_symbol_upload *symbols; /* POST /api/symbols */
    struct dt_tus_req *tus; /* POST/PATCH /api/uploads (tus.c) */
    char *body;             /* other requests with a body (JSON), NUL-terminated */
    size_t body_len;
    int body_too_large;
    int replied;            /* a reply was queued before the body ended */
    int counted;            /* upload counted in metrics */
    /* For the request log line (log.h). */
    uint64_t request_id;
    int64_t start_ms;       /* monotonic */
    unsigned status;        /* 0 until a reply is queued */
    int64_t bytes;          /* response body size, -1 unknown */
    char path[512];         /* URL path without the query, secrets hidden */
    /* Who is asking, as an address and as a limit key (ratelimit.h). */
    char client[64];        /* the peer's address (or X-Forwarded-For's, --trust-proxy) */
    char ip_key[72];        /* "ip:<client>": credential guesses are counted per address */
    char client_key[80];    /* "t:<token id>" for a token, else ip_key: uploads are limited per client */
    struct dt_conn *conn_state; /* the connection's deadline record (http.c) */
    unsigned retry_after;   /* non-zero: the reply carries Retry-After */
    const char *location;   /* non-NULL: the reply carries this Location (the caller keeps it alive until the reply) */
    /* An upload admitted by the per-client limits: bytes reserved and
     * received, released when the request ends. */
    bool upload_admitted;
    uint64_t reserved, received;
    bool inflight_refused;  /* the body passed the client's in-flight budget */
} dt_request;

/* The request's store connection (opened on first use; NULL on failure). */
dt_store *dt_http_store(dt_request *r);
/* Query-string argument or NULL. */
const char *dt_http_arg(dt_request *r, const char *name);
/* A request header or NULL. */
const char *dt_http_header(dt_request *r, const char *name);

/* Records the body size of the reply about to be queued (for the log);
 * dt_http_text sets it itself. */
void dt_http_set_bytes(dt_request *r, int64_t bytes);
/* Replies; each adds the security headers.  They return MHD_YES/MHD_NO for
 * the access handler to return. */
enum MHD_Result dt_http_reply(dt_request *r, unsigned status, struct MHD_Response *resp);
/* Replies with JSON (takes ownership of json). */
enum MHD_Result dt_http_json(dt_request *r, unsigned status, cJSON *json);
/* Replies with text already serialized (takes ownership of text). */
enum MHD_Result dt_http_text(dt_request *r, unsigned status, const char *content_type, char *text);
/* 429 too_many_requests with Retry-After: seconds (at least 1). */
enum MHD_Result dt_http_throttled(dt_request *r, unsigned seconds, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* False for a cookie-authenticated request from another origin. */
bool dt_http_origin_ok(dt_request *r);
/* Whether the client is backing off after failed credential guesses; if so
 * *seconds is how long (ratelimit.h). */
bool dt_http_auth_blocked(dt_request *r, unsigned *seconds);
/* Records a failed credential guess by this client. */
void dt_http_auth_failed(dt_request *r, int kind /* dt_auth_kind */);
/* {"error":{"code":…,"message":…}}. */
enum MHD_Result dt_http_error(dt_request *r, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Handlers (the path has been matched by http.c). */
enum MHD_Result dt_api_upload_finish(dt_request *r);
enum MHD_Result dt_api_dumps(dt_request *r, const char *rest); /* rest: after "/api/dumps" */
enum MHD_Result dt_api_signatures(dt_request *r);
enum MHD_Result dt_api_me(dt_request *r);
enum MHD_Result dt_api_login(dt_request *r);
enum MHD_Result dt_api_logout(dt_request *r);
enum MHD_Result dt_api_tokens(dt_request *r, const char *rest); /* rest: after "/api/tokens" */
enum MHD_Result dt_api_healthz(dt_request *r);
enum MHD_Result dt_api_readyz(dt_request *r);
enum MHD_Result dt_api_metrics(dt_request *r);
enum MHD_Result dt_static_serve(dt_request *r);
/* The support workflow (api_workflow.c): /api/dumps/{id}/workflow and
 * /comments once api_dumps.c found the upload and the caller may see it;
 * GET /api/signatures/detail. */
enum MHD_Result dt_api_workflow(dt_request *r, const dt_upload_ref *u, const char *sub);
enum MHD_Result dt_api_signature_detail(dt_request *r);
/* /api/symbols (api_symbols.c): _begin on the first call of a POST (checks
 * the principal and limits, starts spooling); _feed for each body chunk
 * (DT_OK, or failed: the error goes out when the body ends); dt_api_symbols
 * when the body is complete, and for GET. */
enum MHD_Result dt_api_symbols_begin(dt_request *r);
dt_status dt_symbol_upload_feed(dt_symbol_upload *u, const char *data, size_t len);
void dt_symbol_upload_free(dt_symbol_upload *u);
enum MHD_Result dt_api_symbols(dt_request *r);

/* Connections open now and closed by each deadline (for /metrics). */
typedef struct {
    uint64_t open, closed_header, closed_body, closed_slow;
} dt_conn_stats;
void dt_http_conn_stats(dt_server *srv, dt_conn_stats *out);

/* Starts the daemon on cfg.listen_* with the connection deadlines and
 * per-client limits of cfg; the bound port goes to *port. */
dt_status dt_http_start(dt_server *srv, unsigned *port, dt_error *err);
/* Stops accepting new connections (drain). */
void dt_http_quiesce(dt_server *srv);
void dt_http_stop(dt_server *srv);

#endif
