/*
 * upload.c — see upload.h.
 *
 * Parts named user/kernel, the Crashpad/Breakpad name upload_file_minidump,
 * file, archive or dump (or any part with a file name) are files; note,
 * case_id (or ticket, case) and customer are short text fields, stored as
 * valid UTF-8 (invalid sequences become U+FFFD, utf8.h); other fields are
 * ignored.  A file's role comes from its content (MDMP → user, PAGEDU64 /
 * PAGEDUMP → kernel, an archive → unpacked later by the worker), so a client
 * that swaps the two parts is still understood.  Several user dumps make a
 * series (docs/api.md): kernel dumps then pair by name, else in order, and
 * there may be no more kernel dumps than user dumps.  A dump must pass a minimum
 * structure check before the 202 (blob.h: dt_dump_check): a 4-byte "MDMP"
 * is not a dump.
 */
#include "upload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "archive_unpack.h"
#include "blob.h"
#include "base/utf8.h"

/* A series: up to DT_UNPACK_MAX_USERS user dumps, each maybe with its kernel dump. */
#define MAX_PARTS DT_MAX_UPLOAD_FILES
#define MAX_FIELD 2048

struct dt_upload {
    dt_upload_limits limits;
    dt_body_sink *sink;
    char *field_dst;       /* where the text field being received goes (NULL: ignored) */
    size_t field_len;
    char field_key[64];
    char note[MAX_FIELD + 1], case_id[MAX_FIELD + 1], customer[MAX_FIELD + 1];
};

static bool is_file_key(void *ctx, const char *key, const char *filename)
{
    (void)ctx;
    static const char *names[] = { "user", "kernel", "upload_file_minidump", "file", "archive", "dump" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i]) == 0)
            return true;
    return filename && *filename;
}

static dt_status on_field(void *ctx, const char *key, const char *data, size_t len, bool first)
{
    dt_upload *u = ctx;
    if (first) {
        u->field_len = 0;
        snprintf(u->field_key, sizeof u->field_key, "%s", key);
        u->field_dst = strcmp(key, "note") == 0 ? u->note
                     : (strcmp(key, "case_id") == 0 || strcmp(key, "ticket") == 0 || strcmp(key, "case") == 0)
                           ? u->case_id
                     : strcmp(key, "customer") == 0 ? u->customer : NULL;
        if (u->field_dst)
            u->field_dst[0] = 0;
    }
    if (!u->field_dst)
        return DT_OK; /* an ignored field: only its presence matters */
    if (u->field_len + len > MAX_FIELD)
        return dt_sink_fail(u->sink, 400, "bad_request", DT_ERR_ARG, "field '%s' is longer than %d bytes",
                            u->field_key, MAX_FIELD);
    memcpy(u->field_dst + u->field_len, data, len);
    u->field_len += len;
    u->field_dst[u->field_len] = 0;
    return DT_OK;
}

static dt_status check_kind(void *ctx, dt_sink_part *p, bool at_end)
{
    dt_upload *u = ctx;
    if (!at_end && p->spool.head_len < DT_SPOOL_HEAD)
        return DT_OK;
    dt_file_kind k = dt_spool_kind(&p->spool);
    if (k != DT_KIND_UNKNOWN)
        return DT_OK;
    if (p->spool.size == 0)
        return dt_sink_fail(u->sink, 400, "bad_request", DT_ERR_TRUNCATED, "an uploaded file is empty");
    return dt_sink_fail(u->sink, 415, "unsupported_media_type", DT_ERR_FORMAT,
                        "%s%s%sis not a minidump (MDMP), a kernel dump (PAGEDU64/PAGEDUMP) or an archive"
                        " (zip, 7z, tar, gzip, xz, zstd, bzip2)",
                        p->name[0] ? "'" : "", p->name, p->name[0] ? "' " : "the body ");
}

