/*
 * body_sink.c — see body_sink.h.
 *
 * Memory per request: the 64 KiB post-processor buffer, a 64 KiB inflate
 * buffer on the stack of each feed, and each part's 512-byte sniff head.
 */
#include "body_sink.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive_walk.h"

struct dt_body_sink {
    dt_sink_config cfg;
    dt_sink_hooks hooks;
    struct MHD_PostProcessor *pp;
    z_stream z;
    bool z_ready;
    uint64_t total, wire;
    dt_sink_part parts[DT_SINK_MAX_PARTS];
    int nparts;
    dt_sink_part *current;      /* file part being received */
    char current_key[64];
    bool in_field;              /* receiving a text field */
    size_t field_len;
    char raw_name[256];
    dt_refusal refusal;
};

static dt_status vrefuse(dt_refusal *r, unsigned http, const char *code, dt_status st, const char *fmt, va_list ap)
{
    if (!r->http) {
        r->http = http;
        r->code = code;
        r->err.code = st;
        vsnprintf(r->err.message, sizeof r->err.message, fmt, ap);
    }
    return r->err.code ? r->err.code : DT_ERR_IO;
}

dt_status dt_refuse(dt_refusal *r, unsigned http, const char *code, dt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dt_status rc = vrefuse(r, http, code, st, fmt, ap);
    va_end(ap);
    return rc;
}

dt_status dt_refuse_storage(dt_refusal *r, const dt_error *err)
{
    bool full = err->code == DT_ERR_NOMEM;
    return dt_refuse(r, full ? 507 : 500, full ? "insufficient_storage" : "internal", err->code ? err->code : DT_ERR_IO,
                     "%s", err->message[0] ? err->message : "storage failed");
}

static void drop_spools(dt_body_sink *s)
{
    /* A refused upload leaves nothing: its files go at once, not when the
     * body ends (which may be gigabytes later). */
    for (int i = 0; i < s->nparts; i++)
        if (!s->parts[i].taken)
            dt_spool_abort(&s->parts[i].spool);
    s->current = NULL;
}

dt_status dt_sink_fail(dt_body_sink *s, unsigned http, const char *code, dt_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    dt_status rc = vrefuse(&s->refusal, http, code, st, fmt, ap);
    va_end(ap);
    drop_spools(s);
    return rc;
}

static dt_status fail_storage(dt_body_sink *s, const dt_error *err)
{
    dt_refuse_storage(&s->refusal, err);
    drop_spools(s);
    return s->refusal.err.code;
}

const dt_refusal *dt_sink_refusal(const dt_body_sink *s)
{
    return &s->refusal;
}

bool dt_sink_failed(const dt_body_sink *s)
{
    return s->refusal.http != 0;
}

dt_sink_part *dt_sink_parts(dt_body_sink *s, int *n)
{
    *n = s->nparts;
    return s->parts;
}

uint64_t dt_sink_bytes(const dt_body_sink *s)
{
    return s->total;
}

uint64_t dt_sink_wire_bytes(const dt_body_sink *s)
{
    return s->wire;
}

static dt_status start_part(dt_body_sink *s, const char *key, const char *filename)
{
    if (s->nparts >= (int)s->cfg.max_parts)
        return dt_sink_fail(s, 400, "bad_request", DT_ERR_ARG, "%s", s->cfg.too_many_parts);
    dt_sink_part *p = &s->parts[s->nparts];
    memset(p, 0, sizeof *p);
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s/tmp", s->cfg.data_dir);
    dt_error err = { 0 };
    if (dt_spool_open_in(&p->spool, tmp, s->cfg.min_free, &err) != DT_OK) {
        err.code = DT_ERR_NOMEM; /* cannot create a file in tmp: storage */
        return fail_storage(s, &err);
    }
    s->nparts++;
    snprintf(p->key, sizeof p->key, "%s", key ? key : "");
    dt_walk_base_name(filename ? filename : "", p->name, sizeof p->name);
    s->current = p;
    return DT_OK;
}

