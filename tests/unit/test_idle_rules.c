/*
 * test_idle_rules.c — the Windows idle rules of triage.rules (#15 item 4):
 * which real threads of the corpus they match, and the rules no real
 * thread exercises, on stacks synthesized from public WinDbg outputs.
 *
 * Real: every Windows user dump in tests/data/user (tests/data/ORIGIN.tsv),
 * analysed without symbols.  Exactly the threads listed below are idle,
 * under the rule named: thread-pool workers in NtWaitForWorkViaWorkerFactory
 * (the stub is named from its service number without symbols) and the
 * debugger's break-in threads.  No thread of the corpus matches the RPC,
 * COM, .NET or timer-queue rules (their modules have no symbols there).
 *
 * Synthesized: a report's user part written by hand, one thread per stack,
 * each frame module!function as WinDbg prints it in a public report:
 *   GC thread          dotnet/runtime#44698 (clr!SVR::gc_heap::gc_thread_function, x64)
 *   finalizer, .NET pool worker and timer thread
 *                      dotnet/coreclr#11550 (coreclr!FinalizerThread::FinalizerThreadStart,
 *                      coreclr!ThreadpoolMgr::WorkerThreadStart / TimerThreadStart, x64)
 *   tiered compilation microsoft/microsoft-ui-xaml#10127
 *                      (coreclr!TieredCompilationManager::BackgroundWorkerStart, x64)
 *   COM worker         electron/electron#21614 (combase!CRpcThreadCache::RpcWorkerThreadEntry)
 *   RPC server         RPCRT4!LRPC_ADDRESS::ReceiveLotsaCalls / RecvLotsaCallsWrapper /
 *                      BaseCachedThreadRoutine / ThreadStartRoutine (a public raw-stack
 *                      listing, dumpanalysis.org style, Windows Server 2003)
 *   timer queue        ntdll!RtlpTimerQueueThread — no public stack was found; the name
 *                      is the rules file's own, so this case only shows the rule fires
 * and the same threads busy in application code above those frames (a
 * Finalize method in JIT code, an RPC server routine, a pool callback), which
 * are not idle.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "dt_test.h"
#include "triage/rules.h"
#include "triage/triage.h"

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

/* ---- real dumps ---------------------------------------------------------- */

#define POOL "idle \"thread-pool worker waiting for work\""
#define BREAKIN "idle \"debugger break-in thread\""

static const struct {
    const char *dump;
    unsigned tids[8];
    const char *rule;
} real_idle[] = {
    { "breakpad__minidump2.dmp", { 0 }, NULL },
    { "breakpad__minidump_32bit_crash_addr.dmp", { 0 }, NULL },
    { "breakpad__thread_name_list.dmp", { 0 }, NULL },
    { "breakpad__tiny-exe-fastfail.dmp", { 36104, 26620, 34828 }, POOL },
    { "breakpad__tiny-exe-with-cet-xsave-x86.dmp", { 0 }, NULL },
    { "breakpad__tiny-exe-with-cet-xsave.dmp", { 0 }, NULL },
    { "breakpad__write_av_non_canonical.dmp", { 0 }, NULL },
    { "crashdump-mcp__electron.dmp", { 22356, 628, 12976, 2784, 22792, 12304 }, POOL },
    { "crashdump-mcp__symbol-heavy.dmp", { 0 }, NULL },
    { "lldb__fizzbuzz_no_heap.dmp", { 0 }, NULL },
    { "lldb__sigsegv.dmp", { 0 }, NULL },
    { "node-minidump__windows.dmp", { 8220, 3324, 9660, 9276, 2396 }, POOL },
    { "rizin__calc.dmp", { 1628 }, BREAKIN },
    { "rust-minidump__invalid-parameter.dmp", { 14112, 11744, 12044, 13188 }, POOL },
    { "symbolicator__windows.dmp", { 0 }, NULL },
    { "syzygy__minidump-no-kasko-stream.dmp", { 0 }, NULL },
    { "syzygy__notepad-larger-32bit.dmp", { 4604 }, BREAKIN },
    { "syzygy__notepad-larger-64bit.dmp", { 10444 }, BREAKIN },
    { "syzygy__notepad-small-32bit.dmp", { 4604 }, BREAKIN },
    { "syzygy__notepad-small-64bit.dmp", { 10444 }, BREAKIN },
    { "syzygy__use-after-free.dmp", { 0 }, NULL },
};

