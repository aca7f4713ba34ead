/*
 * test_parser_caps.c — the caps that keep hostile inputs cheap, each
 * checked by its effect so that removing it fails here: a MINIDUMP_STRING
 * is decoded from at most 64 KiB of UTF-16 (minidump_internal.h), the
 * thread list is cut at 100 000 threads (minidump.c), and a warning list
 * keeps 1 000 warnings and counts the rest (base/error.c).  The figures are
 * the ones docs/performance.md and docs/fuzzing.md state.
 *
 * The minidumps are written here (TEST-ONLY, from the MINIDUMP_HEADER,
 * _DIRECTORY, _THREAD_LIST and _MODULE_LIST layouts of docs/formats.md):
 * no real dump has 150 000 threads or a 200 000-byte module name.
 */
#include <check.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "base/error.h"
#include "formats/minidump.h"

static void le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Header + one directory entry of type `type` whose stream is body (len
 * bytes) at offset 44; the caller fills body after. */
static uint8_t *one_stream_dump(uint32_t type, size_t body_len, size_t *total)
{
    *total = 44 + body_len;
    uint8_t *b = calloc(1, *total);
    ck_assert_ptr_nonnull(b);
    le32(b, 0x504d444d);
    le32(b + 4, 0xa793);
    le32(b + 8, 1);
    le32(b + 12, 32);
    le32(b + 32, type);
    le32(b + 36, (uint32_t)body_len);
    le32(b + 40, 44);
    return b;
}

START_TEST(thread_list_is_cut_at_100000)
{
    const uint32_t claimed = 150000;
    size_t total;
    uint8_t *b = one_stream_dump(DT_MD_THREAD_LIST, 4 + (size_t)claimed * 48, &total);
    le32(b + 44, claimed);
    for (uint32_t i = 0; i < claimed; i++)
        le32(b + 48 + (size_t)i * 48, i + 1); /* ThreadId */
    dt_minidump *md = NULL;
    ck_assert_int_eq(dt_minidump_parse(dt_view_make(b, total), &md, NULL), DT_OK);
    ck_assert_uint_eq(md->nthreads, 100000);
    bool warned = false;
    for (size_t i = 0; i < md->warnings.count; i++)
        warned |= strstr(md->warnings.items[i], "cut to 100000 threads") != NULL;
    ck_assert_msg(warned, "no warning says the thread list was cut");
    dt_minidump_free(md);
    free(b);
}
END_TEST

START_TEST(strings_are_cut_at_64_kib)
{
    /* One module whose name claims and holds 200 000 bytes of UTF-16 'A'. */
    const uint32_t name_bytes = 200000;
    size_t total;
    uint8_t *b = one_stream_dump(DT_MD_MODULE_LIST, 4 + 108 + 4 + name_bytes, &total);
    uint8_t *s = b + 44;
    le32(s, 1);
    le32(s + 4, 0x10000);         /* BaseOfImage (low half) */
    le32(s + 12, 0x1000);         /* SizeOfImage */
    le32(s + 24, 44 + 4 + 108);   /* ModuleNameRva */
    le32(s + 4 + 108, name_bytes);
    for (uint32_t i = 0; i < name_bytes; i += 2)
        s[4 + 108 + 4 + i] = 'A';
    dt_minidump *md = NULL;
    ck_assert_int_eq(dt_minidump_parse(dt_view_make(b, total), &md, NULL), DT_OK);
    ck_assert_uint_eq(md->modules.count, 1);
    ck_assert_ptr_nonnull(md->modules.items[0].path);
    /* 65 536 bytes of UTF-16 are 32 768 ASCII characters. */
    ck_assert_uint_eq(strlen(md->modules.items[0].path), 32768);
    dt_minidump_free(md);
    free(b);
}
END_TEST

START_TEST(warnings_are_capped_at_1000)
{
    dt_warnings w = { 0 };
    for (int i = 0; i < 1500; i++)
        dt_warn(&w, "warning %d", i);
    ck_assert_uint_eq(w.count, 1000);
    ck_assert_uint_eq(w.dropped, 500);
    ck_assert_str_eq(w.items[999], "warning 999");
    dt_warnings_free(&w);
}
END_TEST

static Suite *caps_suite(void)
{
    Suite *s = suite_create("parser_caps");
    TCase *tc = tcase_create("caps");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, thread_list_is_cut_at_100000);
    tcase_add_test(tc, strings_are_cut_at_64_kib);
    tcase_add_test(tc, warnings_are_capped_at_1000);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(caps_suite)
