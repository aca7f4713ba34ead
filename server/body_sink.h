/*
 * body_sink.h — the one streaming sink for request bodies that carry files:
 * dump uploads (upload.c) and symbol uploads (api_symbols.c).
 *
 * Body bytes → (zlib inflate, for Content-Encoding: gzip) → (libmicrohttpd's
 * multipart post processor, for multipart/form-data) → one spool per file
 * part (blob.h), or the caller's text fields.  Limits are checked as bytes
 * arrive, on the decoded bytes: the part and request sizes, the
 * Content-Encoding expansion ratio, and the data disk's free space (every
 * spool write).  On the first refusal every spool not yet handed over is
 * removed at once and the rest of the body is discarded.
 *
 * dt_refusal is how the server's HTTP-facing code carries a failure: the
 * HTTP status and API error code beside the analyzer's dt_error.
 */
#ifndef DT_SERVER_BODY_SINK_H
#define DT_SERVER_BODY_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/error.h"
#include "blob.h"

struct MHD_Connection;

/* A failure as HTTP shows it. */
typedef struct {
    unsigned http;        /* 4xx/5xx; 0 while nothing was refused */
    const char *code;     /* API error code (a static string: "too_large", …) */
    dt_error err;         /* status class and the message, safe to show */
} dt_refusal;

/* Sets r (first refusal wins) and returns its dt_status. */
dt_status dt_refuse(dt_refusal *r, unsigned http, const char *code, dt_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
/* The refusal for a dt_error from storage: 507 when the disk is full
 * (DT_ERR_NOMEM from a spool), else 500. */
dt_status dt_refuse_storage(dt_refusal *r, const dt_error *err);

#define DT_SINK_MAX_PARTS 8

typedef struct {
    dt_spool spool;
    char key[64];          /* the form field's name ("" for a raw body) */
    char name[256];        /* client file name: last component, printable ASCII */
    bool taken;            /* handed over (committed or moved): not removed by the sink */
} dt_sink_part;

typedef struct {
    const char *data_dir;
    uint64_t max_part_size;    /* decoded bytes of one file */
    uint64_t max_request_size; /* decoded bytes of the whole body */
    uint64_t min_free;         /* free space kept on the data disk, checked as written */
    unsigned max_ratio;        /* Content-Encoding expansion, decoded : encoded (1 MiB floor); 0: none */
    unsigned max_parts;        /* file parts (<= DT_SINK_MAX_PARTS) */
    const char *too_many_parts;/* the message when there are more */
    bool gzip;                 /* the body is Content-Encoding: gzip */
} dt_sink_config;

typedef struct {
    /* Is this multipart field a file (spooled) or a text field?  Called at
     * the start of every field. */
    bool (*is_file)(void *ctx, const char *key, const char *filename);
    /* Bytes of a text field (first: its first bytes).  Return a refusal
     * status (dt_sink_fail) to stop. */
    dt_status (*field)(void *ctx, const char *key, const char *data, size_t len, bool first);
    /* After bytes were written to a file part, and when it ends (at_end):
     * the place to sniff it.  May be NULL. */
    dt_status (*file_bytes)(void *ctx, dt_sink_part *p, bool at_end);
    void *ctx;
} dt_sink_hooks;

typedef struct dt_body_sink dt_body_sink;

/* connection may be NULL for a raw body (tests, fuzzing); multipart says
 * whether to parse the body as multipart/form-data (needs connection).
 * raw_name names the part of a raw body.  NULL with r set on failure. */
dt_body_sink *dt_sink_new(struct MHD_Connection *connection, bool multipart, const dt_sink_config *cfg,
                          const dt_sink_hooks *hooks, const char *raw_name, dt_refusal *r);
/* Feeds body bytes.  DT_OK, or the refusal's status (see dt_sink_refusal;
 * later feeds are ignored). */
dt_status dt_sink_feed(dt_body_sink *s, const char *data, size_t len);
/* The body is complete: flushes the multipart parser, ends the last part. */
dt_status dt_sink_end(dt_body_sink *s);
/* Refuses from a hook or the caller: removes every spool not taken. */
dt_status dt_sink_fail(dt_body_sink *s, unsigned http, const char *code, dt_status st, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
const dt_refusal *dt_sink_refusal(const dt_body_sink *s);
bool dt_sink_failed(const dt_body_sink *s);
/* The file parts received, in order (spools closed by abort are fd -1). */
dt_sink_part *dt_sink_parts(dt_body_sink *s, int *n);
/* Decoded bytes so far; encoded (wire) bytes so far. */
uint64_t dt_sink_bytes(const dt_body_sink *s);
uint64_t dt_sink_wire_bytes(const dt_body_sink *s);
/* Frees s; removes every spool not taken. */
void dt_sink_free(dt_body_sink *s);

#endif
