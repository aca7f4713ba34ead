/*
 * test_symbol_store.c — finding PDBs, .sym files and images in symbol
 * directories: symstore layout, Breakpad's stripped layout, case-insensitive
 * names, flat directories with identity checks, the environment path, and
 * refusal of hostile names taken from dumps.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dt_test.h"
#include "symbols/symstore.h"
#include "symbols/symbol_path.h"
#include "config.h"

static void copy_file(const char *from, const char *to)
{
    size_t n;
    unsigned char *b = dt_test_read_file(from, &n);
    ck_assert_ptr_nonnull(b);
    FILE *f = fopen(to, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(b, 1, n, f), n);
    fclose(f);
    free(b);
}

static void mkdirs(const char *root, const char *rel)
{
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    for (char *s = p + strlen(root) + 1; *s; s++) {
        if (*s == '/') {
            *s = 0;
            mkdir(p, 0755);
            *s = '/';
        }
    }
    mkdir(p, 0755);
}

static char tmp[256];

static void rm_tree(void)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    ck_assert_int_eq(system(cmd), 0);
}

static char *contains(char *path, const char *suffix)
{
    ck_assert_msg(path != NULL, "expected to find %s", suffix);
    ck_assert_msg(strlen(path) >= strlen(suffix) && strcmp(path + strlen(path) - strlen(suffix), suffix) == 0,
                  "%s does not end in %s", path, suffix);
    free(path);
    return NULL;
}

START_TEST(store_layouts)
{
    snprintf(tmp, sizeof tmp, "/tmp/dt_symstore_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char to[4096];
    mkdirs(tmp, "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1");
    snprintf(to, sizeof to, "%s/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym", tmp);
    copy_file(dt_test_data("symbols/breakpad__test_app.sym"), to);
    mkdirs(tmp, "kernel32/BCE8785C57B44245A669896B6A19B9542");
    snprintf(to, sizeof to, "%s/kernel32/BCE8785C57B44245A669896B6A19B9542/kernel32.sym", tmp);
    copy_file(dt_test_data("symbols/breakpad__kernel32.sym"), to);
    mkdirs(tmp, "flat");
    snprintf(to, sizeof to, "%s/flat/crash.sym", tmp);
    copy_file(dt_test_data("symbols/symbolic__crash.sym"), to);

    char flat[300];
    snprintf(flat, sizeof flat, "%s/flat", tmp);
    const char *dirs[] = { tmp, dt_test_data("symstore-kernel"), flat };
    dt_symstore s;
    ck_assert(dt_symstore_init(&s, dirs, 3, dt_test_data("wine/bin/clang"), NULL, NULL) == DT_OK);
    ck_assert_uint_eq(s.ndirs, 4);

    /* Breakpad: name.pdb/ID/name.sym and the stripped name/ID/name.sym */
    contains(dt_symstore_find_breakpad(&s, "test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF1"),
             "/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym");
    contains(dt_symstore_find_breakpad(&s, "c:\\symbols\\kernel32.pdb", "BCE8785C57B44245A669896B6A19B9542"),
             "/kernel32/BCE8785C57B44245A669896B6A19B9542/kernel32.sym");
    ck_assert_ptr_null(dt_symstore_find_breakpad(&s, "test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF2"));
    /* flat .sym, verified by its MODULE line */
    contains(dt_symstore_find_breakpad(&s, "crash.pdb", "3249D99D0C4049318610F4E4FB0B69361"), "/flat/crash.sym");
    ck_assert_ptr_null(dt_symstore_find_breakpad(&s, "crash.pdb", "3249D99D0C4049318610F4E4FB0B69362"));

    /* PDB in store layout; Windows names in any case */
    contains(dt_symstore_find_pdb(&s, "user32.pdb", "15F778B3671D4EFDBDCDE79905308B792"),
             "/user32.pdb/15F778B3671D4EFDBDCDE79905308B792/user32.pdb");
    contains(dt_symstore_find_pdb(&s, "USER32.PDB", "15f778b3671d4efdbdcde79905308b792"),
             "/user32.pdb/15F778B3671D4EFDBDCDE79905308B792/user32.pdb");
    contains(dt_symstore_find_pdb(&s, "amdppm.pdb", "1C19FDDB27BB3399D9B45973EFEAFCF31"),
             "/amdppm.pdb/1C19FDDB27BB3399D9B45973EFEAFCF31/amdppm.pdb");
    /* flat PDB (from the path list): GUID must match, module age <= PDB age */
    contains(dt_symstore_find_pdb(&s, "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E1"),
             "/wine/bin/clang/multi_hang.pdb");
    contains(dt_symstore_find_pdb(&s, "Multi_Hang.PDB", "fcbc69126efd93014c4c44205044422e1"),
             "/wine/bin/clang/multi_hang.pdb");
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E2"));
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422F1"));

    /* images: store layout (lower-case id directory) and flat */
    contains(dt_symstore_find_image(&s, "Wdf01000.sys", "A9A9D36ED1000"), "/Wdf01000.sys/a9a9d36ed1000/Wdf01000.sys");
    contains(dt_symstore_find_image(&s, "\\SystemRoot\\system32\\drivers\\AMDPPM.SYS", "C9C030003B000"),
             "/amdppm.sys/c9c030003b000/amdppm.sys");
    contains(dt_symstore_find_image(&s, "multi_hang.exe", "6B0CB6913D000"), "/wine/bin/clang/multi_hang.exe");
    ck_assert_ptr_null(dt_symstore_find_image(&s, "multi_hang.exe", "6B0CB6913E000"));

    /* hostile names and ids never reach the file system */
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "..", "15F778B3671D4EFDBDCDE79905308B792"));
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "user32.pdb", "../user32.pdb"));
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "user32.pdb", ""));
    ck_assert_ptr_null(dt_symstore_find_image(&s, "a\x01.exe", "6B0CB6913D000"));
    ck_assert_ptr_null(dt_symstore_find_image(&s, "", "6B0CB6913D000"));
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, NULL, "15F778B3671D4EFDBDCDE79905308B792"));
    dt_symstore_free(&s);
    rm_tree();
}
END_TEST

