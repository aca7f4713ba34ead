/*
 * lock_wait.c - test program for the wait graph's user-memory locks
 * (dumptriage #15): SRW locks, condition variables and the loader lock.
 *
 *   srw-owner   holds SRW lock L exclusively, then waits for an event nobody sets
 *   srw-excl    AcquireSRWLockExclusive(&L): waits (owner unknown to Windows)
 *   srw-shared  AcquireSRWLockShared(&L): waits behind the exclusive owner
 *   cv-srw      SleepConditionVariableSRW(&CV1, &L2, INFINITE, 0): nobody wakes it
 *   cv-cs       SleepConditionVariableCS(&CV2, &CS2, INFINITE)
 *   dll-init    LoadLibrary("dfslow.dll"), whose DllMain blocks: it holds the
 *               loader lock
 *   loader      LoadLibrary("version.dll") after dll-init got into DllMain:
 *               waits for the loader lock
 *   plus a timer-queue timer due in an hour (Wine's timer-queue thread).
 * It prints "thread <name> tid=<n>", the lock addresses and finally "ready".
 */
#include <windows.h>
#include <stdio.h>

#define NOINLINE __attribute__((noinline))

typedef HRESULT (WINAPI *SetThreadDescription_t)(HANDLE, PCWSTR);

volatile LONG g_sink;
static SRWLOCK g_srw = SRWLOCK_INIT, g_srw2 = SRWLOCK_INIT;
static CONDITION_VARIABLE g_cv = CONDITION_VARIABLE_INIT, g_cv2 = CONDITION_VARIABLE_INIT;
static CRITICAL_SECTION g_cs2;
static HANDLE g_never, g_ready[16], g_in_dllmain;
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

enum { T_OWNER, T_EXCL, T_SHARED, T_CV_SRW, T_CV_CS, T_LOADER, T_DLL_INIT, T_COUNT };

NOINLINE static void df_take_exclusive(SRWLOCK *l)
{
    AcquireSRWLockExclusive(l);
    g_sink++;
}

NOINLINE static void df_take_shared(SRWLOCK *l)
{
    AcquireSRWLockShared(l);
    g_sink++;
}

static DWORD WINAPI owner_thread(void *arg)
{
    name_thread(L"srw-owner");
    df_take_exclusive(&g_srw);
    SetEvent(g_ready[(INT_PTR)arg]);
    WaitForSingleObject(g_never, INFINITE);
    return 0;
}

static DWORD WINAPI excl_thread(void *arg)
{
    name_thread(L"srw-excl");
    SetEvent(g_ready[(INT_PTR)arg]);
    df_take_exclusive(&g_srw);
    return 0;
}

static DWORD WINAPI shared_thread(void *arg)
{
    name_thread(L"srw-shared");
    SetEvent(g_ready[(INT_PTR)arg]);
    df_take_shared(&g_srw);
    return 0;
}

NOINLINE static void df_wait_cv_srw(CONDITION_VARIABLE *cv, SRWLOCK *l)
{
    AcquireSRWLockExclusive(l);
    g_sink += SleepConditionVariableSRW(cv, l, INFINITE, 0);
}

static DWORD WINAPI cv_srw_thread(void *arg)
{
    name_thread(L"cv-srw");
    SetEvent(g_ready[(INT_PTR)arg]);
    df_wait_cv_srw(&g_cv, &g_srw2);
    return 0;
}

NOINLINE static void df_wait_cv_cs(CONDITION_VARIABLE *cv, CRITICAL_SECTION *cs)
{
    EnterCriticalSection(cs);
    g_sink += SleepConditionVariableCS(cv, cs, INFINITE);
}

static DWORD WINAPI cv_cs_thread(void *arg)
{
    name_thread(L"cv-cs");
    SetEvent(g_ready[(INT_PTR)arg]);
    df_wait_cv_cs(&g_cv2, &g_cs2);
    return 0;
}

NOINLINE static HMODULE df_load(const wchar_t *dll)
{
    HMODULE h = LoadLibraryW(dll);
    g_sink += h != NULL;
    return h;
}

static DWORD WINAPI loader_thread(void *arg)
{
    name_thread(L"loader");
    SetEvent(g_ready[(INT_PTR)arg]);
    WaitForSingleObject(g_in_dllmain, INFINITE);
    Sleep(200);
    df_load(L"version.dll");
    return 0;
}

static DWORD WINAPI dll_init_thread(void *arg)
{
    (void)arg;
    name_thread(L"dll-init");
    df_load(L"dfslow.dll");
    return 0;
}

static void CALLBACK timer_cb(void *ctx, BOOLEAN fired)
{
    (void)ctx;
    (void)fired;
}

int main(void)
{
    LPTHREAD_START_ROUTINE fns[T_COUNT] = { owner_thread, excl_thread, shared_thread, cv_srw_thread,
                                            cv_cs_thread, loader_thread, dll_init_thread };
    const char *names[T_COUNT] = { "srw-owner", "srw-excl", "srw-shared", "cv-srw", "cv-cs", "loader", "dll-init" };
    HANDLE th[T_COUNT], timer = NULL;
    name_thread(L"main");
    setvbuf(stdout, NULL, _IONBF, 0);
    InitializeCriticalSection(&g_cs2);
    g_never = CreateEventW(NULL, TRUE, FALSE, NULL);
    g_in_dllmain = CreateEventW(NULL, TRUE, FALSE, L"Local\\df_in_dllmain");
    for (int i = 0; i < T_COUNT; i++)
        g_ready[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
    CreateTimerQueueTimer(&timer, NULL, timer_cb, NULL, 3600 * 1000, 0, 0);
    /* Every thread but dll-init first: once it holds the loader lock, no
     * new thread can finish its DLL_THREAD_ATTACH. */
    for (int i = 0; i < T_DLL_INIT; i++) {
        th[i] = CreateThread(NULL, 0, fns[i], (void *)(INT_PTR)i, 0, &g_tid[i]);
        WaitForSingleObject(g_ready[i], INFINITE);
    }
    Sleep(300); /* srw-excl, srw-shared, cv-* reach their waits */
    th[T_DLL_INIT] = CreateThread(NULL, 0, fns[T_DLL_INIT], NULL, 0, &g_tid[T_DLL_INIT]);
    WaitForSingleObject(g_in_dllmain, INFINITE);
    Sleep(600);
    printf("thread main tid=%lu\n", GetCurrentThreadId());
    for (int i = 0; i < T_COUNT; i++)
        printf("thread %s tid=%lu\n", names[i], g_tid[i]);
    printf("srw=%p owner=%lu\n", (void *)&g_srw, g_tid[T_OWNER]);
    printf("srw2=%p cv=%p cv2=%p cs2=%p\n", (void *)&g_srw2, (void *)&g_cv, (void *)&g_cv2, (void *)&g_cs2);
    /* TEB+0x60 is the PEB, PEB+0x110 its LoaderLock (x64). */
    char *peb = *(char **)((char *)NtCurrentTeb() + 0x60);
    printf("peb=%p loader_lock=%p owner=%lu\n", (void *)peb, *(void **)(peb + 0x110), g_tid[T_DLL_INIT]);
    printf("ready\n");
    return (int)WaitForSingleObject(th[T_DLL_INIT], INFINITE);
}
