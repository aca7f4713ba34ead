/*
 * serve_main.c — `dumptriage-server serve` (also reached as `dumptriage
 * serve`): configuration, start-up recovery, the HTTP daemon and workers,
 * and the SIGTERM drain.
 *
 * Start-up (lock, recovery, migrations) is instance.c's, shared with the
 * `worker` command; several servers and workers may run on one store and
 * file root (docs/operations.md, "Scaling").  `--workers 0` receives and
 * serves only.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "http.h"
#include "instance.h"
#include "db.h"
#include "retention.h"
#include "server.h"
#include "store_pool.h"
#include "worker.h"

int dt_cli_serve(int argc, char **argv);

int dt_cli_serve(int argc, char **argv)
{
    static dt_server srv_storage; /* large; lives for the whole command */
    dt_server *srv = &srv_storage;
    memset(srv, 0, sizeof *srv);
    srv->role = "serve";
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
    dt_instance inst;
    if (dt_instance_start(srv, "serve", 1, &inst) != 0)
        return 1;
    /* A PostgreSQL connection costs a server process and a handshake: the
     * handlers reuse theirs.  A SQLite file is opened per request. */
    if (dt_db_target_is_pg(srv->db_path))
        srv->store_pool = dt_store_pool_new(srv->db_path, 16);

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
        dt_instance_end(srv, &inst);
        return 1;
    }
    if (dt_retention_start(srv, &serr) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", serr.message);
        dt_workers_stop(srv);
        dt_instance_end(srv, &inst);
        return 1;
    }
    unsigned port = 0;
    if (dt_http_start(srv, &port, &serr) != DT_OK) {
        fprintf(stderr, "dumptriage serve: %s\n", serr.message);
        dt_retention_stop(srv);
        dt_workers_stop(srv);
        dt_instance_end(srv, &inst);
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
    dt_store_pool_free(srv->store_pool);
    srv->store_pool = NULL;
    pthread_cond_destroy(&srv->wake);
    pthread_mutex_destroy(&srv->mu);
    dt_instance_end(srv, &inst);
    fprintf(stderr, "dumptriage serve: stopped\n");
    return 0;
}
