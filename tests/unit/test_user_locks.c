/*
 * test_user_locks.c — SRW locks, condition variables and the loader lock in
 * the wait graph (#15), over a real Wine dump.
 *
 * Real: tests/data/wine/lock_wait.dmp.gz (lock_wait.exe + dfslow.dll under
 * Wine 8.0, dumped by dumpfactory's dumper.exe with procdump -ma flags; made
 * by tests/tools/dumpfactory/make_lock_dump.sh).  Every expected thread id and
 * address below is what the program itself printed (wine/logs/lock_wait.out),
 * not what the analyzer found.  Synthesized: the rules-file case and the
 * "ambiguous registers" case edit the real report's JSON (documented shapes,
 * docs/report.md) and triage it again.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "base/mapped_file.h"
#include "base/user_memory.h"
#include "formats/minidump.h"
#include "dt_test.h"
#include "triage/rules.h"
#include "triage/triage.h"

/* wine/logs/lock_wait.out */
enum { T_MAIN = 36, T_TIMERQ = 228, T_OWNER = 236, T_EXCL = 244, T_SHARED = 252, T_CV_SRW = 256, T_CV_CS = 268,
       T_LOADER = 272, T_DLL_INIT = 284 };
#define SRW "0x14000c220"
#define SRW2 "0x14000c228"
#define CV "0x14000c230"
#define CV2 "0x14000c238"
#define CS2 "0x14000c120"
#define LOADER_LOCK "0x170069620"

static cJSON *analyze(void)
{
    const char *syms[] = { dt_test_data("wine/bin/clang") };
    dt_analysis_request req = { .user_path = dt_test_data("wine/lock_wait.dmp.gz"), .symbol_paths = syms,
                                .nsymbol_paths = 1 };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s", err.message);
    return rep;
}

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

