/*
 * test_pairing.c — one report from a user dump and a kernel dump, end to end
 * through the analysis entry point (analysis/analysis.h), in-process.
 *
 * The user dump is real (tests/data/wine/hello_block.dmp.gz: a process blocked
 * in ReadFile on stdin, pid 32, thread 36).  No real `procdump -mk` file is
 * public, so the kernel half is SYNTHESIZED with the test-only writers
 * (tests/support/paired_case.c over kdump_writer.c and pe_image_writer.c),
 * laid out as the documented structures say (docs/formats.md B-D).  The
 * committed copy tests/data/paired/hello_block.Kernel.dmp is checked here to
 * be exactly what the writer produces.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "dt_test.h"
#include "paired_case.h"

static char tmpdir[64];

/* Writes the paired case's kernel dump (tests/support/paired_case.h) for
 * (pid, image) and returns its path. */
static const char *write_kernel(const char *name, uint32_t pid, const char *image, uint8_t wait_reason,
                                uint32_t waited_ticks)
{
    static char path[8][128];
    static int n;
    char *p = path[n++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    dt_paired_options o = { .pid = pid, .image = image, .wait_reason = wait_reason, .waited_ticks = waited_ticks };
    ck_assert_int_eq(dt_paired_write_kernel_dump(&o, p), 0);
    return p;
}

/* Analyzes (user, kernel) in-process through dt_analyze with the Wine
 * build's symbols; returns the report (NULL when the inputs are unusable),
 * the exit status the CLI would give (0 or 1) and the CLI's stderr line. */
static cJSON *analyze(const char *user, const char *kernel, int *status, char *err, size_t errsz)
{
    const char *symbols[] = { dt_test_data("wine/bin/clang") };
    dt_analysis_request req = { .user_path = user, .kernel_path = kernel, .route_by_content = true,
                                .symbol_paths = symbols, .nsymbol_paths = 1 };
    cJSON *doc = NULL;
    dt_error e = { 0 };
    *status = dt_analyze(&req, &doc, &e) == DT_OK ? 0 : 1;
    snprintf(err, errsz, "%s", *status ? e.message : "");
    return doc;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static const cJSON *triage_thread(const cJSON *doc, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, get(get(doc, "triage"), "threads"))
        if ((unsigned)get(t, "thread_id")->valuedouble == tid)
            return t;
    return NULL;
}

/* Index of the first frame named `name` ("module!function"), or -1. */
static int frame_index(const cJSON *frames, const char *name)
{
    int i = 0;
    const cJSON *f;
    cJSON_ArrayForEach(f, frames)
    {
        char full[512];
        snprintf(full, sizeof full, "%s!%s", str(f, "module"), str(f, "function"));
        if (strcmp(full, name) == 0)
            return i;
        i++;
    }
    return -1;
}

static void setup(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/dt-pairing-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

START_TEST(hello_block_with_its_kernel_dump)
{
    const char *k = write_kernel("hello_block.Kernel.dmp", 32, "hello_block.ex", 6 /* UserRequest */,
                                 180 * 64 /* 3 min of 15.625 ms ticks */);
    int status;
    char err[1024];
    cJSON *doc = analyze(dt_test_data("wine/hello_block.dmp.gz"), k, &status, err, sizeof err);
    ck_assert_msg(status == 0 && doc, "exit %d: %s", status, err);
    const cJSON *tri = get(doc, "triage");
    ck_assert(cJSON_IsTrue(get(tri, "paired")));
    const cJSON *c;
    cJSON_ArrayForEach(c, get(tri, "checks"))
        ck_assert_msg(cJSON_IsTrue(get(c, "ok")), "check %s failed", str(c, "check"));

    const cJSON *t = triage_thread(doc, 36);
    ck_assert_ptr_nonnull(t);
    ck_assert_int_eq(cJSON_GetArraySize(get(t, "sources")), 2);
    ck_assert_str_eq(str(t, "state"), "waiting");
    ck_assert_str_eq(str(t, "state_source"), "kernel");
    ck_assert(cJSON_IsTrue(get(t, "stuck")));
    const char *v = str(t, "verdict");
    /* The pending IRP (synthesized as the -mk writer saves it) names the
     * console driver and its input file (issue #21). */
    static const char want_v[] = "blocked 3 min in a synchronous read of console \\Input: \\Driver\\condrv has not "
                                 "completed IRP_MJ_READ — NtReadFile ← ReadFile ← hello_block!df_read_stdin";
    ck_assert_msg(strncmp(v, want_v, strlen(want_v)) == 0, "%s", v);
    ck_assert_msg(strstr(v, "UserRequest, KernelMode wait, not alertable") != NULL, "%s", v);

    /* The joined stack: user half down to main, kernel half from NtReadFile
     * to KiSwapContext, meeting at the system call. */
    const cJSON *uf = get(t, "user_frames"), *kf = get(t, "kernel_frames");
    ck_assert_int_eq(frame_index(uf, "ntdll.dll!NtReadFile"), 0);
    ck_assert_int_gt(frame_index(uf, "hello_block.exe!main"), 0);
    int k_read = frame_index(kf, "nt!NtReadFile"), k_swap = frame_index(kf, "nt!KiSwapContext");
    ck_assert_int_ge(k_swap, 0);
    ck_assert_int_gt(k_read, k_swap);
    ck_assert_int_gt(frame_index(kf, "nt!KeWaitForSingleObject"), k_swap);
    const cJSON *sys = get(t, "syscall");
    ck_assert_str_eq(str(sys, "name"), "NtReadFile");
    ck_assert_str_eq(str(sys, "user_name"), "ntdll!NtReadFile");
    ck_assert_str_eq(str(sys, "kernel_name"), "nt!NtReadFile");
    ck_assert_int_eq((int)get(sys, "kernel_frame")->valuedouble, k_read);
    /* The snapshot APC frames are folded, not removed. */
    ck_assert_int_eq(frame_index(kf, "nt!DbgkpLkmdSnapThreadInContext"), 0);
    ck_assert(cJSON_IsTrue(get(cJSON_GetArrayItem(kf, 0), "folded")));
    ck_assert(cJSON_IsTrue(get(cJSON_GetArrayItem(kf, 1), "folded")));
    ck_assert_ptr_null(get(cJSON_GetArrayItem(kf, k_swap), "folded"));
    ck_assert_ptr_null(get(t, "driver_frame"));
    const cJSON *io = get(t, "io");
    ck_assert_str_eq(str(io, "major"), "IRP_MJ_READ");
    ck_assert_str_eq(str(io, "file"), "\\Input");
    ck_assert_str_eq(str(io, "driver"), "\\Driver\\condrv");
    ck_assert_str_eq(str(io, "driver_kind"), "console");
    /* The kernel stack starts at the CONTEXT the snapshot routine captured. */
    const cJSON *kt = NULL, *x;
    cJSON_ArrayForEach(x, get(get(doc, "kernel"), "threads"))
        if ((unsigned)get(x, "thread_id")->valuedouble == 36)
            kt = x;
    ck_assert_ptr_nonnull(kt);
    ck_assert_str_eq(str(get(kt, "stack_start"), "source"), "captured_context");

    /* Thread 40 is only in the kernel dump, and says so. */
    const cJSON *u;
    int only_kernel = 0;
    cJSON_ArrayForEach(u, get(tri, "unpaired"))
        if ((unsigned)get(u, "thread_id")->valuedouble == 40 && strcmp(str(u, "only_in"), "kernel") == 0)
            only_kernel = 1;
    ck_assert(only_kernel);

    ck_assert_str_eq(str(tri, "signature"),
                     "hang|kernelbase!readfile|hello_block!df_read_stdin|nt!kewaitforsingleobject|condrv");
    ck_assert_int_eq((int)get(get(tri, "primary"), "thread_id")->valuedouble, 36);

    /* The same hang, dumped again later with another wait reason: same signature. */
    const char *k2 = write_kernel("again.Kernel.dmp", 32, "hello_block.ex", 0 /* Executive */, 600 * 64);
    cJSON *doc2 = analyze(dt_test_data("wine/hello_block.dmp.gz"), k2, &status, err, sizeof err);
    ck_assert_msg(status == 0 && doc2, "exit %d: %s", status, err);
    ck_assert_str_eq(str(get(doc2, "triage"), "signature"), str(tri, "signature"));
    ck_assert(strstr(str(triage_thread(doc2, 36), "verdict"), "blocked 10 min") != NULL);
    ck_assert(strstr(str(triage_thread(doc2, 36), "verdict"), "Executive, KernelMode wait") != NULL);
    cJSON_Delete(doc2);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(a_kernel_dump_of_another_process_is_refused)
{
    const char *k = write_kernel("other.Kernel.dmp", 1234, "notepad.exe", 6, 64);
    int status;
    char err[1024];
    cJSON *doc = analyze(dt_test_data("wine/hello_block.dmp.gz"), k, &status, err, sizeof err);
    ck_assert_ptr_null(doc);
    ck_assert_int_eq(status, 1);
    ck_assert_msg(strstr(err, "no process with the user dump's pid 32") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "1234 notepad.exe") != NULL, "%s", err);
    ck_assert_msg(strstr(err, "not of the same process") != NULL, "%s", err);
}
END_TEST

START_TEST(same_pid_other_image_is_a_loud_warning)
{
    const char *k = write_kernel("reused.Kernel.dmp", 32, "svchost.exe", 6, 64);
    int status;
    char err[1024];
    cJSON *doc = analyze(dt_test_data("wine/hello_block.dmp.gz"), k, &status, err, sizeof err);
    ck_assert_msg(status == 0 && doc, "exit %d: %s", status, err);
    char *w = cJSON_PrintUnformatted(get(doc, "warnings"));
    ck_assert_msg(strstr(w, "MISMATCH: the user dump is of hello_block.exe but the kernel dump's pid 32 is svchost.exe") != NULL,
                  "%s", w);
    free(w);
    cJSON_Delete(doc);
}
END_TEST

/* Wine multi_hang, clang (PDB names) and gcc (no symbols for the exe, no
 * thread names) builds: verdicts per thread, and the critical-section
 * deadlock with each other's thread ids as owners (the owners the program
 * itself logged: tests/data/wine/logs/multi_hang*.out). */
START_TEST(multi_hang_verdicts_and_deadlock)
{
    static const struct {
        const char *dump;
        unsigned main, event, sleeper, a, b, server, reader;
        const char *cs_a, *cs_b;
        const char *signature;
    } builds[] = {
        { "wine/multi_hang.dmp.gz", 36, 232, 236, 240, 244, 248, 252, "0x14000c120", "0x14000c148",
          "deadlock|critical_section|multi_hang!df_lock_second" },
        { "wine/multi_hang_gcc_wineraw.dmp.gz", 316, 320, 324, 328, 332, 336, 340, "0x14000e120", "0x14000e0e0",
          "deadlock|critical_section|multi_hang_gcc" },
    };
    for (size_t b = 0; b < sizeof builds / sizeof builds[0]; b++) {
        int status;
        char err[1024];
        cJSON *doc = analyze(dt_test_data(builds[b].dump), NULL, &status, err, sizeof err);
        ck_assert_msg(status == 0 && doc, "%s: exit %d: %s", builds[b].dump, status, err);
        const cJSON *tri = get(doc, "triage");
        struct {
            unsigned tid;
            const char *category;
            int stuck;
        } want[] = {
            { builds[b].main, "wait_multiple", 1 }, { builds[b].event, "wait_single", 1 },
            { builds[b].sleeper, "sleep", 0 },      { builds[b].a, "critical_section", 1 },
            { builds[b].b, "critical_section", 1 }, { builds[b].server, "pipe_connect", 1 },
            { builds[b].reader, "read", 1 },
        };
        for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
            const cJSON *t = triage_thread(doc, want[i].tid);
            ck_assert_msg(t != NULL, "%s: thread %u", builds[b].dump, want[i].tid);
            ck_assert_msg(strcmp(str(t, "category"), want[i].category) == 0, "%s: thread %u is %s: %s",
                          builds[b].dump, want[i].tid, str(t, "category"), str(t, "verdict"));
            ck_assert_int_eq(cJSON_IsTrue(get(t, "stuck")), want[i].stuck);
        }
        /* deadlock-A waits for cs_b held by deadlock-B and vice versa */
        const cJSON *d = cJSON_GetArrayItem(get(tri, "deadlocks"), 0);
        ck_assert_ptr_nonnull(d);
        ck_assert_int_eq(cJSON_GetArraySize(get(tri, "deadlocks")), 1);
        ck_assert_str_eq(str(d, "kind"), "critical_section");
        const cJSON *l;
        int seen = 0;
        cJSON_ArrayForEach(l, get(d, "locks"))
        {
            unsigned tid = (unsigned)get(l, "thread_id")->valuedouble;
            unsigned owner = (unsigned)get(l, "owned_by")->valuedouble;
            if (tid == builds[b].a) {
                ck_assert_uint_eq(owner, builds[b].b);
                ck_assert_str_eq(str(l, "waits_for"), builds[b].cs_b);
                seen++;
            } else if (tid == builds[b].b) {
                ck_assert_uint_eq(owner, builds[b].a);
                ck_assert_str_eq(str(l, "waits_for"), builds[b].cs_a);
                seen++;
            }
        }
        ck_assert_int_eq(seen, 2);
        const cJSON *wait = get(triage_thread(doc, builds[b].a), "wait");
        ck_assert_uint_eq((unsigned)get(wait, "owner_thread_id")->valuedouble, builds[b].b);
        ck_assert_str_eq(str(tri, "signature"), builds[b].signature);
        unsigned primary = (unsigned)get(get(tri, "primary"), "thread_id")->valuedouble;
        ck_assert(primary == builds[b].a || primary == builds[b].b);
        cJSON_Delete(doc);
    }
}
END_TEST

/* A kernel crash dump alone still gets a crash-style summary: the real
 * triage dump's bugcheck 0x1000007E names amdppm.sys+0x334c (its parameter 2,
 * the faulting instruction; rizin's PDB stack agrees: amdppm!WriteIoMemRawEx). */
START_TEST(bugcheck_gets_a_crash_summary)
{
    const char *symbols[] = { dt_test_data("symstore-kernel") };
    dt_analysis_request req = { .user_path = dt_test_data("kernel/rizin__triage_x64.dmp"),
                                .route_by_content = true, .symbol_paths = symbols, .nsymbol_paths = 1 };
    cJSON *doc = NULL;
    dt_error e = { 0 };
    ck_assert_msg(dt_analyze(&req, &doc, &e) == DT_OK, "%s", e.message);
    ck_assert_ptr_nonnull(doc);
    const cJSON *crash = get(get(doc, "triage"), "crash");
    ck_assert_str_eq(str(crash, "kind"), "bugcheck");
    ck_assert_str_eq(str(crash, "code"), "0x1000007e");
    ck_assert_str_eq(str(crash, "faulting_module"), "amdppm.sys+0x334c");
    ck_assert_str_eq(str(get(doc, "triage"), "signature"), "bugcheck|SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M|amdppm");
    /* The faulting context's stack (.cxr) through amdppm's and Wdf01000's
     * .pdata, as rizin's PDB backtrace frames 8-24 show it. */
    static const struct {
        const char *function, *offset, *module_offset;
    } want[] = {
        { "WriteIoMemRawEx", "0x70", "0x334c" },      { "WriteGenAddrEx", "0x6b", "0x313f" },
        { "WriteGenAddrMaybeHiddenEx", "0x18", "0x3234" }, { "InitAcpiCpc", "0x317", "0x20e8f" },
        { "ProcLibDeviceStart", "0x886", "0x283f6" }, { "EvtDevicePrepareHardware", "0xd2", "0x1f852" },
    };
    const cJSON *cf = get(get(get(doc, "kernel"), "bugcheck"), "context_frames");
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *f = cJSON_GetArrayItem(cf, (int)i);
        ck_assert_str_eq(str(f, "module"), "amdppm.sys");
        ck_assert_str_eq(str(f, "function"), want[i].function);
        ck_assert_str_eq(str(f, "function_offset"), want[i].offset);
        ck_assert_str_eq(str(f, "module_offset"), want[i].module_offset);
    }
    static const char *wdf[] = { "0x7c027", "0x16f81", "0x7b227", "0x79e21", "0x799da",
                                 "0x7b6b1", "0x7b47a", "0x8299e", "0xcc5f",  "0xa866" };
    for (size_t i = 0; i < sizeof wdf / sizeof wdf[0]; i++) {
        const cJSON *f = cJSON_GetArrayItem(cf, (int)(6 + i));
        ck_assert_str_eq(str(f, "module"), "Wdf01000.sys");
        ck_assert_str_eq(str(f, "module_offset"), wdf[i]);
        ck_assert_str_eq(str(f, "trust"), "cfi");
    }
    ck_assert_str_eq(str(cJSON_GetArrayItem(cf, 16), "module_offset"), "0x252f55"); /* nt!IofCallDriver+0x55 */
    cJSON_Delete(doc);
}
END_TEST

START_TEST(committed_paired_case_is_what_the_writer_writes)
{
    dt_paired_options o = { .pid = 32, .image = "hello_block.ex", .wait_reason = 6, .waited_ticks = 180 * 64 };
    size_t size = 0, csize = 0;
    uint8_t *dump = dt_paired_kernel_dump(&o, &size);
    unsigned char *committed = dt_test_read_file(dt_test_data("paired/hello_block.Kernel.dmp"), &csize);
    ck_assert_ptr_nonnull(dump);
    ck_assert_ptr_nonnull(committed);
    ck_assert_uint_eq(size, csize);
    ck_assert(memcmp(dump, committed, size) == 0);
    free(dump);
    free(committed);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("pairing");
    TCase *tc = tcase_create("cli");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, hello_block_with_its_kernel_dump);
    tcase_add_test(tc, a_kernel_dump_of_another_process_is_refused);
    tcase_add_test(tc, same_pid_other_image_is_a_loud_warning);
    tcase_add_test(tc, multi_hang_verdicts_and_deadlock);
    tcase_add_test(tc, committed_paired_case_is_what_the_writer_writes);
    tcase_add_test(tc, bugcheck_gets_a_crash_summary);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
