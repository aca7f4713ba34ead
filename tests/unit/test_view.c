/*
 * test_view.c — the bounds-checked view, the mapped file (plain and gzip),
 * CPU context decoding and file sniffing: the bottom layer every parser
 * stands on.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "base/cpu_context.h"
#include "formats/sniff.h"
#include "base/mapped_file.h"
#include "base/view.h"

START_TEST(view_reads_stay_in_bounds)
{
    uint8_t bytes[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    dt_view v = dt_view_make(bytes, sizeof bytes);
    uint32_t u32;
    uint64_t u64;
    ck_assert(dt_view_u32(v, 0, &u32));
    ck_assert_uint_eq(u32, 0x04030201);
    ck_assert(dt_view_u64(v, 2, &u64));
    ck_assert(!dt_view_u64(v, 3, &u64));
    ck_assert(!dt_view_u32(v, UINT64_MAX - 1, &u32));
    dt_view sub;
    ck_assert(dt_view_sub(v, 8, 2, &sub));
    ck_assert(!dt_view_sub(v, 8, 3, &sub));
    ck_assert(!dt_view_sub(v, 11, 0, &sub));
    ck_assert(!dt_view_has(v, 5, UINT64_MAX));
}
END_TEST

START_TEST(view_clamps_claimed_counts)
{
    uint8_t bytes[100] = { 0 };
    dt_view v = dt_view_make(bytes, sizeof bytes);
    bool clamped;
    ck_assert_uint_eq(dt_view_clamp_count(v, 4, 48, 0xFFFFFFFF, &clamped), 2);
    ck_assert(clamped);
    ck_assert_uint_eq(dt_view_clamp_count(v, 4, 48, 1, &clamped), 1);
    ck_assert(!clamped);
    ck_assert_uint_eq(dt_view_clamp_count(v, 200, 48, 5, &clamped), 0);
}
END_TEST

START_TEST(mapped_file_reads_plain_and_gzip)
{
    dt_mapped_file plain, gz;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&plain, dt_test_data("user/breakpad__minidump2.dmp"), &err), DT_OK);
    ck_assert_uint_eq(plain.view.size, 11317);
    ck_assert(!plain.was_gzip);
    ck_assert_int_eq(dt_sniff(plain.view.data, plain.view.size), DT_KIND_MINIDUMP);

    ck_assert_int_eq(dt_mapped_file_open(&gz, dt_test_data("wine/multi_hang_winedbg.dmp.gz"), &err), DT_OK);
    ck_assert(gz.was_gzip);
    ck_assert_int_eq(dt_sniff(gz.view.data, gz.view.size), DT_KIND_MINIDUMP);
    dt_mapped_file_close(&gz);
    dt_mapped_file_close(&plain);

    ck_assert_int_ne(dt_mapped_file_open(&plain, "/nonexistent/x.dmp", &err), DT_OK);
    ck_assert(strstr(err.message, "/nonexistent/x.dmp") != NULL);
}
END_TEST

START_TEST(mapped_file_rejects_corrupt_gzip)
{
    char path[] = "/tmp/dt-test-gz-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    const unsigned char junk[] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xde, 0xad, 0xbe, 0xef };
    ck_assert_int_eq(write(fd, junk, sizeof junk), (int)sizeof junk);
    close(fd);
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_int_ne(dt_mapped_file_open(&f, path, &err), DT_OK);
    ck_assert(strstr(err.message, "gzip") != NULL);
    unlink(path);
}
END_TEST

START_TEST(sniff_knows_dump_and_archive_magics)
{
    ck_assert_int_eq(dt_sniff((const uint8_t *)"PAGEDU64", 8), DT_KIND_KERNEL64);
    ck_assert_int_eq(dt_sniff((const uint8_t *)"PAGEDUMP", 8), DT_KIND_KERNEL32);
    ck_assert_int_eq(dt_sniff((const uint8_t *)"PK\x03\x04", 4), DT_KIND_ZIP);
    ck_assert_int_eq(dt_sniff((const uint8_t *)"MDM", 3), DT_KIND_UNKNOWN);
    ck_assert_int_eq(dt_sniff(NULL, 0), DT_KIND_UNKNOWN);
}
END_TEST

START_TEST(amd64_context_respects_flags)
{
    uint8_t rec[DT_CONTEXT_AMD64_SIZE] = { 0 };
    rec[0x30] = 0x01; /* CONTROL only */
    rec[0x32] = 0x10;
    rec[0xF8] = 0x34; rec[0xF9] = 0x12;
    rec[0x98] = 0x78; rec[0x99] = 0x56;
    rec[0xA0] = 0x99;
    dt_cpu_context c;
    ck_assert_int_eq(dt_cpu_context_parse(DT_ARCH_AMD64, dt_view_make(rec, sizeof rec), &c, NULL), DT_OK);
    uint64_t v;
    ck_assert(dt_ctx_get(&c, DT_AMD64_RIP, &v));
    ck_assert_uint_eq(v, 0x1234);
    ck_assert(dt_ctx_get(&c, DT_AMD64_RSP, &v));
    ck_assert_uint_eq(v, 0x5678);
    ck_assert(!dt_ctx_get(&c, DT_AMD64_RBP, &v)); /* INTEGER group absent */
    ck_assert_int_ne(dt_cpu_context_parse(DT_ARCH_AMD64, dt_view_make(rec, 0x20), &c, NULL), DT_OK);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("view");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, view_reads_stay_in_bounds);
    tcase_add_test(tc, view_clamps_claimed_counts);
    tcase_add_test(tc, mapped_file_reads_plain_and_gzip);
    tcase_add_test(tc, mapped_file_rejects_corrupt_gzip);
    tcase_add_test(tc, sniff_knows_dump_and_archive_magics);
    tcase_add_test(tc, amd64_context_respects_flags);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