/* The thread's one waits_for edge. */
static const cJSON *only_wait(const cJSON *tri, unsigned tid)
{
    const cJSON *w = get(by_tid(get(tri, "threads"), tid), "waits_on");
    ck_assert_msg(cJSON_GetArraySize(w) == 1, "thread %u waits on %d objects", tid, cJSON_GetArraySize(w));
    return cJSON_GetArrayItem(w, 0);
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

START_TEST(walker_records_nonvolatile_registers_per_frame)
{
    cJSON *rep = analyze();
    /* srw-excl: NtWaitForAlertByThreadId ← RtlWaitOnAddress ←
     * RtlAcquireSRWLockExclusive ← df_take_exclusive.  The Rtl frame keeps
     * the lock in rbx; the .pdata unwind of RtlWaitOnAddress restored it
     * from its save slot (so it differs from the callee frame's rbx). */
    const cJSON *frames = get(by_tid(get(get(rep, "user"), "threads"), T_EXCL), "frames");
    const cJSON *f2 = cJSON_GetArrayItem(frames, 2);
    ck_assert_str_eq(str(f2, "function"), "RtlAcquireSRWLockExclusive");
    ck_assert_str_eq(str(get(f2, "nonvolatile"), "rbx"), SRW);
    bool restored = false;
    const cJSON *r;
    cJSON_ArrayForEach(r, get(f2, "nonvolatile_restored"))
        restored |= strcmp(r->valuestring, "rbx") == 0;
    ck_assert(restored);
    /* The context frame carries no copy (its registers are the thread's). */
    ck_assert_ptr_null(get(cJSON_GetArrayItem(frames, 0), "nonvolatile"));
    /* Bounded: frames past DT_REPORT_USER_NONVOLATILE_FRAMES carry none. */
    const cJSON *f;
    cJSON_ArrayForEach(f, frames)
        if (get(f, "frame")->valuedouble > 8)
            ck_assert_ptr_null(get(f, "nonvolatile"));
    cJSON_Delete(rep);
}
END_TEST

START_TEST(srw_waiters_share_one_lock_with_no_owner)
{
    cJSON *rep = analyze();
    const cJSON *tri = get(rep, "triage");
    const cJSON *e = only_wait(tri, T_EXCL);
    ck_assert_str_eq(str(e, "node"), "srw:" SRW);
    ck_assert_str_eq(str(e, "confidence"), "likely");
    ck_assert(strstr(str(e, "source"), "RtlAcquireSRWLockExclusive frame's recovered non-volatile registers"));
    ck_assert(cJSON_IsNull(get(e, "owner_thread_id")));
    e = only_wait(tri, T_SHARED);
    ck_assert_str_eq(str(e, "node"), "srw:" SRW);
    ck_assert(strstr(str(e, "source"), "(AcquireSRWLockShared)"));
    ck_assert_str_eq(str(node(tri, "srw:" SRW), "label"),
                     "SRW lock " SRW " (owner unknown: Windows records no SRW owner; waiters 244 exclusive, 252 shared)");
    ck_assert_str_eq(str(node(tri, "srw:" SRW), "type"), "SRW lock");
    const cJSON *t = by_tid(get(tri, "threads"), T_SHARED);
    ck_assert(strncmp(str(t, "verdict"),
                      "blocked waiting for SRW lock " SRW " (shared; owner unknown: Windows records no SRW owner; "
                      "waiters 244 exclusive, 252 shared; address likely) — NtWaitForAlertByThreadId ← "
                      "RtlAcquireSRWLockShared ← lock_wait!df_take_shared",
                      200) == 0);
    ck_assert_str_eq(str(get(t, "wait"), "object"), SRW);
    ck_assert_str_eq(str(get(t, "wait"), "object_type"), "RTL_SRWLOCK");
    ck_assert(cJSON_IsTrue(get(t, "stuck")));
    /* No owner is known, so no link to srw-owner: no chain through it. */
    const cJSON *c;
    cJSON_ArrayForEach(c, get(tri, "chains"))
    {
        const cJSON *x;
        cJSON_ArrayForEach(x, get(c, "threads"))
            ck_assert_uint_ne((unsigned)x->valuedouble, T_EXCL);
    }
    cJSON_Delete(rep);
}
END_TEST

START_TEST(condition_variables_name_the_released_lock)
{
    cJSON *rep = analyze();
    const cJSON *tri = get(rep, "triage");
    ck_assert_str_eq(str(only_wait(tri, T_CV_SRW), "node"), "cv:" CV);
    ck_assert_str_eq(str(only_wait(tri, T_CV_CS), "node"), "cv:" CV2);
    ck_assert_str_eq(str(node(tri, "cv:" CV), "label"),
                     "condition variable " CV " (no owner: any thread may wake it; waiters 256; released SRW lock " SRW2 ")");
    ck_assert_str_eq(str(node(tri, "cv:" CV2), "label"),
                     "condition variable " CV2 " (no owner: any thread may wake it; waiters 268; released critical section " CS2 ")");
    const cJSON *t = by_tid(get(tri, "threads"), T_CV_CS);
    ck_assert_str_eq(str(get(t, "wait"), "object_type"), "RTL_CONDITION_VARIABLE");
    ck_assert(strncmp(str(t, "verdict"), "blocked on condition variable " CV2 ", released critical section " CS2, 72) == 0);
    cJSON_Delete(rep);
}
END_TEST

START_TEST(loader_lock_is_named_with_its_owner)
{
    cJSON *rep = analyze();
    const cJSON *tri = get(rep, "triage");
    const cJSON *ll = get(tri, "loader_lock");
    ck_assert_str_eq(str(ll, "address"), LOADER_LOCK);
    ck_assert_uint_eq((unsigned)get(ll, "owner_thread_id")->valuedouble, T_DLL_INIT);
    ck_assert_int_eq(cJSON_GetArraySize(get(ll, "waiters")), 1);
    ck_assert_uint_eq((unsigned)cJSON_GetArrayItem(get(ll, "waiters"), 0)->valuedouble, T_LOADER);
    const cJSON *e = only_wait(tri, T_LOADER);
    ck_assert_str_eq(str(e, "node"), "cs:" LOADER_LOCK);
    ck_assert_uint_eq((unsigned)get(e, "owner_thread_id")->valuedouble, T_DLL_INIT);
    ck_assert_str_eq(str(node(tri, "cs:" LOADER_LOCK), "type"), "loader lock");
    const cJSON *t = by_tid(get(tri, "threads"), T_LOADER);
    ck_assert_str_eq(str(t, "verdict"),
                     "blocked on critical section " LOADER_LOCK " (the loader lock, PEB.LoaderLock) owned by thread 284 (dll-init)");
    /* The chain: loader → the loader lock → dll-init, blocked in DllMain;
     * dll-init is the root cause and the primary thread. */
    const cJSON *c = cJSON_GetArrayItem(get(tri, "chains"), 0);
    ck_assert_int_eq(cJSON_GetArraySize(get(tri, "chains")), 1);
    ck_assert(strncmp(str(c, "text"), "272 loader waits for loader lock " LOADER_LOCK " owned by 284 (dll-init) → 284 dll-init waits for", 90) == 0);
    ck_assert_uint_eq((unsigned)get(get(tri, "root_cause"), "thread_id")->valuedouble, T_DLL_INIT);
    ck_assert_uint_eq((unsigned)get(get(tri, "primary"), "thread_id")->valuedouble, T_DLL_INIT);
    cJSON_Delete(rep);
}
END_TEST

START_TEST(wine_timer_queue_thread_is_idle)
{
    cJSON *rep = analyze();
    const cJSON *t = by_tid(get(get(rep, "triage"), "threads"), T_TIMERQ);
    ck_assert(cJSON_IsTrue(get(t, "idle")));
    ck_assert(!cJSON_IsTrue(get(t, "stuck")));
    ck_assert_str_eq(str(t, "rule"), "idle \"Wine timer-queue thread waiting for the next timer\"");
    cJSON_Delete(rep);
}
END_TEST

/* Triage the real report again after an edit of its user part, over the
 * dump's own memory (what dt_analyze passes). */
static cJSON *retriage(const cJSON *rep)
{
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&f, dt_test_data("wine/lock_wait.dmp.gz"), &err), DT_OK);
    dt_minidump *md = NULL;
    ck_assert_int_eq(dt_minidump_parse(f.view, &md, &err), DT_OK);
    dt_rules rules;
    ck_assert_int_eq(dt_rules_default(&rules, &err), DT_OK);
    dt_triage_options opt = { .rules = &rules, .user_memory = dt_user_memory_addrspace(&md->memory) };
    cJSON *tri = NULL;
    ck_assert_int_eq(dt_triage_build(get(rep, "user"), NULL, &opt, &tri, &err), DT_OK);
    dt_rules_free(&rules);
    dt_minidump_free(md);
    dt_mapped_file_close(&f);
    return tri;
}

