/*
 * test_series.c — dt_analyze_series (analysis/series.h) with kernel dumps:
 * wait-time growth across snapshots and the pairing of kernel dumps with
 * user dumps by name and by order (docs/report.md, "series").
 *
 * No public series of `procdump -ma -mk` dumps exists, so the series here is
 * made from the paired test case: the real Wine hello_block dump (thread 36
 * blocked in ReadFile) copied three times with its header TimeDateStamp moved
 * 0, 5 and 10 s on — the only bytes changed — and a synthesized live kernel
 * dump per snapshot (tests/support/paired_case.c) whose thread 36 has waited
 * 180, 185 and 190 s.  The real Wine series (tests/data/wine/series) is
 * checked by tests/integration/test_cli_series.sh.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <zlib.h>

#include "analysis/series.h"
#include "base/json.h"
#include "dt_test.h"
#include "paired_case.h"

static char g_dir[256];

/* Writes the hello_block dump with its TimeDateStamp moved by delta. */
static void write_user(const char *name, uint32_t delta)
{
    gzFile g = gzopen(dt_test_data("wine/hello_block.dmp.gz"), "rb");
    ck_assert_ptr_nonnull(g);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *out = fopen(path, "wb");
    ck_assert_ptr_nonnull(out);
    static unsigned char buf[1 << 16];
    int n;
    bool first = true;
    while ((n = gzread(g, buf, sizeof buf)) > 0) {
        if (first) {
            ck_assert_int_ge(n, 24);
            uint32_t t = (uint32_t)buf[20] | (uint32_t)buf[21] << 8 | (uint32_t)buf[22] << 16 |
                         (uint32_t)buf[23] << 24;
            ck_assert_uint_eq(t, (uint32_t)DT_PAIRED_USER_TIME);
            t += delta;
            for (int i = 0; i < 4; i++)
                buf[20 + i] = (unsigned char)(t >> (8 * i));
            first = false;
        }
        ck_assert_int_eq((int)fwrite(buf, 1, (size_t)n, out), n);
    }
    gzclose(g);
    ck_assert_int_eq(fclose(out), 0);
}

static void write_kernel(const char *name, uint32_t waited_s)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    dt_paired_options o = { .pid = 32, .image = "hello_block.ex", .wait_reason = 6, .waited_ticks = waited_s * 64 };
    ck_assert_int_eq(dt_paired_write_kernel_dump(&o, path), 0);
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/dt_series_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(g_dir));
    write_user("s1.dmp", 0);
    write_user("s2.dmp", 5);
    write_user("s3.dmp", 10);
    write_kernel("s1.Kernel.dmp", 180);
    write_kernel("s2.Kernel.dmp", 185);
    write_kernel("s3.Kernel.dmp", 190);
}

static void teardown(void)
{
    const char *names[] = { "s1.dmp", "s2.dmp", "s3.dmp", "s1.Kernel.dmp", "s2.Kernel.dmp", "s3.Kernel.dmp" };
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", g_dir, names[i]);
        unlink(path);
    }
    rmdir(g_dir);
}

static const char *p(const char *name)
{
    static char buf[8][512];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "%s/%s", g_dir, name);
    return buf[i];
}

static const cJSON *series_thread(const cJSON *doc, uint64_t tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "series"), "threads")) {
        if ((uint64_t)dt_json_get_num(t, "thread_id", -1) == tid)
            return t;
    }
    return NULL;
}

/* Checks thread 36 and the pairing of snapshot k with kernel file want. */
static void check_series(const cJSON *doc, const char *const want_kernel[3])
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(doc, "series");
    ck_assert_int_eq((int)dt_json_get_num(s, "compared", -1), 3);
    const cJSON *x;
    int k = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(s, "snapshots")) {
        ck_assert_str_eq(dt_json_get_str(x, "status"), "ok");
        ck_assert_int_eq((int)dt_json_get_num(x, "seconds", -1), 5 * k);
        ck_assert_str_eq(dt_json_get_str(x, "kernel_file"), p(want_kernel[k]));
        k++;
    }
    ck_assert_int_eq(k, 3);
    /* The newest report is paired with the newest kernel dump. */
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(doc, "triage"), "paired")));

    const cJSON *t = series_thread(doc, 36);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(dt_json_get_str(t, "state"), "not_moved");
    ck_assert(dt_json_get_bool(t, "stuck"));
    ck_assert_double_eq_tol(dt_json_get_num(t, "not_moved_seconds", -1), 10, 1e-9);
    ck_assert_double_eq_tol(dt_json_get_num(t, "wait_growth_seconds", -1), 10, 1e-6);
    ck_assert_ptr_nonnull(strstr(dt_json_get_str(t, "verdict"), "did not move for 10 s (3 snapshots): blocked"));
    double waits[3];
    k = 0;
    cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(t, "snapshots")) {
        ck_assert(cJSON_IsObject(x));
        waits[k++] = dt_json_get_num(x, "wait_seconds", -1);
        ck_assert_str_eq(dt_json_get_str(x, "change"), k == 1 ? "first" : "same");
    }
    ck_assert_double_eq_tol(waits[0], 180, 1e-6);
    ck_assert_double_eq_tol(waits[1], 185, 1e-6);
    ck_assert_double_eq_tol(waits[2], 190, 1e-6);
    /* The kernel-only thread 40 is not a user thread of the series. */
    ck_assert_ptr_null(series_thread(doc, 40));
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(s, "verdicts");
    ck_assert_int_eq((int)dt_json_get_num(cJSON_GetObjectItemCaseSensitive(v, "primary"), "thread_id", -1), 36);
    const char *sig = dt_json_get_str(v, "signature");
    ck_assert_ptr_nonnull(sig);
    ck_assert_str_eq(sig, dt_json_get_str(cJSON_GetObjectItemCaseSensitive(doc, "triage"), "signature"));
}

