/*
 * series_hang.c - the test program behind tests/data/wine/series/ (issue
 * #16): one process dumped several times a few seconds apart, with a thread
 * for every series verdict dumptriage gives, so that each verdict is checked
 * against a real dump of a real thread rather than a hand-made one.
 *
 *   main        WaitForMultipleObjects on the workers          did not move
 *   reader      ReadFile on an anonymous pipe nobody writes    did not move (blocked read)
 *   deadlock-A  owns cs_a, EnterCriticalSection(&cs_b)         did not move (deadlock)
 *   deadlock-B  owns cs_b, EnterCriticalSection(&cs_a)         did not move (deadlock)
 *   spinner     busy loop in df_spin_step                      spinning (CPU grows)
 *   progress    works through stages in different functions at
 *               different depths, resting briefly after each   progressing
 *   timer       Sleep(300) in a loop (a timed waiter)          idle
 *   finisher    exits when phase 2 starts                      exited
 *   latecomer   starts when phase 2 starts, then sleeps         appeared
 *   watcher     polls for the phase-2 file, then exits          exited
 *
 * The driver (make_series.sh) dumps once, creates C:\dumpfactory\phase2,
 * waits for the "phase2" line and dumps twice more: the finisher is in the
 * first snapshot only and the latecomer in the later ones, without relying
 * on timing.  Thread ids are printed ("thread NAME tid=N") for the log.
 */
#include <windows.h>
#include <stdio.h>

#define NOINLINE __attribute__((noinline))

typedef HRESULT (WINAPI *SetThreadDescription_t)(HANDLE, PCWSTR);

volatile LONG g_sink;
volatile unsigned long long g_spin;
static CRITICAL_SECTION g_cs_a, g_cs_b;
static HANDLE g_a_owns, g_b_owns;
static HANDLE g_pipe_read, g_pipe_write;
static HANDLE g_phase2;                    /* set when phase 2 begins */
static HANDLE g_started[16];

static void name_thread(const wchar_t *name)
{
    SetThreadDescription_t fn = (SetThreadDescription_t)(void *)GetProcAddress(
        GetModuleHandleW(L"kernel32.dll"), "SetThreadDescription");
    if (!fn)
        fn = (SetThreadDescription_t)(void *)GetProcAddress(
            GetModuleHandleW(L"kernelbase.dll"), "SetThreadDescription");
    if (fn)
        fn(GetCurrentThread(), name);
}

/* --- reader ------------------------------------------------------------- */
NOINLINE static DWORD df_read_request(HANDLE h, char *buf, DWORD cap)
{
    DWORD got = 0;
    if (!ReadFile(h, buf, cap, &got, NULL))
        got = 0;
    g_sink += got;
    return got;
}

static DWORD WINAPI reader_thread(void *arg)
{
    char buf[64];
    name_thread(L"reader");
    SetEvent(g_started[(INT_PTR)arg]);
    return df_read_request(g_pipe_read, buf, sizeof buf);
}

/* --- deadlock pair ------------------------------------------------------ */
NOINLINE static void df_lock_second(CRITICAL_SECTION *cs)
{
    EnterCriticalSection(cs);
    g_sink++;
    LeaveCriticalSection(cs);
}

NOINLINE static void df_transfer(CRITICAL_SECTION *first, CRITICAL_SECTION *second,
                                 HANDLE i_own_first, HANDLE other_owns)
{
    EnterCriticalSection(first);
    SetEvent(i_own_first);
    WaitForSingleObject(other_owns, INFINITE);
    df_lock_second(second);
    LeaveCriticalSection(first);
    g_sink++;
}

static DWORD WINAPI deadlock_a_thread(void *arg)
{
    name_thread(L"deadlock-A");
    SetEvent(g_started[(INT_PTR)arg]);
    df_transfer(&g_cs_a, &g_cs_b, g_a_owns, g_b_owns);
    return 0;
}

static DWORD WINAPI deadlock_b_thread(void *arg)
{
    name_thread(L"deadlock-B");
    SetEvent(g_started[(INT_PTR)arg]);
    df_transfer(&g_cs_b, &g_cs_a, g_b_owns, g_a_owns);
    return 0;
}

/* --- spinner: never leaves df_spin_step, its counter keeps changing ----- */
NOINLINE static void df_spin_step(void)
{
    unsigned long long x = g_spin;
    for (;;) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        g_spin = x;
    }
}

static DWORD WINAPI spinner_thread(void *arg)
{
    name_thread(L"spinner");
    SetEvent(g_started[(INT_PTR)arg]);
    df_spin_step();
    return 0;
}

/* --- progress: a different function and depth at every stage ------------ */
NOINLINE static void df_stage_rest(void)
{
    Sleep(30);
    g_sink++;
}

/* Each stage works in its own function, so the innermost frame says which
 * stage the thread is in.  (A thread that only slept between stages would
 * not do: Wine reads the stack memory after it resumed the thread, so the
 * stack of a thread that woke in between no longer matches its context.) */
#define DF_WORK(n)                                     \
    do {                                               \
        for (volatile unsigned w_ = 0; w_ < (n); w_++) \
            g_sink++;                                  \
    } while (0)

NOINLINE static void df_stage_parse(int depth);
NOINLINE static void df_stage_compute(int depth);
NOINLINE static void df_stage_write(int depth);

NOINLINE static void df_stage_parse(int depth)
{
    volatile char pad[48];
    pad[0] = (char)depth;
    if (depth > 0)
        df_stage_parse(depth - 1);
    else {
        DF_WORK(20000000u);
        df_stage_rest();
    }
    g_sink += pad[0];
}