START_TEST(ambiguous_or_missing_registers_give_no_address)
{
    cJSON *rep = analyze();
    /* Without the walker's registers (a report of an older schema), no SRW
     * address is claimed: the thread keeps its plain verdict. */
    const cJSON *t;
    cJSON_ArrayForEach(t, get(get(rep, "user"), "threads"))
    {
        cJSON *f;
        cJSON_ArrayForEach(f, get(t, "frames"))
        {
            cJSON_DeleteItemFromObjectCaseSensitive(f, "nonvolatile");
            cJSON_DeleteItemFromObjectCaseSensitive(f, "nonvolatile_restored");
        }
    }
    cJSON *tri = retriage(rep);
    /* With the registers, the same re-triage finds the lock (the edit above
     * is what takes it away, not the re-triage). */
    cJSON *rep2 = analyze();
    cJSON *tri2 = retriage(rep2);
    ck_assert_str_eq(str(only_wait(tri2, T_EXCL), "node"), "srw:" SRW);
    cJSON_Delete(tri2);
    cJSON_Delete(rep2);
    const cJSON *x = by_tid(get(tri, "threads"), T_EXCL);
    ck_assert_int_eq(cJSON_GetArraySize(get(x, "waits_on")), 0);
    ck_assert(strncmp(str(x, "verdict"), "blocked waiting for an SRW lock — ", 36) == 0);
    cJSON_Delete(tri);
    cJSON_Delete(rep);
}
END_TEST

/* ALPC (synthesized on the real report): srw-owner's top frame becomes the
 * NtAlpcSendWaitReceivePort stub with a port handle in r10 and no send
 * message (r8 = 0), and HandleData lists the handle as an ALPC port. */