START_TEST(kernel_dumps_pair_by_name_in_any_order)
{
    /* Mixed and shuffled: routed by content, paired X.dmp ↔ X.Kernel.dmp,
     * ordered by dump time. */
    const char *paths[] = { p("s3.Kernel.dmp"), p("s2.dmp"), p("s1.Kernel.dmp"), p("s3.dmp"),
                            p("s2.Kernel.dmp"), p("s1.dmp") };
    dt_series_request req = { .paths = paths, .npaths = 6 };
    cJSON *doc = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze_series(&req, &doc, &err) == DT_OK, "%s", err.message);
    const char *want[3] = { "s1.Kernel.dmp", "s2.Kernel.dmp", "s3.Kernel.dmp" };
    check_series(doc, want);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(kernel_dumps_without_matching_names_pair_in_order)
{
    /* --kernel in the order of the user dumps on the command line (not of
     * their dump times): the third user argument is the first snapshot. */
    char a[512], b[512], c[512];
    snprintf(a, sizeof a, "%s", p("s1.Kernel.dmp"));
    snprintf(b, sizeof b, "%s", p("s2.Kernel.dmp"));
    snprintf(c, sizeof c, "%s", p("s3.Kernel.dmp"));
    ck_assert_int_eq(rename(a, p("ka.dmp")), 0);
    ck_assert_int_eq(rename(b, p("kb.dmp")), 0);
    ck_assert_int_eq(rename(c, p("kc.dmp")), 0);
    const char *users[] = { p("s3.dmp"), p("s2.dmp"), p("s1.dmp") };
    const char *kernels[] = { p("kc.dmp"), p("kb.dmp"), p("ka.dmp") };
    dt_series_request req = { .paths = users, .npaths = 3, .kernel_paths = kernels, .nkernel_paths = 3 };
    cJSON *doc = NULL;
    dt_error err = { 0 };
    dt_status st = dt_analyze_series(&req, &doc, &err);
    rename(p("ka.dmp"), a);
    rename(p("kb.dmp"), b);
    rename(p("kc.dmp"), c);
    ck_assert_msg(st == DT_OK, "%s", err.message);
    const char *want[3] = { "ka.dmp", "kb.dmp", "kc.dmp" };
    check_series(doc, want);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(a_kernel_dump_too_many_is_refused)
{
    const char *users[] = { p("s1.dmp") };
    const char *kernels[] = { p("s2.Kernel.dmp"), p("s3.Kernel.dmp") };
    dt_series_request req = { .paths = users, .npaths = 1, .kernel_paths = kernels, .nkernel_paths = 2 };
    cJSON *doc = NULL;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_analyze_series(&req, &doc, &err), DT_ERR_ARG);
    ck_assert_ptr_null(doc);
    ck_assert_ptr_nonnull(strstr(err.message, "no user dump left to pair this kernel dump with"));
}
END_TEST

START_TEST(a_single_snapshot_compares_nothing)
{
    const char *users[] = { p("s2.dmp"), p("s2.Kernel.dmp") };
    dt_series_request req = { .paths = users, .npaths = 2 };
    cJSON *doc = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze_series(&req, &doc, &err) == DT_OK, "%s", err.message);
    const cJSON *t = series_thread(doc, 36);
    ck_assert_str_eq(dt_json_get_str(t, "state"), "single");
    /* Nothing to compare: the snapshot's own verdict stands. */
    ck_assert(dt_json_get_bool(t, "stuck"));
    cJSON_Delete(doc);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("series");
    TCase *tc = tcase_create("kernel");
    tcase_add_unchecked_fixture(tc, setup, teardown); /* the files once: 66 MB */
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, kernel_dumps_pair_by_name_in_any_order);
    tcase_add_test(tc, kernel_dumps_without_matching_names_pair_in_order);
    tcase_add_test(tc, a_kernel_dump_too_many_is_refused);
    tcase_add_test(tc, a_single_snapshot_compares_nothing);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
