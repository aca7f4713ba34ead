/*
 * http.h — the libmicrohttpd daemon and what every handler shares: the
 * per-request context, who is asking, and replies that always carry the
 * security headers.  Handlers live in api_*.c and static_files.c.
 */
#ifndef DT_SERVER_HTTP_H
#define DT_SERVER_HTTP_H

#include <cjson/cJSON.h>
#include <microhttpd.h>
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
enum MHD_Result dt_api_tokens(dt_request *r);
enum MHD_Result dt_api_healthz(dt_request *r);
enum MHD_Result dt_api_metrics(dt_request *r);
enum MHD_Result dt_static_serve(dt_request *r);
/* /api/symbols (api_symbols.c): _begin on the first call of a POST (checks
 * the principal and limits, starts spooling); _feed for each body chunk
 * (0 ok, -1 failed: the error goes out when the body ends); dt_api_symbols
 * when the body is complete, and for GET. */
enum MHD_Result dt_api_symbols_begin(dt_request *r);
int dt_symbol_upload_feed(dt_symbol_upload *u, const char *data, size_t len);
void dt_symbol_upload_free(dt_symbol_upload *u);
enum MHD_Result dt_api_symbols(dt_request *r);

/* Starts the daemon on cfg.listen_*; the bound port goes to *port. */
int dt_http_start(dt_server *srv, unsigned *port, char *err, size_t errlen);
/* Stops accepting new connections (drain). */
void dt_http_quiesce(dt_server *srv);
void dt_http_stop(dt_server *srv);

#endif