static dt_status end_current(dt_body_sink *s)
{
    dt_sink_part *p = s->current;
    s->current = NULL;
    if (!p || !s->hooks.file_bytes)
        return DT_OK;
    return s->hooks.file_bytes(s->hooks.ctx, p, true);
}

static dt_status write_part(dt_body_sink *s, const char *data, size_t size)
{
    dt_sink_part *p = s->current;
    if (p->spool.size + size > s->cfg.max_part_size)
        return dt_sink_fail(s, 413, "too_large", DT_ERR_CORRUPT, "a file is larger than the limit of %llu bytes",
                            (unsigned long long)s->cfg.max_part_size);
    dt_error err = { 0 };
    if (dt_spool_write(&p->spool, data, size, &err) != DT_OK)
        return fail_storage(s, &err);
    return s->hooks.file_bytes ? s->hooks.file_bytes(s->hooks.ctx, p, false) : DT_OK;
}

static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                    const char *content_type, const char *transfer_encoding, const char *data,
                                    uint64_t off, size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    dt_body_sink *s = cls;
    if (dt_sink_failed(s))
        return MHD_NO;
    if (!key)
        key = "";
    /* libmicrohttpd may announce a field with an empty first call: a
     * field is new at offset 0 unless it is that same, still empty one. */
    bool is_new = off == 0 && (strncmp(key, s->current_key, sizeof s->current_key - 1) != 0
                               || (s->current && s->current->spool.size > 0) || (s->in_field && s->field_len > 0));
    if (is_new) {
        if (end_current(s) != DT_OK)
            return MHD_NO;
        s->in_field = false;
        snprintf(s->current_key, sizeof s->current_key, "%s", key);
        if (s->hooks.is_file(s->hooks.ctx, key, filename)) {
            if (start_part(s, key, filename) != DT_OK)
                return MHD_NO;
        } else {
            s->in_field = true;
            s->field_len = 0;
        }
    }
    if (s->current) {
        if (size && write_part(s, data, size) != DT_OK)
            return MHD_NO;
    } else if (s->in_field) {
        bool first = s->field_len == 0;
        s->field_len += size;
        if (s->hooks.field && (size || first) && s->hooks.field(s->hooks.ctx, key, data, size, first) != DT_OK)
            return MHD_NO;
    }
    return dt_sink_failed(s) ? MHD_NO : MHD_YES;
}

