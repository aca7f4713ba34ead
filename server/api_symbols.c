/*
 * api_symbols.c — the /api/symbols resource (staff only): receiving symbol
 * files (PDB, PE, Breakpad .sym, or a zip/tar/… of them; raw body or
 * multipart), filing them into the server's symbol store, queueing the
 * re-analysis of reports that lacked them, and listing what is stored.
 *
 * Bodies are streamed to spool files under DATA_DIR/tmp as they arrive (a PDB
 * may be hundreds of MB), never held in memory.  Each file is sealed (fsync +
 * SHA-256) and then moved from the spool into the store, so the store only
 * ever holds complete files; symbol files never enter the dump blob store.
 * Archive entries are streamed the same way, with limits on entries,
 * unpacked bytes and the unpacking ratio.
 */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob.h"
#include "http.h"
#include "symbol_store.h"

#define MAX_SYMBOL_PARTS 8
#define MAX_SYMBOL_ENTRIES 64

typedef struct {
    dt_spool spool;
    char name[256];
} sym_part;

struct dt_symbol_upload {
    uint64_t max_part, max_total, total;
    char data_dir[1024];
    char raw_name[256];
    struct MHD_PostProcessor *pp;
    sym_part parts[MAX_SYMBOL_PARTS];
    int nparts;
    sym_part *current;
    int failed;
    unsigned status;
    const char *code;
    char message[400];
};

static void base_name(const char *in, char *out, size_t len)
{
    /* Only the last path component, printable ASCII: what a client names is
     * a hint for PDB/PE files, never a path. */
    const char *b = in;
    for (const char *p = in; *p; p++)
        if (*p == '/' || *p == '\\')
            b = p + 1;
    size_t j = 0;
    for (const char *p = b; *p && j + 1 < len; p++) {
        unsigned char c = (unsigned char)*p;
        out[j++] = (c > 0x20 && c < 0x7f && c != '"' && c != ';') ? (char)c : '_';
    }
    out[j] = 0;
}

static int up_fail(dt_symbol_upload *u, unsigned status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int up_fail(dt_symbol_upload *u, unsigned status, const char *code, const char *fmt, ...)
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
    for (int i = 0; i < u->nparts; i++)
        dt_spool_abort(&u->parts[i].spool);
    u->current = NULL;
    return -1;
}

static int start_part(dt_symbol_upload *u, const char *name)
{
    if (u->nparts >= MAX_SYMBOL_PARTS)
        return up_fail(u, 400, "bad_request", "at most %d files per request (send an archive)", MAX_SYMBOL_PARTS);
    sym_part *p = &u->parts[u->nparts];
    dt_error err = { 0 };
    if (dt_spool_open(&p->spool, u->data_dir, &err) != DT_OK)
        return up_fail(u, 507, "insufficient_storage", "%s", err.message);
    u->nparts++;
    base_name(name ? name : "", p->name, sizeof p->name);
    u->current = p;
    return 0;
}

static int write_part(dt_symbol_upload *u, const char *data, size_t len)
{
    if (u->total + len > u->max_total)
        return up_fail(u, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                       (unsigned long long)u->max_total);
    if (u->current->spool.size + len > u->max_part)
        return up_fail(u, 413, "too_large", "a file is larger than the limit of %llu bytes",
                       (unsigned long long)u->max_part);
    u->total += len;
    dt_error err = { 0 };
    if (dt_spool_write(&u->current->spool, data, len, &err) != DT_OK)
        return up_fail(u, 507, "insufficient_storage", "%s", err.message);
    return 0;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                               const char *content_type, const char *transfer_encoding, const char *data,
                               uint64_t off, size_t size)
{
    (void)kind;
    (void)key;
    (void)content_type;
    (void)transfer_encoding;
    dt_symbol_upload *u = cls;
    if (u->failed)
        return MHD_NO;
    if (!filename || !*filename) {
        u->current = NULL; /* a text field: ignored */
        return MHD_YES;
    }
    if (off == 0) {
        /* An empty first call of a part is not a part of its own. */
        if (u->current && u->current->spool.size == 0)
            base_name(filename, u->current->name, sizeof u->current->name);
        else if (start_part(u, filename) != 0)
            return MHD_NO;
    }
    if (!u->current)
        return MHD_NO;
    return size && write_part(u, data, size) != 0 ? MHD_NO : MHD_YES;
}

void dt_symbol_upload_free(dt_symbol_upload *u)
{
    if (!u)
        return;
    if (u->pp)
        MHD_destroy_post_processor(u->pp);
    for (int i = 0; i < u->nparts; i++)
        dt_spool_abort(&u->parts[i].spool);
    free(u);
}