START_TEST(real_windows_threads_match_exactly_these_idle_rules)
{
    char path[256];
    snprintf(path, sizeof path, "user/%s", real_idle[_i].dump);
    dt_analysis_request req = { .user_path = dt_test_data(path) };
    cJSON *rep = NULL;
    dt_error err = { 0 };
    ck_assert_msg(dt_analyze(&req, &rep, &err) == DT_OK, "%s: %s", path, err.message);
    size_t want = 0;
    while (want < 8 && real_idle[_i].tids[want])
        want++;
    size_t got = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, get(get(rep, "triage"), "threads"))
    {
        if (!cJSON_IsTrue(get(t, "idle")))
            continue;
        unsigned tid = (unsigned)get(t, "thread_id")->valuedouble;
        bool listed = false;
        for (size_t k = 0; k < want; k++)
            listed |= real_idle[_i].tids[k] == tid;
        ck_assert_msg(listed, "%s: thread %u is idle (%s) but not listed", path, tid, str(t, "rule"));
        ck_assert_str_eq(str(t, "rule"), real_idle[_i].rule);
        ck_assert(!cJSON_IsTrue(get(t, "stuck")));
        got++;
    }
    ck_assert_msg(got == want, "%s: %zu idle threads, want %zu", path, got, want);
    cJSON_Delete(rep);
}
END_TEST

/* ---- synthesized stacks ---------------------------------------------------- */

/* One user thread: frames "module!function" innermost first; "[jit]" is a
 * frame of generated code (no module, generated_code true, as the report
 * marks JIT code). */
static cJSON *thread(unsigned tid, const char *const *frames)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "thread_id", tid);
    cJSON *fa = cJSON_AddArrayToObject(t, "frames");
    for (size_t i = 0; frames[i]; i++) {
        cJSON *f = cJSON_CreateObject();
        cJSON_AddNumberToObject(f, "frame", (double)i);
        char ip[32];
        snprintf(ip, sizeof ip, "0x%zx", (size_t)0x7ff600001000u + i * 0x100);
        cJSON_AddStringToObject(f, "ip", ip);
        if (strcmp(frames[i], "[jit]") == 0) {
            cJSON_AddNullToObject(f, "module");
            cJSON_AddBoolToObject(f, "generated_code", true);
        } else {
            char mod[64];
            const char *bang = strchr(frames[i], '!');
            snprintf(mod, sizeof mod, "%.*s.dll", (int)(bang - frames[i]), frames[i]);
            cJSON_AddStringToObject(f, "module", mod);
            cJSON_AddStringToObject(f, "function", bang + 1);
        }
        cJSON_AddItemToArray(fa, f);
    }
    return t;
}

