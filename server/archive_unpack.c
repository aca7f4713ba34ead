/*
 * archive_unpack.c — see archive_unpack.h.
 *
 * The walk (archive_walk.c) streams entries into spools (hashed while
 * written), so memory stays small whatever the sizes; an entry is kept only
 * if its first bytes sniff as a dump not yet found, and a kept dump must
 * pass the same minimum structure check as a direct upload (blob.h).
 *
 * The walks run in the helper program (unpack_main.c, through
 * limited_child.h); the parent half of each job builds the helper's argv
 * and reads back its fixed-size result.
 */
#include "archive_unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "archive_walk.h"
#include "blob.h"
#include "limited_child.h"

void dt_unpack_limits_from_config(dt_unpack_limits *lim, const dt_server_config *cfg)
{
    memset(lim, 0, sizeof *lim);
    lim->max_total = cfg->max_unpacked_size;
    lim->max_entries = cfg->max_archive_entries;
    lim->max_ratio = cfg->max_archive_ratio;
    lim->max_entry = cfg->max_part_size;
    lim->max_entry_ratio = cfg->max_entry_ratio;
    lim->max_nesting = cfg->max_archive_nesting;
    lim->memory = cfg->unpack_memory;
    lim->cpu_seconds = cfg->unpack_cpu;
    lim->timeout_seconds = cfg->unpack_timeout;
    lim->min_free = cfg->min_free_space;
}

void dt_unpack_limits_encode(const dt_unpack_limits *l, char *out, size_t len)
{
    snprintf(out, len, "%" PRIu64 ":%u:%u:%" PRIu64 ":%u:%u:%" PRIu64, l->max_total, l->max_entries, l->max_ratio,
             l->max_entry, l->max_entry_ratio, l->max_nesting, l->min_free);
}

dt_status dt_unpack_limits_decode(const char *s, dt_unpack_limits *l, dt_error *err)
{
    memset(l, 0, sizeof *l);
    int used = 0;
    if (sscanf(s, "%" SCNu64 ":%u:%u:%" SCNu64 ":%u:%u:%" SCNu64 "%n", &l->max_total, &l->max_entries, &l->max_ratio,
               &l->max_entry, &l->max_entry_ratio, &l->max_nesting, &l->min_free, &used) != 7
        || s[used] != 0)
        return dt_error_set(err, DT_ERR_ARG, "bad limits \"%.60s\"", s);
    return DT_OK;
}

static dt_walk_limits walk_limits(const dt_unpack_limits *l)
{
    dt_walk_limits w = {
        .max_total = l->max_total,
        .max_entry = l->max_entry,
        .max_entries = l->max_entries,
        .max_ratio = l->max_ratio,
        .max_entry_ratio = l->max_entry_ratio,
        .max_nesting = l->max_nesting ? l->max_nesting : DT_UNPACK_DEFAULT_NESTING,
    };
    return w;
}

static dt_child_limits child_limits(const dt_unpack_limits *l)
{
    dt_child_limits c = {
        .memory = l->memory,
        .cpu_seconds = l->cpu_seconds,
        .timeout_seconds = l->timeout_seconds,
        /* One spool per entry: no file may outgrow an entry (plus slack
         * for the write that crosses the limit, which the walk refuses). */
        .fsize = l->max_entry ? l->max_entry + (1u << 20) : 0,
        .cancelled = l->cancelled,
        .cancel_arg = l->cancel_arg,
    };
    return c;
}

/* A private directory for one child's spools: removed afterwards, so a
 * child killed mid-entry leaves nothing. */
static dt_status make_work_dir(const char *data_dir, char *out, size_t len, dt_error *err)
{
    snprintf(out, len, "%s/tmp/unpack-XXXXXX", data_dir);
    if (!mkdtemp(out))
        return dt_error_set(err, DT_ERR_IO, "cannot create a work directory: %s", strerror(errno));
    return DT_OK;
}

static void remove_work_dir(const char *dir)
{
    dt_blob_remove_dir(dir);
}

/* ---- finding the dumps (runs in the child) ---- */

typedef struct {
    const char *work_dir;
    dt_blob_store *blobs;     /* where kept dumps are placed */
    const dt_unpack_limits *lim;
    dt_spool sp;
    bool open, kept_kind_known;
    char name[256];
    dt_file_rec out[DT_UNPACK_MAX_DUMPS];
    int nout;
    int nuser, nkernel;
    char rejected[200];       /* why the last dump-looking entry was not kept */
} find_ctx;

