/*
 * test_server_symbol_store.c — the server's symbol store: identities read
 * from real PDB, PE and Breakpad files, names that are not plain file names
 * refused, filing into symstore layout, and the symbol_files rows over a
 * real SQLite store with the real migrations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dt_test.h"
#include "symbol_store.h"

START_TEST(identifies_pdb)
{
    dt_symbol_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_identify(dt_test_data("wine/bin/clang/multi_hang.pdb"), "multi_hang.pdb", &e, &err),
                     DT_OK);
    ck_assert_str_eq(e.kind, "pdb");
    ck_assert_str_eq(e.ident, "FCBC69126EFD93014C4C44205044422E1");
    ck_assert_str_eq(e.match_file, "multi_hang.pdb");
    ck_assert_str_eq(e.path, "multi_hang.pdb/FCBC69126EFD93014C4C44205044422E1/multi_hang.pdb");
    struct stat st;
    ck_assert_int_eq(stat(dt_test_data("wine/bin/clang/multi_hang.pdb"), &st), 0);
    ck_assert_uint_eq(e.size, (uint64_t)st.st_size);
}
END_TEST

START_TEST(pdb_needs_a_plain_name)
{
    dt_symbol_entry e;
    dt_error err = { 0 };
    const char *pdb = dt_test_data("wine/bin/clang/dfpipe.pdb");
    ck_assert_int_eq(dt_symbol_identify(pdb, NULL, &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_identify(pdb, "", &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_identify(pdb, "dfpipe.txt", &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_identify(pdb, "..pdb", &e, &err), DT_OK); /* odd but a plain name */
    ck_assert_int_eq(dt_symbol_identify(pdb, "a/b.pdb", &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_identify(pdb, "a\\b.pdb", &e, &err), DT_ERR_ARG);
}
END_TEST

START_TEST(identifies_pe)
{
    dt_symbol_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_identify(dt_test_data("wine/bin/clang/multi_hang.exe"), "multi_hang.exe", &e, &err),
                     DT_OK);
    ck_assert_str_eq(e.kind, "pe");
    /* The code id the report of multi_hang.dmp.gz carries for the module. */
    ck_assert_str_eq(e.ident, "6B0CB6913D000");
    ck_assert_str_eq(e.path, "multi_hang.exe/6B0CB6913D000/multi_hang.exe");
    ck_assert_int_eq(dt_symbol_identify(dt_test_data("wine/bin/clang/dfpipe.dll"), NULL, &e, &err), DT_ERR_ARG);
}
END_TEST

START_TEST(identifies_breakpad)
{
    dt_symbol_entry e;
    dt_error err = { 0 };
    /* The name in the request is ignored: the MODULE line names the file. */
    ck_assert_int_eq(dt_symbol_identify(dt_test_data("symbols/breakpad__test_app.sym"), "../evil.sym", &e, &err),
                     DT_OK);
    ck_assert_str_eq(e.kind, "breakpad");
    ck_assert_str_eq(e.ident, "5A9832E5287241C1838ED98914E9B7FF1");
    ck_assert_str_eq(e.match_file, "test_app.pdb");
    ck_assert_str_eq(e.path, "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym");
}
END_TEST

START_TEST(refuses_other_content)
{
    dt_symbol_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_identify(dt_test_data("wine/multi_hang.verify.txt"), "x.pdb", &e, &err),
                     DT_ERR_FORMAT);
    ck_assert_int_eq(dt_symbol_identify(dt_test_data("user/lldb__sigsegv.dmp"), "x.pdb", &e, &err), DT_ERR_FORMAT);
    ck_assert_int_eq(dt_symbol_identify("/nonexistent/x.pdb", "x.pdb", &e, &err), DT_ERR_IO);
    static const uint8_t mz[] = "MZ", pdb[] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0", sym[] = "MODULE windows";
    ck_assert(dt_symbol_sniff(mz, 2));
    ck_assert(dt_symbol_sniff(pdb, sizeof pdb - 1));
    ck_assert(dt_symbol_sniff(sym, sizeof sym - 1));
    ck_assert(!dt_symbol_sniff((const uint8_t *)"MDMP", 4));
    ck_assert(!dt_symbol_sniff((const uint8_t *)"M", 1));
}
END_TEST

START_TEST(files_and_records)
{
    char dir[] = "/tmp/dt-symstore-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char src[300], cmd[900], db[300];
    snprintf(src, sizeof src, "%s/incoming", dir);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", dt_test_data("wine/bin/clang/multi_hang.pdb"), src);
    ck_assert_int_eq(system(cmd), 0);
    dt_symbol_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_identify(src, "multi_hang.pdb", &e, &err), DT_OK);
    snprintf(e.sha256, sizeof e.sha256, "%064d", 0);
    ck_assert_int_eq(dt_symbol_file_into_store(dir, src, &e, &err), DT_OK);
    char filed[1100];
    snprintf(filed, sizeof filed, "%s/symbols/%s", dir, e.path);
    ck_assert_int_eq(access(filed, R_OK), 0);
    ck_assert_int_ne(access(src, F_OK), 0);

    snprintf(db, sizeof db, "%s/store.db", dir);
    dt_store *st = dt_store_open(db, dt_test_data("../../migrations"), &err);
    ck_assert_msg(st != NULL, "%s", err.message);
    ck_assert_int_eq(dt_store_symbol_record(st, &e, 0, &err), DT_OK);
    e.size = 42; /* the same identity again replaces the row */
    ck_assert_int_eq(dt_store_symbol_record(st, &e, 0, &err), DT_OK);
    cJSON *list = dt_store_symbol_list(st);
    cJSON *items = cJSON_GetObjectItemCaseSensitive(list, "items");
    ck_assert_int_eq(cJSON_GetArraySize(items), 1);
    cJSON *it = cJSON_GetArrayItem(items, 0);
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(it, "name")->valuestring, "multi_hang.pdb");
    ck_assert_str_eq(cJSON_GetObjectItemCaseSensitive(it, "id")->valuestring, "FCBC69126EFD93014C4C44205044422E1");
    ck_assert_int_eq((int)cJSON_GetObjectItemCaseSensitive(it, "size")->valuedouble, 42);
    cJSON_Delete(list);
    /* No reports yet: nothing to queue. */
    ck_assert_int_eq(dt_store_symbol_requeue(st, &e, 1, &err), 0);
    dt_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("server_symbol_store");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, identifies_pdb);
    tcase_add_test(tc, pdb_needs_a_plain_name);
    tcase_add_test(tc, identifies_pe);
    tcase_add_test(tc, identifies_breakpad);
    tcase_add_test(tc, refuses_other_content);
    tcase_add_test(tc, files_and_records);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
