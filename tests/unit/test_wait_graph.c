/*
 * test_wait_graph.c — the wait graph (#15) over real Wine dumps.
 *
 * Real: tests/data/wine/wait_chain.dmp.gz (wait_chain.exe under Wine 8.0,
 * dumped by dumpfactory's dumper.exe; thread ids and handle values in
 * wine/logs/wait_chain.out) and multi_hang.dmp.gz.  Synthesized: Wine writes
 * no HandleData stream, so the "with handles" cases append one to a copy of
 * the real dump (tests/support/handle_stream_writer.c) holding exactly what
 * the program logged about each handle; the kernel case builds the kernel
 * part's JSON (wait_objects as docs/kernel.md documents them) by hand.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "base/mapped_file.h"
#include "dt_test.h"
#include "handle_stream_writer.h"
#include "triage/rules.h"
#include "triage/triage.h"

/* wine/logs/wait_chain.out */
enum { T_MAIN = 36, T_JOINER = 264, T_HOLDER = 260, T_CYC_A = 272, T_CYC_B = 268, T_CYC_C = 276, T_SPINNER = 280,
       T_TIMED = 284, T_POOL = 288 };

static const dt_test_handle wait_chain_handles[] = {
    { .handle = 0x64, .type = "Thread", .has_thread_id = true, .thread_id = T_JOINER },
    { .handle = 0x60, .type = "Thread", .has_thread_id = true, .thread_id = T_HOLDER },
    { .handle = 0x6c, .type = "Thread", .has_thread_id = true, .thread_id = T_CYC_A },
    { .handle = 0x68, .type = "Thread", .has_thread_id = true, .thread_id = T_CYC_B },
    { .handle = 0x70, .type = "Thread", .has_thread_id = true, .thread_id = T_CYC_C },
    { .handle = 0x74, .type = "Thread", .has_thread_id = true, .thread_id = T_SPINNER },
    { .handle = 0x78, .type = "Thread", .has_thread_id = true, .thread_id = T_TIMED },
    { .handle = 0x34, .type = "Mutant", .name = "Local\\dt_cache", .has_owner = true, .owner_thread_id = T_HOLDER },
    { .handle = 0x38, .type = "Mutant", .has_owner = true, .owner_thread_id = T_CYC_A },
    { .handle = 0x3c, .type = "Event", .has_event = true, .event_type = 1, .event_state = 0 },
    { .handle = 0x40, .type = "Event", .has_event = true, .event_type = 0, .event_state = 0 },
};

static cJSON *analyze(const char *path)
{
    const char *syms[] = { dt_test_data("wine/bin/clang") };
    dt_analysis_request req = { .user_path = path, .symbol_paths = syms, .nsymbol_paths = 1 };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    return rep;
}

/* A copy of wait_chain.dmp with a HandleData stream, analysed. */
static cJSON *analyze_with_handles(const dt_test_handle *h, size_t n, const dt_test_handle_faults *faults)
{
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&f, dt_test_data("wine/wait_chain.dmp.gz"), &err), DT_OK);
    size_t size = 0;
    uint8_t *copy = dt_test_add_handle_stream(f.view.data, f.view.size, h, n, faults, &size);
    dt_mapped_file_close(&f);
    ck_assert_ptr_nonnull(copy);
    char path[] = "/tmp/dt_wait_graph_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, copy, size), (ssize_t)size);
    close(fd);
    free(copy);
    cJSON *rep = analyze(path);
    unlink(path);
    return rep;
}

static const cJSON *tri_of(const cJSON *rep) { return cJSON_GetObjectItem(rep, "triage"); }

static const cJSON *thread_by_id(const cJSON *tri, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(tri, "threads"))
        if ((unsigned)cJSON_GetObjectItem(t, "thread_id")->valuedouble == tid)
            return t;
    ck_abort_msg("no thread %u", tid);
    return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

static bool is_true(const cJSON *o, const char *k) { return cJSON_IsTrue(cJSON_GetObjectItem(o, k)); }

/* The chain whose first thread is tid. */
static const cJSON *chain_from(const cJSON *tri, unsigned tid)
{
    const cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(tri, "chains"))
        if ((unsigned)cJSON_GetArrayItem(cJSON_GetObjectItem(c, "threads"), 0)->valuedouble == tid)
            return c;
    return NULL;
}

/* The one waits_for edge of a thread: node, source prefix, confidence. */
static void assert_waits(const cJSON *tri, unsigned tid, const char *node, const char *confidence)
{
    const cJSON *w = cJSON_GetObjectItem(thread_by_id(tri, tid), "waits_on");
    ck_assert_msg(cJSON_GetArraySize(w) == 1, "thread %u waits on %d objects", tid, cJSON_GetArraySize(w));
    const cJSON *e = cJSON_GetArrayItem(w, 0);
    ck_assert_str_eq(str(e, "node"), node);
    ck_assert_str_eq(str(e, "confidence"), confidence);
}

