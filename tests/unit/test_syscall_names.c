/*
 * test_syscall_names.c — the per-build x64 service-number table
 * (j00ru/windows-syscalls, scripts/gen_syscall_names.py): numbers WinDbg
 * users know by heart, numbers that moved between builds, the rule for a
 * build between two listed ones, and refusals.
 */
#include <string.h>

#include "dt_test.h"
#include "symbols/syscall_names.h"

static void is(uint32_t build, uint32_t n, const char *want)
{
    const char *got = dt_syscall_name(build, n);
    if (!want)
        ck_assert_msg(got == NULL, "build %u 0x%x: want nothing, got %s", build, n, got);
    else
        ck_assert_msg(got && strcmp(got, want) == 0, "build %u 0x%x: want %s got %s", build, n, want,
                      got ? got : "(null)");
}

START_TEST(per_build_numbers)
{
    is(7601, 0x1, "NtWaitForSingleObject");       /* Windows 7: 0x1 */
    is(19041, 0x4, "NtWaitForSingleObject");      /* Windows 10 on: 0x4 */
    is(26100, 0x4, "NtWaitForSingleObject");
    is(26100, 0x1e3, "NtWaitForAlertByThreadId");  /* moves with every release */
    is(26200, 0x1e6, "NtWaitForWorkViaWorkerFactory");
    is(19045, 0x1d5, "NtWaitForWorkViaWorkerFactory");
    is(22621, 0x1e3, "NtWaitForWorkViaWorkerFactory"); /* same number, other call in 26100 */
    is(22621, 0x34, "NtDelayExecution");
    is(20348, 0x5b, "NtWaitForMultipleObjects");
    /* 19040 is not listed: named only where 18363 and 19041 agree */
    is(19040, 0x4, "NtWaitForSingleObject");
    is(3790, 0x4, NULL);   /* before the table */
    is(26100, 0x7fff, NULL);
    is(26100, 0xffff, NULL);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("syscall_names");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, per_build_numbers);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
