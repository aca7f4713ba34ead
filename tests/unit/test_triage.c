/*
 * test_triage.c — pairing and hang triage on report parts.
 *
 * The user parts here are built from real stacks: the `*.verify.json` files
 * that the Wine dump factory wrote next to each real dump (its own .pdata
 * unwinder's output), so the verdict logic is tested on what real hung
 * threads look like.  The kernel parts are synthesized (no public
 * procdump -mk file exists); the end-to-end tests on dump files live in
 * test_pairing.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "triage/rules.h"
#include "triage/triage.h"

/* "ntdll.dll!ZwReadFile+0x14" / "hello_block.exe+0x13ae" -> a report frame. */
static cJSON *frame_from_text(const char *text, int n)
{
    cJSON *f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "frame", n);
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    char *bang = strchr(buf, '!');
    char *plus = strrchr(buf, '+');
    if (plus)
        *plus++ = '\0';
    if (bang) {
        *bang++ = '\0';
        cJSON_AddStringToObject(f, "module", buf);
        cJSON_AddStringToObject(f, "function", bang);
        cJSON_AddStringToObject(f, "function_offset", plus ? plus : "0x0");
    } else {
        cJSON_AddStringToObject(f, "module", buf);
        cJSON_AddStringToObject(f, "module_offset", plus ? plus : "0x0");
    }
    cJSON_AddStringToObject(f, "trust", n ? "cfi" : "context");
    return f;
}

static cJSON *frames_from_texts(const char *const *texts)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; texts[i]; i++)
        cJSON_AddItemToArray(a, frame_from_text(texts[i], i));
    return a;
}

/* The user part from a dump factory verify.json (pid from its comment). */
static cJSON *user_from_verify(const char *name, unsigned pid)
{
    size_t n;
    char path[256];
    snprintf(path, sizeof path, "wine/%s.verify.json", name);
    char *text = (char *)dt_test_read_file(dt_test_data(path), &n);
    ck_assert_ptr_nonnull(text);
    char *z = realloc(text, n + 1);
    z[n] = '\0';
    cJSON *v = cJSON_Parse(z);
    free(z);
    ck_assert_ptr_nonnull(v);
    cJSON *user = cJSON_CreateObject();
    cJSON_AddNumberToObject(user, "pid", pid);
    cJSON *proc = cJSON_AddObjectToObject(user, "process");
    cJSON_AddNumberToObject(proc, "pid", pid);
    cJSON_AddStringToObject(proc, "image", cJSON_GetObjectItem(v, "exe")->valuestring);
    cJSON *threads = cJSON_AddArrayToObject(user, "threads");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(v, "threads"))
    {
        cJSON *ut = cJSON_CreateObject();
        cJSON_AddNumberToObject(ut, "thread_id", cJSON_GetObjectItem(t, "tid")->valuedouble);
        cJSON_AddStringToObject(ut, "thread_name", cJSON_GetObjectItem(t, "name")->valuestring);
        cJSON *frames = cJSON_AddArrayToObject(ut, "frames");
        int i = 0;
        const cJSON *s;
        cJSON_ArrayForEach(s, cJSON_GetObjectItem(t, "stack"))
            cJSON_AddItemToArray(frames, frame_from_text(s->valuestring, i++));
        cJSON_AddItemToArray(threads, ut);
    }
    cJSON_Delete(v);
    return user;
}

/* A kernel part in the shape of a procdump -mk dump of (pid, tid) blocked in
 * NtReadFile, with the live-dump snapshot APC frames on top. */
