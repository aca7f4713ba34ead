/*
 * test_kernel_alpc.c — ALPC/LPC waits with their port and server process
 * (#15 item 1): the reader (model/kernel_alpc.c), the kernel report (JSON
 * and WinDbg-style text) and the wait graph's edges, end to end.
 *
 * Synthesized: kernel dumps from tests/support/kdump_writer.c (TEST-ONLY),
 * as a triage dump and as a full dump, in the public 19041 x64 layouts
 * (docs/kernel_offsets.md "ALPC"): client threads of client.exe in
 * WrLpcReply whose ETHREAD.AlpcMessage names a _KALPC_MESSAGE queued at the
 * unnamed communication port of dtsvc.exe (named through its connection port
 * `\RPC Control\dtsvc`), one of them taken by a server thread that waits on
 * a mutex held by another; a server thread in WrLpcReceive linked into its
 * port's WaitQueue.  The same in the 26100 (Windows 11 24H2) x64 EPROCESS/
 * ETHREAD layout, stated here from ntdiff's dumps.  Bad input: a message not in the dump (label stays, no
 * warning), a message naming another waiter, a port owner that is not a
 * process, a broken wait list (warnings).  No real dump with an ALPC wait
 * and its pool memory is public.
 */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "kdump_analyze.h"
#include "report/kernel_report.h"

#define NT(off) (DT_KW_NT_BASE + (off))

static const uint64_t wait_frames[] = { NT(0x3f1000), NT(0x2b0a10), NT(0x2f7e20), NT(0x40a1b5) };
static const uint64_t idle_frames[] = { NT(0x3f1000), NT(0x2b0a10), NT(0x40a1b5) };

enum { C_OK = 0x100, C_NOSRV = 0x104, C_ABSENT = 0x108, C_OTHER = 0x10c, C_NOTPROC = 0x110 };
enum { S_WORK = 0x200, S_HOLD = 0x204, S_RECV = 0x208, S_BROKEN = 0x20c };
enum { CLIENT_PID = 0x40, SERVER_PID = 0x50 };

/* Waiting threads (designated initialisers: dt_kw_thread grows). */
#define THREAD(tid_, reason, type, owner)                                                                    \
    { .tid = (tid_), .state = 5, .wait_reason = (reason), .wait_mode = 1, .wait_time = 0x1000,                \
      .win32_start_address = NT(0x225870), .frames = wait_frames, .frame_count = 4, .running_cpu = -1,       \
      .wait_object_type = (type), .mutant_owner_tid = (owner) }
/* A client waits for the reply on its own semaphore (WrLpcReply = 17). */
static const dt_kw_thread clients[] = {
    THREAD(C_OK, 17, 5, 0), THREAD(C_NOSRV, 17, 5, 0), THREAD(C_ABSENT, 17, 5, 0), THREAD(C_OTHER, 17, 5, 0),
    THREAD(C_NOTPROC, 17, 5, 0),
};
/* The server: a worker (UserRequest = 6) on a mutex held by a thread that
 * waits on an event; receivers on the port's semaphore (WrLpcReceive = 16). */
static const dt_kw_thread servers[] = {
    THREAD(S_WORK, 6, 2, S_HOLD), THREAD(S_HOLD, 6, 1, 0), THREAD(S_RECV, 16, 5, 0), THREAD(S_BROKEN, 16, 5, 0),
};
static const dt_kw_thread sys_threads[] = {
    { .tid = 0x8, .state = 5, .wait_reason = 15 /* WrQueue */, .wait_time = 0x10, .win32_start_address = NT(0x225870),
      .frames = idle_frames, .frame_count = 3, .running_cpu = -1, .wait_object_type = 4 },
};
static const dt_kw_process procs[] = {
    { 4, "System", sys_threads, 1 },
    { CLIENT_PID, "client.exe", clients, 5 },
    { SERVER_PID, "dtsvc.exe", servers, 4 },
};
static const dt_kw_alpc alpc[] = {
    { 1, 0, false, 2, 0, "dtsvc", 0x1234, DT_KW_ALPC_OK },
    { 1, 1, false, 2, -1, "idlesvc", 0x1238, DT_KW_ALPC_OK },
    { 1, 2, false, 2, -1, "dtsvc", 0x123c, DT_KW_ALPC_MESSAGE_ABSENT },
    { 1, 3, false, 2, -1, "dtsvc", 0x1240, DT_KW_ALPC_OTHER_WAITER },
    { 1, 4, false, 2, -1, "dtsvc", 0x1244, DT_KW_ALPC_OWNER_NOT_PROCESS },
    { 2, 2, true, 2, -1, "dtsvc", 0, DT_KW_ALPC_OK },
    { 2, 3, true, 2, -1, "dtsvc", 0, DT_KW_ALPC_LIST_BROKEN },
};

