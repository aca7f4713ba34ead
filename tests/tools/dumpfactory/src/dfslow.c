/*
 * dfslow.c - helper DLL for lock_wait.c (dumptriage #15): its DllMain
 * blocks forever in DLL_PROCESS_ATTACH, so the thread that loads it holds
 * the loader lock (ntdll's LdrpLoaderLock / Wine's loader_section, the
 * critical section PEB.LoaderLock points at) while it waits.
 */
#include <windows.h>

__declspec(dllexport) volatile LONG df_slow_loaded;

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, void *reserved)
{
    (void)inst;
    (void)reserved;
    if (reason == DLL_PROCESS_ATTACH) {
        HANDLE in_main = OpenEventW(EVENT_MODIFY_STATE, FALSE, L"Local\\df_in_dllmain");
        HANDLE never = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (in_main)
            SetEvent(in_main);
        WaitForSingleObject(never, INFINITE);
        df_slow_loaded = 1;
    }
    return TRUE;
}