static cJSON *kernel_read_wait(unsigned pid, unsigned tid, const char *image, const char *reason)
{
    cJSON *k = cJSON_CreateObject();
    cJSON *procs = cJSON_AddArrayToObject(k, "processes");
    cJSON *p = cJSON_CreateObject();
    cJSON_AddNumberToObject(p, "pid", pid);
    cJSON_AddStringToObject(p, "image", image);
    cJSON_AddItemToArray(procs, p);
    cJSON *threads = cJSON_AddArrayToObject(k, "threads");
    cJSON *t = cJSON_CreateObject();
    cJSON_AddNumberToObject(t, "pid", pid);
    cJSON_AddNumberToObject(t, "thread_id", tid);
    cJSON_AddStringToObject(t, "state", "Waiting");
    cJSON_AddStringToObject(t, "wait_reason", reason);
    cJSON_AddStringToObject(t, "wait_mode", "KernelMode");
    cJSON_AddBoolToObject(t, "alertable", 0);
    cJSON_AddNumberToObject(t, "wait_seconds", 183);
    static const char *kframes[] = {
        "ntoskrnl.exe!DbgkpLkmdSnapThreadInContext+0x4d", "ntoskrnl.exe!KiDeliverApc+0x1a1",
        "ntoskrnl.exe!KiSwapThread+0x5bb",                "ntoskrnl.exe!KiCommitThreadWait+0x14f",
        "ntoskrnl.exe!KeWaitForSingleObject+0x233",       "npfs.sys!NpCommonRead+0x23c",
        "ntoskrnl.exe!IofCallDriver+0x55",                "ntoskrnl.exe!NtReadFile+0x5e3",
        "ntoskrnl.exe!KiSystemServiceCopyEnd+0x28",       NULL,
    };
    cJSON_AddItemToObject(t, "frames", frames_from_texts(kframes));
    cJSON_AddItemToArray(threads, t);
    return k;
}

static cJSON *triage(const cJSON *user, const cJSON *kernel, dt_status *st, dt_error *err)
{
    dt_rules rules;
    ck_assert_int_eq(dt_rules_default(&rules, err), DT_OK);
    dt_triage_options opt = { .rules = &rules };
    cJSON *out = NULL;
    *st = dt_triage_build(user, kernel, &opt, &out, err);
    dt_rules_free(&rules);
    return out;
}

static const cJSON *thread_by_id(const cJSON *tri, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(tri, "threads"))
        if ((unsigned)cJSON_GetObjectItem(t, "thread_id")->valuedouble == tid)
            return t;
    return NULL;
}

static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = cJSON_GetObjectItem(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

START_TEST(default_rules_parse_and_typos_are_errors)
{
    dt_rules r;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_rules_default(&r, &err), DT_OK);
    ck_assert_uint_gt(r.count, 50);
    char norm[256];
    dt_rules_normalize(&r, "C:\\Windows\\System32\\KERNEL32.DLL", "ReadFile", norm, sizeof norm);
    ck_assert_str_eq(norm, "kernelbase!readfile");
    dt_rules_normalize_module(&r, "\\SystemRoot\\system32\\ntoskrnl.exe", norm, sizeof norm);
    ck_assert_str_eq(norm, "nt");
    ck_assert_ptr_nonnull(dt_rules_match(&r, DT_RULE_SNAPSHOT, "nt!dbgkplkmdsnapthreadincontext"));
    dt_rules_free(&r);
    ck_assert_int_ne(dt_rules_parse("system_module ntdll\nblockng x \"y\" a!b\n", &r, &err), DT_OK);
    ck_assert_msg(strstr(err.message, "line 2") != NULL, "%s", err.message);
}
END_TEST

