/*
 * test_symsrv.c — symbol paths and the symbol-server client against a real
 * HTTP server on loopback (tests/tools/symserver.py) serving a symstore tree
 * built from the real PDBs in tests/data, and misbehaving on purpose: slow,
 * 500, endless body, corrupt CAB, file.ptr redirects.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "dt_test.h"
#include "symbols/symbol_path.h"
#include "symbols/symsrv.h"

#define PDB_NAME "dump_syms_regtest64.pdb"
#define PDB_ID "72E103A85CB249078B76B2E7C06257B13"

static char work[256];
static pid_t server_pid;
static int server_port;

static void sh(const char *fmt, const char *a, const char *b)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, fmt, a, b);
    ck_assert_msg(system(cmd) == 0, "%s", cmd);
}

static void start_server(void)
{
    snprintf(work, sizeof work, "/tmp/dt-symsrv-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(work));
    char store[300];
    snprintf(store, sizeof store, "%s/store", work);
    char dir[400];
    snprintf(dir, sizeof dir, "%s/" PDB_NAME "/" PDB_ID, store);
    sh("mkdir -p %s%s", dir, "");
    sh("cp %s %s/" PDB_NAME, dt_test_data("symbols/breakpad__dump_syms_regtest64.pdb"), dir);
    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    server_pid = fork();
    if (server_pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        char errpath[300];
        snprintf(errpath, sizeof errpath, "%s/server.err", work);
        FILE *e = fopen(errpath, "w");
        if (e)
            dup2(fileno(e), 2);
        char script[512];
        snprintf(script, sizeof script, "%s/tests/tools/symserver.py", getenv("DT_SOURCE_DIR"));
        execlp("python3", "python3", script, store, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[32] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    ck_assert_int_gt(n, 0);
    server_port = atoi(buf);
    ck_assert_int_gt(server_port, 0);
}

static void stop_server(void)
{
    if (server_pid > 0) {
        kill(server_pid, SIGTERM);
        waitpid(server_pid, NULL, 0);
        server_pid = 0;
    }
    sh("cat %s/server.err >&2; rm -rf %s", work, work);
}

static void fixture_up(void) { start_server(); }
static void fixture_down(void) { stop_server(); }

static dt_status get_via(const char *mode, const char *cache, const dt_symsrv_options *opt, const char *name,
                         const char *id, char **path, dt_error *err)
{
    char text[1024];
    snprintf(text, sizeof text, "srv*%s*http://127.0.0.1:%d/%s", cache, server_port, mode);
    dt_sympath p;
    ck_assert_int_eq(dt_sympath_parse(text, NULL, &p, err), DT_OK);
    ck_assert_int_eq(p.count, 1);
    dt_symsrv *s = dt_symsrv_new(opt);
    dt_status st = dt_symsrv_get(s, &p.items[0], name, id, path, err);
    dt_symsrv_free(s);
    dt_sympath_free(&p);
    return st;
}

static int same_file(const char *a, const char *b)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cmp -s '%s' '%s'", a, b);
    return system(cmd) == 0;
}

START_TEST(symbol_path_syntax)
{
    dt_sympath p;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_sympath_parse("C:\\syms ; srv*/c1*/c2*https://msdl.example/download/symbols;"
                                      "cache*/cc;srv*http://a.example;symsrv*symsrv.dll*/c3*http://b.example;"
                                      "srv*/mnt/share",
                                      "/default", &p, &err),
                     DT_OK);
    ck_assert_int_eq(p.count, 5);
    ck_assert_str_eq(p.items[0].dir, "C:\\syms");
    ck_assert_ptr_null(p.items[0].url);
    ck_assert_str_eq(p.items[1].url, "https://msdl.example/download/symbols");
    ck_assert_int_eq(p.items[1].ncaches, 2);
    ck_assert_str_eq(p.items[1].caches[0], "/c1");
    ck_assert_str_eq(p.items[2].caches[0], "/cc"); /* from cache*DIR */
    ck_assert_str_eq(p.items[3].caches[0], "/c3");
    ck_assert_str_eq(p.items[3].url, "http://b.example");
    ck_assert_str_eq(p.items[4].dir, "/mnt/share"); /* a server that is a path */
    ck_assert_str_eq(p.items[4].caches[0], "/cc");
    dt_sympath_free(&p);
    ck_assert_int_eq(dt_sympath_parse("srv*", NULL, &p, &err), DT_ERR_FORMAT);
    ck_assert_msg(strstr(err.message, "names no server") != NULL, "%s", err.message);
    ck_assert_int_eq(dt_sympath_parse("C:\\syms;srv*C:\\cache*", NULL, &p, &err), DT_ERR_FORMAT);
    ck_assert(!dt_symsrv_valid_key("../../etc/passwd", "AB"));
    ck_assert(!dt_symsrv_valid_key("a.pdb", "AB/CD"));
    ck_assert(dt_symsrv_valid_key(PDB_NAME, PDB_ID));
}
END_TEST

