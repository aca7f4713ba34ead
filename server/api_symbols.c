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
 * each file's identity — is work on hostile input, so it runs in the
 * helper program under limits, one per request (symbol_ingest.h,
 * limited_child.h), which files what it accepts and reports back what it
 * stored and skipped; the rows are then written here.  Symbol files never
 * enter the dump blob store.
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
#include "symbol_ingest.h"

#define MAX_SYMBOL_PARTS DT_SYMBOL_MAX_PARTS

struct dt_symbol_upload {
    dt_body_sink *sink;
};

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
    dt_symbol_ingest_name(name ? name : "", raw_name, sizeof raw_name);
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

static enum MHD_Result reply_stored(dt_request *r, dt_symbol_ingest *in)
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
    dt_symbol_ingest *in = calloc(1, sizeof *in);
    if (!in) {
        dt_blob_remove_dir(work);
        return dt_http_error(r, 503, "busy", "out of memory");
    }
    /* The helper's argv: the job, where to file and spool, the limits, then
     * NAME PATH SHA-256 ("-": not a symbol file, not sealed) per file.  A
     * file that sniffs as a symbol file is sealed (hash final, fsync'ed)
     * here, where its hash was computed as it arrived. */
    char helper[1200], lims[200], shas[MAX_SYMBOL_PARTS][65];
    char *argv[6 + 3 * MAX_SYMBOL_PARTS + 1];
    int argc = 0;
    dt_error err = { 0 };
    dt_status rc = DT_OK;
    if (dt_limited_helper_path(DT_UNPACK_HELPER, helper, sizeof helper) != 0)
        rc = dt_error_set(&err, DT_ERR_IO, "cannot find %s beside the server binary", DT_UNPACK_HELPER);
    dt_unpack_limits_encode(&lim, lims, sizeof lims);
    argv[argc++] = helper;
    argv[argc++] = "symbols";
    argv[argc++] = (char *)data;
    argv[argc++] = work;
    argv[argc++] = lims;
    for (int i = 0; i < nparts && i < MAX_SYMBOL_PARTS && rc == DT_OK; i++) {
        dt_spool *sp = &parts[i].spool;
        if (sp->fd < 0)
            continue;
        snprintf(shas[i], sizeof shas[i], "-");
        if (dt_symbol_filing_sniff(sp->head, sp->head_len) && dt_spool_seal(sp, shas[i], &err) != DT_OK)
            break;
        argv[argc++] = parts[i].name;
        argv[argc++] = sp->tmp_path;
        argv[argc++] = shas[i];
    }
    argv[argc] = NULL;
    if (err.message[0] && rc == DT_OK) {
        dt_blob_remove_dir(work);
        for (int i = 0; i < nparts; i++)
            dt_spool_abort(&parts[i].spool);
        free(in);
        return dt_http_error(r, 507, "insufficient_storage", "%s", err.message);
    }
    dt_child_limits cl = {
        .memory = lim.memory,
        .cpu_seconds = lim.cpu_seconds,
        .timeout_seconds = lim.timeout_seconds,
        .fsize = lim.max_entry ? lim.max_entry + (1u << 20) : 0,
    };
    if (rc == DT_OK)
        rc = dt_limited_run(&cl, argv, in, sizeof *in, NULL, &err);
    dt_blob_remove_dir(work);
    /* The helper moved what it filed; the rest of the received files go. */
    for (int i = 0; i < nparts; i++)
        dt_spool_abort(&parts[i].spool);
    if (rc == DT_OK && (in->nstored > DT_SYMBOL_MAX_ENTRIES || in->nskipped > DT_SYMBOL_MAX_SKIPPED))
        rc = dt_error_set(&err, DT_ERR_IO, "returned a malformed result");
    enum MHD_Result ret;
    if (rc != DT_OK)
        ret = dt_http_error(r, rc == DT_ERR_CORRUPT || rc == DT_ERR_NOMEM ? 413 : 500,
                            rc == DT_ERR_CORRUPT || rc == DT_ERR_NOMEM ? "too_large" : "internal",
                            "reading the symbol files %s", err.message);
    else if (in->nstored == 0)
        ret = dt_http_error(r, in->first.http ? in->first.http : 415,
                            in->first.http ? in->first.code : "unsupported_media_type", "%s",
                            in->first.http ? in->first.reason : "the archive holds no PDB, PE or Breakpad file");
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
