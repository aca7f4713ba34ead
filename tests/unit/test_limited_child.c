/*
 * test_limited_child.c — a function run in a limited child: its result comes
 * back; a child that sleeps past the wall clock, spins past its CPU
 * seconds, allocates past its address space or writes past its file size is
 * stopped, each within its bound, and said to be so.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dt_test.h"
#include "limited_child.h"

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static dt_status answer(void *arg, void *out, dt_error *err)
{
    (void)err;
    *(int *)out = *(int *)arg * 2;
    return DT_OK;
}

static dt_status refuse(void *arg, void *out, dt_error *err)
{
    (void)arg;
    (void)out;
    return dt_error_set(err, DT_ERR_FORMAT, "not an archive");
}

static dt_status sleeper(void *arg, void *out, dt_error *err)
{
    (void)arg;
    (void)out;
    (void)err;
    sleep(30);
    return DT_OK;
}

static dt_status spinner(void *arg, void *out, dt_error *err)
{
    (void)arg;
    (void)out;
    (void)err;
    volatile unsigned long x = 0;
    for (;;)
        x++;
    return DT_OK;
}

/* Under AddressSanitizer a failed allocation aborts the process unless
 * told otherwise; the hog must see NULL as it does in the plain build, so
 * the limit is checked the same way in both stages of ./test. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

static dt_status hog(void *arg, void *out, dt_error *err)
{
    (void)arg;
    (void)out;
    /* 4 GiB in 64 MiB steps, each touched: stops at the limit. */
    for (int i = 0; i < 64; i++) {
        char *p = malloc(64u << 20);
        if (!p)
            return dt_error_set(err, DT_ERR_NOMEM, "out of memory after %d MiB", i * 64);
        memset(p, 1, 64u << 20);
    }
    return DT_OK;
}

static dt_status writer(void *arg, void *out, dt_error *err)
{
    (void)out;
    FILE *f = fopen(arg, "wb");
    if (!f)
        return dt_error_set(err, DT_ERR_IO, "cannot open");
    static char buf[1 << 16];
    for (int i = 0; i < 64; i++)
        if (fwrite(buf, 1, sizeof buf, f) != sizeof buf || fflush(f) != 0)
            break;
    fclose(f);
    return DT_OK;
}

START_TEST(result_and_error_come_back)
{
    dt_child_limits lim = { .timeout_seconds = 10 };
    int in = 21, out = 0;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_limited_call(&lim, answer, &in, &out, sizeof out, NULL, &err), DT_OK);
    ck_assert_int_eq(out, 42);
    ck_assert_int_eq(dt_limited_call(&lim, refuse, &in, &out, sizeof out, NULL, &err), DT_ERR_FORMAT);
    ck_assert_str_eq(err.message, "not an archive");
}
END_TEST

START_TEST(wall_clock_and_cpu_are_bounded)
{
    dt_child_limits lim = { .timeout_seconds = 1 };
    int out;
    dt_error err = { 0 };
    int64_t t0 = now_ms();
    ck_assert_int_eq(dt_limited_call(&lim, sleeper, NULL, &out, sizeof out, NULL, &err), DT_ERR_CORRUPT);
    int64_t ms = now_ms() - t0;
    ck_assert_msg(ms < 2500, "the sleeper ran %lld ms", (long long)ms);
    ck_assert_ptr_nonnull(strstr(err.message, "longer than the limit of 1 s"));

    dt_child_limits cpu = { .cpu_seconds = 1, .timeout_seconds = 20 };
    t0 = now_ms();
    ck_assert_int_eq(dt_limited_call(&cpu, spinner, NULL, &out, sizeof out, NULL, &err), DT_ERR_CORRUPT);
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
    ck_assert_int_eq(dt_limited_call(&lim, sleeper, NULL, &out, sizeof out, &cancelled, &err), DT_ERR_IO);
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
    dt_status rc = dt_limited_call(&lim, hog, NULL, &out, sizeof out, NULL, &err);
    ck_assert_int_eq(rc, DT_ERR_NOMEM);
    ck_assert_msg(strstr(err.message, "out of memory after") || strstr(err.message, "memory limit"), "%s",
                  err.message);

    char path[] = "/tmp/dt-test-limited.XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dt_child_limits fs = { .fsize = 1u << 20, .timeout_seconds = 30 };
    ck_assert_int_eq(dt_limited_call(&fs, writer, path, &out, sizeof out, NULL, &err), DT_ERR_CORRUPT);
    ck_assert_ptr_nonnull(strstr(err.message, "larger than the limit"));
    unlink(path);
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
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(limited_child_suite)
