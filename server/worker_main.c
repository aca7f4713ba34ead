/*
 * worker_main.c — `dumptriage-server worker` (also `dumptriage worker`):
 * analyses only, no HTTP listener.  It runs the same worker pool as `serve`
 * (worker.c) against a store and file root that API servers started with
 * `serve --workers 0` fill, so analysis capacity grows by starting workers
 * on more hosts (docs/operations.md, "Scaling").
 *
 * It takes serve's options (the ones about HTTP are ignored) and the same
 * start-up as serve (instance.c); SIGTERM/SIGINT drain as serve does.
 * Without a wake-up from the API server's process, idle workers look for
 * queued jobs every second (worker.c).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "instance.h"
#include "server.h"
#include "worker.h"
#include "worker_http.h"

int dt_cli_worker(int argc, char **argv);

static const char worker_head[] =
    "usage: dumptriage worker [--database SQLITE-FILE|postgresql://…] [--blob-dir DIR] [--workers N] [options]\n"
    "\n"
    "Runs analyses only (no HTTP listener): N workers lease queued jobs from the\n"
    "store, run the analyzer under limits and store the reports.  API servers\n"
    "started with `serve --workers 0` on the same store and blob directory\n"
    "receive the uploads.  With --data-dir alone, the store is the SQLite file\n"
    "in it (workers on one host only: SQLite must not be shared over NFS).\n"
    "\n"
    "Options that apply: --data-dir, --database, --blob-dir, --workers (default 2),\n"
    "--analyzer, --migrations-dir, --symbols, --analysis-*, --unpack-*,\n"
    "--max-unpacked-size, --max-archive-*, --max-entry-ratio, --min-free-space,\n"
    "--drain-grace, --lease, --metrics-listen, --test-hooks.  Each is also DT_<OPTION> in the\n"
    "environment.  The others (HTTP, uploads, retention) are serve's and are\n"
    "ignored here.  The full list:\n\n";

int dt_cli_worker(int argc, char **argv)
{
    static dt_server srv_storage; /* large; lives for the whole command */
    dt_server *srv = &srv_storage;
    memset(srv, 0, sizeof *srv);
    srv->role = "worker";
    char err[512];
    int pr = dt_config_parse(&srv->cfg, argc, argv, err, sizeof err);
    if (pr == 1) {
        fputs(worker_head, stdout);
        const char *help = dt_config_help();
        const char *opts = strstr(help, "options:\n");
        fputs(opts ? opts + 9 : help, stdout);
        return 0;
    }
    if (pr == 0 && srv->cfg.workers < 1)
        snprintf(err, sizeof err, "--workers must be 1..64 for a worker"), pr = -1;
    if (pr < 0) {
        fprintf(stderr, "dumptriage worker: %s\n(see dumptriage worker --help)\n", err);
        return 2;
    }
    dt_instance inst;
    if (dt_instance_start(srv, "worker", 0, &inst) != 0)
        return 1;

    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    dt_error serr = { 0 };
    if (dt_workers_start(srv, &serr) != DT_OK) {
        fprintf(stderr, "dumptriage worker: %s\n", serr.message);
        dt_workers_stop(srv);
        dt_instance_end(srv, &inst);
        return 1;
    }
    struct dt_worker_http *http = NULL;
    unsigned mport = 0;
    if (srv->cfg.metrics_listen[0]) {
        http = dt_worker_http_start(srv, srv->cfg.metrics_listen, &mport, &serr);
        if (!http) {
            fprintf(stderr, "dumptriage worker: %s\n", serr.message);
            dt_workers_stop(srv);
            dt_instance_end(srv, &inst);
            return 1;
        }
    }
    fprintf(stderr, "dumptriage worker: running %d workers as %s (blobs in %s)\n", srv->cfg.workers, srv->instance,
            srv->cfg.data_dir);
    if (http)
        fprintf(stderr, "dumptriage worker: metrics on port %u\n", mport);
    fflush(stderr);

    int sig = 0;
    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGTERM || sig == SIGINT)
            break;
    }
    fprintf(stderr, "dumptriage worker: %s: draining (up to %u s for running analyses)\n",
            sig == SIGTERM ? "SIGTERM" : "SIGINT", srv->cfg.drain_grace);
    dt_workers_stop(srv);
    dt_worker_http_stop(http);
    pthread_cond_destroy(&srv->wake);
    pthread_mutex_destroy(&srv->mu);
    dt_instance_end(srv, &inst);
    fprintf(stderr, "dumptriage worker: stopped\n");
    return 0;
}
