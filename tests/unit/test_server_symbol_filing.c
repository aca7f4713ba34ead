/*
 * test_server_symbol_filing.c — filing uploaded symbols into the server's
 * symbol store: identities read
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
#include "report_index.h"
#include "symbol_filing.h"

START_TEST(identifies_pdb)
{
    dt_symbol_filing_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_filing_identify(dt_test_data("wine/bin/clang/multi_hang.pdb"), "multi_hang.pdb", &e, &err),
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
    dt_symbol_filing_entry e;
    dt_error err = { 0 };
    const char *pdb = dt_test_data("wine/bin/clang/dfpipe.pdb");
    ck_assert_int_eq(dt_symbol_filing_identify(pdb, NULL, &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_filing_identify(pdb, "", &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_filing_identify(pdb, "dfpipe.txt", &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_filing_identify(pdb, "..pdb", &e, &err), DT_OK); /* odd but a plain name */
    ck_assert_int_eq(dt_symbol_filing_identify(pdb, "a/b.pdb", &e, &err), DT_ERR_ARG);
    ck_assert_int_eq(dt_symbol_filing_identify(pdb, "a\\b.pdb", &e, &err), DT_ERR_ARG);
}
END_TEST

START_TEST(identifies_pe)
{
    dt_symbol_filing_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_filing_identify(dt_test_data("wine/bin/clang/multi_hang.exe"), "multi_hang.exe", &e, &err),
                     DT_OK);
    ck_assert_str_eq(e.kind, "pe");
    /* The code id the report of multi_hang.dmp.gz carries for the module. */
    ck_assert_str_eq(e.ident, "6B0CB6913D000");
    ck_assert_str_eq(e.path, "multi_hang.exe/6B0CB6913D000/multi_hang.exe");
    ck_assert_int_eq(dt_symbol_filing_identify(dt_test_data("wine/bin/clang/dfpipe.dll"), NULL, &e, &err), DT_ERR_ARG);
}
END_TEST

START_TEST(identifies_breakpad)
{
    dt_symbol_filing_entry e;
    dt_error err = { 0 };
    /* The name in the request is ignored: the MODULE line names the file. */
    ck_assert_int_eq(dt_symbol_filing_identify(dt_test_data("symbols/breakpad__test_app.sym"), "../evil.sym", &e, &err),
                     DT_OK);
    ck_assert_str_eq(e.kind, "breakpad");
    ck_assert_str_eq(e.ident, "5A9832E5287241C1838ED98914E9B7FF1");
    ck_assert_str_eq(e.match_file, "test_app.pdb");
    ck_assert_str_eq(e.path, "test_app.pdb/5A9832E5287241C1838ED98914E9B7FF1/test_app.sym");
}
END_TEST

START_TEST(refuses_other_content)
{
    dt_symbol_filing_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_filing_identify(dt_test_data("wine/multi_hang.verify.txt"), "x.pdb", &e, &err),
                     DT_ERR_FORMAT);
    ck_assert_int_eq(dt_symbol_filing_identify(dt_test_data("user/lldb__sigsegv.dmp"), "x.pdb", &e, &err), DT_ERR_FORMAT);
    ck_assert_int_eq(dt_symbol_filing_identify("/nonexistent/x.pdb", "x.pdb", &e, &err), DT_ERR_IO);
    static const uint8_t mz[] = "MZ", pdb[] = "Microsoft C/C++ MSF 7.00\r\n\x1a" "DS\0\0\0", sym[] = "MODULE windows";
    ck_assert(dt_symbol_filing_sniff(mz, 2));
    ck_assert(dt_symbol_filing_sniff(pdb, sizeof pdb - 1));
    ck_assert(dt_symbol_filing_sniff(sym, sizeof sym - 1));
    ck_assert(!dt_symbol_filing_sniff((const uint8_t *)"MDMP", 4));
    ck_assert(!dt_symbol_filing_sniff((const uint8_t *)"M", 1));
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
    dt_symbol_filing_entry e;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_symbol_filing_identify(src, "multi_hang.pdb", &e, &err), DT_OK);
    snprintf(e.sha256, sizeof e.sha256, "%064d", 0);
    ck_assert_int_eq(dt_symbol_filing_place(dir, src, &e, &err), DT_OK);
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


