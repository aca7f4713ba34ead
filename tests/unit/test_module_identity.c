/*
 * test_module_identity.c — the one rule for a module's name in
 * `module!function` (base/module.h): the file name of a path with either
 * separator, the extension dropped with the case kept, the kernel image
 * under every build name as `nt` (ntkrnlmp.exe was shown as `ntkrnlmp` by
 * the report's kernel lookup before the rule was shared), the HAL variants
 * as `hal`; the triage rules' normalisation and the kernel and user report
 * frames all go through it.
 */
#include <stdint.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "dt_test.h"
#include "base/module.h"
#include "report/frames_json.h"
#include "triage/rules.h"

static const char *short_name(const char *path)
{
    static char buf[128];
    return dt_module_short_name(path, buf, sizeof buf);
}

START_TEST(file_name_strips_directories)
{
    ck_assert_str_eq(dt_module_file_name("C:\\Windows\\System32\\ntdll.dll"), "ntdll.dll");
    ck_assert_str_eq(dt_module_file_name("\\SystemRoot\\system32\\ntoskrnl.exe"), "ntoskrnl.exe");
    ck_assert_str_eq(dt_module_file_name("/usr/lib/wine/x86_64-windows/kernelbase.dll"), "kernelbase.dll");
    ck_assert_str_eq(dt_module_file_name("C:\\mixed/dir\\app.exe"), "app.exe");
    ck_assert_str_eq(dt_module_file_name("app.exe"), "app.exe");
    ck_assert_str_eq(dt_module_file_name("C:\\dir\\"), "");
    ck_assert_str_eq(dt_module_file_name(""), "");
    ck_assert_str_eq(dt_module_file_name(NULL), "");
}
END_TEST

START_TEST(short_name_is_windbgs)
{
    ck_assert_str_eq(short_name("C:\\Windows\\System32\\KERNELBASE.dll"), "KERNELBASE");
    ck_assert_str_eq(short_name("hello_block.exe"), "hello_block");
    ck_assert_str_eq(short_name("amdppm.sys"), "amdppm");
    ck_assert_str_eq(short_name("System.Private.CoreLib.dll"), "System.Private.CoreLib");
    ck_assert_str_eq(short_name("noext"), "noext");
    ck_assert_str_eq(short_name(".hidden"), ".hidden");
    ck_assert_str_eq(short_name(""), "");
    ck_assert_str_eq(short_name(NULL), "");
    /* the kernel image, any build, any case, with or without .exe */
    ck_assert_str_eq(short_name("ntoskrnl.exe"), "nt");
    ck_assert_str_eq(short_name("ntkrnlmp.exe"), "nt");
    ck_assert_str_eq(short_name("NTKRNLPA.EXE"), "nt");
    ck_assert_str_eq(short_name("ntkrpamp.exe"), "nt");
    ck_assert_str_eq(short_name("ntkrla57.exe"), "nt");
    ck_assert_str_eq(short_name("\\SystemRoot\\system32\\ntoskrnl.exe"), "nt");
    ck_assert_str_eq(short_name("ntkrnlmp"), "nt");
    /* the HAL */
    ck_assert_str_eq(short_name("hal.dll"), "hal");
    ck_assert_str_eq(short_name("halmacpi.dll"), "hal");
    ck_assert_str_eq(short_name("HALACPI.DLL"), "hal");
    /* near misses keep their own names */
    ck_assert_str_eq(short_name("ntdll.dll"), "ntdll");
    ck_assert_str_eq(short_name("ntoskrnl2.exe"), "ntoskrnl2");
    ck_assert_str_eq(short_name("halo.dll"), "halo");
    ck_assert_str_eq(short_name("kdcom.dll"), "kdcom");
}
END_TEST

START_TEST(short_name_truncates_on_a_character)
{
    char buf[6];
    ck_assert_str_eq(dt_module_short_name("abcdefgh.dll", buf, sizeof buf), "abcde");
    /* "ab" + U+00E9 (2 bytes) + "d": 5 bytes fit, the é is whole */
    ck_assert_str_eq(dt_module_short_name("ab\xC3\xA9" "d.dll", buf, sizeof buf), "ab\xC3\xA9" "d");
    /* "abcd" + é: only its first byte would fit, so it goes */
    ck_assert_str_eq(dt_module_short_name("abcd\xC3\xA9.dll", buf, sizeof buf), "abcd");
    char one[1];
    ck_assert_str_eq(dt_module_short_name("ntoskrnl.exe", one, sizeof one), "");
}
END_TEST

