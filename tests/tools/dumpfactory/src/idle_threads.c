/*
 * idle_threads.c - test program for the idle rules (dumptriage #15): the
 * infrastructure threads a healthy server process has, each waiting for
 * work, and one application thread really stuck beside them.
 *
 *   rpc         RpcServerUseProtseqEp(ncalrpc, "dt_idle") + RpcServerListen:
 *               the RPC runtime's server thread waits for calls
 *   stuck       WaitForSingleObject on an event nobody sets
 *   plus a thread-pool timer (CreateThreadpoolTimer) due in an hour.
 * (COM apartments are left out: under Wine they load user32/gdi32 and more
 * than double the dump, and their waits are plain message waits and sleeps,
 * which the real Electron dump already covers.)
 * It prints "thread <name> tid=<n>" lines and finally "ready".
 */
#include <windows.h>
#include <rpc.h>
#include <stdio.h>

#define NOINLINE __attribute__((noinline))

typedef HRESULT (WINAPI *SetThreadDescription_t)(HANDLE, PCWSTR);

volatile LONG g_sink;
static HANDLE g_never, g_ready[8];
static DWORD g_tid[8];

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

enum { T_STUCK, T_COUNT };

NOINLINE static DWORD df_wait_for_config(HANDLE h)
{
    DWORD r = WaitForSingleObject(h, INFINITE);
    g_sink += r;
    return r;
}

static DWORD WINAPI stuck_thread(void *arg)
{
    name_thread(L"stuck");
    SetEvent(g_ready[(INT_PTR)arg]);
    return df_wait_for_config(g_never);
}

static void CALLBACK timer_cb(PTP_CALLBACK_INSTANCE inst, void *ctx, PTP_TIMER timer)
{
    (void)inst;
    (void)ctx;
    (void)timer;
}

int main(void)
{
    LPTHREAD_START_ROUTINE fns[T_COUNT] = { stuck_thread };
    const char *names[T_COUNT] = { "stuck" };
    name_thread(L"main");
    setvbuf(stdout, NULL, _IONBF, 0);
    g_never = CreateEventW(NULL, TRUE, FALSE, NULL);
    RPC_STATUS rs = RpcServerUseProtseqEpW((RPC_WSTR)L"ncalrpc", RPC_C_PROTSEQ_MAX_REQS_DEFAULT,
                                           (RPC_WSTR)L"dt_idle", NULL);
    RPC_STATUS rl = RpcServerListen(1, RPC_C_LISTEN_MAX_CALLS_DEFAULT, TRUE);
    PTP_TIMER timer = CreateThreadpoolTimer(timer_cb, NULL, NULL);
    LARGE_INTEGER due;
    due.QuadPart = -36000000000LL; /* an hour */
    FILETIME ft;
    ft.dwLowDateTime = due.LowPart;
    ft.dwHighDateTime = (DWORD)due.HighPart;
    SetThreadpoolTimer(timer, &ft, 0, 0);
    for (int i = 0; i < T_COUNT; i++) {
        g_ready[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        CreateThread(NULL, 0, fns[i], (void *)(INT_PTR)i, 0, &g_tid[i]);
        WaitForSingleObject(g_ready[i], INFINITE);
    }
    Sleep(800);
    printf("rpc use_protseq=%ld listen=%ld\n", (long)rs, (long)rl);
    printf("thread main tid=%lu\n", GetCurrentThreadId());
    for (int i = 0; i < T_COUNT; i++)
        printf("thread %s tid=%lu\n", names[i], g_tid[i]);
    printf("ready\n");
    return (int)df_wait_for_config(g_never);
}