enum MHD_Result dt_api_symbols_begin(dt_request *r)
{
    dt_server *srv = r->srv;
    if (r->who.bad_credentials)
        return dt_http_error(r, 401, "unauthorized", "the token is not valid");
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "uploading symbols needs a staff token");
    if (r->who.role != DT_ROLE_STAFF)
        return dt_http_error(r, 403, "forbidden", "only staff may upload symbols");
    const char *cl = dt_http_header(r, "Content-Length");
    uint64_t length = cl ? strtoull(cl, NULL, 10) : 0;
    if (length > srv->cfg.max_request_size)
        return dt_http_error(r, 413, "too_large", "the upload is larger than the limit of %llu bytes",
                             (unsigned long long)srv->cfg.max_request_size);
    const char *enc = dt_http_header(r, "Content-Encoding");
    if (enc && *enc && strcasecmp(enc, "identity") != 0)
        return dt_http_error(r, 415, "unsupported_media_type",
                             "Content-Encoding is not supported here (send a .gz file as the body instead)");
    dt_symbol_upload *u = calloc(1, sizeof *u);
    if (!u)
        return dt_http_error(r, 503, "busy", "out of memory");
    for (int i = 0; i < MAX_SYMBOL_PARTS; i++)
        dt_spool_init(&u->parts[i].spool);
    u->max_part = srv->cfg.max_part_size;
    u->max_total = srv->cfg.max_request_size;
    snprintf(u->data_dir, sizeof u->data_dir, "%s", srv->cfg.data_dir);
    const char *name = dt_http_arg(r, "name");
    base_name(name ? name : "", u->raw_name, sizeof u->raw_name);
    r->symbols = u;
    const char *ct = dt_http_header(r, "Content-Type");
    if (ct && strncasecmp(ct, "multipart/form-data", 19) == 0) {
        u->pp = MHD_create_post_processor(r->conn, 64 * 1024, on_part, u);
        if (!u->pp)
            return dt_http_error(r, 400, "bad_request", "malformed multipart/form-data header (boundary missing?)");
    }
    return MHD_YES;
}

int dt_symbol_upload_feed(dt_symbol_upload *u, const char *data, size_t len)
{
    if (u->failed)
        return -1;
    if (u->pp) {
        if (MHD_post_process(u->pp, data, len) != MHD_YES)
            return u->failed ? -1 : up_fail(u, 400, "bad_request", "malformed multipart/form-data body");
        return u->failed ? -1 : 0;
    }
    if (!u->current && start_part(u, u->raw_name) != 0)
        return -1;
    return write_part(u, data, len);
}

/* What one request stored or skipped, for the reply. */
typedef struct {
    dt_symbol_entry stored[MAX_SYMBOL_ENTRIES];
    size_t nstored;
    cJSON *skipped;
    unsigned fail_status;      /* the first refusal of a lone file */
    const char *fail_code;
    char fail_message[400];
} ingest;

static void skip(ingest *in, const char *name, unsigned status, const char *code, const char *why)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddStringToObject(o, "code", code);
    cJSON_AddStringToObject(o, "reason", why);
    cJSON_AddItemToArray(in->skipped, o);
    /* A limit hit says more than the ordinary entries refused before it. */
    if (!in->fail_status || (status == 413 && in->fail_status != 413)) {
        in->fail_status = status;
        in->fail_code = code;
        snprintf(in->fail_message, sizeof in->fail_message, "%s%s%s", name, *name ? ": " : "", why);
    }
}

/* Seals a received spool, identifies it and moves it into the store. */
static void file_spool(dt_request *r, ingest *in, dt_spool *sp, const char *name)
{
    const char *data = r->srv->cfg.data_dir;
    dt_error err = { 0 };
    if (in->nstored >= MAX_SYMBOL_ENTRIES) {
        dt_spool_abort(sp);
        skip(in, name, 413, "too_large", "too many symbol files in one request");
        return;
    }
    /* Symbol files never enter the dump blob store: the sealed spool file is
     * identified in place and moved into the symbol store. */
    char sha[65];
    if (dt_spool_seal(sp, sha, &err) != DT_OK) {
        skip(in, name, 507, "insufficient_storage", err.message);
        return;
    }
    dt_symbol_entry *e = &in->stored[in->nstored];
    dt_status rc = dt_symbol_identify(sp->tmp_path, name, e, &err);
    if (rc == DT_OK) {
        snprintf(e->sha256, sizeof e->sha256, "%s", sha);
        if (dt_symbol_file_into_store(data, sp->tmp_path, e, &err) != DT_OK) {
            skip(in, name, 500, "internal", err.message[0] ? err.message : "cannot store the received file");
        } else {
            sp->tmp_path[0] = 0; /* moved: nothing left for abort to unlink */
            in->nstored++;
        }
    } else {
        skip(in, name, rc == DT_ERR_ARG ? 400 : 415, rc == DT_ERR_ARG ? "bad_request" : "unsupported_media_type",
             err.message);
    }
    dt_spool_abort(sp);
}

