/*
 * test_kernel_waits.c — kernel wait blocks as wait-graph edges (#15): the
 * reader (model/kernel_threads.c) and triage's kernel edges, end to end.
 *
 * Synthesized: kernel dumps from tests/support/kdump_writer.c (TEST-ONLY),
 * written both as a triage dump (what procdump -mk writes: thread and process
 * joins work there because the objects are the dump's own ETHREAD/EPROCESS)
 * and as a full dump.  Each waiting thread gets KWAIT_BLOCKs at
 * KTHREAD.WaitBlock with WaitType/WaitKey and dispatcher objects with
 * SignalState, KMUTANT.OwnerThread and KSEMAPHORE.Limit, in the public x64
 * 19041 layouts (docs/kernel.md "Wait objects").  Bad input: objects not in
 * the dump, an absurd WaitBlockCount, a block of another thread.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "kdump_analyze.h"

#define NT(off) (DT_KW_NT_BASE + (off))

static const uint64_t wait_frames[] = { NT(0x3f1000), NT(0x2b0a10), NT(0x2f7e20), NT(0x40a1b5) };
static const uint64_t idle_frames[] = { NT(0x3f1000), NT(0x2b0a10), NT(0x40a1b5) };

enum { T_ALL = 0x100, T_MUTEX = 0x104, T_OWNER = 0x108, T_JOIN = 0x10c, T_PJOIN = 0x110, T_ABSENT = 0x114,
       T_ABSURD = 0x118, T_FOREIGN = 0x11c };

#define WAITER(tid) { tid, 5, 6 /* UserRequest */, 1, false, 0x1000, NT(0x225870), wait_frames, 4, -1, 0, 0, false, false, NULL, 0 }
static const dt_kw_thread app_threads[] = {
    WAITER(T_ALL), WAITER(T_MUTEX),
    /* an ALPC client waits for the reply on a semaphore, WaitReason WrLpcReply */
    { T_OWNER, 5, 17 /* WrLpcReply */, 1, false, 0x1000, NT(0x225870), wait_frames, 4, -1, 0, 0, false, false, NULL, 0 },
    WAITER(T_JOIN),
    WAITER(T_PJOIN), WAITER(T_ABSENT), WAITER(T_ABSURD), WAITER(T_FOREIGN),
};
static const dt_kw_thread sys_threads[] = {
    { 0x8, 5, 15 /* WrQueue */, 0, false, 0x10, NT(0x225870), idle_frames, 3, -1, 4, 0, false, false, NULL, 0 },
};
static const dt_kw_process procs[] = {
    { 4, "System", sys_threads, 1 },
    { 0x40, "waits.exe", app_threads, 8 },
};

/* wait-all on a manual-reset event (signalled) and an auto-reset one (not). */
static const dt_kw_wait w_all[] = { { .type = 0, .signal_state = 1, .wait_key = 0 },
                                    { .type = 1, .signal_state = 0, .wait_key = 1 } };
static const dt_kw_wait w_mutex[] = { { .type = 2, .signal_state = 0, .owner_tid = T_OWNER } };
static const dt_kw_wait w_sem[] = { { .type = 5, .signal_state = 0, .limit = 3 } };
static const dt_kw_wait w_join[] = { { .join_thread = 2 /* T_MUTEX */ } };
static const dt_kw_wait w_pjoin[] = { { .join_process = 1 /* System */ } };
static const dt_kw_wait w_two[] = { { .type = 1 }, { .type = 0 } };
static const dt_kw_thread_waits waits[] = {
    { 1, 0, w_all, 2, 0 /* WaitAll */, DT_KW_WAIT_OK },
    { 1, 1, w_mutex, 1, 1, DT_KW_WAIT_OK },
    { 1, 2, w_sem, 1, 1, DT_KW_WAIT_OK },
    { 1, 3, w_join, 1, 1, DT_KW_WAIT_OK },
    { 1, 4, w_pjoin, 1, 1, DT_KW_WAIT_OK },
    { 1, 5, w_two, 2, 1, DT_KW_WAIT_OBJECT_ABSENT },
    { 1, 6, w_sem, 1, 1, DT_KW_WAIT_COUNT_ABSURD },
    { 1, 7, w_two, 2, 1, DT_KW_WAIT_FOREIGN_BLOCK },
};

