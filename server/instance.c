/*
 * instance.c — see instance.h.  The start-up order matters for crash
 * safety: lock, migrate, (alone: remove half-received temp files,
 * requeue every lease and tidy resumable uploads), drop blobs no row refers
 * to — renamed just before a crash, never acknowledged; beside live
 * processes only those older than any of them may leave one unreferenced —
 * then share the lock and let the caller accept connections or lease jobs.
 */
#include "instance.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "blob.h"
#include "blob_gc.h"
#include "secrets.h"
#include "tus.h"

dt_store *dt_server_store(dt_server *srv)
{
    dt_error err = { 0 };
    dt_store *st = dt_store_open(srv->db_path, NULL, &err);
    if (!st)
        fprintf(stderr, "dumptriage: %s\n", err.message);
    return st;
}

void dt_server_notify_job(dt_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->mu);
}

/* The analyzer run per job is the lean `dumptriage` installed beside this
 * binary (same directory as /proc/self/exe): it links none of the server's
 * libraries, so each job starts faster and smaller than a copy of the
 * server would.  Checked here, so a broken install fails at start, not on
 * every job. */
static int default_analyzer(const char *cmd, char *out, size_t outsz)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "dumptriage %s: cannot find my own binary\n", cmd);
        return -1;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    int dir_len = slash ? (int)(slash - self) + 1 : 0;
    snprintf(out, outsz, "%.*sdumptriage", dir_len, self);
    if (access(out, X_OK) != 0) {
        fprintf(stderr, "dumptriage %s: the analyzer %s is missing (%s); install it or give --analyzer\n", cmd, out,
                strerror(errno));
        return -1;
    }
    return 0;
}

/* Removes blobs that no file row names (through the blob store's list), in
 * batches so the blob lock is taken once per batch, not once per file.
 * With min_age < 0 every one goes; otherwise blobs written less than
 * min_age seconds ago are left alone: a live
 * process places a blob before the row that names it exists (under the
 * blob lock, or for unpacked archive entries before taking it). */
typedef struct {
    dt_server *srv;
    dt_store *st;
    int64_t cutoff;
    char names[256][65];
    char *batch[256];
    size_t n;
    int removed;
} orphan_ctx;

static void orphan_flush(orphan_ctx *c)
{
    c->removed += (int)dt_blob_gc(c->srv->cfg.data_dir, c->st, c->batch, c->n);
    c->n = 0;
}

static int orphan_visit(const char *sha256, int64_t written, void *arg)
{
    orphan_ctx *c = arg;
    if (written >= c->cutoff)
        return 0;
    snprintf(c->names[c->n], sizeof c->names[c->n], "%s", sha256);
    c->batch[c->n] = c->names[c->n];
    if (++c->n == sizeof c->names / sizeof c->names[0])
        orphan_flush(c);
    return 0;
}

static int collect_orphan_blobs(dt_server *srv, dt_store *st, int64_t min_age)
{
    orphan_ctx *c = calloc(1, sizeof *c);
    if (!c)
        return 0;
    c->srv = srv;
    c->st = st;
    /* Alone, even a blob placed this very second by the killed process
     * before us is an orphan: no cutoff at all, or one placed in the
     * second of the restart would survive it. */
    c->cutoff = min_age < 0 ? INT64_MAX : (int64_t)time(NULL) - min_age;
    dt_error err = { 0 };
    dt_blob_store *bs = dt_blob_store_open(&srv->cfg, NULL);
    if (bs && bs->ops->list(bs, orphan_visit, c, &err) != DT_OK)
        fprintf(stderr, "dumptriage: listing blobs: %s\n", err.message);
    orphan_flush(c);
    dt_blob_store_free(bs);
    int removed = c->removed;
    free(c);
    return removed;
}

int64_t dt_instance_tmp_max_idle(const dt_server_config *cfg)
{
    int64_t work = (int64_t)cfg->analysis_timeout + 2 * (int64_t)cfg->unpack_timeout + 3600;
    int64_t body = (int64_t)cfg->body_timeout + 3600;
    int64_t idle = work > body ? work : body;
    return idle > 86400 ? idle : 86400;
}

/* Beside live processes: only temp entries nobody has touched for longer
 * than any of them may leave one idle. */
static int clean_stale_tmp(const dt_server_config *cfg)
{
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/tmp", cfg->data_dir);
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    time_t cutoff = time(NULL) - (time_t)dt_instance_tmp_max_idle(cfg);
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) != 0 || sb.st_mtime >= cutoff)
            continue;
        if (S_ISDIR(sb.st_mode))
            dt_blob_remove_dir(p);
        else
            unlink(p);
        removed++;
    }
    closedir(d);
    return removed;
}

static int setup_admin(dt_server *srv, dt_store *st, const char *cmd)
{
    char token[80];
    dt_error err = { 0 };
    if (srv->cfg.admin_token[0]) {
        if (dt_store_token_create(st, DT_ROLE_STAFF, "admin", srv->cfg.admin_token, NULL, 0, NULL, &err) != DT_OK) {
            fprintf(stderr, "dumptriage %s: --admin-token: %s\n", cmd, err.message);
            return -1;
        }
        return 0;
    }
    if (dt_store_has_staff(st))
        return 0;
    if (dt_store_token_create(st, DT_ROLE_STAFF, "admin", NULL, token, sizeof token, NULL, &err) != DT_OK) {
        fprintf(stderr, "dumptriage %s: %s\n", cmd, err.message);
        return -1;
    }
    fprintf(stderr, "dumptriage %s: created the admin (staff) token; it is shown only this once:\n"
                    "  %s\n", cmd, token);
    return 0;
}