START_TEST(downloads_into_cache_then_works_offline)
{
    char cache[300], *path = NULL;
    snprintf(cache, sizeof cache, "%s/cache", work);
    dt_error err = { 0 };
    dt_status st = get_via("store", cache, NULL, PDB_NAME, PDB_ID, &path, &err);
    ck_assert_msg(st == DT_OK, "%s", err.message);
    ck_assert_msg(strstr(path, cache) == path, "%s", path);
    ck_assert(same_file(path, dt_test_data("symbols/breakpad__dump_syms_regtest64.pdb")));
    free(path);
    /* offline, from the cache */
    dt_symsrv_options off = { .offline = 1 };
    ck_assert_int_eq(get_via("store", cache, &off, PDB_NAME, PDB_ID, &path, &err), DT_OK);
    free(path);
    /* a miss is remembered: the second ask does not reach the server */
    ck_assert_int_eq(get_via("store", cache, NULL, "nothere.pdb", "0123ABC1", &path, &err), DT_ERR_NOT_FOUND);
    ck_assert_int_eq(get_via("store", cache, NULL, "nothere.pdb", "0123ABC1", &path, &err), DT_ERR_NOT_FOUND);
    ck_assert_msg(strstr(err.message, "remembered") != NULL, "%s", err.message);
    /* unsafe names never become paths or URLs */
    ck_assert_int_eq(get_via("store", cache, NULL, "..", "AB", &path, &err), DT_ERR_ARG);
}
END_TEST

START_TEST(cab_compressed_and_file_ptr)
{
    if (system("command -v gcab >/dev/null 2>&1") != 0) {
        dt_test_skip("gcab not installed: CAB case untested (scripts/bootstrap.sh --tests installs it)");
        return;
    }
    /* Replace the plain file by its CAB (name.pd_), as Microsoft's server serves it. */
    char dir[400];
    snprintf(dir, sizeof dir, "%s/store/" PDB_NAME "/" PDB_ID, work);
    sh("cd %s && gcab -c -z " "dump_syms_regtest64.pd_ " PDB_NAME " && rm " PDB_NAME "%s", dir, "");
    char cache[300], *path = NULL;
    snprintf(cache, sizeof cache, "%s/cache-cab", work);
    dt_error err = { 0 };
    ck_assert_int_eq(get_via("store", cache, NULL, PDB_NAME, PDB_ID, &path, &err), DT_OK);
    ck_assert(same_file(path, dt_test_data("symbols/breakpad__dump_syms_regtest64.pdb")));
    free(path);
    /* corrupt CAB: a clear error, nothing cached */
    snprintf(cache, sizeof cache, "%s/cache-bad", work);
    ck_assert_int_eq(get_via("garbage", cache, NULL, PDB_NAME, PDB_ID, &path, &err), DT_ERR_CORRUPT);
    ck_assert_msg(strstr(err.message, "corrupt") != NULL, "%s", err.message);
    char final[600];
    snprintf(final, sizeof final, "%s/" PDB_NAME "/" PDB_ID "/" PDB_NAME, cache);
    ck_assert_int_ne(access(final, F_OK), 0);
}
END_TEST

START_TEST(file_ptr_redirect_is_followed)
{
    char cache[300], *path = NULL;
    snprintf(cache, sizeof cache, "%s/cache-ptr", work);
    dt_error err = { 0 };
    ck_assert_int_eq(get_via("ptr", cache, NULL, PDB_NAME, PDB_ID, &path, &err), DT_OK);
    ck_assert(same_file(path, dt_test_data("symbols/breakpad__dump_syms_regtest64.pdb")));
    free(path);
}
END_TEST

START_TEST(failing_servers_give_reasons_within_the_timeout)
{
    char cache[300], *path = NULL;
    snprintf(cache, sizeof cache, "%s/cache-fail", work);
    dt_error err = { 0 };
    ck_assert_int_eq(get_via("e500", cache, NULL, PDB_NAME, PDB_ID, &path, &err), DT_ERR_IO);
    ck_assert_msg(strstr(err.message, "500") != NULL, "%s", err.message);

    dt_symsrv_options small = { .max_bytes = 1 << 20 };
    ck_assert_int_ne(get_via("big", cache, &small, PDB_NAME, PDB_ID, &path, &err), DT_OK);
    ck_assert_msg(strstr(err.message, "limit") != NULL, "%s", err.message);

    dt_symsrv_options quick = { .timeout_ms = 800 };
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    char text[512];
    snprintf(text, sizeof text, "srv*%s*http://127.0.0.1:%d/slow", cache, server_port);
    dt_sympath p;
    ck_assert_int_eq(dt_sympath_parse(text, NULL, &p, &err), DT_OK);
    dt_symsrv *s = dt_symsrv_new(&quick);
    ck_assert_int_ne(dt_symsrv_get(s, &p.items[0], PDB_NAME, PDB_ID, &path, &err), DT_OK);
    ck_assert_msg(strstr(err.message, "timed out") != NULL, "%s", err.message);
    /* the same server is not asked again in this analysis */
    ck_assert_int_ne(dt_symsrv_get(s, &p.items[0], "other.pdb", "AB12", &path, &err), DT_OK);
    ck_assert_msg(strstr(err.message, "skipped") != NULL, "%s", err.message);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double secs = (double)(b.tv_sec - a.tv_sec) + (double)(b.tv_nsec - a.tv_nsec) / 1e9;
    ck_assert_msg(secs < 5, "took %.1f s", secs);
    dt_symsrv_free(s);
    dt_sympath_free(&p);
    /* nothing half-written was left in the cache */
    char cmd[600];
    snprintf(cmd, sizeof cmd, "test -z \"$(find %s -name '.dt-download-*')\"", cache);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("symsrv");
    TCase *tc = tcase_create("http");
    tcase_add_checked_fixture(tc, fixture_up, fixture_down);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, symbol_path_syntax);
    tcase_add_test(tc, downloads_into_cache_then_works_offline);
    tcase_add_test(tc, cab_compressed_and_file_ptr);
    tcase_add_test(tc, file_ptr_redirect_is_followed);
    tcase_add_test(tc, failing_servers_give_reasons_within_the_timeout);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