static int is_archive(dt_file_kind k)
{
    return k == DT_KIND_ZIP || k == DT_KIND_TAR || k == DT_KIND_GZIP || k == DT_KIND_7Z || k == DT_KIND_XZ
        || k == DT_KIND_ZSTD || k == DT_KIND_BZIP2;
}

/* The name inside a bare compressed file ("raw" format) is unknown: the
 * request's name without its compression suffix stands in. */
static void strip_compression(const char *in, char *out, size_t len)
{
    snprintf(out, len, "%s", in);
    static const char *const sufs[] = { ".gz", ".xz", ".zst", ".bz2" };
    size_t n = strlen(out);
    for (size_t i = 0; i < 4; i++) {
        size_t m = strlen(sufs[i]);
        if (n > m && strcasecmp(out + n - m, sufs[i]) == 0) {
            out[n - m] = 0;
            return;
        }
    }
}

static void unpack(dt_request *r, ingest *in, sym_part *p)
{
    const dt_server_config *cfg = &r->srv->cfg;
    const char *data = cfg->data_dir;
    dt_error err = { 0 };
    uint64_t packed = p->spool.size;
    char sha[65], path[1200];
    if (dt_spool_seal(&p->spool, sha, &err) != DT_OK) {
        skip(in, p->name, 507, "insufficient_storage", err.message);
        return;
    }
    snprintf(path, sizeof path, "%s", p->spool.tmp_path);
    uint64_t ratio_cap = packed * cfg->max_archive_ratio;
    if (ratio_cap < (1u << 20))
        ratio_cap = 1u << 20;
    struct archive *a = archive_read_new();
    if (!a) {
        skip(in, p->name, 503, "busy", "out of memory");
        goto out;
    }
    archive_read_support_filter_all(a);
    archive_read_support_format_all(a);
    archive_read_support_format_raw(a);
    if (archive_read_open_filename(a, path, 64 * 1024) != ARCHIVE_OK) {
        skip(in, p->name, 415, "unsupported_media_type", "cannot read the archive");
        archive_read_free(a);
        goto out;
    }
    uint64_t total = 0;
    unsigned entries = 0;
    int is_raw = archive_format(a) == ARCHIVE_FORMAT_RAW;
    struct archive_entry *e;
    char buf[64 * 1024], name[256];
    int stop = 0;
    while (!stop) {
        int rc = archive_read_next_header(a, &e);
        if (rc == ARCHIVE_EOF)
            break;
        if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) {
            skip(in, p->name, 415, "unsupported_media_type", "the archive is damaged");
            break;
        }
        is_raw = is_raw || archive_format(a) == ARCHIVE_FORMAT_RAW;
        if (++entries > cfg->max_archive_entries) {
            skip(in, p->name, 413, "too_large", "the archive has too many entries");
            break;
        }
        mode_t type = archive_entry_filetype(e);
        if (type != 0 && type != AE_IFREG)
            continue;
        if (is_raw)
            strip_compression(p->name, name, sizeof name);
        else
            base_name(archive_entry_pathname(e) ? archive_entry_pathname(e) : "", name, sizeof name);
        dt_spool sp;
        if (dt_spool_open(&sp, data, &err) != DT_OK) {
            skip(in, name, 507, "insufficient_storage", err.message);
            break;
        }
        int wanted = -1;
        for (;;) {
            la_ssize_t n = archive_read_data(a, buf, sizeof buf);
            if (n == 0)
                break;
            if (n < 0) {
                skip(in, name, 415, "unsupported_media_type", "cannot unpack this entry");
                wanted = 0;
                break;
            }
            total += (uint64_t)n;
            if (total > cfg->max_unpacked_size || total > ratio_cap || sp.size + (uint64_t)n > cfg->max_part_size) {
                skip(in, p->name, 413, "too_large", "the archive unpacks to more than the limit");
                wanted = 0;
                stop = 1;
                break;
            }
            if (dt_spool_write(&sp, buf, (size_t)n, &err) != DT_OK) {
                skip(in, name, 507, "insufficient_storage", err.message);
                wanted = 0;
                stop = 1;
                break;
            }
            if (wanted < 0 && sp.head_len >= 32) {
                wanted = dt_symbol_sniff(sp.head, sp.head_len);
                if (!wanted)
                    break;
            }
        }
        if (wanted < 0)
            wanted = dt_symbol_sniff(sp.head, sp.head_len);
        if (!wanted) {
            if (!stop && sp.size > 0 && !(name[0] == '.' || strstr(name, "__MACOSX")))
                skip(in, name, 415, "unsupported_media_type", "not a PDB, a PE image or a Breakpad .sym file");
            dt_spool_abort(&sp);
            continue;
        }
        file_spool(r, in, &sp, name);
    }
    archive_read_free(a);
