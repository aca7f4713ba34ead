/*
 * wait_chain.c - test program for the wait graph (dumptriage #15).
 *
 * Threads, each blocked in a way a wait graph must link:
 *   main      joins "joiner" (WaitForSingleObject on its thread handle)
 *   joiner    waits for mutex M (`Local\dt_cache`) owned by "holder"
 *   holder    owns M, waits for auto-reset event E that nobody sets
 *   cyc-A     owns mutex MX, waits for critical section CS (owned by cyc-B)
 *   cyc-B     owns CS, joins cyc-C
 *   cyc-C     waits for MX (owned by cyc-A): a 3-way cycle of mutex,
 *             critical section and thread join
 *   spinner   a busy loop in df_compute_loop (burns CPU)
 *   timed     WaitForSingleObject(E2, 5000) in a loop: a timed wait
 *   plus a thread-pool worker left idle after one work item.
 * It prints "thread <name> tid=<n>", "handle <value> <type> …" lines (what a
 * HandleData stream would say about each handle) and finally "ready".
 */
#include <windows.h>
#include <stdio.h>

#define NOINLINE __attribute__((noinline))

typedef HRESULT (WINAPI *SetThreadDescription_t)(HANDLE, PCWSTR);

volatile LONG g_sink;
static HANDLE g_m, g_e, g_mx, g_e2, g_c, g_ready[16];
static CRITICAL_SECTION g_cs;
static DWORD g_tid[16];

static void name_thread(const wchar_t *name)
{
    SetThreadDescription_t fn = (SetThreadDescription_t)(void *)GetProcAddress(
        GetModuleHandleW(L"kernelbase.dll"), "SetThreadDescription");
    if (!fn)
        fn = (SetThreadDescription_t)(void *)GetProcAddress(GetModuleHandleW(L"kernel32.dll"),
                                                             "SetThreadDescription");
    if (fn)
        fn(GetCurrentThread(), name);
}

NOINLINE static DWORD df_wait_one(HANDLE h, DWORD ms)
{
    DWORD r = WaitForSingleObject(h, ms);
    g_sink += r;
    return r;
}

enum { T_JOINER, T_HOLDER, T_CYC_A, T_CYC_B, T_CYC_C, T_SPINNER, T_TIMED, T_COUNT };

static DWORD WINAPI holder_thread(void *arg)
{
    name_thread(L"holder");
    df_wait_one(g_m, INFINITE); /* take M */
    SetEvent(g_ready[(INT_PTR)arg]);
    return df_wait_one(g_e, INFINITE);
}

static DWORD WINAPI joiner_thread(void *arg)
{
    name_thread(L"joiner");
    WaitForSingleObject(g_ready[T_HOLDER], INFINITE);
    SetEvent(g_ready[(INT_PTR)arg]);
    return df_wait_one(g_m, INFINITE);
}

NOINLINE static void df_enter(CRITICAL_SECTION *cs)
{
    EnterCriticalSection(cs);
    g_sink++;
}

static DWORD WINAPI cyc_a_thread(void *arg)
{
    name_thread(L"cyc-A");
    df_wait_one(g_mx, INFINITE); /* own MX */
    SetEvent(g_ready[(INT_PTR)arg]);
    WaitForSingleObject(g_ready[T_CYC_B], INFINITE);
    df_enter(&g_cs);
    return 0;
}

static DWORD WINAPI cyc_c_thread(void *arg)
{
    name_thread(L"cyc-C");
    WaitForSingleObject(g_ready[T_CYC_A], INFINITE);
    SetEvent(g_ready[(INT_PTR)arg]);
    return df_wait_one(g_mx, INFINITE);
}

static DWORD WINAPI cyc_b_thread(void *arg)
{
    name_thread(L"cyc-B");
    EnterCriticalSection(&g_cs);
    SetEvent(g_ready[(INT_PTR)arg]);
    WaitForSingleObject(g_ready[T_CYC_C], INFINITE); /* g_c is set by then */
    return df_wait_one(g_c, INFINITE); /* join cyc-C */
}