START_TEST(alpc_wait_names_the_port)
{
    cJSON *rep = analyze();
    cJSON *u = cJSON_GetObjectItemCaseSensitive(get(rep, "user"), "threads");
    cJSON *t = (cJSON *)by_tid(u, T_OWNER);
    cJSON *f0 = cJSON_GetArrayItem(get(t, "frames"), 0);
    cJSON_ReplaceItemInObjectCaseSensitive(f0, "function", cJSON_CreateString("NtAlpcSendWaitReceivePort"));
    cJSON *regs = cJSON_GetObjectItemCaseSensitive(t, "registers");
    cJSON_ReplaceItemInObjectCaseSensitive(regs, "r10", cJSON_CreateString("0x1234"));
    cJSON_ReplaceItemInObjectCaseSensitive(regs, "r8", cJSON_CreateString("0x0"));
    cJSON *handles = cJSON_GetObjectItemCaseSensitive(get(rep, "user"), "handles");
    cJSON *h = cJSON_Parse("{\"handle\":\"0x1234\",\"type\":\"ALPC Port\",\"name\":\"\\\\RPC Control\\\\dt_demo\"}");
    ck_assert_ptr_nonnull(h);
    if (cJSON_IsArray(handles))
        cJSON_AddItemToArray(handles, h);
    else {
        cJSON *arr = cJSON_CreateArray();
        cJSON_AddItemToArray(arr, h);
        cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(rep, "user"), "handles", arr);
    }
    cJSON *tri = retriage(rep);
    const cJSON *e = only_wait(tri, T_OWNER);
    ck_assert_str_eq(str(e, "node"), "handle:0x1234");
    ck_assert_str_eq(str(e, "label"), "ALPC port 0x1234 `\\RPC Control\\dt_demo`");
    ck_assert_str_eq(str(e, "confidence"), "likely");
    ck_assert_str_eq(str(e, "source"), "user stack: the port handle in r10 at the NtAlpcSendWaitReceivePort system call: "
                                       "a server waiting for a request (SendMessage r8 is NULL); every value is a handle "
                                       "HandleData lists");
    cJSON_Delete(tri);
    cJSON_Delete(rep);
}
END_TEST

/* Windows 10's loader (synthesized on the real report): srw-owner's stack
 * gets an ntdll!LdrpDrainWorkQueue frame above its first application frame,
 * as a thread waiting for another's DllMain has; with no critical section
 * on its stack it waits for the loader lock's owner (dll-init). */
START_TEST(loader_frame_waits_for_the_loader_lock_owner)
{
    cJSON *rep = analyze();
    cJSON *u = cJSON_GetObjectItemCaseSensitive(get(rep, "user"), "threads");
    cJSON *frames = cJSON_GetObjectItemCaseSensitive((cJSON *)by_tid(u, T_OWNER), "frames");
    cJSON *f1 = cJSON_GetArrayItem(frames, 1);
    cJSON_ReplaceItemInObjectCaseSensitive(f1, "module_short", cJSON_CreateString("ntdll"));
    cJSON_ReplaceItemInObjectCaseSensitive(f1, "module", cJSON_CreateString("ntdll.dll"));
    cJSON_ReplaceItemInObjectCaseSensitive(f1, "function", cJSON_CreateString("LdrpDrainWorkQueue"));
    cJSON *tri = retriage(rep);
    const cJSON *w = get(by_tid(get(tri, "threads"), T_OWNER), "waits_on");
    bool found = false;
    const cJSON *e;
    cJSON_ArrayForEach(e, w)
        if (strcmp(str(e, "node"), "cs:" LOADER_LOCK) == 0) {
            found = true;
            ck_assert_str_eq(str(e, "confidence"), "likely");
            ck_assert_uint_eq((unsigned)get(e, "owner_thread_id")->valuedouble, T_DLL_INIT);
            ck_assert(strstr(str(e, "source"), "ntdll!LdrpDrainWorkQueue waits"));
        }
    ck_assert(found);
    const cJSON *ll = get(tri, "loader_lock");
    ck_assert_int_eq(cJSON_GetArraySize(get(ll, "waiters")), 2);
    cJSON_Delete(tri);
    cJSON_Delete(rep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("user_locks");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, walker_records_nonvolatile_registers_per_frame);
    tcase_add_test(tc, srw_waiters_share_one_lock_with_no_owner);
    tcase_add_test(tc, condition_variables_name_the_released_lock);
    tcase_add_test(tc, loader_lock_is_named_with_its_owner);
    tcase_add_test(tc, wine_timer_queue_thread_is_idle);
    tcase_add_test(tc, ambiguous_or_missing_registers_give_no_address);
    tcase_add_test(tc, alpc_wait_names_the_port);
    tcase_add_test(tc, loader_frame_waits_for_the_loader_lock_owner);
    suite_add_tcase(s, tc);
    return dt_test_run(s);
}