/* The real report of the x64 kernel triage dump stored as a finished
 * upload: its drivers carry no symbols (symbol_source null), so an image of
 * tm.sys with the code id the dump names queues it again; another id, or a
 * name that only matches a different driver, does not. */
START_TEST(requeues_reports_missing_the_upload)
{
    char dir[] = "/tmp/dt-symrq-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char db[300], cmd[1200], out[300];
    snprintf(db, sizeof db, "%s/store.db", dir);
    snprintf(out, sizeof out, "%s/report.json", dir);
    snprintf(cmd, sizeof cmd, "'%s' analyze '%s' --format json >'%s' 2>/dev/null", dt_test_bin(),
             dt_test_data("kernel/rizin__triage_x64.dmp"), out);
    ck_assert_int_eq(system(cmd), 0);
    size_t len;
    char *text = (char *)dt_test_read_file(out, &len);
    ck_assert_ptr_nonnull(text);
    char *json = malloc(len + 1);
    memcpy(json, text, len);
    json[len] = 0;
    free(text);

    dt_error err = { 0 };
    dt_store *st = dt_store_open(db, dt_test_data("../../migrations"), &err);
    ck_assert_msg(st != NULL, "%s", err.message);
    dt_upload_new u;
    memset(&u, 0, sizeof u);
    u.nfiles = 1;
    snprintf(u.files[0].role, sizeof u.files[0].role, "kernel");
    snprintf(u.files[0].sha256, sizeof u.files[0].sha256, "%064d", 7);
    snprintf(u.files[0].kind, sizeof u.files[0].kind, "kernel64");
    u.files[0].size = len;
    ck_assert_int_eq(dt_store_upload_create(st, &u, &err), DT_OK);
    dt_job job;
    ck_assert_int_eq(dt_store_job_lease(st, "test", 60, &job), 1);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    dt_report_index idx;
    dt_report_index_build(root, &idx);
    ck_assert_int_eq(dt_store_job_finish(st, &job, json, &idx, 1, &err), DT_OK);
    dt_report_index_free(&idx);
    cJSON_Delete(root);
    free(json);

    dt_symbol_filing_entry e;
    memset(&e, 0, sizeof e);
    snprintf(e.kind, sizeof e.kind, "pe");
    snprintf(e.name, sizeof e.name, "tm.sys");
    snprintf(e.match_file, sizeof e.match_file, "tm.sys");
    snprintf(e.ident, sizeof e.ident, "4ECED59327001");
    ck_assert_int_eq(dt_store_symbol_requeue(st, &e, 1, &err), 0);
    snprintf(e.ident, sizeof e.ident, "4ECED59327000");
    snprintf(e.match_file, sizeof e.match_file, "kd.dll");
    ck_assert_int_eq(dt_store_symbol_requeue(st, &e, 1, &err), 0);
    snprintf(e.match_file, sizeof e.match_file, "TM.SYS"); /* Windows names ignore case */
    ck_assert_int_eq(dt_store_symbol_requeue(st, &e, 1, &err), 1);
    dt_upload_ref ref;
    ck_assert_int_eq(dt_store_upload_find(st, u.id, &ref), 1);
    ck_assert_str_eq(ref.status, "queued");
    /* Queued already: not counted twice. */
    ck_assert_int_eq(dt_store_symbol_requeue(st, &e, 1, &err), 0);
    dt_store_close(st);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("server_symbol_filing");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, identifies_pdb);
    tcase_add_test(tc, pdb_needs_a_plain_name);
    tcase_add_test(tc, identifies_pe);
    tcase_add_test(tc, identifies_breakpad);
    tcase_add_test(tc, refuses_other_content);
    tcase_add_test(tc, files_and_records);
    tcase_add_test(tc, requeues_reports_missing_the_upload);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
