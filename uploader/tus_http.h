/*
 * tus_http.h — the uploader's side of the tus 1.0 protocol over libcurl:
 * create a resource, ask its offset, send one chunk (raw or as one gzip
 * member), read the upload's status.  The server side is server/tus.c
 * (docs/api.md "Resumable uploads").
 */
#ifndef DT_UPLOADER_TUS_HTTP_H
#define DT_UPLOADER_TUS_HTTP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *server;     /* http://host:port, no trailing slash */
    const char *token;      /* may be NULL */
    long limit_rate;        /* bytes/s sent, 0: none (tests) */
    /* Called while a chunk is sent: wire bytes of this chunk so far. */
    void (*progress)(void *ctx, uint64_t sent, uint64_t total);
    void *progress_ctx;
} dt_tus_client;

/* The outcome of one request.  status 0: no HTTP answer (network). */
typedef struct {
    long status;
    int64_t offset;                 /* Upload-Offset, -1 if absent */
    char location[256];
    char upload_id[40];
    char view_url[160];
    char status_url[160];
    char error[512];                /* the server's error message, or curl's */
    char *body;                     /* GET bodies (malloc'd), else NULL */
} dt_tus_reply;

void dt_tus_reply_free(dt_tus_reply *r);
/* POST /api/uploads with Upload-Length and metadata (already encoded). */
void dt_tus_create(const dt_tus_client *c, uint64_t length, const char *metadata, dt_tus_reply *out);
/* HEAD location. */
void dt_tus_head(const dt_tus_client *c, const char *location, dt_tus_reply *out);
/* PATCH location at offset with body (gzip: Content-Encoding: gzip). */
void dt_tus_patch(const dt_tus_client *c, const char *location, uint64_t offset, const void *body, size_t len,
                  int gzip, dt_tus_reply *out);
/* GET path (server-relative, e.g. a status_url) into out->body. */
void dt_tus_get(const dt_tus_client *c, const char *path, dt_tus_reply *out);

#endif
