/*
 * test_minidump_robust.c — hostile and damaged input (issue #2 acceptance):
 * every file in tests/data/malformed and truncations of real dumps at many
 * offsets give a clear error or a partial parse with warnings, and the
 * whole report (JSON and text) builds from whatever survived.  Each input is
 * copied into a heap buffer of exactly its size, so under ASan a read one
 * byte too far is caught rather than landing in the rest of a mapping.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dt_test.h"
#include "formats/minidump.h"
#include "base/mapped_file.h"
#include "report/user_report.h"

/* Parses bytes[0..len) as a minidump and drives every consumer of the
 * model.  Returns the status. */
static dt_status exercise(const uint8_t *bytes, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len)
        memcpy(copy, bytes, len);
    dt_minidump *md = NULL;
    dt_error err = { 0 };
    dt_status st = dt_minidump_parse(dt_view_make(copy, len), &md, &err);
    if (st != DT_OK) {
        ck_assert_ptr_null(md);
        ck_assert_msg(err.message[0] != '\0', "error without a message at length %zu", len);
        free(copy);
        return st;
    }
    /* Walk the memory of every thread's stack through the address space. */
    const dt_addrspace *as = dt_minidump_addrspace(md);
    for (size_t i = 0; i < md->nthreads; i++) {
        uint8_t buf[256];
        dt_as_read(as, md->threads[i].stack_start, buf, sizeof buf);
        const dt_cpu_context *ctx = dt_minidump_thread_context(md, &md->threads[i]);
        uint64_t sp;
        if (ctx && dt_ctx_get(ctx, dt_cpu_context_sp_reg(ctx->arch), &sp))
            dt_as_read(as, sp, buf, sizeof buf);
    }
    cJSON *u = dt_user_report(md);
    ck_assert_ptr_nonnull(u);
    char *s = cJSON_PrintUnformatted(u);
    ck_assert_ptr_nonnull(s);
    cJSON *back = cJSON_Parse(s);
    ck_assert_msg(back != NULL, "report of a %zu-byte input is not valid JSON", len);
    cJSON_Delete(back);
    free(s);
    FILE *null = fopen("/dev/null", "w");
    dt_user_report_text(u, null);
    fclose(null);
    cJSON_Delete(u);
    dt_minidump_free(md);
    free(copy);
    return st;
}

START_TEST(malformed_files_error_or_warn)
{
    DIR *d = opendir(dt_test_data("malformed"));
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int files = 0, partial = 0, refused = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "malformed/%s", e->d_name);
        dt_mapped_file f;
        ck_assert(dt_mapped_file_open(&f, dt_test_data(rel), NULL) == DT_OK);
        dt_status st = exercise(f.view.data, f.view.size);
        if (st == DT_OK) {
            partial++;
            /* A partial parse must say what was wrong. */
            dt_minidump *md;
            ck_assert(dt_minidump_parse(f.view, &md, NULL) == DT_OK);
            ck_assert_msg(md->warnings.count > 0, "%s parsed without a warning", rel);
            dt_minidump_free(md);
        } else {
            refused++;
        }
        dt_mapped_file_close(&f);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 15);
    ck_assert_int_gt(partial, 0);
    ck_assert_int_gt(refused, 0);
}
END_TEST

START_TEST(known_malformed_outcomes)
{
    static const struct {
        const char *file;
        dt_status status;
    } cases[] = {
        { "malformed/rizin__clusterfuzz-testcase-minimized-ia_fuzz-5756355915284480.dms", DT_ERR_TRUNCATED },
        { "malformed/rizin__crash-850020674a6f0d42e032a9b12774a955c11d9178", DT_ERR_TRUNCATED },
        { "malformed/radare2__trunc_memory64.dmp", DT_OK },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dt_mapped_file f;
        ck_assert(dt_mapped_file_open(&f, dt_test_data(cases[i].file), NULL) == DT_OK);
        ck_assert_int_eq(exercise(f.view.data, f.view.size), cases[i].status);
        dt_mapped_file_close(&f);
    }
    /* The fuzzed full-memory dump keeps its thread and modules and says the
     * memory is cut short. */
    dt_mapped_file f;
    dt_minidump *md;
    ck_assert(dt_mapped_file_open(&f, dt_test_data("malformed/rizin__crash-0a4b90615b8dd830e86ef1c4e5e80ea9"),
                                  NULL) == DT_OK);
    ck_assert(dt_minidump_parse(f.view, &md, NULL) == DT_OK);
    ck_assert_uint_eq(md->nthreads, 1);
    ck_assert_uint_eq(md->modules.count, 10);
    ck_assert(md->has_memory64);
    ck_assert_uint_gt(md->memory.clipped_bytes, 0);
    dt_minidump_free(md);
    dt_mapped_file_close(&f);

    /* Not a minidump at all. */
    static const uint8_t junk[40] = "PAGEDU64 is a kernel dump, not MDMP";
    ck_assert_int_eq(exercise(junk, sizeof junk), DT_ERR_FORMAT);
    ck_assert_int_eq(exercise(junk, 0), DT_ERR_FORMAT);
    ck_assert_int_eq(exercise((const uint8_t *)"MDMP\x93\xa7", 6), DT_ERR_TRUNCATED);
}
END_TEST

static void truncations(const char *rel, size_t first, size_t step, size_t max_cuts)
{
    dt_mapped_file f;
    ck_assert(dt_mapped_file_open(&f, dt_test_data(rel), NULL) == DT_OK);
    size_t size = f.view.size, ok = 0, cuts = 0;
    for (size_t len = first; len < size && cuts < max_cuts; len += step, cuts++)
        ok += exercise(f.view.data, len) == DT_OK;
    /* Once the directory is in, every cut still yields a partial report. */
    ck_assert_uint_gt(ok, cuts / 2);
    dt_mapped_file_close(&f);
}

START_TEST(truncated_minidump2_every_7th_byte)
{
    truncations("user/breakpad__minidump2.dmp", 0, 7, SIZE_MAX);
}
END_TEST

START_TEST(truncated_larger_dumps)
{
    truncations("user/rizin__calc.dmp", 1, 23, SIZE_MAX);
    truncations("user/breakpad__tiny-exe-with-cet-xsave.dmp", 3, 97, SIZE_MAX);
    truncations("user/crashdump-mcp__electron.dmp", 5, 2291136 / 80, 80);
    truncations("wine/multi_hang_winedbg.dmp.gz", 11, 1009, 120);
}
END_TEST

static Suite *robust_suite(void)
{
    Suite *s = suite_create("minidump_robust");
    TCase *tc = tcase_create("hostile input");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, malformed_files_error_or_warn);
    tcase_add_test(tc, known_malformed_outcomes);
    tcase_add_test(tc, truncated_minidump2_every_7th_byte);
    tcase_add_test(tc, truncated_larger_dumps);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(robust_suite)
