/*
 * test_triage_inlines.c — triage reads a frame in inlined code by its
 * innermost inline function (#19): the normalised name that verdict rules
 * and signatures match is the inline's, the display says where it was
 * inlined (WinDbg's "app!submit_batch [inlined in app!opt_entry+0xc4]").
 * Frames without inlines are unchanged.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dt_test.h"
#include "triage/rules.h"
#include "triage/triage_internal.h"

START_TEST(innermost_inline_names_the_frame)
{
    dt_rules r;
    ck_assert(dt_rules_default(&r, NULL) == DT_OK);
    cJSON *frames = cJSON_Parse(
        "[{\"module\":\"C:\\\\app\\\\app.exe\",\"function\":\"opt_entry\",\"function_offset\":\"0xc4\","
        "\"inlines\":[{\"function_name\":\"submit_batch\",\"source_file_name\":\"q.h\",\"source_line\":9},"
        "{\"function_name\":\"lock_and_push\",\"source_file_name\":\"q.h\",\"source_line\":17}]},"
        "{\"module\":\"C:\\\\app\\\\app.exe\",\"function\":\"main\",\"function_offset\":\"0x10\"}]");
    ck_assert_ptr_nonnull(frames);
    size_t n = 0;
    dt_tframe *t = dt_tframes_from_json(&r, frames, &n);
    ck_assert_uint_eq(n, 2);
    ck_assert_str_eq(t[0].norm, "app!submit_batch");
    ck_assert_str_eq(t[0].name, "app!submit_batch");
    ck_assert_str_eq(t[0].display, "app!submit_batch [inlined in app!opt_entry+0xc4]");
    ck_assert_str_eq(t[1].norm, "app!main");
    ck_assert_str_eq(t[1].display, "app!main+0x10");
    free(t);
    cJSON_Delete(frames);
    dt_rules_free(&r);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("triage_inlines");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, innermost_inline_names_the_frame);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