out:
    dt_spool_abort(&p->spool);
}

static enum MHD_Result finish_upload(dt_request *r)
{
    dt_symbol_upload *u = r->symbols;
    if (!u->failed && u->pp) {
        if (MHD_destroy_post_processor(u->pp) != MHD_YES)
            up_fail(u, 400, "bad_request", "the multipart/form-data body ends early");
        u->pp = NULL;
    }
    if (u->failed)
        return dt_http_error(r, u->status, u->code, "%s", u->message);
    if (u->nparts == 0)
        return dt_http_error(r, 400, "bad_request", "no file in the request");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    ingest *in = calloc(1, sizeof *in);
    if (!in)
        return dt_http_error(r, 503, "busy", "out of memory");
    in->skipped = cJSON_CreateArray();
    for (int i = 0; i < u->nparts; i++) {
        sym_part *p = &u->parts[i];
        if (p->spool.size == 0) {
            dt_spool_abort(&p->spool);
            skip(in, p->name, 400, "bad_request", "the file is empty");
            continue;
        }
        if (dt_symbol_sniff(p->spool.head, p->spool.head_len)) {
            file_spool(r, in, &p->spool, p->name);
        } else if (is_archive(dt_spool_kind(&p->spool))) {
            unpack(r, in, p);
        } else {
            dt_spool_abort(&p->spool);
            skip(in, p->name, 415, "unsupported_media_type",
                 "not a PDB, a PE image, a Breakpad .sym file or an archive of them");
        }
    }
    u->nparts = 0; /* every spool is committed or aborted */
    enum MHD_Result ret;
    if (in->nstored == 0) {
        ret = dt_http_error(r, in->fail_status ? in->fail_status : 415,
                            in->fail_code ? in->fail_code : "unsupported_media_type", "%s",
                            in->fail_status ? in->fail_message : "the archive holds no PDB, PE or Breakpad file");
        cJSON_Delete(in->skipped);
        free(in);
        return ret;
    }
    dt_error err = { 0 };
    cJSON *o = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(o, "stored");
    for (size_t i = 0; i < in->nstored; i++) {
        const dt_symbol_entry *e = &in->stored[i];
        if (dt_store_symbol_record(st, e, r->who.token_id, &err) != DT_OK)
            break;
        cJSON *it = cJSON_CreateObject();
        cJSON_AddStringToObject(it, "name", e->name);
        cJSON_AddStringToObject(it, "id", e->ident);
        cJSON_AddStringToObject(it, "kind", e->kind);
        cJSON_AddStringToObject(it, "module", e->match_file);
        cJSON_AddStringToObject(it, "path", e->path);
        cJSON_AddNumberToObject(it, "size", (double)e->size);
        cJSON_AddStringToObject(it, "sha256", e->sha256);
        cJSON_AddItemToArray(items, it);
    }
    int queued = err.message[0] ? -1 : dt_store_symbol_requeue(st, in->stored, in->nstored, &err);
    if (queued < 0) {
        cJSON_Delete(o);
        cJSON_Delete(in->skipped);
        free(in);
        return dt_http_error(r, 500, "internal", "%s", err.message);
    }
    if (queued > 0)
        dt_server_notify_job(r->srv);
    cJSON_AddNumberToObject(o, "reports_queued", queued);
    cJSON_AddItemToObject(o, "skipped", in->skipped);
    free(in);
    return dt_http_json(r, 201, o);
}

enum MHD_Result dt_api_symbols(dt_request *r)
{
    int get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
    if (strcmp(r->method, "POST") == 0) {
        if (!r->symbols)
            return dt_http_error(r, 400, "bad_request", "no upload body");
        return finish_upload(r);
    }
    if (!get)
        return dt_http_error(r, 405, "method_not_allowed", "use GET or POST");
    if (r->who.role == DT_ROLE_ANONYMOUS)
        return dt_http_error(r, 401, "unauthorized", "listing symbols needs a staff token");
    if (r->who.role != DT_ROLE_STAFF)
        return dt_http_error(r, 403, "forbidden", "only staff may list symbols");
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    return dt_http_json(r, 200, dt_store_symbol_list(st));
}