int dt_instance_start(dt_server *srv, const char *cmd, int serves_http, dt_instance *inst)
{
    memset(inst, 0, sizeof *inst);
    inst->lock_fd = -1;
    if (srv->cfg.analyzer[0]) {
        snprintf(srv->analyzer, sizeof srv->analyzer, "%.1100s", srv->cfg.analyzer);
    } else if (default_analyzer(cmd, srv->analyzer, sizeof srv->analyzer) != 0) {
        return -1;
    }
    snprintf(srv->db_path, sizeof srv->db_path, "%s", srv->cfg.database);
    dt_error derr = { 0 };
    if (dt_blob_prepare_dirs(srv->cfg.data_dir, &derr) != DT_OK) {
        fprintf(stderr, "dumptriage %s: %s\n", cmd, derr.message);
        return -1;
    }
    /* Every process on this data directory (and the unpacking child, which
     * gets only the directory) opens the store recorded here (blob.h). */
    if (dt_blob_store_record(srv->cfg.data_dir, srv->cfg.blob_store, srv->cfg.s3_endpoint, srv->cfg.s3_bucket,
                             srv->cfg.s3_region, &derr) != DT_OK) {
        fprintf(stderr, "dumptriage %s: %s\n", cmd, derr.message);
        return -1;
    }
    dt_blob_store *probe = dt_blob_store_open(&srv->cfg, &derr);
    if (!probe) {
        fprintf(stderr, "dumptriage %s: blob store: %s\n", cmd, derr.message);
        return -1;
    }
    dt_blob_store_free(probe);
    char lock_path[1200];
    snprintf(lock_path, sizeof lock_path, "%.1100s/server.lock", srv->cfg.data_dir);
    inst->lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (inst->lock_fd < 0) {
        fprintf(stderr, "dumptriage %s: cannot open %s: %s\n", cmd, lock_path, strerror(errno));
        return -1;
    }
    /* Exclusive if nobody else runs; otherwise wait (a process that is
     * alone holds it exclusively only through its recovery) and share. */
    if (flock(inst->lock_fd, LOCK_EX | LOCK_NB) == 0) {
        inst->alone = 1;
    } else {
        while (flock(inst->lock_fd, LOCK_SH) != 0) {
            if (errno != EINTR) {
                fprintf(stderr, "dumptriage %s: cannot lock %s: %s\n", cmd, lock_path, strerror(errno));
                dt_instance_end(srv, inst);
                return -1;
            }
        }
    }
    dt_store *st = dt_store_open(srv->db_path, srv->cfg.migrations_dir, &derr);
    if (!st) {
        fprintf(stderr, "dumptriage %s: %s\n", cmd, derr.message);
        dt_instance_end(srv, inst);
        return -1;
    }
    /* A shared store (PostgreSQL) may have workers on other hosts whose
     * locks this host cannot see if the filesystem does not pass flock on:
     * their leases and temp files are never assumed dead.  Heartbeats make
     * a dead worker's lease run out soon anyway. */
    int recover_all = inst->alone && !dt_store_is_shared(st);
    if (recover_all)
        dt_blob_clean_tmp(srv->cfg.data_dir);
    else
        inst->tmp_removed = clean_stale_tmp(&srv->cfg);
    inst->requeued = dt_store_requeue_expired(st, recover_all);
    /* Alone (on a store nobody else can reach), every unreferenced blob is
     * an orphan of a dead process.  Beside live ones (on any host), only those older than a live process
     * may take between placing a blob and committing its row; the blob lock
     * (which must hold across hosts, docs/operations.md) closes the race
     * with an upload of the same content either way. */
    inst->orphans = collect_orphan_blobs(srv, st, recover_all ? -1 : dt_instance_tmp_max_idle(&srv->cfg));
    if (inst->requeued > 0 || inst->orphans > 0 || inst->tmp_removed > 0)
        fprintf(stderr, "dumptriage %s: recovered: %d analyses requeued, %d unreferenced blobs removed, %d stale temp files removed\n",
                cmd, inst->requeued > 0 ? inst->requeued : 0, inst->orphans, inst->tmp_removed);
    if (serves_http && setup_admin(srv, st, cmd) != 0) {
        dt_store_close(st);
        dt_instance_end(srv, inst);
        return -1;
    }

    char rnd[17];
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    dt_random_hex(rnd, sizeof rnd, 8);
    /* Fits dt_job.owner (64) whole: a cut name would not match the lease. */
    snprintf(srv->instance, sizeof srv->instance, "%.30s:%d:%s", host, (int)getpid(), rnd);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->wake, NULL);
    /* Resumable uploads: files cut back to their durable offsets, what a
     * crash interrupted finished, expired ones removed (tus.c).  Only when
     * alone: another live server may be appending to those files. */
    if (recover_all) {
        int n = dt_tus_recover(srv, st);
        if (n > 0)
            fprintf(stderr, "dumptriage %s: recovered: %d unfinished resumable uploads removed\n", cmd, n);
    } else {
        /* Nothing to tidy beside live processes (or on a shared store), but
         * this process's own resumable uploads need the directory that
         * dt_tus_recover would have made. */
        char tus[1200];
        snprintf(tus, sizeof tus, "%.1100s/tus", srv->cfg.data_dir);
        if (mkdir(tus, 0750) != 0 && errno != EEXIST)
            fprintf(stderr, "dumptriage %s: cannot create %s: %s\n", cmd, tus, strerror(errno));
    }
    dt_store_close(st);
    if (inst->alone)
        flock(inst->lock_fd, LOCK_SH); /* converts: others may start now */
    return 0;
}

void dt_instance_end(dt_server *srv, dt_instance *inst)
{
    (void)srv;
    if (inst->lock_fd >= 0)
        close(inst->lock_fd);
    inst->lock_fd = -1;
}