dt_upload *dt_upload_begin(struct MHD_Connection *connection, const dt_upload_limits *limits,
                           const char *content_type, const char *content_encoding, const char *role, dt_refusal *r)
{
    bool multipart = content_type && strncasecmp(content_type, "multipart/form-data", 19) == 0;
    /* Anything but multipart is a raw body, whatever its Content-Type says:
     * `curl --data-binary @x.dmp` labels it x-www-form-urlencoded. */
    bool gzip = false;
    if (content_encoding && *content_encoding && strcasecmp(content_encoding, "identity") != 0) {
        if (strcasecmp(content_encoding, "gzip") != 0 && strcasecmp(content_encoding, "x-gzip") != 0) {
            char shown[48];
            dt_utf8_sanitize(content_encoding, shown, sizeof shown);
            dt_refuse(r, 415, "unsupported_media_type", DT_ERR_UNSUPPORTED,
                      "Content-Encoding %.40s is not supported (only gzip)", shown);
            return NULL;
        }
        gzip = true;
    }
    if (role && *role && strcmp(role, "user") != 0 && strcmp(role, "kernel") != 0) {
        dt_refuse(r, 400, "bad_request", DT_ERR_ARG, "role must be user or kernel");
        return NULL;
    }
    dt_upload *u = calloc(1, sizeof *u);
    if (!u) {
        dt_refuse(r, 503, "busy", DT_ERR_NOMEM, "out of memory");
        return NULL;
    }
    u->limits = *limits;
    dt_sink_config cfg = {
        .data_dir = limits->data_dir,
        .max_part_size = limits->max_part_size,
        .max_request_size = limits->max_request_size,
        .min_free = limits->min_free_space,
        .max_ratio = limits->max_ratio,
        .max_parts = MAX_PARTS,
        .too_many_parts = "too many files in one upload (at most 8 user dumps, each with its kernel dump)",
        .gzip = gzip,
    };
    dt_sink_hooks hooks = { is_file_key, on_field, check_kind, u };
    u->sink = dt_sink_new(connection, multipart, &cfg, &hooks, NULL, r);
    if (!u->sink) {
        free(u);
        return NULL;
    }
    return u;
}

dt_status dt_upload_feed(dt_upload *u, const char *data, size_t len)
{
    return dt_sink_feed(u->sink, data, len);
}

static dt_status fail(dt_upload *u, unsigned http, const char *code, dt_status st, const char *msg)
{
    return dt_sink_fail(u->sink, http, code, st, "%s", msg);
}