dt_body_sink *dt_sink_new(struct MHD_Connection *connection, bool multipart, const dt_sink_config *cfg,
                          const dt_sink_hooks *hooks, const char *raw_name, dt_refusal *r)
{
    if (multipart && !connection) {
        dt_refuse(r, 500, "internal", DT_ERR_ARG, "multipart needs a connection");
        return NULL;
    }
    dt_body_sink *s = calloc(1, sizeof *s);
    if (!s) {
        dt_refuse(r, 503, "busy", DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!s->cfg.max_parts || s->cfg.max_parts > DT_SINK_MAX_PARTS)
        s->cfg.max_parts = DT_SINK_MAX_PARTS;
    if (!s->cfg.too_many_parts)
        s->cfg.too_many_parts = "too many files in one request";
    s->hooks = *hooks;
    for (int i = 0; i < DT_SINK_MAX_PARTS; i++)
        dt_spool_init(&s->parts[i].spool);
    snprintf(s->raw_name, sizeof s->raw_name, "%s", raw_name ? raw_name : "");
    if (cfg->gzip) {
        if (inflateInit2(&s->z, 16 + MAX_WBITS) != Z_OK) {
            free(s);
            dt_refuse(r, 503, "busy", DT_ERR_NOMEM, "cannot start gzip decoding");
            return NULL;
        }
        s->z_ready = true;
    }
    if (multipart) {
        s->pp = MHD_create_post_processor(connection, 64 * 1024, on_post_data, s);
        if (!s->pp) {
            dt_sink_free(s);
            dt_refuse(r, 400, "bad_request", DT_ERR_ARG, "malformed multipart/form-data header (boundary missing?)");
            return NULL;
        }
    }
    return s;
}

/* Decoded bytes: counted against the request limit, then parsed. */
static dt_status consume(dt_body_sink *s, const char *data, size_t len)
{
    if (len == 0)
        return DT_OK;
    if (s->total + len > s->cfg.max_request_size)
        return dt_sink_fail(s, 413, "too_large", DT_ERR_CORRUPT, "the upload is larger than the limit of %llu bytes",
                            (unsigned long long)s->cfg.max_request_size);
    s->total += len;
    if (s->z_ready && s->cfg.max_ratio) {
        uint64_t cap = s->wire * s->cfg.max_ratio;
        if (cap < DT_WALK_RATIO_FLOOR)
            cap = DT_WALK_RATIO_FLOOR;
        if (s->total > cap)
            return dt_sink_fail(s, 413, "too_large", DT_ERR_CORRUPT,
                                "the gzip-encoded body expands more than the limit of %u:1", s->cfg.max_ratio);
    }
    if (s->pp) {
        if (MHD_post_process(s->pp, data, len) != MHD_YES && !dt_sink_failed(s))
            return dt_sink_fail(s, 400, "bad_request", DT_ERR_FORMAT, "malformed multipart/form-data body");
        return dt_sink_failed(s) ? s->refusal.err.code : DT_OK;
    }
    if (!s->current && s->nparts == 0 && start_part(s, "", s->raw_name) != DT_OK)
        return s->refusal.err.code;
    if (!s->current)
        return dt_sink_fail(s, 500, "internal", DT_ERR_ARG, "no part to write to");
    return write_part(s, data, len);
}

dt_status dt_sink_feed(dt_body_sink *s, const char *data, size_t len)
{
    if (dt_sink_failed(s))
        return s->refusal.err.code;
    s->wire += len;
    if (!s->z_ready)
        return consume(s, data, len);
    unsigned char out[64 * 1024];
    s->z.next_in = (unsigned char *)(uintptr_t)data;
    s->z.avail_in = (uInt)len;
    while (s->z.avail_in > 0) {
        s->z.next_out = out;
        s->z.avail_out = sizeof out;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return dt_sink_fail(s, 400, "bad_request", DT_ERR_FORMAT, "the gzip-encoded body is corrupt");
        if (consume(s, (const char *)out, sizeof out - s->z.avail_out) != DT_OK)
            return s->refusal.err.code;
        if (rc == Z_STREAM_END) {
            /* Concatenated gzip members are one stream to HTTP clients. */
            if (s->z.avail_in == 0)
                break;
            if (inflateReset(&s->z) != Z_OK)
                return dt_sink_fail(s, 400, "bad_request", DT_ERR_FORMAT, "the gzip-encoded body is corrupt");
        }
        if (rc == Z_BUF_ERROR && s->z.avail_out != 0)
            break;
    }
    return DT_OK;
}

dt_status dt_sink_end(dt_body_sink *s)
{
    if (dt_sink_failed(s))
        return s->refusal.err.code;
    if (s->pp) {
        /* Let the post processor flush its last part. */
        enum MHD_Result ok = MHD_destroy_post_processor(s->pp);
        s->pp = NULL;
        if (dt_sink_failed(s))
            return s->refusal.err.code;
        if (ok != MHD_YES)
            return dt_sink_fail(s, 400, "bad_request", DT_ERR_TRUNCATED, "the multipart/form-data body ends early");
    }
    if (s->z_ready && s->total == 0)
        return dt_sink_fail(s, 400, "bad_request", DT_ERR_FORMAT, "the gzip-encoded body is empty or corrupt");
    return end_current(s);
}

void dt_sink_free(dt_body_sink *s)
{
    if (!s)
        return;
    if (s->pp)
        MHD_destroy_post_processor(s->pp);
    if (s->z_ready)
        inflateEnd(&s->z);
    drop_spools(s);
    free(s);
}