static dt_status find_begin(void *c, const char *name, bool raw, bool *want, dt_error *err)
{
    find_ctx *f = c;
    (void)raw;
    snprintf(f->name, sizeof f->name, "%s", name);
    if (dt_spool_open_in(&f->sp, f->work_dir, f->lim->min_free, err) != DT_OK)
        return DT_ERR_IO;
    f->open = true;
    f->kept_kind_known = false;
    *want = true;
    return DT_OK;
}

static bool wanted_kind(find_ctx *f, dt_file_kind k)
{
    return (k == DT_KIND_MINIDUMP && f->nuser < DT_UNPACK_MAX_USERS)
        || ((k == DT_KIND_KERNEL64 || k == DT_KIND_KERNEL32) && f->nkernel < DT_UNPACK_MAX_USERS);
}

static dt_status find_data(void *c, const void *buf, size_t len, bool *want, dt_error *err)
{
    find_ctx *f = c;
    dt_error serr = { 0 };
    if (dt_spool_write(&f->sp, buf, len, &serr) != DT_OK)
        return dt_error_set(err, serr.code == DT_ERR_NOMEM ? DT_ERR_IO : serr.code, "%s", serr.message);
    if (!f->kept_kind_known && f->sp.head_len >= DT_SNIFF_BYTES) {
        f->kept_kind_known = true;
        if (!wanted_kind(f, dt_spool_kind(&f->sp))) {
            *want = false; /* the rest is counted by the walk, not kept */
            dt_spool_abort(&f->sp);
            f->open = false;
        }
    }
    return DT_OK;
}

static dt_status find_end(void *c, bool complete, dt_error *err)
{
    find_ctx *f = c;
    if (!f->open)
        return DT_OK;
    f->open = false;
    dt_file_kind k = dt_spool_kind(&f->sp);
    if (!complete || !wanted_kind(f, k)) {
        dt_spool_abort(&f->sp);
        return DT_OK;
    }
    dt_error cerr = { 0 };
    if (dt_dump_check(k, f->sp.head, f->sp.head_len, f->sp.size, &cerr) != DT_OK) {
        snprintf(f->rejected, sizeof f->rejected, "%.80s%s%.110s", f->name, f->name[0] ? ": " : "", cerr.message);
        dt_spool_abort(&f->sp);
        return DT_OK;
    }
    dt_file_rec *r = &f->out[f->nout];
    memset(r, 0, sizeof *r);
    snprintf(r->role, sizeof r->role, "%s", k == DT_KIND_MINIDUMP ? "user" : "kernel");
    snprintf(r->kind, sizeof r->kind, "%s", dt_file_kind_name(k));
    snprintf(r->name, sizeof r->name, "%s", f->name);
    r->size = f->sp.size;
    if (dt_spool_place(&f->sp, f->blobs, r->sha256, err) != DT_OK)
        return DT_ERR_IO;
    f->nout++;
    if (k == DT_KIND_MINIDUMP)
        f->nuser++;
    else
        f->nkernel++;
    return DT_OK;
}

static bool find_done(void *c)
{
    find_ctx *f = c;
    /* A series may follow the first pair: the walk goes on to the end
     * unless the archive filled every place. */
    return f->nuser == DT_UNPACK_MAX_USERS && f->nkernel == DT_UNPACK_MAX_USERS;
}

dt_status dt_unpack_job_archive(const char *data_dir, const char *work_dir, const char *archive,
                                const dt_unpack_limits *lim, dt_unpack_found *res, dt_error *err)
{
    find_ctx *f = calloc(1, sizeof *f);
    if (f)
        f->blobs = dt_blob_store_at(data_dir, NULL);
    if (!f || !f->blobs) {
        free(f);
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    }
    f->work_dir = work_dir;
    f->lim = lim;
    dt_spool_init(&f->sp);
    dt_walk_limits wl = walk_limits(lim);
    dt_walk_hooks h = { find_begin, find_data, find_end, find_done };
    dt_status rc = dt_archive_walk(archive, &wl, &h, f, NULL, err);
    if (f->open)
        dt_spool_abort(&f->sp);
    /* Damage after a dump was found: keep what was found. */
    if (rc == DT_ERR_FORMAT && f->nout > 0)
        rc = DT_OK;
    if (rc == DT_OK && f->nout == 0)
        rc = f->rejected[0] ? dt_error_set(err, DT_ERR_FORMAT, "the archive holds no usable dump (%s)", f->rejected)
                            : dt_error_set(err, DT_ERR_FORMAT, "the archive holds no minidump or kernel dump");
    if (rc == DT_OK) {
        memcpy(res->files, f->out, sizeof res->files);
        res->n = f->nout;
    }
    dt_blob_store_free(f->blobs);
    free(f);
    return rc;
}