START_TEST(kernel_image_by_any_build_name)
{
    ck_assert(dt_module_is_kernel_image("ntoskrnl.exe"));
    ck_assert(dt_module_is_kernel_image("ntkrnlmp.exe"));
    ck_assert(dt_module_is_kernel_image("NtKrnlPa.exe"));
    ck_assert(dt_module_is_kernel_image("ntkrpamp.exe"));
    ck_assert(dt_module_is_kernel_image("ntkrla57.exe"));
    ck_assert(dt_module_is_kernel_image("\\SystemRoot\\system32\\ntoskrnl.exe"));
    ck_assert(dt_module_is_kernel_image("ntkrnlmp.pdb"));
    ck_assert(!dt_module_is_kernel_image("ntdll.dll"));
    ck_assert(!dt_module_is_kernel_image("hal.dll"));
    ck_assert(!dt_module_is_kernel_image("ntoskrnl_old.exe"));
    ck_assert(!dt_module_is_kernel_image(""));
    ck_assert(!dt_module_is_kernel_image(NULL));
}
END_TEST

/* The triage rules match on the same name, lower-cased, without needing a
 * module_alias line per kernel build. */
START_TEST(rules_normalise_through_the_same_rule)
{
    dt_rules r;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_rules_default(&r, &err), DT_OK);
    char norm[256];
    dt_rules_normalize_module(&r, "ntkrnlmp.exe", norm, sizeof norm);
    ck_assert_str_eq(norm, "nt");
    dt_rules_normalize_module(NULL, "\\SystemRoot\\system32\\NTKRLA57.EXE", norm, sizeof norm);
    ck_assert_str_eq(norm, "nt");
    dt_rules_normalize_module(&r, "C:\\Windows\\System32\\KERNELBASE.dll", norm, sizeof norm);
    ck_assert_str_eq(norm, "kernelbase");
    dt_rules_normalize(&r, "ntkrnlmp.exe", "KeWaitForSingleObject", norm, sizeof norm);
    ck_assert_str_eq(norm, "nt!kewaitforsingleobject");
    dt_rules_free(&r);
    /* a rules file's own module_alias still applies, after the rule */
    ck_assert_int_eq(dt_rules_parse("module_alias myapp_v2 myapp\n", &r, &err), DT_OK);
    dt_rules_normalize_module(&r, "C:\\app\\MyApp_v2.exe", norm, sizeof norm);
    ck_assert_str_eq(norm, "myapp");
    dt_rules_free(&r);
}
END_TEST

/* Report frames carry the short name, so readers (the web page) need no
 * identity rule of their own. */
START_TEST(report_frames_carry_the_short_name)
{
    dt_module_list mods = { 0 };
    dt_module m = { 0 };
    m.base = 0x1000000;
    m.size = 0x100000;
    m.code_file = strdup("ntkrnlmp.exe");
    dt_module *stored = dt_module_list_add(&mods, &m);
    ck_assert_ptr_nonnull(stored);
    dt_module_list_sort(&mods);
    dt_frame frames[2];
    memset(frames, 0, sizeof frames);
    frames[0].ip = 0x1001234;
    frames[0].trust = DT_TRUST_CONTEXT;
    frames[0].module = &mods.items[0];
    frames[0].module_offset = 0x1234;
    frames[1].ip = 0x42;
    frames[1].trust = DT_TRUST_SCAN;
    dt_stack st = { .frames = frames, .count = 2 };
    cJSON *arr = dt_report_frames(&st, NULL, NULL, 0);
    ck_assert_ptr_nonnull(arr);
    cJSON *f0 = cJSON_GetArrayItem(arr, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(f0, "module")->valuestring, "ntkrnlmp.exe");
    ck_assert_str_eq(cJSON_GetObjectItem(f0, "module_short")->valuestring, "nt");
    cJSON *f1 = cJSON_GetArrayItem(arr, 1);
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(f1, "module_short")));
    cJSON_Delete(arr);
    dt_module_list_free(&mods);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("module_identity");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, file_name_strips_directories);
    tcase_add_test(tc, short_name_is_windbgs);
    tcase_add_test(tc, short_name_truncates_on_a_character);
    tcase_add_test(tc, kernel_image_by_any_build_name);
    tcase_add_test(tc, rules_normalise_through_the_same_rule);
    tcase_add_test(tc, report_frames_carry_the_short_name);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
