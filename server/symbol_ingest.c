/*
 * symbol_ingest.c — see symbol_ingest.h.
 *
 * Each archive entry is spooled (hashed while written) until its first bytes
 * say whether it is a symbol file; one that is is sealed, identified and
 * moved into the store, anything else is dropped as it streams.
 */
#include "symbol_ingest.h"

#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "archive_walk.h"
#include "blob.h"
#include "base/utf8.h"

typedef struct {
    const char *data_dir, *work_dir;
    const dt_unpack_limits *lim;
} ingest_job;

typedef dt_symbol_ingest ingest;

static void skip(ingest *in, const char *name, unsigned status, const char *code, const char *why)
{
    if (in->nskipped < DT_SYMBOL_MAX_SKIPPED) {
        dt_symbol_skipped *s = &in->skipped[in->nskipped++];
        dt_utf8_sanitize(name, s->name, sizeof s->name);
        dt_utf8_sanitize(why, s->reason, sizeof s->reason);
        s->http = status;
        snprintf(s->code, sizeof s->code, "%s", code);
    }
    /* A limit hit says more than the ordinary entries refused before it. */
    if (!in->first.http || (status == 413 && in->first.http != 413)) {
        char n[160], w[200];
        dt_utf8_sanitize(name, n, sizeof n);
        dt_utf8_sanitize(why, w, sizeof w);
        in->first.http = status;
        snprintf(in->first.code, sizeof in->first.code, "%s", code);
        snprintf(in->first.reason, sizeof in->first.reason, "%.100s%s%.150s", n, *n ? ": " : "", w);
    }
}

/* Seals a received spool, identifies it and moves it into the store. */
static void file_spool(const ingest_job *j, ingest *in, dt_spool *sp, const char *name)
{
    dt_error err = { 0 };
    if (in->nstored >= DT_SYMBOL_MAX_ENTRIES) {
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
        dt_symbol_ingest_name(name, w->name, sizeof w->name);
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

static void unpack(const ingest_job *j, ingest *in, const dt_symbol_part *p)
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
    dt_status rc = dt_archive_walk(p->path, &wl, &h, &w, NULL, &err);
    if (w.open)
        dt_spool_abort(&w.sp);
    if (rc == DT_ERR_CORRUPT)
        skip(in, p->name, 413, "too_large", err.message);
    else if (rc == DT_ERR_IO && strstr(err.message, "free space"))
        skip(in, p->name, 507, "insufficient_storage", err.message);
    else if (rc != DT_OK)
        skip(in, p->name, 415, "unsupported_media_type", err.message);
}

/* A received file as a spool again, as the walk and the filing want it:
 * open for reading, its first bytes in head, sealed when the server
 * hashed it.  false if it cannot be opened. */
static bool reopen_part(const dt_symbol_part *p, dt_spool *sp)
{
    dt_spool_init(sp);
    sp->fd = open(p->path, O_RDONLY | O_CLOEXEC);
    if (sp->fd < 0)
        return false;
    snprintf(sp->tmp_path, sizeof sp->tmp_path, "%s", p->path);
    struct stat st;
    if (fstat(sp->fd, &st) == 0)
        sp->size = (uint64_t)st.st_size;
    ssize_t n = pread(sp->fd, sp->head, sizeof sp->head, 0);
    sp->head_len = n > 0 ? (size_t)n : 0;
    if (p->sha256 && strlen(p->sha256) == 64) {
        snprintf(sp->sha256, sizeof sp->sha256, "%s", p->sha256);
        sp->sealed = 1;
    }
    return true;
}

void dt_symbol_ingest_name(const char *in, char *out, size_t len)
{
    dt_walk_base_name(in, out, len);
    for (char *p = out; *p; p++)
        if (*p == ' ')
            *p = '_';
}

void dt_symbol_ingest_run(const char *data_dir, const char *work_dir, const dt_unpack_limits *lim,
                          const dt_symbol_part *parts, int nparts, dt_symbol_ingest *in)
{
    ingest_job job = { data_dir, work_dir, lim };
    for (int i = 0; i < nparts; i++) {
        const dt_symbol_part *p = &parts[i];
        dt_spool sp;
        if (!reopen_part(p, &sp)) {
            skip(in, p->name, 500, "internal", "cannot read the received file");
            continue;
        }
        if (sp.size == 0) {
            skip(in, p->name, 400, "bad_request", "the file is empty");
        } else if (dt_symbol_filing_sniff(sp.head, sp.head_len)) {
            if (sp.sealed) {
                file_spool(&job, in, &sp, p->name);
            } else {
                skip(in, p->name, 500, "internal", "the received file was not sealed");
            }
        } else if (is_archive(dt_spool_kind(&sp))) {
            unpack(&job, in, p);
        } else {
            skip(in, p->name, 415, "unsupported_media_type",
                 "not a PDB, a PE image, a Breakpad .sym file or an archive of them");
        }
        /* Closes it; a file not moved into the store stays for the server,
         * which removes every received file after the job. */
        sp.tmp_path[0] = 0;
        dt_spool_abort(&sp);
    }
}
