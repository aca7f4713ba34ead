/*
 * inline_jit.c - test program for inline frames and generated code
 * (dumptriage #19), built by clang -O2 with a PDB.
 *
 * Threads:
 *   main        joins the two others (WaitForMultipleObjects)
 *   inline-wait df_serve_queue (not inlined) -> df_next_batch (inlined) ->
 *               df_wait_batch (inlined) -> WaitForSingleObject on an event
 *               nobody sets: the return address into df_serve_queue lies in
 *               code of two inlined functions
 *   jit         df_run_generated calls a function written at run time into
 *               PAGE_EXECUTE_READWRITE memory, which calls Sleep(INFINITE);
 *               the code has a RUNTIME_FUNCTION/UNWIND_INFO registered with
 *               RtlAddFunctionTable, as .NET and V8 do for JIT code
 * It prints "thread <name> tid=<n>", "jit base=… size=… code=… end=…
 * unwind=… table=…" and finally "ready".
 */
#include <windows.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

typedef HRESULT (WINAPI *SetThreadDescription_t)(HANDLE, PCWSTR);

volatile LONG g_sink;
static HANDLE g_batch_ready, g_started[2];

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

/* Small static functions: clang -O2 inlines both into df_serve_queue. */
static DWORD df_wait_batch(HANDLE ev, DWORD ms)
{
    g_sink++;
    DWORD r = WaitForSingleObject(ev, ms);
    g_sink += (LONG)r;
    return r;
}

static DWORD df_next_batch(HANDLE ev)
{
    g_sink += 2;
    DWORD r = df_wait_batch(ev, INFINITE);
    g_sink ^= (LONG)r;
    return r;
}

NOINLINE static DWORD df_serve_queue(HANDLE ev)
{
    DWORD total = 0;
    for (int i = 0; i < 3; i++)
        total += df_next_batch(ev);
    return total;
}

static DWORD WINAPI inline_thread(void *arg)
{
    (void)arg;
    name_thread(L"inline-wait");
    printf("thread inline-wait tid=%lu\n", GetCurrentThreadId());
    fflush(stdout);
    SetEvent(g_started[0]);
    return df_serve_queue(g_batch_ready);
}

/* The generated function, with its prolog described by UNWIND_INFO:
 *   48 83 EC 28        sub rsp, 0x28
 *   B9 FF FF FF FF     mov ecx, INFINITE
 *   48 B8 <imm64>      mov rax, Sleep
 *   FF D0              call rax
 *   48 83 C4 28        add rsp, 0x28
 *   C3                 ret */
enum { CODE_OFF = 0x100, UNWIND_OFF = 0x200, TABLE_OFF = 0x300, REGION = 0x10000 };

typedef void (*gen_fn)(void);
static gen_fn g_generated;

NOINLINE static void df_run_generated(void)
{
    g_generated();
    g_sink++;
}

static DWORD WINAPI jit_thread(void *arg)
{
    (void)arg;
    name_thread(L"jit");
    printf("thread jit tid=%lu\n", GetCurrentThreadId());
    fflush(stdout);
    SetEvent(g_started[1]);
    df_run_generated();
    return 0;
}

static int make_generated(void)
{
    uint8_t *base = VirtualAlloc(NULL, REGION, MEM_COMMIT | MEM_RESERVE, PAGE_EXECUTE_READWRITE);
    if (!base)
        return 0;
    uint8_t *c = base + CODE_OFF;
    uint64_t sleep_addr = (uint64_t)(uintptr_t)GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "Sleep");
    size_t n = 0;
    const uint8_t p1[] = { 0x48, 0x83, 0xEC, 0x28, 0xB9, 0xFF, 0xFF, 0xFF, 0xFF, 0x48, 0xB8 };
    memcpy(c + n, p1, sizeof p1);
    n += sizeof p1;
    memcpy(c + n, &sleep_addr, 8);
    n += 8;
    const uint8_t p2[] = { 0xFF, 0xD0, 0x48, 0x83, 0xC4, 0x28, 0xC3 };
    memcpy(c + n, p2, sizeof p2);
    n += sizeof p2;
    /* UNWIND_INFO: version 1, no flags, prolog 4 bytes, 1 code, no frame
     * register; code at offset 4: UWOP_ALLOC_SMALL (2), (0x28 - 8) / 8 = 4 */
    const uint8_t ui[] = { 0x01, 0x04, 0x01, 0x00, 0x04, 0x42, 0x00, 0x00 };
    memcpy(base + UNWIND_OFF, ui, sizeof ui);
    RUNTIME_FUNCTION *rf = (RUNTIME_FUNCTION *)(base + TABLE_OFF);
    rf->BeginAddress = CODE_OFF;
    rf->EndAddress = CODE_OFF + (DWORD)n;
    rf->UnwindData = UNWIND_OFF;
    if (!RtlAddFunctionTable(rf, 1, (DWORD64)(uintptr_t)base))
        return 0;
    FlushInstructionCache(GetCurrentProcess(), base, REGION);
    g_generated = (gen_fn)(void *)c;
    printf("jit base=0x%llx size=0x%x code=0x%llx end=0x%llx unwind=0x%llx table=0x%llx\n",
           (unsigned long long)(uintptr_t)base, REGION, (unsigned long long)(uintptr_t)c,
           (unsigned long long)(uintptr_t)(c + n), (unsigned long long)(uintptr_t)(base + UNWIND_OFF),
           (unsigned long long)(uintptr_t)rf);
    return 1;
}

int main(void)
{
    name_thread(L"main");
    if (!make_generated()) {
        printf("failed to make generated code\n");
        return 1;
    }
    g_batch_ready = CreateEventW(NULL, FALSE, FALSE, NULL);
    HANDLE th[2];
    for (int i = 0; i < 2; i++)
        g_started[i] = CreateEventW(NULL, TRUE, FALSE, NULL);
    th[0] = CreateThread(NULL, 0, inline_thread, NULL, 0, NULL);
    th[1] = CreateThread(NULL, 0, jit_thread, NULL, 0, NULL);
    WaitForMultipleObjects(2, g_started, TRUE, INFINITE);
    Sleep(300); /* both are in their waits by now */
    printf("thread main tid=%lu\nready\n", GetCurrentThreadId());
    fflush(stdout);
    WaitForMultipleObjects(2, th, TRUE, INFINITE);
    return 0;
}