/* Windows 11 24H2 / Server 2025 x64 (26100): EPROCESS and ETHREAD moved
 * (KTHREAD as 19041), copied from ntdiff/headers@ebe89c140e89
 * Win11_2409_24H2/x64/System32/ntoskrnl.exe/Standalone/_ETHREAD.h and
 * _EPROCESS.h, not from the analyzer's table; _KALPC_MESSAGE there has the
 * 19041 offsets the writer uses. */
static const dt_kw_structs structs_26100 = {
    .ep_pid = 0x1d0, .ep_links = 0x1d8, .ep_image = 0x338, .ep_threads = 0x370, .ep_create = 0x1f8, .ep_peb = 0x2e0,
    .et_cid = 0x508, .et_link = 0x578, .et_start = 0x560, .et_create = 0x4c0, .et_irp_list = 0x540,
    .et_alpc_id = 0x5b8, .et_alpc_msg = 0x5c0, .et_alpc_wait = 0x5c8,
};

static dt_kw_system system_desc(uint32_t build)
{
    dt_kw_system s = { 0 };
    s.build = build;
    s.structs = build == 26100 ? &structs_26100 : NULL;
    s.processors = 2;
    s.bugcheck_code = 0x161; /* LIVE_SYSTEM_DUMP */
    s.attributes = 0x10;
    s.processes = procs;
    s.process_count = 3;
    s.current_process = 1;
    s.current_thread = 0;
    s.alpc = alpc;
    s.alpc_count = sizeof alpc / sizeof alpc[0];
    return s;
}

static cJSON *analyze_kernel(bool full, uint32_t build)
{
    dt_kw_system s = system_desc(build);
    return dt_kw_analyze(&s, full, "kernel_alpc_triage.dmp");
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    ck_assert_msg(cJSON_IsString(v), "no string %s", k);
    return v->valuestring;
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    ck_assert_msg(cJSON_IsNumber(v), "no number %s", k);
    return v->valuedouble;
}

static const cJSON *by_tid(const cJSON *arr, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, arr)
        if (cJSON_IsNumber(get(t, "thread_id")) && (unsigned)get(t, "thread_id")->valuedouble == tid)
            return t;
    ck_abort_msg("no thread 0x%x", tid);
    return NULL;
}

static const char *hex(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "0x%llx", (unsigned long long)v);
    return buf;
}

static int count_warnings(const cJSON *rep, const char *needle)
{
    int n = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, get(get(rep, "kernel"), "warnings"))
        if (cJSON_IsString(w) && strstr(w->valuestring, needle))
            n++;
    return n;
}

/* The waits_on entry of thread tid whose node id starts with prefix. */
static const cJSON *wait_on(const cJSON *tri, unsigned tid, const char *prefix)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, get(by_tid(get(tri, "threads"), tid), "waits_on"))
        if (strncmp(str(w, "node"), prefix, strlen(prefix)) == 0)
            return w;
    return NULL;
}

static const char *const REPLY_SOURCE =
    "kernel: ETHREAD.AlpcMessage → KALPC_MESSAGE.PortQueue → ALPC_PORT.OwnerProcess (KALPC_MESSAGE.WaitingThread "
    "is this thread); WrLpcReply: waiting for the server's reply";