NOINLINE static void df_stage_compute(int depth)
{
    volatile char pad[80];
    pad[0] = (char)depth;
    if (depth > 0)
        df_stage_compute(depth - 1);
    else {
        DF_WORK(20000000u);
        df_stage_rest();
    }
    g_sink += pad[0];
}

NOINLINE static void df_stage_write(int depth)
{
    volatile char pad[112];
    pad[0] = (char)depth;
    if (depth > 0)
        df_stage_write(depth - 1);
    else {
        DF_WORK(20000000u);
        df_stage_rest();
    }
    g_sink += pad[0];
}

static DWORD WINAPI progress_thread(void *arg)
{
    name_thread(L"progress");
    SetEvent(g_started[(INT_PTR)arg]);
    /* Depth 1 + stage % 400 and the function stage % 3: a stage takes well
     * over 100 ms, so the depth comes back only after a minute or more,
     * longer than the whole series: no two snapshots see the same stack. */
    for (unsigned stage = 0;; stage++) {
        int depth = 1 + (int)(stage % 400);
        switch (stage % 3) {
        case 0: df_stage_parse(depth); break;
        case 1: df_stage_compute(depth); break;
        default: df_stage_write(depth); break;
        }
    }
    return 0;
}

/* --- timer: wakes every 300 ms and goes back to the same wait ----------- */
NOINLINE static void df_timer_wait(void)
{
    for (;;) {
        Sleep(300);
        g_sink++;
    }
}

static DWORD WINAPI timer_thread(void *arg)
{
    name_thread(L"timer");
    SetEvent(g_started[(INT_PTR)arg]);
    df_timer_wait();
    return 0;
}

/* --- finisher / latecomer ---------------------------------------------- */
NOINLINE static void df_wait_for_phase2(void)
{
    WaitForSingleObject(g_phase2, INFINITE);
    g_sink++;
}

static DWORD WINAPI finisher_thread(void *arg)
{
    name_thread(L"finisher");
    SetEvent(g_started[(INT_PTR)arg]);
    df_wait_for_phase2();
    return 0;                               /* exits in phase 2 */
}

NOINLINE static void df_late_idle(void)
{
    for (;;) {
        Sleep(INFINITE);
        g_sink++;
    }
}

static DWORD WINAPI latecomer_thread(void *arg)
{
    name_thread(L"latecomer");
    SetEvent((HANDLE)arg);
    df_late_idle();
    return 0;
}

/* --- main --------------------------------------------------------------- */
struct worker { const char *name; LPTHREAD_START_ROUTINE fn; };

static const struct worker workers[] = {
    { "reader",     reader_thread },
    { "deadlock-A", deadlock_a_thread },
    { "deadlock-B", deadlock_b_thread },
    { "spinner",    spinner_thread },
    { "progress",   progress_thread },
    { "timer",      timer_thread },
    { "finisher",   finisher_thread },
};
#define NWORKERS (int)(sizeof workers / sizeof workers[0])

NOINLINE static DWORD df_join_workers(HANDLE *threads, int n)
{
    DWORD r = WaitForMultipleObjects((DWORD)n, threads, TRUE, INFINITE);
    g_sink += r;
    return r;
}

/* Phase 2 comes from the driver as a file, polled: it has no other way to
 * reach into the Wine process. */
static DWORD WINAPI phase_watch_thread(void *arg)
{
    HANDLE *threads = arg;
    name_thread(L"watcher");
    while (GetFileAttributesA("C:\\dumpfactory\\phase2") == INVALID_FILE_ATTRIBUTES)
        Sleep(50);
    SetEvent(g_phase2);
    WaitForSingleObject(threads[NWORKERS - 1], INFINITE);  /* the finisher is gone */
    HANDLE up = CreateEventW(NULL, TRUE, FALSE, NULL);
    DWORD tid = 0;
    HANDLE late = CreateThread(NULL, 0, latecomer_thread, up, 0, &tid);
    WaitForSingleObject(up, INFINITE);
    Sleep(300);
    printf("thread latecomer tid=%lu\n", tid);
    printf("phase2\n");
    fflush(stdout);
    /* The watcher's job is done: it exits too, before any later snapshot. */
    (void)late;
    return 0;
}

int main(void)
{
    HANDLE threads[NWORKERS];
    DWORD tids[NWORKERS];
    int i;

    name_thread(L"main");
    InitializeCriticalSection(&g_cs_a);
    InitializeCriticalSection(&g_cs_b);
    g_a_owns = CreateEventW(NULL, TRUE, FALSE, NULL);
    g_b_owns = CreateEventW(NULL, TRUE, FALSE, NULL);
    g_phase2 = CreateEventW(NULL, TRUE, FALSE, NULL);
    if (!CreatePipe(&g_pipe_read, &g_pipe_write, NULL, 0))
        return 1;

    for (i = 0; i < NWORKERS; i++) {
        g_started[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
        threads[i] = CreateThread(NULL, 0, workers[i].fn, (void *)(INT_PTR)i, 0, &tids[i]);
        if (!threads[i])
            return 2;
    }
    WaitForMultipleObjects(NWORKERS, g_started, TRUE, INFINITE);
    Sleep(500);

    printf("thread main tid=%lu\n", GetCurrentThreadId());
    for (i = 0; i < NWORKERS; i++)
        printf("thread %s tid=%lu\n", workers[i].name, tids[i]);
    printf("cs_a=%p\ncs_b=%p\n", (void *)&g_cs_a, (void *)&g_cs_b);
    printf("ready\n");
    fflush(stdout);

    HANDLE watch = CreateThread(NULL, 0, phase_watch_thread, threads, 0, NULL);
    (void)watch;
    /* The finisher leaves in phase 2: join only the ones that never do. */
    return (int)df_join_workers(threads, NWORKERS - 1);
}
