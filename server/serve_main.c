/*
 * serve_main.c — `dumptriage-server serve` (also reached as `dumptriage
 * serve`): configuration, start-up recovery, the HTTP daemon and workers,
 * and the SIGTERM drain.
 *
 * Start-up order matters for crash safety: take the data directory's lock
 * (one server per data directory, so every lease found at start belongs to
 * a dead process), remove half-received temp files, migrate the schema,
 * requeue leased jobs, drop blobs no row refers to (renamed just before a
 * crash, never acknowledged), then accept connections.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "blob.h"
#include "blob_gc.h"
#include "tus.h"
#include "config.h"
#include "http.h"
#include "retention.h"
#include "secrets.h"
#include "server.h"
#include "worker.h"

int dt_cli_serve(int argc, char **argv);

dt_store *dt_server_store(dt_server *srv)
{
    dt_error err = { 0 };
    dt_store *st = dt_store_open(srv->db_path, NULL, &err);
    if (!st)
        fprintf(stderr, "dumptriage serve: %s\n", err.message);
    return st;
}

void dt_server_notify_job(dt_server *srv)
{
    pthread_mutex_lock(&srv->mu);
    pthread_cond_broadcast(&srv->wake);
    pthread_mutex_unlock(&srv->mu);
}

/* Removes blobs that no file row names, checked in batches so the blob lock
 * is taken once per batch, not once per stored file. */
static int collect_orphan_blobs(dt_server *srv, dt_store *st)
{
    char blobs[1200];
    snprintf(blobs, sizeof blobs, "%s/blobs", srv->cfg.data_dir);
    DIR *d = opendir(blobs);
    if (!d)
        return 0;
    enum { BATCH = 256 };
    char names[BATCH][65];
    char *batch[BATCH];
    size_t n = 0;
    int removed = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strlen(e->d_name) != 2 || strspn(e->d_name, "0123456789abcdef") != 2)
            continue;
        char sub[1300];
        snprintf(sub, sizeof sub, "%.1200s/%.2s", blobs, e->d_name);
        DIR *s = opendir(sub);
        if (!s)
            continue;
        struct dirent *f;
        while ((f = readdir(s))) {
            if (strlen(f->d_name) != 62)
                continue;
            snprintf(names[n], sizeof names[n], "%.2s%.62s", e->d_name, f->d_name);
            batch[n] = names[n];
            if (++n == BATCH) {
                removed += (int)dt_blob_gc(srv->cfg.data_dir, st, batch, n);
                n = 0;
            }
        }
        closedir(s);
    }
    closedir(d);
    removed += (int)dt_blob_gc(srv->cfg.data_dir, st, batch, n);
    return removed;
}

static int setup_admin(dt_server *srv, dt_store *st)
{
    char token[80];
    dt_error err = { 0 };
    if (srv->cfg.admin_token[0]) {
        if (dt_store_token_create(st, DT_ROLE_STAFF, "admin", srv->cfg.admin_token, NULL, 0, NULL, &err) != DT_OK) {
            fprintf(stderr, "dumptriage serve: --admin-token: %s\n", err.message);
            return -1;
        }
        return 0;
    }
    if (dt_store_has_staff(st))
        return 0;
    if (dt_store_token_create(st, DT_ROLE_STAFF, "admin", NULL, token, sizeof token, NULL, &err) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", err.message);
        return -1;
    }
    fprintf(stderr, "dumptriage serve: created the admin (staff) token; it is shown only this once:\n"
                    "  %s\n", token);
    return 0;
}

/* The analyzer run per job is the lean `dumptriage` installed beside this
 * binary (same directory as /proc/self/exe): it links none of the server's
 * libraries, so each job starts faster and smaller than a copy of the
 * server would.  Checked here, so a broken install fails at start, not on
 * every job. */
static int default_analyzer(char *out, size_t outsz)
{
    char self[1024];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        fprintf(stderr, "dumptriage serve: cannot find my own binary\n");
        return -1;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    int dir_len = slash ? (int)(slash - self) + 1 : 0;
    snprintf(out, outsz, "%.*sdumptriage", dir_len, self);
    if (access(out, X_OK) != 0) {
        fprintf(stderr, "dumptriage serve: the analyzer %s is missing (%s); install it or give --analyzer\n",
                out, strerror(errno));
        return -1;
    }
    return 0;
}

