/*
 * upload.c — see upload.h.
 *
 * The pipeline for one request is: body bytes → (zlib inflate, when
 * Content-Encoding: gzip) → (libmicrohttpd's multipart post processor, when
 * multipart/form-data) → one spool per file part.  Parts named user/kernel,
 * the Crashpad/Breakpad name upload_file_minidump, file or archive are files;
 * note, case_id (or ticket) and customer are short text fields; other fields
 * are ignored.  A file's role comes from its content (MDMP → user, PAGEDU64 /
 * PAGEDUMP → kernel, an archive → unpacked later by the worker), so a client
 * that swaps the two parts is still understood.
 */
#include "upload.h"

#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "blob.h"

#define MAX_PARTS 4
#define MAX_FIELD 2048

typedef struct {
    dt_spool spool;
    char name[256];
    int committed;
} part;

struct dt_upload {
    dt_upload_limits limits;
    struct MHD_PostProcessor *pp;
    int gzip;
    z_stream z;
    int z_ready;
    uint64_t total;
    part parts[MAX_PARTS];
    int nparts;
    part *current;         /* file part being received */
    char current_key[64];
    int in_field;          /* receiving a text field */
    char *field_dst;       /* where that field goes */
    size_t field_len;
    char note[MAX_FIELD + 1], case_id[MAX_FIELD + 1], customer[MAX_FIELD + 1];
    int failed;
    int status;
    const char *code;
    char message[300];
};