START_TEST(stack_handles_of_a_real_wine_dump)
{
    cJSON *rep = analyze(dt_test_data("wine/wait_chain.dmp.gz"));
    const cJSON *tri = tri_of(rep);
    /* The handle each thread passed, read at the wait's system call: the
     * values the program logged, labelled as guesses (no HandleData). */
    assert_waits(tri, T_MAIN, "handle:0x64", "guess");
    assert_waits(tri, T_JOINER, "handle:0x34", "guess");
    assert_waits(tri, T_HOLDER, "handle:0x3c", "guess");
    assert_waits(tri, T_CYC_B, "handle:0x70", "guess");
    assert_waits(tri, T_CYC_C, "handle:0x38", "guess");
    assert_waits(tri, T_TIMED, "handle:0x40", "guess");
    assert_waits(tri, T_CYC_A, "cs:0x14000c120", "strong");
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(thread_by_id(tri, T_CYC_B), "waits_on"), 0);
    ck_assert(strstr(str(e, "source"), "a volatile register: a guess"));
    /* Without HandleData only the critical section links two threads. */
    const cJSON *c = chain_from(tri, T_CYC_A);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(str(c, "text"), "272 cyc-A waits for critical section 0x14000c120 owned by 268 (cyc-B) → 268 cyc-B waits for object 0x70");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(tri, "chains")), 1);

    /* Timed wait: 5 s read from the stack, not stuck. */
    const cJSON *t = thread_by_id(tri, T_TIMED);
    ck_assert(!is_true(t, "stuck"));
    ck_assert_double_eq(cJSON_GetObjectItem(t, "timeout_ms")->valuedouble, 5000);
    ck_assert(strncmp(str(t, "verdict"), "timed wait: waits up to 5 s, then returns (not stuck forever) — ", 60) == 0);
    ck_assert_str_eq(str(t, "rule"), "timed wait (the timeout argument of the wait's system call)");
    /* Busy loop: running, named, with its CPU time. */
    t = thread_by_id(tri, T_SPINNER);
    ck_assert_str_eq(str(t, "state"), "running");
    ck_assert(!is_true(t, "stuck"));
    ck_assert(strncmp(str(t, "verdict"), "busy in user code — wait_chain!df_compute_loop, ", 49) == 0);
    ck_assert(cJSON_GetObjectItem(cJSON_GetObjectItem(t, "cpu"), "total_ms")->valuedouble >= 1000);
    ck_assert_str_eq(str(t, "rule"), "running (user stack)");
    /* Wine's thread-pool worker is idle, by its thread name's rule. */
    t = thread_by_id(tri, T_POOL);
    ck_assert(is_true(t, "idle"));
    ck_assert_str_eq(str(t, "rule"), "idle \"Wine thread-pool worker waiting for work\"");
    cJSON_Delete(rep);
}
END_TEST

/* A real Crashpad dump of Electron (Windows 11, no module images, no
 * symbols): three threads stopped in an unnamed win32u stub with a win32k
 * service number in RAX and MsgWaitForMultipleObjectsEx's argument shape
 * (r8 INFINITE, r9 a QS_ mask) wait for window messages; they are not
 * "busy in user code". */
START_TEST(win32u_message_waits_of_a_real_electron_dump)
{
    dt_analysis_request req = { .user_path = dt_test_data("user/crashdump-mcp__electron.dmp") };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    const cJSON *tri = tri_of(rep);
    const unsigned tids[] = { 8124, 22892, 6148 };
    for (size_t i = 0; i < 3; i++) {
        const cJSON *t = thread_by_id(tri, tids[i]);
        ck_assert_str_eq(str(t, "state"), "waiting");
        ck_assert(!is_true(t, "stuck"));
        ck_assert_str_eq(str(t, "rule"), "blocking message_wait (win32u stub: r8 a timeout, r9 a QS_ wake mask; a guess)");
        ck_assert(strncmp(str(t, "verdict"), "waiting for window messages — win32k service 0x14d6 ← electron+", 66) == 0);
    }
    cJSON_Delete(rep);
}
END_TEST

/* The real rizin calc.exe dump: the debugger's break-in thread matches an
 * idle rule; its verdict says so, as its rule does (not "running"). */
START_TEST(idle_rule_and_verdict_agree_on_a_break_in_thread)
{
    dt_analysis_request req = { .user_path = dt_test_data("user/rizin__calc.dmp") };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    const cJSON *t = thread_by_id(tri_of(rep), 1628);
    ck_assert_str_eq(str(t, "rule"), "idle \"debugger break-in thread\"");
    ck_assert_str_eq(str(t, "verdict"), "idle: debugger break-in thread");
    ck_assert(!is_true(t, "stuck"));
    cJSON_Delete(rep);
}
END_TEST

