/*
 * upload.h — receiving one dump upload request: multipart parts or a raw
 * body, optionally gzip-encoded, streamed to spool files while hashed and
 * sniffed (the streaming itself is body_sink.h's).
 *
 * Nothing is held whole in memory: each chunk the HTTP layer receives is
 * (inflated and) parsed and written out before the next arrives.  Limits are
 * checked as bytes arrive; on any error every temp file is removed at once
 * and the rest of the body is discarded.
 */
#ifndef DT_SERVER_UPLOAD_H
#define DT_SERVER_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "body_sink.h"
#include "store.h"

struct MHD_Connection;

typedef struct {
    const char *data_dir;
    uint64_t max_part_size;
    uint64_t max_request_size;
    uint64_t min_free_space;   /* kept free on the data disk, checked as bytes are written; 0: not checked */
    unsigned max_ratio;        /* Content-Encoding: gzip expansion (decoded : encoded); 0: none */
} dt_upload_limits;

typedef struct dt_upload dt_upload;

/* Starts receiving.  connection may be NULL for a raw body (tests).
 * content_type / content_encoding / role are the request's (may be NULL).
 * Returns NULL on a refusal known from the headers alone, written to *r. */
dt_upload *dt_upload_begin(struct MHD_Connection *connection, const dt_upload_limits *limits,
                           const char *content_type, const char *content_encoding, const char *role, dt_refusal *r);
/* Feeds body bytes as they arrive.  DT_OK, or the upload failed (see
 * dt_upload_refusal; further feeds are ignored). */
dt_status dt_upload_feed(dt_upload *u, const char *data, size_t len);
/* The body is complete: checks the parts (kinds, the minimum dump
 * structure), seals the spools (hash + fsync), then takes the blob lock and
 * places them as blobs, and fills out (files and text fields, which point
 * into u: keep u alive while out is used).  DT_OK, and *blob_lock holds the
 * lock (blob.h): release it with dt_blob_unlock once the rows naming the
 * blobs are committed, so no concurrent delete can unlink a blob this
 * upload shares.  Otherwise failed (see dt_upload_refusal), no lock held. */
dt_status dt_upload_finish(dt_upload *u, dt_upload_new *out, int *blob_lock);
/* Why the upload failed: HTTP status, API error code, message. */
const dt_refusal *dt_upload_refusal(const dt_upload *u);
/* Decoded bytes received so far. */
uint64_t dt_upload_bytes(const dt_upload *u);
/* Frees u; removes temp files of parts not committed. */
void dt_upload_free(dt_upload *u);

#endif