dt_status dt_upload_finish(dt_upload *u, dt_upload_new *out, int *blob_lock)
{
    if (dt_sink_end(u->sink) != DT_OK)
        return dt_sink_refusal(u->sink)->err.code;
    int nparts = 0;
    dt_sink_part *parts = dt_sink_parts(u->sink, &nparts);
    int files = 0;
    for (int i = 0; i < nparts; i++)
        if (parts[i].spool.fd >= 0)
            files++;
    if (files == 0)
        return fail(u, 400, "bad_request", DT_ERR_ARG, "no file in the upload (send parts named user and/or kernel,"
                                                       " one archive, or a raw body)");
    memset(out->files, 0, sizeof out->files);
    out->nfiles = 0;
    int nuser = 0, nkernel = 0;
    bool have_archive = false;
    for (int i = 0; i < nparts; i++) {
        dt_sink_part *p = &parts[i];
        if (p->spool.fd < 0)
            continue;
        dt_file_kind k = dt_spool_kind(&p->spool);
        dt_file_kind inner = dt_spool_gzip_inner_kind(&p->spool);
        if (inner != DT_KIND_UNKNOWN)
            k = inner; /* a gzip-compressed dump is that dump (inflated, bounded, for analysis) */
        const char *role = k == DT_KIND_MINIDUMP ? "user"
                         : (k == DT_KIND_KERNEL64 || k == DT_KIND_KERNEL32) ? "kernel" : "archive";
        if (k == DT_KIND_MINIDUMP) {
            nuser++;
        } else if (dt_file_kind_is_dump(k)) {
            nkernel++;
        } else {
            if (have_archive)
                return dt_sink_fail(u->sink, 400, "bad_request", DT_ERR_ARG, "two %s files in one upload", role);
            have_archive = true;
        }
        if (inner == DT_KIND_UNKNOWN) {
            dt_error derr = { 0 };
            if (dt_dump_check(k, p->spool.head, p->spool.head_len, p->spool.size, &derr) != DT_OK)
                return dt_sink_fail(u->sink, 400, "bad_request", derr.code, "%s%s%s", p->name, p->name[0] ? ": " : "",
                                    derr.message);
        }
        dt_file_rec *f = &out->files[out->nfiles++];
        snprintf(f->role, sizeof f->role, "%s", role);
        snprintf(f->kind, sizeof f->kind, "%s%s", dt_file_kind_name(k), inner != DT_KIND_UNKNOWN ? "+gzip" : "");
        snprintf(f->name, sizeof f->name, "%s", p->name);
        f->size = p->spool.size;
    }
    if (have_archive && (nuser || nkernel))
        return fail(u, 400, "bad_request", DT_ERR_ARG, "send either dump files or one archive, not both");
    if (nuser > DT_UNPACK_MAX_USERS)
        return dt_sink_fail(u->sink, 400, "bad_request", DT_ERR_ARG,
                            "%d user dumps in one upload: a series takes at most %d", nuser, DT_UNPACK_MAX_USERS);
    if (nkernel > 1 && nkernel > nuser)
        return dt_sink_fail(u->sink, 400, "bad_request", DT_ERR_ARG,
                            "%d kernel dumps for %d user dumps: each kernel dump needs its user dump", nkernel, nuser);
    int j = 0;
    for (int i = 0; i < nparts; i++) {
        dt_sink_part *p = &parts[i];
        if (p->spool.fd < 0)
            continue;
        dt_error err = { 0 };
        if (dt_spool_seal(&p->spool, out->files[j].sha256, &err) != DT_OK)
            return dt_sink_fail(u->sink, 507, "insufficient_storage", err.code, "%s", err.message);
        j++;
    }
    dt_blob_store *bs = dt_blob_store_at(u->limits.data_dir, NULL);
    if (!bs)
        return fail(u, 500, "internal", DT_ERR_NOMEM, "out of memory");
    int lock = dt_blob_lock(u->limits.data_dir);
    if (lock < 0) {
        dt_blob_store_free(bs);
        return fail(u, 500, "internal", DT_ERR_IO, "cannot take the blob lock");
    }
    j = 0;
    for (int i = 0; i < nparts; i++) {
        dt_sink_part *p = &parts[i];
        if (p->spool.fd < 0)
            continue;
        dt_error err = { 0 };
        if (dt_spool_place(&p->spool, bs, out->files[j].sha256, &err) != DT_OK) {
            dt_blob_unlock(lock);
            dt_blob_store_free(bs);
            return dt_sink_fail(u->sink, 507, "insufficient_storage", err.code, "%s", err.message);
        }
        p->taken = true;
        j++;
    }
    dt_blob_store_free(bs);
    *blob_lock = lock;
    /* Stored text is valid UTF-8, whatever the client sent. */
    dt_utf8_sanitize_inplace(u->note, sizeof u->note);
    dt_utf8_sanitize_inplace(u->case_id, sizeof u->case_id);
    dt_utf8_sanitize_inplace(u->customer, sizeof u->customer);
    out->note = u->note[0] ? u->note : NULL;
    out->case_id = u->case_id[0] ? u->case_id : NULL;
    out->customer = u->customer[0] ? u->customer : NULL;
    return DT_OK;
}

const dt_refusal *dt_upload_refusal(const dt_upload *u)
{
    static const dt_refusal unknown = { 500, "internal", { DT_ERR_IO, "unknown upload error" } };
    const dt_refusal *r = dt_sink_refusal(u->sink);
    return r->http ? r : &unknown;
}

uint64_t dt_upload_bytes(const dt_upload *u)
{
    return dt_sink_bytes(u->sink);
}

void dt_upload_free(dt_upload *u)
{
    if (!u)
        return;
    dt_sink_free(u->sink);
    free(u);
}
