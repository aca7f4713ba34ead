/*
 * test_utf8.c — client text sanitized to valid UTF-8: invalid sequences
 * become U+FFFD (one per maximal subpart), valid text is unchanged, and the
 * result always fits and is cut at a character boundary.
 */
#include <check.h>
#include <string.h>

#include "dt_test.h"
#include "base/utf8.h"

START_TEST(valid_text_is_kept)
{
    char out[64];
    const char *in = "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 ok";
    ck_assert(dt_utf8_valid(in, strlen(in)));
    ck_assert_uint_eq(dt_utf8_sanitize(in, out, sizeof out), 0);
    ck_assert_str_eq(out, in);
}
END_TEST

START_TEST(invalid_sequences_become_fffd)
{
    char out[64];
    static const struct { const char *in, *want; size_t n; } cases[] = {
        { "a\xFF" "b", "a\xEF\xBF\xBD" "b", 1 },                 /* never valid */
        { "\xC0\xAF", "\xEF\xBF\xBD\xEF\xBF\xBD", 2 },           /* overlong '/' */
        { "\xED\xA0\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3 }, /* surrogate */
        { "\xF4\x90\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4 }, /* > U+10FFFF */
        { "\xE2\x82" "A", "\xEF\xBF\xBD" "A", 1 },               /* truncated: one unit */
        { "x\xE2\x82", "x\xEF\xBF\xBD", 1 },                     /* truncated at the end */
        { "\x80\x80", "\xEF\xBF\xBD\xEF\xBF\xBD", 2 },           /* lone continuations */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ck_assert(!dt_utf8_valid(cases[i].in, strlen(cases[i].in)));
        ck_assert_uint_eq(dt_utf8_sanitize(cases[i].in, out, sizeof out), cases[i].n);
        ck_assert_str_eq(out, cases[i].want);
        ck_assert(dt_utf8_valid(out, strlen(out)));
    }
}
END_TEST

START_TEST(output_is_cut_at_a_boundary)
{
    char out[6];
    dt_utf8_sanitize("ab\xE2\x82\xAC\xE2\x82\xAC", out, sizeof out); /* ab€€ needs 9 bytes */
    ck_assert_str_eq(out, "ab\xE2\x82\xAC");
    char buf[8] = "a\xFF\xFF\xFF";
    ck_assert_uint_eq(dt_utf8_sanitize_inplace(buf, sizeof buf), 2); /* only two U+FFFD fit */
    ck_assert_str_eq(buf, "a\xEF\xBF\xBD\xEF\xBF\xBD");
    ck_assert(dt_utf8_valid(buf, strlen(buf)));
}
END_TEST

static Suite *utf8_suite(void)
{
    Suite *s = suite_create("utf8");
    TCase *tc = tcase_create("utf8");
    tcase_add_test(tc, valid_text_is_kept);
    tcase_add_test(tc, invalid_sequences_become_fffd);
    tcase_add_test(tc, output_is_cut_at_a_boundary);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(utf8_suite)