START_TEST(path_lists_and_id_rule)
{
    dt_symstore s;
    const char *dirs[] = { "/a/" };
    ck_assert(dt_symstore_init(&s, dirs, 1, "/b;/c:/d;;", NULL, NULL) == DT_OK);
    ck_assert_uint_eq(s.ndirs, 4);
    ck_assert_str_eq(s.dirs[0], "/a");
    ck_assert_str_eq(s.dirs[1], "/b");
    ck_assert_str_eq(s.dirs[3], "/d");
    dt_symstore_free(&s);
    ck_assert(dt_symstore_pdb_id_matches("15F778B3671D4EFDBDCDE79905308B792", "15F778B3671D4EFDBDCDE79905308B793"));
    ck_assert(!dt_symstore_pdb_id_matches("15F778B3671D4EFDBDCDE79905308B794", "15F778B3671D4EFDBDCDE79905308B793"));
    ck_assert(!dt_symstore_pdb_id_matches("15F778B3", "15F778B3671D4EFDBDCDE79905308B793"));
    ck_assert(!dt_symstore_pdb_id_matches("15F778B3671D4EFDBDCDE79905308B79x", "15F778B3671D4EFDBDCDE79905308B793"));
}
END_TEST

/* A symbol path with a real HTTP symbol server (tests/tools/symserver.py)
 * serving multi_hang.pdb and multi_hang.exe; they land in the cache and are
 * identity-checked like flat files. */