static void check(bool full, uint32_t build, const char *layout)
{
    cJSON *rep = analyze_kernel(full, build);
    const cJSON *offsets = get(get(rep, "kernel"), "offsets");
    ck_assert_str_eq(str(offsets, "layout"), layout);
    const cJSON *kthreads = get(get(rep, "kernel"), "threads");
    const cJSON *tri = get(rep, "triage");
    char b1[40], b2[40], b3[40], want[1024];

    /* The reader: message, port, name, server process and thread. */
    const cJSON *a = get(by_tid(kthreads, C_OK), "alpc");
    ck_assert_str_eq(str(a, "kind"), "reply");
    ck_assert_str_eq(str(a, "message"), hex(b1, sizeof b1, dt_kw_alpc_message_va(0)));
    ck_assert_int_eq((int)num(a, "message_id"), 0x1234);
    ck_assert(cJSON_IsTrue(get(a, "message_in_dump")));
    ck_assert_str_eq(str(a, "port"), hex(b1, sizeof b1, dt_kw_alpc_port_va(0)));
    ck_assert_str_eq(str(a, "connection_port"), hex(b1, sizeof b1, dt_kw_alpc_connection_port_va(0)));
    ck_assert_str_eq(str(a, "named_port"), hex(b1, sizeof b1, dt_kw_alpc_connection_port_va(0)));
    ck_assert_str_eq(str(a, "port_name"), "\\RPC Control\\dtsvc");
    ck_assert_str_eq(str(a, "server_eprocess"), hex(b1, sizeof b1, dt_kw_process_va(2)));
    ck_assert_int_eq((int)num(a, "server_process_id"), SERVER_PID);
    ck_assert_str_eq(str(a, "server_image"), "dtsvc.exe");
    ck_assert_int_eq((int)num(a, "server_thread_id"), S_WORK);
    ck_assert_str_eq(str(a, "source"), "ETHREAD.AlpcMessage → KALPC_MESSAGE.PortQueue");

    /* The edge "thread waits for ALPC reply from process X (port Y)". */
    const cJSON *w = wait_on(tri, C_OK, "alpc:");
    ck_assert_ptr_nonnull(w);
    snprintf(want, sizeof want, "alpc:%s", hex(b1, sizeof b1, dt_kw_alpc_message_va(0)));
    ck_assert_str_eq(str(w, "node"), want);
    snprintf(want, sizeof want,
             "ALPC reply from process 80 (dtsvc.exe) on port %s of `\\RPC Control\\dtsvc` (taken by a server thread)",
             hex(b1, sizeof b1, dt_kw_alpc_port_va(0)));
    ck_assert_str_eq(str(w, "label"), want);
    ck_assert_str_eq(str(w, "source"), REPLY_SOURCE);
    ck_assert_str_eq(str(w, "confidence"), "certain");
    ck_assert_int_eq((int)num(w, "owner_thread_id"), S_WORK);
    /* … owned by the server process, served by its thread. */
    const cJSON *e;
    int owned = 0, served = 0;
    cJSON_ArrayForEach(e, get(get(tri, "wait_graph"), "edges"))
    {
        if (strcmp(str(e, "from"), str(w, "node")) != 0)
            continue;
        if (strcmp(str(e, "kind"), "owned_by") == 0 && strcmp(str(e, "to"), "process:80") == 0) {
            snprintf(want, sizeof want, "kernel: ALPC_PORT.OwnerProcess of port %s",
                     hex(b1, sizeof b1, dt_kw_alpc_port_va(0)));
            ck_assert_str_eq(str(e, "source"), want);
            ck_assert_str_eq(str(e, "confidence"), "certain");
            owned++;
        }
        if (strcmp(str(e, "kind"), "served_by") == 0 && strcmp(str(e, "to"), "thread:512") == 0) {
            ck_assert_str_eq(str(e, "source"), "kernel: KALPC_MESSAGE.ServerThread");
            served++;
        }
    }
    ck_assert_int_eq(owned, 1);
    ck_assert_int_eq(served, 1);

    /* The chain crosses into the server: client → server thread → mutex owner. */
    snprintf(want, sizeof want,
             "256 client.exe waits for ALPC reply from process 80 (dtsvc.exe) on port %s of `\\RPC Control\\dtsvc`, "
             "served by 512 (dtsvc.exe) → 512 dtsvc.exe waits for mutex %s owned by 516 (dtsvc.exe) → 516 dtsvc.exe "
             "waits for event %s (auto-reset, not signalled), no owner",
             hex(b1, sizeof b1, dt_kw_alpc_port_va(0)), hex(b2, sizeof b2, dt_kw_wait_object_va(2, 0)),
             hex(b3, sizeof b3, dt_kw_wait_object_va(2, 1)));
    const cJSON *c, *chain = NULL;
    cJSON_ArrayForEach(c, get(tri, "chains"))
        if ((unsigned)cJSON_GetArrayItem(get(c, "threads"), 0)->valuedouble == C_OK)
            chain = c;
    ck_assert_ptr_nonnull(chain);
    ck_assert_str_eq(str(chain, "text"), want);
    ck_assert_str_eq(cJSON_GetArrayItem(get(chain, "kinds"), 0)->valuestring, "served_by");
    ck_assert_str_eq(str(chain, "confidence"), "certain");
    ck_assert_uint_eq((unsigned)num(get(tri, "root_cause"), "thread_id"), S_HOLD);

    /* No server thread has taken the message: the chain ends at the reply. */
    w = wait_on(tri, C_NOSRV, "alpc:");
    ck_assert_ptr_nonnull(w);
    snprintf(want, sizeof want,
             "ALPC reply from process 80 (dtsvc.exe) on port %s of `\\RPC Control\\idlesvc` (no server thread has "
             "taken the message yet)",
             hex(b1, sizeof b1, dt_kw_alpc_port_va(1)));
    ck_assert_str_eq(str(w, "label"), want);
    ck_assert(cJSON_IsNull(get(w, "owner_thread_id")));

    /* The server's receive wait: the port whose WaitQueue holds it. */
    a = get(by_tid(kthreads, S_RECV), "alpc");
    ck_assert_str_eq(str(a, "kind"), "receive");
    ck_assert_str_eq(str(a, "port"), hex(b1, sizeof b1, dt_kw_alpc_connection_port_va(5)));
    ck_assert(cJSON_IsNull(get(a, "message")));
    w = wait_on(tri, S_RECV, "alpc:");
    ck_assert_ptr_nonnull(w);
    snprintf(want, sizeof want, "ALPC requests on port %s `\\RPC Control\\dtsvc` (owned by process 80 (dtsvc.exe))",
             hex(b1, sizeof b1, dt_kw_alpc_connection_port_va(5)));
    ck_assert_str_eq(str(w, "label"), want);
    ck_assert_str_eq(str(w, "source"), "kernel: ETHREAD.AlpcWaitListEntry in ALPC_PORT.WaitQueue (the port's "
                                       "Semaphore is the object the thread waits on); WrLpcReceive: waiting for a "
                                       "request");
    ck_assert_str_eq(str(w, "confidence"), "strong");

    /* Bad input.  A message not in the dump: the wait keeps its label, no
     * warning names the thread. */
    a = get(by_tid(kthreads, C_ABSENT), "alpc");
    ck_assert_str_eq(str(a, "kind"), "reply");
    ck_assert(!cJSON_IsTrue(get(a, "message_in_dump")));
    ck_assert(cJSON_IsNull(get(a, "port")));
    ck_assert_ptr_null(wait_on(tri, C_ABSENT, "alpc:"));
    ck_assert_str_eq(str(cJSON_GetArrayItem(get(by_tid(get(tri, "threads"), C_ABSENT), "waits_on"), 0), "source"),
                     "kernel: KTHREAD.WaitBlockList (KWAIT_BLOCK.Object, WaitType WaitAny); WrLpcReply: an ALPC/LPC "
                     "client waiting for the server's reply");
    ck_assert_int_eq(count_warnings(rep, "thread 264:"), 0);
    /* A message of another waiter: warned, not followed. */
    ck_assert(cJSON_IsNull(get(get(by_tid(kthreads, C_OTHER), "alpc"), "port")));
    ck_assert_ptr_null(wait_on(tri, C_OTHER, "alpc:"));
    ck_assert_int_eq(count_warnings(rep, "thread 268: its ALPC message"), 1);
    /* A port owner that is not a process: the port and its name, no server. */
    a = get(by_tid(kthreads, C_NOTPROC), "alpc");
    ck_assert(cJSON_IsNull(get(a, "server_process_id")));
    ck_assert_str_eq(str(a, "port_name"), "\\RPC Control\\dtsvc");
    ck_assert_int_eq(count_warnings(rep, "thread 272: ALPC_PORT.OwnerProcess"), 1);
    snprintf(want, sizeof want, "ALPC reply on port %s of `\\RPC Control\\dtsvc` (no server thread has taken the message yet)",
             hex(b1, sizeof b1, dt_kw_alpc_port_va(4)));
    ck_assert_str_eq(str(wait_on(tri, C_NOTPROC, "alpc:"), "label"), want);
    /* A broken receive list: warned, no port. */
    ck_assert(cJSON_IsNull(get(by_tid(kthreads, S_BROKEN), "alpc")));
    ck_assert_int_eq(count_warnings(rep, "thread 524: ALPC wait list is inconsistent"), 1);

    /* The text report says it as WinDbg's !thread does. */
    char *txt = NULL;
    size_t tlen = 0;
    FILE *f = open_memstream(&txt, &tlen);
    ck_assert_ptr_nonnull(f);
    dt_kernel_report_text(get(rep, "kernel"), f);
    fclose(f);
    snprintf(want, sizeof want,
             "    Waiting for reply to ALPC Message %s : queued at port %s (\\RPC Control\\dtsvc) : owned by process "
             "%s (dtsvc.exe, pid 80) : server thread 512\n",
             hex(b1, sizeof b1, dt_kw_alpc_message_va(0)), hex(b2, sizeof b2, dt_kw_alpc_port_va(0)),
             hex(b3, sizeof b3, dt_kw_process_va(2)));
    ck_assert_msg(strstr(txt, want), "missing: %s", want);
    snprintf(want, sizeof want, "    Waiting for reply to ALPC Message %s (the message is not in the dump)\n",
             hex(b1, sizeof b1, UINT64_C(0xffffc08bdead1000)));
    ck_assert_msg(strstr(txt, want), "missing: %s", want);
    free(txt);
    cJSON_Delete(rep);
}

START_TEST(triage_dump_alpc_waits) { check(false, 19041, "win10-19041-x64"); }
END_TEST

START_TEST(full_dump_alpc_waits) { check(true, 19041, "win10-19041-x64"); }
END_TEST

/* Windows 11 24H2 (26100 x64): the same waits in that build's EPROCESS/
 * ETHREAD layout, read through the win11-26100-x64 row, whose only source
 * is ntdiff's 24H2 dumps. */
START_TEST(build_26100_alpc_waits)
{
    check(false, 26100, "win11-26100-x64");
    check(true, 26100, "win11-26100-x64");
    cJSON *rep = analyze_kernel(false, 26100);
    const cJSON *src = get(get(get(rep, "kernel"), "offsets"), "layout_sources");
    ck_assert_int_eq(cJSON_GetArraySize(src), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(src, 0)->valuestring, "ND");
    cJSON_Delete(rep);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("kernel_alpc");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, triage_dump_alpc_waits);
    tcase_add_test(tc, full_dump_alpc_waits);
    tcase_add_test(tc, build_26100_alpc_waits);
    suite_add_tcase(s, tc);
    return dt_test_run(s);
}