dt_status dt_archive_unpack_ex(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                               dt_file_rec *out, int *nout, bool *cancelled, dt_error *err)
{
    *nout = 0;
    char work[1200];
    if (make_work_dir(data_dir, work, sizeof work, err) != DT_OK)
        return DT_ERR_IO;
    char helper[1200], lims[200];
    if (dt_limited_helper_path(DT_UNPACK_HELPER, helper, sizeof helper) != 0) {
        remove_work_dir(work);
        return dt_error_set(err, DT_ERR_IO, "cannot find %s beside the server binary", DT_UNPACK_HELPER);
    }
    dt_unpack_limits_encode(limits, lims, sizeof lims);
    char *argv[] = { helper, "archive", (char *)data_dir, work, (char *)archive_path, lims, NULL };
    dt_unpack_found res = { 0 };
    dt_child_limits cl = child_limits(limits);
    dt_error cerr = { 0 };
    dt_status rc = dt_limited_run(&cl, argv, &res, sizeof res, cancelled, &cerr);
    remove_work_dir(work);
    if (rc != DT_OK) {
        /* The child's own messages are complete sentences; a limit that
         * ended it says what the unpacking did. */
        static const char *const killed[] = { "took longer", "used more", "wrote a file", "was killed", "ended with",
                                              "could not start" };
        bool by_limit = false;
        for (size_t i = 0; i < sizeof killed / sizeof killed[0]; i++)
            by_limit |= strncmp(cerr.message, killed[i], strlen(killed[i])) == 0;
        return dt_error_set(err, rc, "%s%s", by_limit ? "unpacking " : "", cerr.message);
    }
    if (res.n < 0 || res.n > DT_UNPACK_MAX_DUMPS)
        return dt_error_set(err, DT_ERR_IO, "unpacking returned %d dumps", res.n);
    memcpy(out, res.files, sizeof res.files);
    *nout = res.n;
    return DT_OK;
}

dt_status dt_archive_unpack_here(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                                 dt_file_rec *out, int *nout, dt_error *err)
{
    *nout = 0;
    char work[1200];
    if (make_work_dir(data_dir, work, sizeof work, err) != DT_OK)
        return DT_ERR_IO;
    dt_unpack_found res = { 0 };
    dt_status rc = dt_unpack_job_archive(data_dir, work, archive_path, limits, &res, err);
    remove_work_dir(work);
    if (rc == DT_OK) {
        memcpy(out, res.files, sizeof res.files);
        *nout = res.n;
    }
    return rc;
}

dt_status dt_archive_unpack(const char *data_dir, const char *archive_path, const dt_unpack_limits *limits,
                            dt_file_rec *out, int *nout, dt_error *err)
{
    return dt_archive_unpack_ex(data_dir, archive_path, limits, out, nout, NULL, err);
}

/* ---- inflating a .dmp.gz (runs in the child) ---- */

typedef struct {
    const char *gz, *target;
    const dt_unpack_limits *lim;
    int fd;
    uint64_t size, unchecked;
    uint8_t head[DT_SPOOL_HEAD];
    size_t head_len;
    bool began;
} inflate_ctx;

static dt_status inflate_begin(void *c, const char *name, bool raw, bool *want, dt_error *err)
{
    inflate_ctx *f = c;
    (void)name;
    if (!raw || f->began)
        return dt_error_set(err, DT_ERR_FORMAT, "the compressed dump holds an archive, not one dump");
    f->began = true;
    *want = true;
    return DT_OK;
}