/* dotnet/runtime#44698 (~36k): a server GC thread waiting for work. */
static const char *const gc[] = { "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx",
                                  "clr!CLREventWaitHelper2", "clr!CLREventWaitHelper", "clr!CLREventBase::WaitEx",
                                  "clr!SVR::gc_heap::gc_thread_function", "clr!SVR::gc_heap::gc_thread_stub",
                                  "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL };
/* dotnet/coreclr#11550: the finalizer (start routine as there, waiting for
 * the finalizer event as FinalizerThread::WaitForFinalizerEvent does). */
static const char *const finalizer[] = {
    "ntdll!NtWaitForMultipleObjects", "KERNELBASE!WaitForMultipleObjectsEx",
    "coreclr!FinalizerThread::WaitForFinalizerEvent", "coreclr!FinalizerThread::FinalizerThreadWorker",
    "coreclr!ManagedThreadBase_DispatchOuter", "coreclr!FinalizerThread::FinalizerThreadStart",
    "coreclr!Thread::intermediateThreadProc", "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL
};
/* The same finalizer inside a Finalize method (JIT code) that waits. */
static const char *const finalizer_blocked[] = {
    "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx", "[jit]", "[jit]",
    "coreclr!MethodTable::CallFinalizer", "coreclr!FinalizerThread::FinalizerThreadWorker",
    "coreclr!ManagedThreadBase_DispatchOuter", "coreclr!FinalizerThread::FinalizerThreadStart",
    "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL
};
/* dotnet/coreclr#11550 (~10, ~3): a CLR pool worker and the timer thread. */
static const char *const clr_worker[] = { "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx",
                                          "coreclr!CLRSemaphore::Wait", "coreclr!ThreadpoolMgr::UnfairSemaphore::Wait",
                                          "coreclr!ThreadpoolMgr::WorkerThreadStart",
                                          "coreclr!Thread::intermediateThreadProc", "kernel32!BaseThreadInitThunk",
                                          "ntdll!RtlUserThreadStart", NULL };
static const char *const clr_timer[] = { "ntdll!NtDelayExecution", "KERNELBASE!SleepEx",
                                         "coreclr!ThreadpoolMgr::TimerThreadFire",
                                         "coreclr!ThreadpoolMgr::TimerThreadStart", "kernel32!BaseThreadInitThunk",
                                         "ntdll!RtlUserThreadStart", NULL };
/* microsoft/microsoft-ui-xaml#10127: the tiered-compilation worker waiting. */
static const char *const tiered[] = { "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx",
                                      "coreclr!CLREventWaitHelper", "coreclr!TieredCompilationManager::BackgroundWorkerStart",
                                      "coreclr!TieredCompilationManager::BackgroundWorkerBootstrapper1",
                                      "coreclr!ManagedThreadBase_DispatchMiddle",
                                      "coreclr!TieredCompilationManager::BackgroundWorkerBootstrapper0",
                                      "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL };
/* electron/electron#21614: a COM RPC worker thread waiting for a call. */
static const char *const com_worker[] = { "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx",
                                          "combase!CRpcThread::WorkerLoop",
                                          "combase!CRpcThreadCache::RpcWorkerThreadEntry",
                                          "KERNEL32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL };
/* An LRPC server thread waiting for calls (Windows Server 2003 rpcrt4). */
static const char *const rpc_server[] = { "ntdll!NtReplyWaitReceivePortEx", "RPCRT4!LRPC_ADDRESS::ReceiveLotsaCalls",
                                          "RPCRT4!RecvLotsaCallsWrapper", "RPCRT4!BaseCachedThreadRoutine",
                                          "RPCRT4!ThreadStartRoutine", "kernel32!BaseThreadStart", NULL };
/* … and one dispatching a call into the application's server routine. */
static const char *const rpc_busy[] = { "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx",
                                        "svcapp!ServerRoutine", "RPCRT4!Invoke", "RPCRT4!NdrStubCall2",
                                        "RPCRT4!LRPC_SCALL::DispatchRequest", "RPCRT4!LrpcIoComplete",
                                        "ntdll!TppAlpcpExecuteCallback", "ntdll!TppWorkerThread",
                                        "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL };
/* A Windows pool worker inside the application's work callback. */
static const char *const pool_busy[] = { "ntdll!NtWaitForSingleObject", "KERNELBASE!WaitForSingleObjectEx",
                                         "app!WorkCallback", "ntdll!TppWorkpExecuteCallback", "ntdll!TppWorkerThread",
                                         "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL };
static const char *const timer_queue[] = { "ntdll!NtWaitForSingleObject", "ntdll!RtlpTimerQueueThread",
                                           "kernel32!BaseThreadInitThunk", "ntdll!RtlUserThreadStart", NULL };

START_TEST(synthesized_windows_runtime_threads)
{
    static const struct {
        unsigned tid;
        const char *const *frames;
        const char *rule;   /* the verdict's rule */
        bool idle;
    } cases[] = {
        { 100, gc, "idle \".NET runtime thread (GC / tiered compilation / debugger helper)\"", true },
        { 104, finalizer, "idle \".NET finalizer thread\"", true },
        { 108, finalizer_blocked, "blocking wait_single", false },
        { 112, clr_worker, "idle \".NET thread-pool worker waiting for work\"", true },
        { 116, clr_timer, "idle \".NET thread-pool timer thread\"", true },
        { 120, tiered, "idle \".NET runtime thread (GC / tiered compilation / debugger helper)\"", true },
        { 124, com_worker, "idle \"COM thread waiting for calls\"", true },
        { 128, rpc_server, "idle \"RPC server thread waiting for calls\"", true },
        { 132, rpc_busy, "blocking wait_single", false },
        { 136, pool_busy, "blocking wait_single", false },
        { 140, timer_queue, "idle \"timer-queue thread\"", true },
    };
    cJSON *user = cJSON_CreateObject();
    cJSON_AddNumberToObject(user, "pid", 4242);
    cJSON *threads = cJSON_AddArrayToObject(user, "threads");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        cJSON_AddItemToArray(threads, thread(cases[i].tid, cases[i].frames));
    dt_rules rules;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_rules_default(&rules, &err), DT_OK);
    dt_triage_options opt = { .rules = &rules };
    cJSON *tri = NULL;
    ck_assert_int_eq(dt_triage_build(user, NULL, &opt, &tri, &err), DT_OK);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const cJSON *t = NULL, *x;
        cJSON_ArrayForEach(x, get(tri, "threads"))
            if ((unsigned)get(x, "thread_id")->valuedouble == cases[i].tid)
                t = x;
        ck_assert_msg(t != NULL, "thread %u missing", cases[i].tid);
        ck_assert_msg(strcmp(str(t, "rule"), cases[i].rule) == 0, "thread %u: rule %s, want %s", cases[i].tid,
                      str(t, "rule"), cases[i].rule);
        ck_assert_msg(cJSON_IsTrue(get(t, "idle")) == cases[i].idle, "thread %u idle", cases[i].tid);
        ck_assert_msg(cJSON_IsTrue(get(t, "stuck")) == !cases[i].idle, "thread %u stuck", cases[i].tid);
    }
    cJSON_Delete(tri);
    cJSON_Delete(user);
    dt_rules_free(&rules);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("idle_rules");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, real_windows_threads_match_exactly_these_idle_rules, 0,
                        (int)(sizeof real_idle / sizeof real_idle[0]));
    tcase_add_test(tc, synthesized_windows_runtime_threads);
    suite_add_tcase(s, tc);
    return dt_test_run(s);
}