NOINLINE static void df_compute_loop(void)
{
    unsigned x = 1;
    for (;;) {
        x = x * 1103515245u + 12345u;
        g_sink += (LONG)(x >> 16);
    }
}

static DWORD WINAPI spinner_thread(void *arg)
{
    name_thread(L"spinner");
    SetEvent(g_ready[(INT_PTR)arg]);
    df_compute_loop();
    return 0;
}

static DWORD WINAPI timed_thread(void *arg)
{
    name_thread(L"timed");
    SetEvent(g_ready[(INT_PTR)arg]);
    for (;;)
        df_wait_one(g_e2, 5000);
    return 0;
}

static void CALLBACK pool_work(PTP_CALLBACK_INSTANCE inst, void *ctx)
{
    (void)inst;
    SetEvent((HANDLE)ctx);
}

int main(void)
{
    LPTHREAD_START_ROUTINE fns[T_COUNT] = { joiner_thread, holder_thread, cyc_a_thread, cyc_b_thread,
                                            cyc_c_thread, spinner_thread, timed_thread };
    const char *names[T_COUNT] = { "joiner", "holder", "cyc-A", "cyc-B", "cyc-C", "spinner", "timed" };
    HANDLE th[T_COUNT];
    name_thread(L"main");
    setvbuf(stdout, NULL, _IONBF, 0);
    InitializeCriticalSection(&g_cs);
    g_m = CreateMutexW(NULL, FALSE, L"Local\\dt_cache");
    g_mx = CreateMutexW(NULL, FALSE, NULL);
    g_e = CreateEventW(NULL, FALSE, FALSE, NULL);   /* auto-reset, never set */
    g_e2 = CreateEventW(NULL, TRUE, FALSE, NULL);   /* manual-reset, never set */
    for (int i = 0; i < T_COUNT; i++)
        g_ready[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
    /* Start order matters: holder before joiner, cyc-B (CS) and cyc-A (MX)
     * before cyc-C. */
    int order[T_COUNT] = { T_HOLDER, T_JOINER, T_CYC_B, T_CYC_A, T_CYC_C, T_SPINNER, T_TIMED };
    for (int k = 0; k < T_COUNT; k++) {
        int i = order[k];
        th[i] = CreateThread(NULL, 0, fns[i], (void *)(INT_PTR)i, i == T_CYC_C ? CREATE_SUSPENDED : 0, &g_tid[i]);
        if (i == T_CYC_B) {
            WaitForSingleObject(g_ready[T_CYC_B], INFINITE);
        }
        if (i == T_CYC_A)
            WaitForSingleObject(g_ready[T_CYC_A], INFINITE);
        if (i == T_CYC_C) {
            g_c = th[T_CYC_C]; /* before cyc-C runs and cyc-B reads it */
            ResumeThread(th[T_CYC_C]);
        }
    }
    for (int i = 0; i < T_COUNT; i++)
        WaitForSingleObject(g_ready[i], INFINITE);
    HANDLE pool_done = CreateEventW(NULL, TRUE, FALSE, NULL);
    TrySubmitThreadpoolCallback(pool_work, pool_done, NULL);
    WaitForSingleObject(pool_done, INFINITE);
    Sleep(500);
    printf("thread main tid=%lu\n", GetCurrentThreadId());
    for (int i = 0; i < T_COUNT; i++)
        printf("thread %s tid=%lu\n", names[i], g_tid[i]);
    for (int i = 0; i < T_COUNT; i++)
        printf("handle %p Thread thread_id=%lu\n", th[i], g_tid[i]);
    printf("handle %p Mutant name=Local\\dt_cache owner_thread_id=%lu\n", g_m, g_tid[T_HOLDER]);
    printf("handle %p Mutant owner_thread_id=%lu\n", g_mx, g_tid[T_CYC_A]);
    printf("handle %p Event event_type=1 signalled=0\n", g_e);
    printf("handle %p Event event_type=0 signalled=0\n", g_e2);
    printf("cs=%p owner=%lu\n", (void *)&g_cs, g_tid[T_CYC_B]);
    printf("ready\n");
    return (int)df_wait_one(th[T_JOINER], INFINITE);
}
