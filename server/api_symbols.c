/*
 * api_symbols.c — owns the /api/symbols resource (staff only): receiving
 * symbol files (PDB, PE, Breakpad .sym, or a zip/tar/… of them; raw body or
 * multipart), filing them into the server's symbol store
 * (symbol_filing.h), queueing the re-analysis of reports that lacked them,
 * and listing what is stored.
 *
 * Bodies are streamed to spool files under DATA_DIR/tmp as they arrive
 * (body_sink.h: a PDB may be hundreds of MB), never held in memory.  Reading
 * what was received — unpacking archives (archive_walk.h, with the same
 * limits as dump archives) and parsing PDB, PE and Breakpad headers to learn
 * each file's identity — is work on hostile input, so it runs in one
 * limited child per request (limited_child.h) that files what it accepts
 * and reports back what it stored and skipped; the rows are then written
 * here.  Symbol files never enter the dump blob store.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "archive_unpack.h"
#include "archive_walk.h"
#include "blob.h"
#include "body_sink.h"
#include "http.h"
#include "limited_child.h"
#include "symbol_filing.h"
#include "base/utf8.h"

#define MAX_SYMBOL_PARTS 8
#define MAX_SYMBOL_ENTRIES 64
#define MAX_SKIPPED 64

struct dt_symbol_upload {
    dt_body_sink *sink;
};

/* Symbol file names end up in store paths: no spaces either. */
static void symbol_name(const char *in, char *out, size_t len)
{
    dt_walk_base_name(in, out, len);
    for (char *p = out; *p; p++)
        if (*p == ' ')
            *p = '_';
}

static bool is_file_part(void *ctx, const char *key, const char *filename)
{
    (void)ctx;
    (void)key;
    return filename && *filename; /* text fields are ignored */
}

void dt_symbol_upload_free(dt_symbol_upload *u)
{
    if (!u)
        return;
    dt_sink_free(u->sink);
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
    const char *name = dt_http_arg(r, "name");
    char raw_name[256];
    symbol_name(name ? name : "", raw_name, sizeof raw_name);
    const char *ct = dt_http_header(r, "Content-Type");
    bool multipart = ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
    dt_sink_config cfg = {
        .data_dir = srv->cfg.data_dir,
        .max_part_size = srv->cfg.max_part_size,
        .max_request_size = srv->cfg.max_request_size,
        .min_free = srv->cfg.min_free_space,
        .max_parts = MAX_SYMBOL_PARTS,
        .too_many_parts = "at most 8 files per request (send an archive)",
    };
    dt_sink_hooks hooks = { is_file_part, NULL, NULL, u };
    dt_refusal why = { 0 };
    u->sink = dt_sink_new(r->conn, multipart, &cfg, &hooks, raw_name, &why);
    if (!u->sink) {
        free(u);
        return dt_http_error(r, why.http, why.code, "%s", why.err.message);
    }
    r->symbols = u;
    return MHD_YES;
}

dt_status dt_symbol_upload_feed(dt_symbol_upload *u, const char *data, size_t len)
{
    return dt_sink_feed(u->sink, data, len);
}

/* ---- reading what was received (in the limited child) ---- */

typedef struct {
    char name[256];
    unsigned http;
    const char *code;      /* static string: the same address in the child */
    char reason[256];
} skipped_file;

/* What one request stored or skipped: the child's result. */
typedef struct {
    dt_symbol_filing_entry stored[MAX_SYMBOL_ENTRIES];
    size_t nstored;
    skipped_file skipped[MAX_SKIPPED];
    size_t nskipped;
    dt_refusal first;      /* the refusal to give when nothing is stored */
} ingest;

typedef struct {
    const char *data_dir, *work_dir;
    const dt_unpack_limits *lim;
    dt_sink_part *parts;
    int nparts;
} ingest_job;

static void skip(ingest *in, const char *name, unsigned status, const char *code, const char *why)
{
    if (in->nskipped < MAX_SKIPPED) {
        skipped_file *s = &in->skipped[in->nskipped++];
        dt_utf8_sanitize(name, s->name, sizeof s->name);
        dt_utf8_sanitize(why, s->reason, sizeof s->reason);
        s->http = status;
        s->code = code;
    }
    /* A limit hit says more than the ordinary entries refused before it. */
    if (!in->first.http || (status == 413 && in->first.http != 413)) {
        in->first.http = 0;
        char n[160], w[200];
        dt_utf8_sanitize(name, n, sizeof n);
        dt_utf8_sanitize(why, w, sizeof w);
        dt_refuse(&in->first, status, code, DT_ERR_FORMAT, "%s%s%s", n, *n ? ": " : "", w);
    }
}