START_TEST(handle_data_links_the_chain_and_the_mixed_cycle)
{
    cJSON *rep = analyze_with_handles(wait_chain_handles, sizeof wait_chain_handles / sizeof wait_chain_handles[0], NULL);
    const cJSON *tri = tri_of(rep);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(rep, "user"), "warnings")), 0);
    /* Every recovered handle is one HandleData lists: "likely". */
    assert_waits(tri, T_MAIN, "handle:0x64", "likely");
    assert_waits(tri, T_JOINER, "handle:0x34", "likely");

    const cJSON *c = chain_from(tri, T_MAIN);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(str(c, "text"),
                     "36 main waits for thread 264 (joiner) to exit (thread 0x64) → 264 joiner waits for mutex 0x34 "
                     "`Local\\dt_cache` owned by 260 (holder) → 260 holder waits for event 0x3c (auto-reset, not "
                     "signalled), no owner");
    ck_assert(!is_true(c, "cycle"));
    ck_assert_int_eq((int)cJSON_GetObjectItem(c, "root_thread_id")->valuedouble, T_HOLDER);
    ck_assert_str_eq(str(c, "confidence"), "likely");

    /* The 3-way cycle: mutex, critical section, thread join. */
    const cJSON *d, *cycle = NULL;
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(tri, "deadlocks"))
        if (strcmp(str(d, "kind"), "wait_graph") == 0)
            cycle = d;
    ck_assert_ptr_nonnull(cycle);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(cycle, "threads")), 3);
    /* Its kinds, in the order the cycle is walked (from cyc-B). */
    char kinds[128] = "";
    cJSON_ArrayForEach(d, cJSON_GetObjectItem(cycle, "kinds"))
    {
        strcat(kinds, d->valuestring);
        strcat(kinds, " ");
    }
    ck_assert_str_eq(kinds, "thread_join mutex critical_section ");
    ck_assert_str_eq(str(cycle, "description"),
                     "deadlock: 268 waits for thread 276 (cyc-C) to exit (thread 0x70); 276 waits for mutex 0x38 owned "
                     "by 272 (cyc-A); 272 waits for critical section 0x14000c120 owned by 268 (cyc-B)");
    for (unsigned tid = T_CYC_B; tid <= T_CYC_C; tid += 4)
        ck_assert_str_eq(str(thread_by_id(tri, tid), "rule"), "wait cycle (wait graph)");

    /* Root cause: the holder and each cycle member are waited on by two
     * threads; on a tie the cycle wins.  The primary thread follows it. */
    const cJSON *rc = cJSON_GetObjectItem(tri, "root_cause");
    ck_assert_int_eq((int)cJSON_GetObjectItem(rc, "thread_id")->valuedouble, T_CYC_B);
    ck_assert(is_true(rc, "cycle"));
    ck_assert_int_eq((int)cJSON_GetObjectItem(cJSON_GetObjectItem(tri, "primary"), "thread_id")->valuedouble, T_CYC_B);
    /* blocked_threads: the holder is waited on by joiner and main. */
    const cJSON *b = cJSON_GetObjectItem(thread_by_id(tri, T_HOLDER), "blocked_threads");
    ck_assert_int_eq(cJSON_GetArraySize(b), 2);
    cJSON_Delete(rep);
}
END_TEST

START_TEST(multi_hang_critical_section_cycle_is_the_root_cause)
{
    cJSON *rep = analyze(dt_test_data("wine/multi_hang.dmp.gz"));
    const cJSON *tri = tri_of(rep);
    const cJSON *c = chain_from(tri, 240);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(str(c, "text"), "240 deadlock-A waits for critical section 0x14000c148 owned by 244 (deadlock-B) → "
                                     "244 deadlock-B waits for critical section 0x14000c120 owned by 240 (deadlock-A) → "
                                     "240 (a cycle: deadlock)");
    ck_assert(is_true(c, "cycle"));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(tri, "chains")), 1);
    /* The pure critical-section cycle stays one deadlock entry (locks.c). */
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(tri, "deadlocks")), 1);
    ck_assert_int_eq((int)cJSON_GetObjectItem(cJSON_GetObjectItem(tri, "root_cause"), "thread_id")->valuedouble, 240);
    /* main's WaitForMultipleObjects on its six workers: Wine's copy of the
     * array (rdx) holds the six worker handles in order; the count is not
     * recoverable (r10 is not kept), so the run of handle-shaped values is
     * taken and one stack word after them is wrongly included — which is why
     * these edges say "guess" and "count unknown". */
    const cJSON *w = cJSON_GetObjectItem(thread_by_id(tri, 36), "waits_on");
    ck_assert_int_ge(cJSON_GetArraySize(w), 6);
    static const char *workers[] = { "handle:0x48", "handle:0x50", "handle:0x58", "handle:0x60", "handle:0x68", "handle:0x70" };
    for (int i = 0; i < 6; i++) {
        ck_assert_str_eq(str(cJSON_GetArrayItem(w, i), "node"), workers[i]);
        ck_assert_str_eq(str(cJSON_GetArrayItem(w, i), "confidence"), "guess");
        ck_assert(strstr(str(cJSON_GetArrayItem(w, i), "source"), "count unknown"));
    }
    cJSON_Delete(rep);
}
END_TEST

