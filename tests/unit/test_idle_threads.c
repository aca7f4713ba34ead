/*
 * test_idle_threads.c — idle rules (#15 item 4) on a real Wine dump.
 *
 * Real: tests/data/wine/idle_threads.dmp.gz (idle_threads.exe under Wine
 * 8.0, made by tests/tools/dumpfactory/make_idle_dump.sh): an RPC server
 * listening on ncalrpc (Wine's wine_rpcrt4_server thread), a thread-pool
 * timer (wine_threadpool_timerqueue) and its pool worker, and two
 * application threads really stuck on an event.  Thread ids are what the
 * program printed (wine/logs/idle_threads.out) or Wine's own thread names.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "analysis/analysis.h"
#include "dt_test.h"

enum { T_MAIN = 36, T_RPC = 256, T_WORKER = 260, T_TIMER = 264, T_STUCK = 268 };

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const cJSON *by_tid(const cJSON *arr, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
        if ((unsigned)get(t, "thread_id")->valuedouble == tid)
            return t;
    ck_abort_msg("no thread %u", tid);
    return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

static void assert_idle(const cJSON *tri, unsigned tid, const char *text)
{
    const cJSON *t = by_tid(get(tri, "threads"), tid);
    ck_assert(cJSON_IsTrue(get(t, "idle")));
    ck_assert(!cJSON_IsTrue(get(t, "stuck")));
    char want[200];
    snprintf(want, sizeof want, "idle \"%s\"", text);
    ck_assert_str_eq(str(t, "rule"), want);
    snprintf(want, sizeof want, "idle: %s", text);
    ck_assert_str_eq(str(t, "verdict"), want);
}

START_TEST(infrastructure_threads_are_idle_and_the_stuck_ones_are_not)
{
    const char *syms[] = { dt_test_data("wine/bin/clang") };
    dt_analysis_request req = { .user_path = dt_test_data("wine/idle_threads.dmp.gz"), .symbol_paths = syms,
                                .nsymbol_paths = 1 };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    const cJSON *tri = get(rep, "triage");
    assert_idle(tri, T_RPC, "Wine RPC server thread waiting for calls");
    assert_idle(tri, T_WORKER, "Wine thread-pool worker waiting for work");
    assert_idle(tri, T_TIMER, "Wine thread-pool timer thread waiting for the next timer");
    const unsigned stuck[] = { T_MAIN, T_STUCK };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *t = by_tid(get(tri, "threads"), stuck[i]);
        ck_assert(cJSON_IsTrue(get(t, "stuck")));
        ck_assert_str_eq(str(t, "rule"), "blocking wait_single");
    }
    const cJSON *c = get(tri, "counts");
    ck_assert_int_eq((int)get(c, "idle")->valuedouble, 3);
    ck_assert_int_eq((int)get(c, "stuck")->valuedouble, 2);
    cJSON_Delete(rep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idle_threads");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, infrastructure_threads_are_idle_and_the_stuck_ones_are_not);
    suite_add_tcase(s, tc);
    return dt_test_run(s);
}