static dt_kw_system system_desc(void)
{
    dt_kw_system s = { 0 };
    s.build = 19041;
    s.processors = 2;
    s.bugcheck_code = 0x161; /* LIVE_SYSTEM_DUMP */
    s.attributes = 0x10;
    s.processes = procs;
    s.process_count = 2;
    s.current_process = 1;
    s.current_thread = 0;
    s.waits = waits;
    s.wait_count = sizeof waits / sizeof waits[0];
    return s;
}

static cJSON *analyze_kernel(bool full)
{
    dt_kw_system s = system_desc();
    return dt_kw_analyze(&s, full, NULL);
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

static const cJSON *by_tid(const cJSON *arr, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
        if ((unsigned)get(t, "thread_id")->valuedouble == tid)
            return t;
    ck_abort_msg("no thread 0x%x", tid);
    return NULL;
}

static const cJSON *node(const cJSON *tri, const char *id)
{
    const cJSON *n;
    cJSON_ArrayForEach(n, get(get(tri, "wait_graph"), "nodes"))
        if (strcmp(str(n, "id"), id) == 0)
            return n;
    ck_abort_msg("no node %s", id);
    return NULL;
}

static char *obj_id(char *buf, size_t cap, uint64_t va)
{
    snprintf(buf, cap, "object:0x%llx", (unsigned long long)va);
    return buf;
}

static bool has_warning(const cJSON *rep, const char *needle)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, get(get(rep, "kernel"), "warnings"))
        if (cJSON_IsString(w) && strstr(w->valuestring, needle))
            return true;
    return false;
}