START_TEST(symbol_server_path)
{
    snprintf(tmp, sizeof tmp, "/tmp/dt_symstore_srv_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp));
    char to[4096];
    mkdirs(tmp, "store/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1");
    snprintf(to, sizeof to, "%s/store/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb", tmp);
    copy_file(dt_test_data("wine/bin/clang/multi_hang.pdb"), to);
    mkdirs(tmp, "store/multi_hang.exe/6B0CB6913D000");
    snprintf(to, sizeof to, "%s/store/multi_hang.exe/6B0CB6913D000/multi_hang.exe", tmp);
    copy_file(dt_test_data("wine/bin/clang/multi_hang.exe"), to);
    /* a wrong file under a right-looking id must be refused */
    mkdirs(tmp, "store/dfpipe.pdb/FCBC69126EFD93014C4C44205044422E1");
    snprintf(to, sizeof to, "%s/store/dfpipe.pdb/FCBC69126EFD93014C4C44205044422E1/dfpipe.pdb", tmp);
    copy_file(dt_test_data("wine/bin/clang/dfpipe.pdb"), to); /* GUID 2F9BD15F… */
    /* a Breakpad .sym in the Mozilla/Chromium layout: NAME.pdb/ID/NAME.sym */
    mkdirs(tmp, "store/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1");
    snprintf(to, sizeof to, "%s/store/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym", tmp);
    copy_file(dt_test_data("symbols/breakpad__test_app.sym"), to);

    int fds[2];
    ck_assert_int_eq(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        char script[512], store[400];
        const char *src = getenv("DT_SOURCE_DIR");
        snprintf(script, sizeof script, "%s/tests/tools/symserver.py", src ? src : ".");
        snprintf(store, sizeof store, "%s/store", tmp);
        execlp("python3", "python3", script, store, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    char buf[32] = "";
    ssize_t n = read(fds[0], buf, sizeof buf - 1);
    close(fds[0]);
    ck_assert_int_gt(n, 0);
    int port = atoi(buf);
    ck_assert_int_gt(port, 0);

    char path[1024];
    snprintf(path, sizeof path, "srv*%s/cache*http://127.0.0.1:%d/store", tmp, port);
    const char *dirs[] = { path };
    dt_symstore s;
    dt_warnings w = { 0 };
    ck_assert(dt_symstore_init(&s, dirs, 1, NULL, NULL, NULL) == DT_OK);
    s.warnings = &w;
    contains(dt_symstore_find_pdb(&s, "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E1"),
             "/cache/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb");
    contains(dt_symstore_find_image(&s, "multi_hang.exe", "6B0CB6913D000"),
             "/cache/multi_hang.exe/6B0CB6913D000/multi_hang.exe");
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "dfpipe.pdb", "FCBC69126EFD93014C4C44205044422E1"));
    ck_assert_uint_eq(w.count, 1); /* the mismatch is reported */
    ck_assert_ptr_null(dt_symstore_find_pdb(&s, "nothere.pdb", "FCBC69126EFD93014C4C44205044422E1"));
    ck_assert_uint_eq(w.count, 1); /* a plain miss is not a problem */
    contains(dt_symstore_find_breakpad(&s, "c:\\src\\test_app.pdb", "5A9832E5287241C1838ED98914E9B7FF1"),
             "/cache/test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym");
    ck_assert_ptr_null(dt_symstore_find_breakpad(&s, "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E1"));
    ck_assert_uint_eq(w.count, 1);
    dt_symstore_free(&s);
    dt_warnings_free(&w);

    /* once cached, no server is needed: a path naming only the cache */
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    snprintf(path, sizeof path, "srv*%s/cache", tmp);
    ck_assert(dt_symstore_init(&s, NULL, 0, path, NULL, NULL) == DT_OK);
    contains(dt_symstore_find_pdb(&s, "multi_hang.pdb", "FCBC69126EFD93014C4C44205044422E1"),
             "/cache/multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb");
    dt_symstore_free(&s);
    rm_tree();
}
END_TEST


/* Every form a symbol path arrives in goes through one parser (#19): one
 * --symbols "A;B" is two directories (it used to be one directory named
 * "A;B"), as are two flags, the environment's "A;B" and "A:B", and the
 * server's --symbols/DT_SYMBOLS, whose value reaches the analyzer whole. */
START_TEST(one_parser_every_form)
{
    dt_symstore s;
    const char *one[] = { "/sa;/sb" };
    ck_assert(dt_symstore_init(&s, one, 1, NULL, NULL, NULL) == DT_OK);
    ck_assert_uint_eq(s.ndirs, 2);
    ck_assert_str_eq(s.dirs[0], "/sa");
    ck_assert_str_eq(s.dirs[1], "/sb");
    dt_symstore_free(&s);

    const char *two[] = { "/sa", "/sb" };
    ck_assert(dt_symstore_init(&s, two, 2, "/ea;/eb:/ec", NULL, NULL) == DT_OK);
    ck_assert_uint_eq(s.ndirs, 5);
    ck_assert_str_eq(s.dirs[2], "/ea");
    ck_assert_str_eq(s.dirs[4], "/ec");
    dt_symstore_free(&s);

    /* the README's form: a drive-letter directory and a server with a cache;
     * neither the drive colon nor the URL's colon splits anything */
    dt_sympath p;
    ck_assert(dt_sympath_parse("C:/syms; D:\\more ;srv*/var/cache/syms*https://msdl.microsoft.com/download/symbols",
                               NULL, &p, NULL) == DT_OK);
    ck_assert_uint_eq(p.count, 3);
    ck_assert_str_eq(p.items[0].dir, "C:/syms");
    ck_assert_str_eq(p.items[1].dir, "D:\\more");
    ck_assert_ptr_null(p.items[2].dir);
    ck_assert_str_eq(p.items[2].url, "https://msdl.microsoft.com/download/symbols");
    ck_assert_uint_eq(p.items[2].ncaches, 1);
    ck_assert_str_eq(p.items[2].caches[0], "/var/cache/syms");
    dt_sympath_free(&p);
    /* cache*DIR feeds the servers after it */
    ck_assert(dt_sympath_parse("cache*/c;srv*http://h:8080/s", NULL, &p, NULL) == DT_OK);
    ck_assert_uint_eq(p.count, 1);
    ck_assert_str_eq(p.items[0].url, "http://h:8080/s");
    ck_assert_str_eq(p.items[0].caches[0], "/c");
    dt_sympath_free(&p);
    ck_assert(dt_sympath_parse("srv*", NULL, &p, NULL) != DT_OK);

    /* the server: its option value (flag or DT_SYMBOLS) is kept whole */
    dt_server_config cfg;
    char cerr[256];
    setenv("DT_SYMBOLS", "/va;srv*/vc*https://sym.example/x", 1);
    char *argv0[] = { "dumptriage-server", NULL };
    ck_assert_int_eq(dt_config_parse(&cfg, 1, argv0, cerr, sizeof cerr), 0);
    unsetenv("DT_SYMBOLS");
    ck_assert_int_eq(cfg.symbol_path_count, 1);
    const char *from_server[] = { cfg.symbol_paths[0] };
    ck_assert(dt_symstore_init(&s, from_server, 1, NULL, NULL, NULL) == DT_OK);
    ck_assert_uint_eq(s.ndirs, 1);
    ck_assert_str_eq(s.dirs[0], "/va");
    ck_assert_uint_eq(s.servers.count, 2);
    ck_assert_str_eq(s.servers.items[1].url, "https://sym.example/x");
    dt_symstore_free(&s);
    char *argv1[] = { "dumptriage-server", "--symbols", "/fa;/fb", NULL };
    ck_assert_int_eq(dt_config_parse(&cfg, 3, argv1, cerr, sizeof cerr), 0);
    ck_assert_int_eq(cfg.symbol_path_count, 1);
    ck_assert_str_eq(cfg.symbol_paths[0], "/fa;/fb");
}
END_TEST

/* An element that can resolve nothing is a warning, one per element. */
START_TEST(unresolved_elements_warn)
{
    dt_sympath p;
    char text[600];
    snprintf(text, sizeof text, "%s;/nonexistent/dt_syms;%s;srv*https://x.example/s",
             dt_test_data("wine/bin/clang"), dt_test_data("wine/bin/clang/multi_hang.pdb"));
    ck_assert(dt_sympath_parse(text, NULL, &p, NULL) == DT_OK);
    ck_assert_uint_eq(p.count, 4);
    dt_warnings w = { 0 };
    dt_sympath_warn_unresolved(&p, &w);
    ck_assert_uint_eq(w.count, 2);
    ck_assert_ptr_nonnull(strstr(w.items[0], "/nonexistent/dt_syms' does not exist"));
    ck_assert_ptr_nonnull(strstr(w.items[1], "multi_hang.pdb' is not a directory"));
    dt_warnings_free(&w);
    dt_sympath_free(&p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("symbol_store");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, store_layouts);
    tcase_add_test(tc, path_lists_and_id_rule);
    tcase_add_test(tc, symbol_server_path);
    tcase_add_test(tc, one_parser_every_form);
    tcase_add_test(tc, unresolved_elements_warn);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