static dt_status inflate_data(void *c, const void *buf, size_t len, bool *want, dt_error *err)
{
    inflate_ctx *f = c;
    (void)want;
    if (f->head_len < sizeof f->head) {
        size_t n = sizeof f->head - f->head_len < len ? sizeof f->head - f->head_len : len;
        memcpy(f->head + f->head_len, buf, n);
        f->head_len += n;
    }
    /* The same free-space rule as a spool: checked as bytes are written. */
    f->unchecked += len;
    if (f->lim->min_free && f->unchecked >= DT_SPOOL_FREE_CHECK) {
        f->unchecked = 0;
        struct statvfs v;
        if (fstatvfs(f->fd, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < f->lim->min_free + len)
            return dt_error_set(err, DT_ERR_IO, "not enough free space on the server (%llu bytes are kept free)",
                                (unsigned long long)f->lim->min_free);
    }
    const char *p = buf;
    while (len) {
        ssize_t w = write(f->fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return dt_error_set(err, DT_ERR_IO, "cannot write the inflated dump: %s", strerror(errno));
        }
        p += w;
        len -= (size_t)w;
        f->size += (uint64_t)w;
    }
    return DT_OK;
}

static dt_status inflate_end(void *c, bool complete, dt_error *err)
{
    (void)c;
    (void)complete;
    (void)err;
    return DT_OK;
}

dt_status dt_unpack_job_inflate(const char *gz, const char *target, const dt_unpack_limits *lim, uint64_t *size,
                                dt_error *err)
{
    inflate_ctx ctx = { .gz = gz, .target = target, .lim = lim, .fd = -1, .unchecked = DT_SPOOL_FREE_CHECK };
    inflate_ctx *f = &ctx;
    f->fd = open(f->target, O_WRONLY | O_TRUNC | O_CLOEXEC);
    if (f->fd < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot open %s: %s", f->target, strerror(errno));
    dt_walk_limits wl = walk_limits(f->lim);
    wl.max_entries = 1;
    dt_walk_hooks h = { inflate_begin, inflate_data, inflate_end, NULL };
    dt_status rc = dt_archive_walk(f->gz, &wl, &h, f, NULL, err);
    close(f->fd);
    if (rc != DT_OK)
        return rc;
    dt_file_kind k = dt_sniff(f->head, f->head_len);
    if (!dt_file_kind_is_dump(k))
        return dt_error_set(err, DT_ERR_FORMAT, "the compressed file holds no dump");
    if (dt_dump_check(k, f->head, f->head_len, f->size, err) != DT_OK)
        return err ? err->code : DT_ERR_FORMAT;
    *size = f->size;
    return DT_OK;
}

dt_status dt_unpack_input(const char *data_dir, const dt_file_rec *f, const dt_unpack_limits *limits, char *path,
                          size_t path_len, uint64_t *size, bool *temp, bool *cancelled, dt_error *err)
{
    *temp = false;
    if (cancelled)
        *cancelled = false;
    /* A path the analyzer (or the inflating helper) can map: the blob store
     * says where (blob.h), so a remote store would fetch a local copy. */
    char blob[1200];
    dt_blob_store *bs = dt_blob_store_at(data_dir, NULL);
    if (!bs)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    int lp = bs->ops->local_path(bs, f->sha256, blob, sizeof blob, err);
    dt_blob_store_free(bs);
    if (lp != 0)
        return err && err->code ? err->code : DT_ERR_ARG;
    size_t kl = strlen(f->kind);
    if (kl < 5 || strcmp(f->kind + kl - 5, "+gzip") != 0) {
        snprintf(path, path_len, "%s", blob);
        *size = f->size;
        return DT_OK;
    }
    snprintf(path, path_len, "%s/tmp/inflated-XXXXXX", data_dir);
    int fd = mkostemp(path, O_CLOEXEC);
    if (fd < 0)
        return dt_error_set(err, DT_ERR_IO, "cannot create a temp file: %s", strerror(errno));
    close(fd);
    char helper[1200], lims[200];
    dt_error cerr = { 0 };
    dt_status rc = DT_OK;
    uint64_t res = 0;
    if (dt_limited_helper_path(DT_UNPACK_HELPER, helper, sizeof helper) != 0) {
        rc = dt_error_set(&cerr, DT_ERR_IO, "cannot find %s beside the server binary", DT_UNPACK_HELPER);
    } else {
        dt_unpack_limits_encode(limits, lims, sizeof lims);
        char *argv[] = { helper, "inflate", blob, path, lims, NULL };
        dt_child_limits cl = child_limits(limits);
        rc = dt_limited_run(&cl, argv, &res, sizeof res, cancelled, &cerr);
    }
    if (rc != DT_OK) {
        unlink(path);
        return dt_error_set(err, rc, "inflating %s: %s", f->name[0] ? f->name : "the compressed dump", cerr.message);
    }
    *size = res;
    *temp = true;
    return DT_OK;
}