static void check(bool full)
{
    cJSON *rep = analyze_kernel(full);
    const cJSON *tri = get(rep, "triage");
    const cJSON *kthreads = get(get(rep, "kernel"), "threads");
    char id[64], id2[64];

    /* The reader: WaitType, WaitKey, SignalState in the kernel part. */
    const cJSON *wos = get(by_tid(kthreads, T_ALL), "wait_objects");
    ck_assert_int_eq(cJSON_GetArraySize(wos), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(wos, 0), "wait_type"), "WaitAll");
    ck_assert_int_eq((int)get(cJSON_GetArrayItem(wos, 1), "wait_key")->valuedouble, 1);
    ck_assert_int_eq((int)get(cJSON_GetArrayItem(wos, 0), "signal_state")->valuedouble, 1);
    const cJSON *sem = cJSON_GetArrayItem(get(by_tid(kthreads, T_OWNER), "wait_objects"), 0);
    ck_assert_str_eq(str(sem, "type"), "Semaphore");
    ck_assert_int_eq((int)get(sem, "semaphore_limit")->valuedouble, 3);
    const cJSON *pj = cJSON_GetArrayItem(get(by_tid(kthreads, T_PJOIN), "wait_objects"), 0);
    ck_assert_str_eq(str(pj, "type"), "Process");
    ck_assert_int_eq((int)get(pj, "process_id")->valuedouble, 4);

    /* Wait-all on two events: two certain edges, mode "all", states. */
    const cJSON *tt = by_tid(get(tri, "threads"), T_ALL);
    const cJSON *w = get(tt, "waits_on");
    ck_assert_int_eq(cJSON_GetArraySize(w), 2);
    ck_assert_str_eq(str(cJSON_GetArrayItem(w, 0), "wait_mode"), "all");
    ck_assert_str_eq(str(cJSON_GetArrayItem(w, 0), "confidence"), "certain");
    ck_assert_str_eq(str(cJSON_GetArrayItem(w, 0), "source"), "kernel: KTHREAD.WaitBlockList (KWAIT_BLOCK.Object, WaitType WaitAll)");
    uint64_t o0 = dt_kw_wait_object_va(1, 0);
    snprintf(id2, sizeof id2, "event 0x%llx (manual-reset, signalled)", (unsigned long long)o0);
    ck_assert_str_eq(str(node(tri, obj_id(id, sizeof id, o0)), "label"), id2);
    snprintf(id2, sizeof id2, "event 0x%llx (auto-reset, not signalled)", (unsigned long long)(o0 + 0x40));
    ck_assert_str_eq(str(node(tri, obj_id(id, sizeof id, o0 + 0x40)), "label"), id2);

    /* The chain: join → mutex owned by T_OWNER → semaphore count 0 of 3. */
    char want[512];
    snprintf(want, sizeof want,
             "268 waits.exe waits for thread 260 (waits.exe) to exit (thread 0x%llx) → 260 waits.exe waits for mutex "
             "0x%llx owned by 264 (waits.exe) → 264 waits.exe waits for semaphore 0x%llx (count 0 of 3), no owner",
             (unsigned long long)dt_kw_thread_va(1, 1), (unsigned long long)dt_kw_wait_object_va(1, 1),
             (unsigned long long)dt_kw_wait_object_va(1, 2));
    const cJSON *c, *chain = NULL;
    cJSON_ArrayForEach(c, get(tri, "chains"))
        if ((unsigned)cJSON_GetArrayItem(get(c, "threads"), 0)->valuedouble == T_JOIN)
            chain = c;
    ck_assert_ptr_nonnull(chain);
    /* Kernel-only threads are named by their image. */
    ck_assert_str_eq(str(chain, "text"), want);
    ck_assert_str_eq(str(chain, "confidence"), "certain");
    ck_assert_uint_eq((unsigned)get(get(tri, "root_cause"), "thread_id")->valuedouble, T_OWNER);
    /* The root's wait is labelled an ALPC/LPC reply wait (WrLpcReply). */
    ck_assert_str_eq(str(cJSON_GetArrayItem(get(by_tid(get(tri, "threads"), T_OWNER), "waits_on"), 0), "source"),
                     "kernel: KTHREAD.WaitBlockList (KWAIT_BLOCK.Object, WaitType WaitAny); WrLpcReply: an ALPC/LPC "
                     "client waiting for the server's reply");

    /* A process join: exit_of the process node. */
    const cJSON *e;
    bool pexit = false;
    cJSON_ArrayForEach(e, get(get(tri, "wait_graph"), "edges"))
        if (strcmp(str(e, "kind"), "exit_of") == 0 && strcmp(str(e, "to"), "process:4") == 0 &&
            strcmp(str(e, "from"), obj_id(id, sizeof id, dt_kw_process_va(0))) == 0)
            pexit = true;
    ck_assert(pexit);

    /* Bad input: absent objects stay edges with an unknown type; the
     * absurd count and the foreign block warn and stop the walk. */
    w = get(by_tid(get(tri, "threads"), T_ABSENT), "waits_on");
    ck_assert_int_eq(cJSON_GetArraySize(w), 2);
    ck_assert(strstr(str(cJSON_GetArrayItem(w, 0), "label"), "(object not in the dump)"));
    ck_assert_int_eq(cJSON_GetArraySize(get(by_tid(kthreads, T_ABSURD), "wait_objects")), 1);
    ck_assert(has_warning(rep, "WaitBlockCount 255 is not a valid wait"));
    ck_assert_int_eq(cJSON_GetArraySize(get(by_tid(kthreads, T_FOREIGN), "wait_objects")), 1);
    ck_assert(has_warning(rep, "wait block 1 belongs to another thread"));
    cJSON_Delete(rep);
}

START_TEST(triage_dump_wait_blocks) { check(false); }
END_TEST

START_TEST(full_dump_wait_blocks) { check(true); }
END_TEST

int main(void)
{
    Suite *s = suite_create("kernel_waits");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, triage_dump_wait_blocks);
    tcase_add_test(tc, full_dump_wait_blocks);
    suite_add_tcase(s, tc);
    return dt_test_run(s);
}
