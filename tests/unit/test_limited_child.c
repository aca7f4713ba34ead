/*
 * test_limited_child.c — a helper program run in a limited child: its
 * result comes back; a child that sleeps past the wall clock, spins past
 * its CPU seconds, allocates past its address space or writes past its file
 * size is stopped, each within its bound, and said to be so; it inherits no
 * descriptor; a missing helper is named.  The misbehaving jobs are those of
 * the test helper tests/tools/dt_limited_job.c.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dt_test.h"
#include "limited_child.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs the test helper (tests/tools/dt_limited_job.c, built beside this
 * test) with job and arg under lim. */
static dt_status run_job(const dt_child_limits *lim, const char *job, const char *arg, int *out, bool *cancelled,
                         dt_error *err)
{
    char helper[1200];
    ck_assert_int_eq(dt_limited_helper_path("dt_limited_job", helper, sizeof helper), 0);
    ck_assert_msg(access(helper, X_OK) == 0, "%s is not built", helper);
    char *argv[] = { helper, (char *)job, (char *)arg, NULL };
    return dt_limited_run(lim, argv, out, sizeof *out, cancelled, err);
}

START_TEST(result_and_error_come_back)
{
    dt_child_limits lim = { .timeout_seconds = 10 };
    int out = 0;
    dt_error err = { 0 };
    ck_assert_int_eq(run_job(&lim, "answer", "21", &out, NULL, &err), DT_OK);
    ck_assert_int_eq(out, 42);
    ck_assert_int_eq(run_job(&lim, "refuse", NULL, &out, NULL, &err), DT_ERR_FORMAT);
    ck_assert_str_eq(err.message, "not an archive");
}
END_TEST

START_TEST(wall_clock_and_cpu_are_bounded)
{
    dt_child_limits lim = { .timeout_seconds = 1 };
    int out;
    dt_error err = { 0 };
    int64_t t0 = now_ms();
    ck_assert_int_eq(run_job(&lim, "sleep", NULL, &out, NULL, &err), DT_ERR_CORRUPT);
    int64_t ms = now_ms() - t0;
    ck_assert_msg(ms < 2500, "the sleeper ran %lld ms", (long long)ms);
    ck_assert_ptr_nonnull(strstr(err.message, "longer than the limit of 1 s"));

    dt_child_limits cpu = { .cpu_seconds = 1, .timeout_seconds = 20 };
    t0 = now_ms();
    ck_assert_int_eq(run_job(&cpu, "spin", NULL, &out, NULL, &err), DT_ERR_CORRUPT);
    ms = now_ms() - t0;
    ck_assert_msg(ms < 6000, "the spinner ran %lld ms", (long long)ms);
    ck_assert_ptr_nonnull(strstr(err.message, "CPU seconds"));
}
END_TEST

/* A drain: the hook says stop after 300 ms. */
static bool stop_after_300ms(void *arg)
{
    return now_ms() - *(int64_t *)arg >= 300;
}

START_TEST(cancel_kills_the_child_and_says_so)
{
    int64_t t0 = now_ms();
    dt_child_limits lim = { .timeout_seconds = 30, .cancelled = stop_after_300ms, .cancel_arg = &t0 };
    int out;
    bool cancelled = false;
    dt_error err = { 0 };
    ck_assert_int_eq(run_job(&lim, "sleep", NULL, &out, &cancelled, &err), DT_ERR_IO);
    int64_t ms = now_ms() - t0;
    ck_assert(cancelled);
    ck_assert_msg(ms >= 300 && ms < 2000, "the cancelled sleeper ran %lld ms", (long long)ms);
}
END_TEST

START_TEST(memory_and_file_size_are_bounded)
{
    dt_child_limits lim = { .memory = 256u << 20, .timeout_seconds = 30 };
    int out;
    dt_error err = { 0 };
    dt_status rc = run_job(&lim, "hog", NULL, &out, NULL, &err);
    ck_assert_int_eq(rc, DT_ERR_NOMEM);
    ck_assert_msg(strstr(err.message, "out of memory after") || strstr(err.message, "memory limit"), "%s",
                  err.message);

    char path[] = "/tmp/dt-test-limited.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dt_child_limits fs = { .fsize = 1u << 20, .timeout_seconds = 30 };
    ck_assert_int_eq(run_job(&fs, "write", path, &out, NULL, &err), DT_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err.message, "larger than the limit"));
    unlink(path);
}
END_TEST

/* The helper is exec'd with stdin, stdout, stderr and its result block
 * only: none of the server's sockets, database or spool descriptors. */
START_TEST(the_helper_inherits_no_descriptors)
{
    int fd = open("/dev/null", O_RDONLY); /* not close-on-exec: close_range must drop it */
    ck_assert_int_ge(fd, 0);
    dt_child_limits lim = { .timeout_seconds = 10 };
    int out = -1;
    dt_error err = { 0 };
    ck_assert_int_eq(run_job(&lim, "descriptors", NULL, &out, NULL, &err), DT_OK);
    ck_assert_int_eq(out, 0);
    close(fd);
}
END_TEST

/* A missing helper is an error that names it, not a hang or a crash. */
START_TEST(a_missing_helper_is_reported)
{
    dt_child_limits lim = { .timeout_seconds = 10 };
    int out = 0;
    dt_error err = { 0 };
    char *argv[] = { "/nonexistent/dumptriage-unpack", "archive", NULL };
    ck_assert_int_eq(dt_limited_run(&lim, argv, &out, sizeof out, NULL, &err), DT_ERR_IO);
    ck_assert_ptr_nonnull(strstr(err.message, "could not start /nonexistent/dumptriage-unpack"));
}
END_TEST

/* The server's helper refuses to run a job by hand (no result block). */
START_TEST(the_unpack_helper_sits_beside_the_binary)
{
    char helper[1200];
    ck_assert_int_eq(dt_limited_helper_path(DT_UNPACK_HELPER, helper, sizeof helper), 0);
    ck_assert_msg(access(helper, X_OK) == 0, "%s is not built beside the test", helper);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "%s archive a b c d 2>/dev/null", helper);
    int st = system(cmd);
    ck_assert_int_eq(WEXITSTATUS(st), 2);
}
END_TEST

static Suite *limited_child_suite(void)
{
    Suite *s = suite_create("limited_child");
    TCase *tc = tcase_create("limited_child");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, result_and_error_come_back);
    tcase_add_test(tc, wall_clock_and_cpu_are_bounded);
    tcase_add_test(tc, memory_and_file_size_are_bounded);
    tcase_add_test(tc, cancel_kills_the_child_and_says_so);
    tcase_add_test(tc, the_helper_inherits_no_descriptors);
    tcase_add_test(tc, a_missing_helper_is_reported);
    tcase_add_test(tc, the_unpack_helper_sits_beside_the_binary);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(limited_child_suite)