int dt_cli_serve(int argc, char **argv)
{
    static dt_server srv_storage; /* large; lives for the whole command */
    dt_server *srv = &srv_storage;
    memset(srv, 0, sizeof *srv);
    char err[512];
    int pr = dt_config_parse(&srv->cfg, argc, argv, err, sizeof err);
    if (pr == 1) {
        fputs(dt_config_help(), stdout);
        return 0;
    }
    if (pr < 0) {
        fprintf(stderr, "dumptriage serve: %s\n(see dumptriage serve --help)\n", err);
        return 2;
    }
    if (srv->cfg.analyzer[0]) {
        snprintf(srv->analyzer, sizeof srv->analyzer, "%.1100s", srv->cfg.analyzer);
    } else if (default_analyzer(srv->analyzer, sizeof srv->analyzer) != 0) {
        return 1;
    }
    dt_error derr = { 0 };
    if (dt_blob_prepare_dirs(srv->cfg.data_dir, &derr) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", derr.message);
        return 1;
    }
    char lock_path[1200];
    snprintf(lock_path, sizeof lock_path, "%.1100s/server.lock", srv->cfg.data_dir);
    int lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
        fprintf(stderr, "dumptriage serve: another server is using %s\n", srv->cfg.data_dir);
        if (lock_fd >= 0)
            close(lock_fd);
        return 1;
    }
    dt_blob_clean_tmp(srv->cfg.data_dir);
    snprintf(srv->db_path, sizeof srv->db_path, "%.1100s/dumptriage.sqlite", srv->cfg.data_dir);
    dt_store *st = dt_store_open(srv->db_path, srv->cfg.migrations_dir, &derr);
    if (!st) {
        fprintf(stderr, "dumptriage serve: %s\n", derr.message);
        close(lock_fd);
        return 1;
    }
    int requeued = dt_store_requeue_expired(st, 1);
    int orphans = collect_orphan_blobs(srv, st);
    if (requeued > 0 || orphans > 0)
        fprintf(stderr, "dumptriage serve: recovered: %d analyses requeued, %d unreferenced blobs removed\n",
                requeued, orphans);
    if (setup_admin(srv, st) != 0) {
        dt_store_close(st);
        close(lock_fd);
        return 1;
    }
    dt_store_close(st);

    char rnd[17];
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    dt_random_hex(rnd, sizeof rnd, 8);
    snprintf(srv->instance, sizeof srv->instance, "%.40s:%d:%s", host, (int)getpid(), rnd);
    pthread_mutex_init(&srv->mu, NULL);
    pthread_cond_init(&srv->wake, NULL);
    /* Resumable uploads: files cut back to their durable offsets, what a
     * crash interrupted finished, expired ones removed (tus.c). */
    dt_store *tst = dt_store_open(srv->db_path, NULL, &derr);
    if (tst) {
        int n = dt_tus_recover(srv, tst);
        if (n > 0)
            fprintf(stderr, "dumptriage serve: recovered: %d unfinished resumable uploads removed\n", n);
        dt_store_close(tst);
    }

    /* The first sweep runs before the port opens, so a server started after a
     * long stop never serves what it should have deleted. */
    if (srv->cfg.retain_dumps_days || srv->cfg.retain_reports_days || srv->cfg.max_dump_bytes) {
        dt_store *rst = dt_server_store(srv);
        dt_retention_sweep(srv, rst);
        dt_store_close(rst);
    }

    /* Signals are taken by sigwait below; every thread inherits the mask. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    dt_error serr = { 0 };
    if (dt_workers_start(srv, &serr) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", serr.message);
        dt_workers_stop(srv);
        return 1;
    }
    if (dt_retention_start(srv, &serr) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", serr.message);
        dt_workers_stop(srv);
        return 1;
    }
    unsigned port = 0;
    if (dt_http_start(srv, &port, &serr) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", serr.message);
        dt_retention_stop(srv);
        dt_workers_stop(srv);
        close(lock_fd);
        return 1;
    }
    fprintf(stderr, "dumptriage serve: listening on http://%s:%u/ (data in %s, %d workers)\n",
            srv->cfg.listen_host, port, srv->cfg.data_dir, srv->cfg.workers);
    fflush(stderr);

    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    fprintf(stderr, "dumptriage serve: %s: draining (up to %u s for running analyses)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", srv->cfg.drain_grace);
    dt_http_quiesce(srv);
    dt_retention_stop(srv);
    dt_workers_stop(srv);
    dt_http_stop(srv);
    pthread_cond_destroy(&srv->wake);
    pthread_mutex_destroy(&srv->mu);
    close(lock_fd);
    fprintf(stderr, "dumptriage serve: stopped\n");
    return 0;
}