/* Seals a received spool, identifies it and moves it into the store. */
static void file_spool(const ingest_job *j, ingest *in, dt_spool *sp, const char *name)
{
    dt_error err = { 0 };
    if (in->nstored >= MAX_SYMBOL_ENTRIES) {
        dt_spool_abort(sp);
        skip(in, name, 413, "too_large", "too many symbol files in one request");
        return;
    }
    char sha[65];
    if (dt_spool_seal(sp, sha, &err) != DT_OK) {
        skip(in, name, 507, "insufficient_storage", err.message);
        return;
    }
    dt_symbol_filing_entry *e = &in->stored[in->nstored];
    dt_status rc = dt_symbol_filing_identify(sp->tmp_path, name, e, &err);
    if (rc == DT_OK) {
        snprintf(e->sha256, sizeof e->sha256, "%s", sha);
        if (dt_symbol_filing_place(j->data_dir, sp->tmp_path, e, &err) != DT_OK) {
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

static bool is_archive(dt_file_kind k)
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

/* One archive's walk: each entry spooled until its head says whether it is
 * a symbol file. */
typedef struct {
    const ingest_job *job;
    ingest *in;
    const char *archive_name;
    dt_spool sp;
    bool open;
    int wanted;            /* -1 unknown until the head is in */
    char name[256];
} sym_walk;

static dt_status walk_begin(void *c, const char *name, bool raw, bool *want, dt_error *err)
{
    sym_walk *w = c;
    if (raw)
        strip_compression(w->archive_name, w->name, sizeof w->name);
    else
        symbol_name(name, w->name, sizeof w->name);
    if (dt_spool_open_in(&w->sp, w->job->work_dir, w->job->lim->min_free, err) != DT_OK)
        return DT_ERR_IO;
    w->open = true;
    w->wanted = -1;
    *want = true;
    return DT_OK;
}

static void not_symbols(sym_walk *w)
{
    if (w->sp.size > 0 && !(w->name[0] == '.' || strstr(w->name, "__MACOSX")))
        skip(w->in, w->name, 415, "unsupported_media_type", "not a PDB, a PE image or a Breakpad .sym file");
    dt_spool_abort(&w->sp);
    w->open = false;
}

static dt_status walk_data(void *c, const void *buf, size_t len, bool *want, dt_error *err)
{
    sym_walk *w = c;
    if (dt_spool_write(&w->sp, buf, len, err) != DT_OK)
        return DT_ERR_IO; /* the message says why (a full disk: 507 below) */
    if (w->wanted < 0 && w->sp.head_len >= 32) {
        w->wanted = dt_symbol_filing_sniff(w->sp.head, w->sp.head_len);
        if (!w->wanted) {
            not_symbols(w);
            *want = false; /* counted by the walk, not kept */
        }
    }
    return DT_OK;
}

static dt_status walk_end(void *c, bool complete, dt_error *err)
{
    sym_walk *w = c;
    (void)err;
    if (!w->open)
        return DT_OK;
    if (!complete) {
        dt_spool_abort(&w->sp);
        w->open = false;
        return DT_OK;
    }
    if (w->wanted < 0)
        w->wanted = dt_symbol_filing_sniff(w->sp.head, w->sp.head_len);
    if (!w->wanted) {
        not_symbols(w);
        return DT_OK;
    }
    w->open = false;
    file_spool(w->job, w->in, &w->sp, w->name);
    return DT_OK;
}

static void unpack(const ingest_job *j, ingest *in, dt_sink_part *p)
{
    dt_error err = { 0 };
    sym_walk w = { .job = j, .in = in, .archive_name = p->name };
    dt_spool_init(&w.sp);
    dt_walk_limits wl = {
        .max_total = j->lim->max_total,
        .max_entry = j->lim->max_entry,
        .max_entries = j->lim->max_entries,
        .max_ratio = j->lim->max_ratio,
        .max_entry_ratio = j->lim->max_entry_ratio,
        .max_nesting = j->lim->max_nesting ? j->lim->max_nesting : DT_UNPACK_DEFAULT_NESTING,
    };
    dt_walk_hooks h = { walk_begin, walk_data, walk_end, NULL };
    dt_status rc = dt_archive_walk(p->spool.tmp_path, &wl, &h, &w, NULL, &err);
    if (w.open)
        dt_spool_abort(&w.sp);
    if (rc == DT_ERR_CORRUPT)
        skip(in, p->name, 413, "too_large", err.message);
    else if (rc == DT_ERR_IO && strstr(err.message, "free space"))
        skip(in, p->name, 507, "insufficient_storage", err.message);
    else if (rc != DT_OK)
        skip(in, p->name, 415, "unsupported_media_type", err.message);
}

static dt_status ingest_in_child(void *arg, void *out, dt_error *err)
{
    const ingest_job *j = arg;
    ingest *in = out;
    (void)err;
    for (int i = 0; i < j->nparts; i++) {
        dt_sink_part *p = &j->parts[i];
        if (p->spool.fd < 0)
            continue;
        if (p->spool.size == 0) {
            skip(in, p->name, 400, "bad_request", "the file is empty");
        } else if (dt_symbol_filing_sniff(p->spool.head, p->spool.head_len)) {
            file_spool(j, in, &p->spool, p->name);
        } else if (is_archive(dt_spool_kind(&p->spool))) {
            unpack(j, in, p);
        } else {
            skip(in, p->name, 415, "unsupported_media_type",
                 "not a PDB, a PE image, a Breakpad .sym file or an archive of them");
        }
    }
    return DT_OK;
}

static enum MHD_Result reply_stored(dt_request *r, ingest *in)
{
    dt_store *st = dt_http_store(r);
    if (!st)
        return dt_http_error(r, 503, "busy", "the store is not available");
    dt_error err = { 0 };
    cJSON *o = cJSON_CreateObject();
    cJSON *items = cJSON_AddArrayToObject(o, "stored");
    dt_status rc = DT_OK;
    for (size_t i = 0; i < in->nstored && rc == DT_OK; i++) {
        const dt_symbol_filing_entry *e = &in->stored[i];
        if ((rc = dt_store_symbol_record(st, e, r->who.token_id, &err)) != DT_OK)
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
    int queued = rc != DT_OK ? -1 : dt_store_symbol_requeue(st, in->stored, in->nstored, &err);
    if (queued < 0) {
        cJSON_Delete(o);
        return dt_http_error(r, 500, "internal", "%s", err.message);
    }
    if (queued > 0)
        dt_server_notify_job(r->srv);
    cJSON_AddNumberToObject(o, "reports_queued", queued);
    cJSON *skipped = cJSON_AddArrayToObject(o, "skipped");
    for (size_t i = 0; i < in->nskipped; i++) {
        cJSON *s = cJSON_CreateObject();
        cJSON_AddStringToObject(s, "name", in->skipped[i].name);
        cJSON_AddStringToObject(s, "code", in->skipped[i].code);
        cJSON_AddStringToObject(s, "reason", in->skipped[i].reason);
        cJSON_AddItemToArray(skipped, s);
    }
    return dt_http_json(r, 201, o);
}

static enum MHD_Result finish_upload(dt_request *r)
{
    dt_symbol_upload *u = r->symbols;
    if (dt_sink_end(u->sink) != DT_OK) {
        const dt_refusal *why = dt_sink_refusal(u->sink);
        return dt_http_error(r, why->http, why->code, "%s", why->err.message);
    }
    int nparts = 0;
    dt_sink_part *parts = dt_sink_parts(u->sink, &nparts);
    if (nparts == 0)
        return dt_http_error(r, 400, "bad_request", "no file in the request");
    const char *data = r->srv->cfg.data_dir;
    dt_unpack_limits lim;
    dt_unpack_limits_from_config(&lim, &r->srv->cfg);
    char work[1200];
    snprintf(work, sizeof work, "%s/tmp/symbols-XXXXXX", data);
    if (!mkdtemp(work))
        return dt_http_error(r, 507, "insufficient_storage", "cannot create a work directory");
    ingest *in = calloc(1, sizeof *in);
    if (!in) {
        dt_blob_remove_dir(work);
        return dt_http_error(r, 503, "busy", "out of memory");
    }
    ingest_job job = { data, work, &lim, parts, nparts };
    dt_child_limits cl = {
        .memory = lim.memory,
        .cpu_seconds = lim.cpu_seconds,
        .timeout_seconds = lim.timeout_seconds,
        .fsize = lim.max_entry ? lim.max_entry + (1u << 20) : 0,
    };
    dt_error err = { 0 };
    dt_status rc = dt_limited_call(&cl, ingest_in_child, &job, in, sizeof *in, NULL, &err);
    dt_blob_remove_dir(work);
    /* The child moved what it filed; the rest of the received files go. */
    for (int i = 0; i < nparts; i++)
        dt_spool_abort(&parts[i].spool);
    enum MHD_Result ret;
    if (rc != DT_OK)
        ret = dt_http_error(r, rc == DT_ERR_CORRUPT || rc == DT_ERR_NOMEM ? 413 : 500,
                            rc == DT_ERR_CORRUPT || rc == DT_ERR_NOMEM ? "too_large" : "internal",
                            "reading the symbol files %s", err.message);
    else if (in->nstored == 0)
        ret = dt_http_error(r, in->first.http ? in->first.http : 415,
                            in->first.http ? in->first.code : "unsupported_media_type", "%s",
                            in->first.http ? in->first.err.message : "the archive holds no PDB, PE or Breakpad file");
    else
        ret = reply_stored(r, in);
    free(in);
    return ret;
}

enum MHD_Result dt_api_symbols(dt_request *r)
{
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
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