/* Kernel wait blocks (the kernel part's wait_objects) link threads with
 * certainty: a join on an ETHREAD and a mutant's owner. */
START_TEST(kernel_wait_objects_make_certain_edges)
{
    const char *text =
        "{\"threads\":["
        "{\"thread_id\":1,\"pid\":9,\"state\":\"waiting\",\"wait_reason\":\"UserRequest\",\"frames\":[],"
        " \"wait_objects\":[{\"object\":\"0xffff800000001000\",\"type\":\"Thread\",\"thread_id\":2}]},"
        "{\"thread_id\":2,\"pid\":9,\"state\":\"waiting\",\"frames\":[],"
        " \"wait_objects\":[{\"object\":\"0xffff800000002000\",\"type\":\"Mutant\",\"owner_thread_id\":3}]},"
        "{\"thread_id\":3,\"pid\":9,\"state\":\"waiting\",\"frames\":[],"
        " \"wait_objects\":[{\"object\":\"0xffff800000003000\",\"type\":\"SynchronizationEvent\"}]}]}";
    cJSON *kernel = cJSON_Parse(text);
    dt_rules rules;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_rules_default(&rules, &err), DT_OK);
    dt_triage_options opt = { .rules = &rules };
    cJSON *tri = NULL;
    ck_assert_int_eq(dt_triage_build(NULL, kernel, &opt, &tri, &err), DT_OK);
    const cJSON *c = chain_from(tri, 1);
    ck_assert_ptr_nonnull(c);
    ck_assert_str_eq(str(c, "text"), "1 waits for thread 2 to exit (thread 0xffff800000001000) → 2 waits for mutex "
                                     "0xffff800000002000 owned by 3 → 3 waits for event 0xffff800000003000, no owner");
    ck_assert_str_eq(str(c, "confidence"), "certain");
    ck_assert_int_eq((int)cJSON_GetObjectItem(cJSON_GetObjectItem(tri, "primary"), "thread_id")->valuedouble, 3);
    cJSON_Delete(tri);
    cJSON_Delete(kernel);
    dt_rules_free(&rules);
}
END_TEST

/* Bad HandleData: a warning each, and the rest of the report. */
START_TEST(bad_handle_streams_warn_and_keep_the_report)
{
    struct {
        dt_test_handle_faults f;
        const char *warning;
    } cases[] = {
        { { .loop_object_info = true }, "object information chain loops" },
        { { .object_info_past_eof = true }, "is outside the file" },
        { { .huge_info_size = true }, "runs past the end of the file" },
        { { .claimed_count = 0x7fffffff }, "HandleData claims 2147483647 handles" },
        { { .descriptor_size = 8 }, "descriptor 8 bytes too small" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *rep = analyze_with_handles(wait_chain_handles, sizeof wait_chain_handles / sizeof wait_chain_handles[0],
                                          &cases[i].f);
        bool found = false;
        const cJSON *w;
        cJSON_ArrayForEach(w, cJSON_GetObjectItem(rep, "warnings"))
            if (strstr(w->valuestring, cases[i].warning))
                found = true;
        ck_assert_msg(found, "case %zu: no warning '%s'", i, cases[i].warning);
        /* The rest of the report: threads, the critical-section link. */
        const cJSON *tri = tri_of(rep);
        ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(tri, "threads")), 9);
        assert_waits(tri, T_CYC_A, "cs:0x14000c120", "strong");
        assert_waits(tri, T_CYC_B, "handle:0x70", i == 4 ? "guess" : "likely"); /* case 4: no handles read */
        cJSON_Delete(rep);
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wait_graph");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, stack_handles_of_a_real_wine_dump);
    tcase_add_test(tc, handle_data_links_the_chain_and_the_mixed_cycle);
    tcase_add_test(tc, multi_hang_critical_section_cycle_is_the_root_cause);
    tcase_add_test(tc, kernel_wait_objects_make_certain_edges);
    tcase_add_test(tc, win32u_message_waits_of_a_real_electron_dump);
    tcase_add_test(tc, idle_rule_and_verdict_agree_on_a_break_in_thread);
    tcase_add_test(tc, bad_handle_streams_warn_and_keep_the_report);
    suite_add_tcase(s, tc);
    return dt_test_run(s);
}