static int fail(dt_upload *u, int status, const char *code, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int fail(dt_upload *u, int status, const char *code, const char *fmt, ...)
{
    if (!u->failed) {
        u->failed = 1;
        u->status = status;
        u->code = code;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(u->message, sizeof u->message, fmt, ap);
        va_end(ap);
    }
    /* Remove what was received at once: a refused upload leaves nothing. */
    for (int i = 0; i < u->nparts; i++)
        if (!u->parts[i].committed)
            dt_spool_abort(&u->parts[i].spool);
    u->current = NULL;
    return -1;
}

static int is_file_key(const char *key)
{
    static const char *names[] = { "user", "kernel", "upload_file_minidump", "file", "archive", "dump" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return 1;
    return 0;
}

static void sanitize_name(const char *in, char *out, size_t len)
{
    /* Keep only the last path component and printable ASCII without quotes:
     * the name is shown to people and used in Content-Disposition. */
    const char *base = in;
    for (const char *p = in; *p; p++)
        if (*p == '/' || *p == '\\')
            base = p + 1;
    size_t j = 0;
    for (const char *p = base; *p && j + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        out[j++] = (c >= 0x20 && c < 0x7f && c != '"' && c != ';') ? (char)c : '_';
    }
    out[j] = 0;
}

static int check_kind(dt_upload *u, part *p, int at_end)
{
    if (!at_end && p->spool.head_len < DT_SPOOL_HEAD)
        return 0;
    dt_file_kind k = dt_spool_kind(&p->spool);
    if (k == DT_KIND_UNKNOWN) {
        if (p->spool.size == 0)
            return fail(u, 400, "bad_request", "an uploaded file is empty");
        return fail(u, 415, "unsupported_media_type",
                    "%s%s%sis not a minidump (MDMP), a kernel dump (PAGEDU64/PAGEDUMP) or an archive"
                    " (zip, 7z, tar, gzip, xz, zstd, bzip2)",
                    p->name[0] ? "'" : "", p->name, p->name[0] ? "' " : "the body ");
    }
    return 0;
}

static int start_part(dt_upload *u, const char *filename)
{
    if (u->nparts >= MAX_PARTS)
        return fail(u, 400, "bad_request", "too many files in one upload (at most a user dump and a kernel dump)");
    part *p = &u->parts[u->nparts];
    memset(p, 0, sizeof *p);
    dt_error err = { 0 };
    if (dt_spool_open(&p->spool, u->limits.data_dir, &err) != DT_OK)
        return fail(u, 507, "insufficient_storage", "%s", err.message);
    u->nparts++;
    if (filename)
        sanitize_name(filename, p->name, sizeof p->name);
    u->current = p;
    return 0;
}

static int end_current(dt_upload *u)
{
    part *p = u->current;
    u->current = NULL;
    if (!p)
        return 0;
    return check_kind(u, p, 1);
}

static int write_part(dt_upload *u, const char *data, size_t size)
{
    part *p = u->current;
    if (p->spool.size + size > u->limits.max_part_size)
        return fail(u, 413, "too_large", "a file is larger than the limit of %llu bytes",
                    (unsigned long long)u->limits.max_part_size);
    dt_error err = { 0 };
    if (dt_spool_write(&p->spool, data, size, &err) != DT_OK)
        return fail(u, err.code == DT_ERR_NOMEM ? 507 : 500,
                    err.code == DT_ERR_NOMEM ? "insufficient_storage" : "internal", "%s", err.message);
    return check_kind(u, p, 0);
}

static enum MHD_Result on_post_data(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                    const char *content_type, const char *transfer_encoding, const char *data,
                                    uint64_t off, size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    dt_upload *u = cls;
    if (u->failed)
        return MHD_NO;
    if (!key)
        key = "";
    int is_new = off == 0 && (strncmp(key, u->current_key, sizeof u->current_key - 1) != 0
                              || (u->current && u->current->spool.size > 0) || (u->in_field && u->field_len > 0));
    if (is_new) {
        if (end_current(u) != 0)
            return MHD_NO;
        u->in_field = 0;
        snprintf(u->current_key, sizeof u->current_key, "%s", key);
        if (is_file_key(key) || (filename && *filename)) {
            if (start_part(u, filename) != 0)
                return MHD_NO;
        } else {
            u->in_field = 1;
            u->field_len = 0;
            u->field_dst = strcmp(key, "note") == 0 ? u->note
                         : (strcmp(key, "case_id") == 0 || strcmp(key, "ticket") == 0 || strcmp(key, "case") == 0)
                               ? u->case_id
                         : strcmp(key, "customer") == 0 ? u->customer : NULL;
            if (u->field_dst)
                u->field_dst[0] = 0;
        }
    }
    if (u->current) {
        if (size && write_part(u, data, size) != 0)
            return MHD_NO;
    } else if (u->in_field && u->field_dst) {
        if (u->field_len + size > MAX_FIELD) {
            fail(u, 400, "bad_request", "field '%s' is longer than %d bytes", u->current_key, MAX_FIELD);
            return MHD_NO;
        }
        memcpy(u->field_dst + u->field_len, data, size);
        u->field_len += size;
        u->field_dst[u->field_len] = 0;
    } else if (u->in_field) {
        u->field_len += size; /* an ignored field: only its presence matters */
    }
    return MHD_YES;
}

dt_upload *dt_upload_begin(struct MHD_Connection *connection, const dt_upload_limits *limits,
                           const char *content_type, const char *content_encoding, const char *role,
                           int *status, const char **code, char *message, size_t message_len)
{
    int multipart = content_type && strncasecmp(content_type, "multipart/form-data", 19) == 0;
    /* Anything but multipart is a raw body, whatever its Content-Type says:
     * `curl --data-binary @x.dmp` labels it x-www-form-urlencoded. */
    int gzip = 0;
    if (content_encoding && *content_encoding && strcasecmp(content_encoding, "identity") != 0) {
        if (strcasecmp(content_encoding, "gzip") != 0 && strcasecmp(content_encoding, "x-gzip") != 0) {
            *status = 415;
            *code = "unsupported_media_type";
            snprintf(message, message_len, "Content-Encoding %.40s is not supported (only gzip)", content_encoding);
            return NULL;
        }
        gzip = 1;
    }
    if (role && *role && strcmp(role, "user") != 0 && strcmp(role, "kernel") != 0) {
        *status = 400;
        *code = "bad_request";
        snprintf(message, message_len, "role must be user or kernel");
        return NULL;
    }
    if (multipart && !connection) {
        *status = 500;
        *code = "internal";
        snprintf(message, message_len, "multipart needs a connection");
        return NULL;
    }
    dt_upload *u = calloc(1, sizeof *u);
    if (!u) {
        *status = 503;
        *code = "busy";
        snprintf(message, message_len, "out of memory");
        return NULL;
    }
    u->limits = *limits;
    for (int i = 0; i < MAX_PARTS; i++)
        dt_spool_init(&u->parts[i].spool);
    if (gzip) {
        if (inflateInit2(&u->z, 16 + MAX_WBITS) != Z_OK) {
            free(u);
            *status = 503;
            *code = "busy";
            snprintf(message, message_len, "cannot start gzip decoding");
            return NULL;
        }
        u->z_ready = 1;
        u->gzip = 1;
    }
    if (multipart) {
        u->pp = MHD_create_post_processor(connection, 64 * 1024, on_post_data, u);
        if (!u->pp) {
            dt_upload_free(u);
            *status = 400;
            *code = "bad_request";
            snprintf(message, message_len, "malformed multipart/form-data header (boundary missing?)");
            return NULL;
        }
    }
    return u;
}

/* Decoded bytes: counted against the request limit, then parsed. */
static int consume(dt_upload *u, const char *data, size_t len)
{
    if (len == 0)
        return 0;
    if (u->total + len > u->limits.max_request_size)
        return fail(u, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                    (unsigned long long)u->limits.max_request_size);
    u->total += len;
    if (u->pp) {
        if (MHD_post_process(u->pp, data, len) != MHD_YES)
            return u->failed ? -1 : fail(u, 400, "bad_request", "malformed multipart/form-data body");
        return u->failed ? -1 : 0;
    }
    if (!u->current && u->nparts == 0 && start_part(u, NULL) != 0)
        return -1;
    if (!u->current)
        return -1;
    return write_part(u, data, len);
}

int dt_upload_feed(dt_upload *u, const char *data, size_t len)
{
    if (u->failed)
        return -1;
    if (!u->gzip)
        return consume(u, data, len);
    unsigned char out[64 * 1024];
    u->z.next_in = (unsigned char *)(uintptr_t)data;
    u->z.avail_in = (uInt)len;
    while (u->z.avail_in > 0) {
        u->z.next_out = out;
        u->z.avail_out = sizeof out;
        int rc = inflate(&u->z, Z_NO_FLUSH);
        if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
            return fail(u, 400, "bad_request", "the gzip-encoded body is corrupt");
        if (consume(u, (const char *)out, sizeof out - u->z.avail_out) != 0)
            return -1;
        if (rc == Z_STREAM_END) {
            /* Concatenated gzip members are one stream to HTTP clients. */
            if (u->z.avail_in == 0)
                break;
            if (inflateReset(&u->z) != Z_OK)
                return fail(u, 400, "bad_request", "the gzip-encoded body is corrupt");
        }
        if (rc == Z_BUF_ERROR && u->z.avail_out != 0)
            break;
    }
    return 0;
}

int dt_upload_finish(dt_upload *u, dt_upload_new *out, int *blob_lock)
{
    if (u->failed)
        return -1;
    if (u->pp) {
        /* Let the post processor flush its last part. */
        if (MHD_destroy_post_processor(u->pp) != MHD_YES && !u->failed) {
            u->pp = NULL;
            return fail(u, 400, "bad_request", "the multipart/form-data body ends early");
        }
        u->pp = NULL;
        if (u->failed)
            return -1;
    }
    if (u->gzip && u->total == 0)
        return fail(u, 400, "bad_request", "the gzip-encoded body is empty or corrupt");
    if (end_current(u) != 0)
        return -1;
    int files = 0;
    for (int i = 0; i < u->nparts; i++)
        if (u->parts[i].spool.fd >= 0)
            files++;
    if (files == 0)
        return fail(u, 400, "bad_request", "no file in the upload (send parts named user and/or kernel,"
                                           " one archive, or a raw body)");
    memset(out->files, 0, sizeof out->files);
    out->nfiles = 0;
    int have_user = 0, have_kernel = 0, have_archive = 0;
    for (int i = 0; i < u->nparts; i++) {
        part *p = &u->parts[i];
        if (p->spool.fd < 0)
            continue;
        dt_file_kind k = dt_spool_kind(&p->spool);
        dt_file_kind inner = dt_spool_gzip_inner_kind(&p->spool);
        if (inner != DT_KIND_UNKNOWN)
            k = inner; /* a gzip-compressed dump is that dump */
        const char *role = k == DT_KIND_MINIDUMP ? "user"
                         : (k == DT_KIND_KERNEL64 || k == DT_KIND_KERNEL32) ? "kernel" : "archive";
        int *seen = k == DT_KIND_MINIDUMP ? &have_user : dt_file_kind_is_dump(k) ? &have_kernel : &have_archive;
        if (*seen)
            return fail(u, 400, "bad_request", "two %s files in one upload", role);
        *seen = 1;
        dt_file_rec *f = &out->files[out->nfiles++];
        snprintf(f->role, sizeof f->role, "%s", role);
        snprintf(f->kind, sizeof f->kind, "%s%s", dt_file_kind_name(k), inner != DT_KIND_UNKNOWN ? "+gzip" : "");
        snprintf(f->name, sizeof f->name, "%s", p->name);
        f->size = p->spool.size;
    }
    if (have_archive && (have_user || have_kernel))
        return fail(u, 400, "bad_request", "send either dump files or one archive, not both");
    int j = 0;
    for (int i = 0; i < u->nparts; i++) {
        part *p = &u->parts[i];
        if (p->spool.fd < 0)
            continue;
        dt_error err = { 0 };
        if (dt_spool_seal(&p->spool, out->files[j].sha256, &err) != DT_OK)
            return fail(u, 507, "insufficient_storage", "%s", err.message);
        j++;
    }
    int lock = dt_blob_lock(u->limits.data_dir);
    if (lock < 0)
        return fail(u, 500, "internal", "cannot take the blob lock");
    j = 0;
    for (int i = 0; i < u->nparts; i++) {
        part *p = &u->parts[i];
        if (p->spool.fd < 0)
            continue;
        dt_error err = { 0 };
        if (dt_spool_commit(&p->spool, u->limits.data_dir, out->files[j].sha256, &err) != DT_OK) {
            dt_blob_unlock(lock);
            return fail(u, 507, "insufficient_storage", "%s", err.message);
        }
        p->committed = 1;
        j++;
    }
    *blob_lock = lock;
    out->note = u->note[0] ? u->note : NULL;
    out->case_id = u->case_id[0] ? u->case_id : NULL;
    out->customer = u->customer[0] ? u->customer : NULL;
    return 0;
}

void dt_upload_error(const dt_upload *u, int *status, const char **code, const char **message)
{
    *status = u->failed ? u->status : 500;
    *code = u->failed ? u->code : "internal";
    *message = u->failed ? u->message : "unknown upload error";
}

uint64_t dt_upload_bytes(const dt_upload *u)
{
    return u->total;
}

void dt_upload_free(dt_upload *u)
{
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    if (u->z_ready)
        inflateEnd(&u->z);
    for (int i = 0; i < u->nparts; i++)
        if (!u->parts[i].committed)
            dt_spool_abort(&u->parts[i].spool);
    free(u);
}