/* The seed scenario: a thread in NtReadFile, KernelMode UserRequest wait. */
START_TEST(read_wait_joins_user_and_kernel_stacks)
{
    cJSON *user = user_from_verify("hello_block", 32);
    cJSON *kernel = kernel_read_wait(32, 36, "hello_block.ex", "UserRequest");
    dt_status st;
    dt_error err = { 0 };
    cJSON *tri = triage(user, kernel, &st, &err);
    ck_assert_int_eq(st, DT_OK);
    const cJSON *t = thread_by_id(tri, 36);
    ck_assert_ptr_nonnull(t);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "stuck")));
    ck_assert_str_eq(str(t, "state"), "waiting");
    ck_assert_str_eq(str(t, "category"), "read");
    const char *v = str(t, "verdict");
    ck_assert_msg(strstr(v, "blocked 3 min in a synchronous read") == v, "%s", v);
    ck_assert_msg(strstr(v, "NtReadFile ← ReadFile ← hello_block!df_read_stdin") != NULL, "%s", v);
    ck_assert_msg(strstr(v, "UserRequest, KernelMode wait, not alertable") != NULL, "%s", v);
    const cJSON *sys = cJSON_GetObjectItem(t, "syscall");
    ck_assert_str_eq(str(sys, "name"), "NtReadFile");
    ck_assert_str_eq(str(sys, "user_name"), "ntdll!ZwReadFile");
    ck_assert_str_eq(str(sys, "kernel_name"), "nt!NtReadFile");
    ck_assert_int_eq((int)cJSON_GetObjectItem(sys, "kernel_frame")->valuedouble, 7);
    /* snapshot frames folded, not removed */
    const cJSON *kf = cJSON_GetObjectItem(t, "kernel_frames");
    ck_assert_int_eq(cJSON_GetArraySize(kf), 9);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(kf, 0), "folded")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(kf, 1), "folded")));
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetArrayItem(kf, 2), "folded"));
    ck_assert_str_eq(str(t, "kernel_wait_frame"), "nt!KeWaitForSingleObject+0x233");
    ck_assert_str_eq(str(t, "driver_frame"), "npfs!NpCommonRead+0x23c");
    const cJSON *primary = cJSON_GetObjectItem(tri, "primary");
    ck_assert_int_eq((int)cJSON_GetObjectItem(primary, "thread_id")->valuedouble, 36);
    ck_assert_str_eq(str(tri, "signature"),
                     "hang|kernelbase!readfile|hello_block!df_read_stdin|nt!kewaitforsingleobject|npfs!npcommonread");
    /* Executive instead of UserRequest: same verdict shape, same signature. */
    cJSON *kernel2 = kernel_read_wait(32, 36, "hello_block.ex", "Executive");
    cJSON *tri2 = triage(user, kernel2, &st, &err);
    ck_assert_str_eq(str(tri2, "signature"), str(tri, "signature"));
    ck_assert(strstr(str(thread_by_id(tri2, 36), "verdict"), "Executive, KernelMode wait") != NULL);
    cJSON_Delete(tri2);
    cJSON_Delete(kernel2);
    cJSON_Delete(tri);
    cJSON_Delete(kernel);
    cJSON_Delete(user);
}
END_TEST

START_TEST(mismatched_pair_is_refused_with_a_reason)
{
    cJSON *user = user_from_verify("hello_block", 32);
    cJSON *kernel = kernel_read_wait(4, 0x108, "System", "Executive");
    dt_status st;
    dt_error err = { 0 };
    cJSON *tri = triage(user, kernel, &st, &err);
    ck_assert_int_eq(st, DT_ERR_ARG);
    ck_assert_ptr_null(tri);
    ck_assert_msg(strstr(err.message, "no process with the user dump's pid 32") != NULL, "%s", err.message);
    ck_assert_msg(strstr(err.message, "4 System") != NULL, "%s", err.message);
    /* Same pid, other image: paired, with a loud warning. */
    cJSON *k2 = kernel_read_wait(32, 36, "notepad.exe", "Executive");
    tri = triage(user, k2, &st, &err);
    ck_assert_int_eq(st, DT_OK);
    char *txt = cJSON_PrintUnformatted(cJSON_GetObjectItem(tri, "warnings"));
    ck_assert_msg(strstr(txt, "MISMATCH") != NULL, "%s", txt);
    free(txt);
    cJSON_Delete(tri);
    cJSON_Delete(k2);
    cJSON_Delete(kernel);
    cJSON_Delete(user);
}
END_TEST

