/*
 * test_report_upgrade.c — stored reports of schema 1 read as schema 2
 * (report/report_upgrade.h): kernel threads' "tid" becomes "thread_id", the
 * version is raised, current and unknown documents are left alone, and the
 * text path used by the server upgrades only what needs it.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dt_test.h"
#include "report/report_upgrade.h"

static const char *v1 =
    "{\n\t\"schema_version\":\t1,\n\t\"user\":\t{\"threads\":[{\"thread_id\":36}]},"
    "\"kernel\":{\"threads\":[{\"pid\":32,\"tid\":36},{\"pid\":null,\"tid\":null},{\"pid\":4}]}}";

START_TEST(schema_1_kernel_tid_becomes_thread_id)
{
    cJSON *doc = cJSON_Parse(v1);
    ck_assert(dt_report_upgrade(doc));
    ck_assert_int_eq(cJSON_GetObjectItem(doc, "schema_version")->valueint, DT_REPORT_SCHEMA_VERSION);
    cJSON *kt = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "kernel"), "threads");
    cJSON *t0 = cJSON_GetArrayItem(kt, 0);
    ck_assert(!cJSON_HasObjectItem(t0, "tid"));
    ck_assert_int_eq(cJSON_GetObjectItem(t0, "thread_id")->valueint, 36);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(kt, 1), "thread_id")));
    ck_assert(!cJSON_HasObjectItem(cJSON_GetArrayItem(kt, 2), "thread_id"));
    /* The user part was already right and is untouched. */
    cJSON *ut = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "user"), "threads"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(ut, "thread_id")->valueint, 36);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(current_and_unknown_versions_are_left_alone)
{
    cJSON *cur = cJSON_Parse("{\"schema_version\":2,\"kernel\":{\"threads\":[{\"thread_id\":5,\"tid\":9}]}}");
    ck_assert(dt_report_upgrade(cur));
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cur, "kernel"), "threads"), 0);
    ck_assert_int_eq(cJSON_GetObjectItem(t, "tid")->valueint, 9);
    cJSON_Delete(cur);
    cJSON *future = cJSON_Parse("{\"schema_version\":99}");
    ck_assert(!dt_report_upgrade(future));
    ck_assert_int_eq(cJSON_GetObjectItem(future, "schema_version")->valueint, 99);
    cJSON_Delete(future);
    cJSON *none = cJSON_Parse("{\"kernel\":null}");
    ck_assert(!dt_report_upgrade(none));
    cJSON_Delete(none);
}
END_TEST

START_TEST(text_is_parsed_only_when_old)
{
    ck_assert_ptr_null(dt_report_upgrade_text("{\n\t\"schema_version\":\t2,\n\t\"user\":\tnull}"));
    ck_assert_ptr_null(dt_report_upgrade_text("{\"user\":null}"));
    ck_assert_ptr_null(dt_report_upgrade_text("not json"));
    char *up = dt_report_upgrade_text(v1);
    ck_assert_ptr_nonnull(up);
    cJSON *doc = cJSON_Parse(up);
    ck_assert_int_eq(cJSON_GetObjectItem(doc, "schema_version")->valueint, 2);
    ck_assert_ptr_null(strstr(up, "\"tid\""));
    cJSON_Delete(doc);
    free(up);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("report_upgrade");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, schema_1_kernel_tid_becomes_thread_id);
    tcase_add_test(tc, current_and_unknown_versions_are_left_alone);
    tcase_add_test(tc, text_is_parsed_only_when_old);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