START_TEST(multi_hang_threads_get_their_verdicts)
{
    cJSON *user = user_from_verify("multi_hang", 32);
    dt_status st;
    dt_error err = { 0 };
    cJSON *tri = triage(user, NULL, &st, &err);
    ck_assert_int_eq(st, DT_OK);
    struct {
        unsigned tid;
        const char *category;
        int stuck;
        const char *verdict_start;
    } want[] = {
        { 36, "wait_multiple", 1, "blocked waiting for several objects — NtWaitForMultipleObjects ← WaitForMultipleObjects ← multi_hang!df_join_workers" },
        { 232, "wait_single", 1, "blocked waiting for an object — NtWaitForMultipleObjects ← WaitForSingleObject ← multi_hang!df_wait_for_config" },
        { 236, "sleep", 0, "sleeping — NtDelayExecution ← Sleep ← multi_hang!df_idle_forever" },
        { 240, "critical_section", 1, "blocked waiting for a critical section" },
        { 244, "critical_section", 1, "blocked waiting for a critical section" },
        { 248, "pipe_connect", 1, "blocked waiting for a pipe client to connect — NtFsControlFile ← ConnectNamedPipe ← dfpipe!df_wait_for_client" },
        { 252, "read", 1, "blocked in a synchronous read — NtReadFile ← ReadFile ← multi_hang!df_read_message" },
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const cJSON *t = thread_by_id(tri, want[i].tid);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(str(t, "category"), want[i].category);
        ck_assert_int_eq(cJSON_IsTrue(cJSON_GetObjectItem(t, "stuck")), want[i].stuck);
        ck_assert_msg(strncmp(str(t, "verdict"), want[i].verdict_start, strlen(want[i].verdict_start)) == 0,
                      "tid %u: %s", want[i].tid, str(t, "verdict"));
        ck_assert_str_eq(str(t, "state_source"), "user stack");
    }
    cJSON_Delete(tri);
    cJSON_Delete(user);
}
END_TEST

START_TEST(idle_infrastructure_is_not_stuck)
{
    cJSON *user = cJSON_CreateObject();
    cJSON_AddNumberToObject(user, "pid", 100);
    cJSON *threads = cJSON_AddArrayToObject(user, "threads");
    static const char *pool[] = { "ntdll.dll!NtWaitForWorkViaWorkerFactory+0x14", "ntdll.dll!TppWorkerThread+0x2f3",
                                  "kernel32.dll!BaseThreadInitThunk+0x14", "ntdll.dll!RtlUserThreadStart+0x21", NULL };
    static const char *fin[] = { "ntdll.dll!NtWaitForSingleObject+0x14", "kernelbase.dll!WaitForSingleObjectEx+0x8e",
                                 "clr.dll!FinalizerThread::FinalizerThreadStart+0x10a", NULL };
    const char *const *stacks[] = { pool, fin };
    for (int i = 0; i < 2; i++) {
        cJSON *t = cJSON_CreateObject();
        cJSON_AddNumberToObject(t, "thread_id", 10 + i);
        cJSON_AddItemToObject(t, "frames", frames_from_texts(stacks[i]));
        cJSON_AddItemToArray(threads, t);
    }
    dt_status st;
    dt_error err = { 0 };
    cJSON *tri = triage(user, NULL, &st, &err);
    for (unsigned tid = 10; tid <= 11; tid++) {
        const cJSON *t = thread_by_id(tri, tid);
        ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "idle")));
        ck_assert(!cJSON_IsTrue(cJSON_GetObjectItem(t, "stuck")));
    }
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(tri, "primary")));
    cJSON_Delete(tri);
    cJSON_Delete(user);
}
END_TEST

START_TEST(signatures_separate_different_hangs)
{
    cJSON *a = user_from_verify("hello_block", 32);
    cJSON *b = user_from_verify("multi_hang", 32);
    dt_status st;
    dt_error err = { 0 };
    cJSON *ta = triage(a, NULL, &st, &err);
    cJSON *tb = triage(b, NULL, &st, &err);
    ck_assert_str_ne(str(ta, "signature"), str(tb, "signature"));
    ck_assert_str_eq(str(ta, "signature"), "hang|kernelbase!readfile|hello_block!df_read_stdin|-|-");
    cJSON_Delete(ta);
    cJSON_Delete(tb);
    cJSON_Delete(a);
    cJSON_Delete(b);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("triage");
    TCase *tc = tcase_create("json");
    tcase_add_test(tc, default_rules_parse_and_typos_are_errors);
    tcase_add_test(tc, read_wait_joins_user_and_kernel_stacks);
    tcase_add_test(tc, mismatched_pair_is_refused_with_a_reason);
    tcase_add_test(tc, multi_hang_threads_get_their_verdicts);
    tcase_add_test(tc, idle_infrastructure_is_not_stuck);
    tcase_add_test(tc, signatures_separate_different_hangs);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
