/*
 * test_kernel_io.c — pending I/O and captured contexts in kernel dumps
 * SYNTHESIZED by tests/support/kdump_writer.c (no real procdump -mk file is
 * public).  The writer saves what the kernel's live-dump writer saves, as
 * summarised from public decompiled ntoskrnl code in docs/formats.md D:
 * per thread a CONTEXT captured inside DbgkpLkmdSnapThreadInContext (0x4D0
 * bytes on the thread's stack), and per pending IRP the IRP, its current
 * IO_STACK_LOCATION, the FILE_OBJECT and its name, the DEVICE_OBJECT and the
 * DRIVER_OBJECT and its name (wdm.h x64 layouts, docs/kernel_offsets.md).
 * Four threads wait on the four kinds of I/O the issue names: a console
 * read (condrv), a named-pipe read (Npfs), a socket receive (AFD) and an
 * IOCTL a third-party driver keeps pending under a filter.  Then damaged
 * objects: a looping IRP list, a non-IRP on the list, a mistyped file
 * object, an absent driver object, a name longer than its buffer, and a
 * CONTEXT whose Rsp lies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "analysis/analysis.h"
#include "base/mapped_file.h"
#include "kdump_writer.h"
#include "model/kernel_dump.h"
#include "paired_case.h"
#include "report/kernel_report.h"
#include "symbols/symbolizer.h"
#include "triage/triage.h"

#define NT(rva, off) (DT_KW_NT_BASE + (rva) + (off))

static const uint64_t read_frames[] = {
    NT(DT_PAIRED_RVA_SNAP, 0x4d),         NT(DT_PAIRED_RVA_DELIVER_APC, 0x1a1),
    NT(DT_PAIRED_RVA_SWAP_CONTEXT, 0x76), NT(DT_PAIRED_RVA_SWAP_THREAD, 0x5bb),
    NT(DT_PAIRED_RVA_COMMIT_WAIT, 0x14f), NT(DT_PAIRED_RVA_WAIT_SINGLE, 0x233),
    NT(DT_PAIRED_RVA_SYNC_TAIL, 0x52),    NT(DT_PAIRED_RVA_NT_READ, 0x5e3),
    NT(DT_PAIRED_RVA_SYSCALL_END, 0x28),
};
static const uint64_t ioctl_frames[] = {
    NT(DT_PAIRED_RVA_SNAP, 0x4d),         NT(DT_PAIRED_RVA_DELIVER_APC, 0x1a1),
    NT(DT_PAIRED_RVA_SWAP_CONTEXT, 0x76), NT(DT_PAIRED_RVA_SWAP_THREAD, 0x5bb),
    NT(DT_PAIRED_RVA_COMMIT_WAIT, 0x14f), NT(DT_PAIRED_RVA_WAIT_SINGLE, 0x233),
    NT(DT_PAIRED_RVA_SYNC_TAIL, 0x52),    NT(DT_PAIRED_RVA_NT_IOCTL, 0x4a),
    NT(DT_PAIRED_RVA_SYSCALL_END, 0x28),
};

static const dt_kw_irp console_irp[] = { { .major = 0x03, .length = 4096, .file_name = "\\Input", .device_type = 0x50,
                                           .driver_name = "\\Driver\\condrv" } };
static const dt_kw_irp pipe_irp[] = { { .major = 0x03, .length = 512, .file_name = "\\MyPipe", .device_type = 0x11,
                                        .driver_name = "\\FileSystem\\Npfs" } };
static const dt_kw_irp socket_irp[] = { { .major = 0x0e, .code = 0x12017, .length = 0, .file_name = "\\Endpoint",
                                          .device_type = 0x11, .driver_name = "\\Driver\\AFD" } };
static const dt_kw_irp vendor_irp[] = { { .major = 0x0e, .code = 0x222003, .length = 64, .file_name = "\\Control",
                                          .device_type = 0x22, .driver_name = "\\Driver\\hello",
                                          .driver_start = DT_KW_DRV_BASE,
                                          .filter_driver_name = "\\Driver\\fltsample" } };

static dt_kw_thread io_thread(uint32_t tid, const dt_kw_irp *irp, const uint64_t *frames)
{
    dt_kw_thread t;
    memset(&t, 0, sizeof t);
    t.tid = tid;
    t.state = 5;
    t.wait_reason = 6; /* UserRequest */
    t.wait_time = DT_KW_TICK_COUNT - 180 * 64;
    t.frames = frames;
    t.frame_count = 9;
    t.running_cpu = -1;
    t.captured_context = true;
    t.irps = irp;
    t.irp_count = 1;
    return t;
}

static dt_kw_system one_process(dt_kw_process *proc, dt_kw_thread *threads, size_t n)
{
    proc->pid = 0x20;
    proc->image = "app.exe";
    proc->threads = threads;
    proc->thread_count = n;
    dt_kw_system s = { 0 };
    s.build = 19041;
    s.processors = 2;
    s.attributes = 0x10;
    s.processes = proc;
    s.process_count = 1;
    return s;
}

static cJSON *kernel_json(const dt_kw_system *s, uint8_t **keep)
{
    size_t size = 0;
    uint8_t *dump = dt_kw_build_triage(s, &size);
    ck_assert_ptr_nonnull(dump);
    dump = dt_paired_add_images(dump, &size);
    ck_assert_ptr_nonnull(dump);
    dt_error err = { 0 };
    /* A symbolizer without directories names frames from the images'
     * export tables in the dump, as the analyzer does without symbols. */
    dt_symbolizer *sym = dt_symbolizer_new(NULL, 0, &err);
    ck_assert_ptr_nonnull(sym);
    cJSON *k = dt_analyze_kernel_view(dt_view_make(dump, size), NULL, sym, &err);
    ck_assert_msg(k != NULL, "%s", err.message);
    dt_symbolizer_free(sym);
    *keep = dump;
    return k;
}

static const cJSON *get(const cJSON *o, const char *k) { return cJSON_GetObjectItemCaseSensitive(o, k); }
static const char *str(const cJSON *o, const char *k)
{
    const cJSON *v = get(o, k);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *kthread(const cJSON *k, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, get(k, "threads"))
        if (cJSON_IsNumber(get(t, "thread_id")) && (unsigned)get(t, "thread_id")->valuedouble == tid)
            return t;
    return NULL;
}

static bool has_warning(const cJSON *k, const char *needle)
{
    const cJSON *w;
    cJSON_ArrayForEach(w, get(k, "warnings"))
        if (cJSON_IsString(w) && strstr(w->valuestring, needle))
            return true;
    return false;
}

static cJSON *triage_of(const cJSON *kernel)
{
    dt_rules rules;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_rules_default(&rules, &err), DT_OK);
    dt_triage_options opt = { .rules = &rules };
    cJSON *out = NULL;
    ck_assert_int_eq(dt_triage_build(NULL, kernel, &opt, &out, &err), DT_OK);
    dt_rules_free(&rules);
    return out;
}

static const cJSON *tthread(const cJSON *tri, unsigned tid)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, get(tri, "threads"))
        if ((unsigned)get(t, "thread_id")->valuedouble == tid)
            return t;
    return NULL;
}

static void check_irp(const cJSON *t, const char *major, const char *code_name, const char *file, const char *driver,
                      const char *device_type)
{
    const cJSON *irps = get(t, "irps");
    ck_assert_int_eq(cJSON_GetArraySize(irps), 1);
    const cJSON *r = cJSON_GetArrayItem(irps, 0);
    ck_assert_str_eq(str(r, "major"), major);
    if (code_name)
        ck_assert_str_eq(str(get(r, "code"), "name"), code_name);
    ck_assert_str_eq(str(get(r, "file"), "name"), file);
    ck_assert_str_eq(str(get(r, "driver"), "name"), driver);
    ck_assert_str_eq(str(get(r, "device"), "type_name"), device_type);
    ck_assert(cJSON_IsTrue(get(r, "pending_returned")));
    ck_assert_str_eq(str(r, "requestor_mode"), "UserMode");
}

/* The four threads of the issue, in a -mk style triage dump. */
START_TEST(four_kinds_of_pending_io)
{
    dt_kw_thread th[4] = { io_thread(0x24, console_irp, read_frames), io_thread(0x28, pipe_irp, read_frames),
                           io_thread(0x2c, socket_irp, ioctl_frames), io_thread(0x30, vendor_irp, ioctl_frames) };
    dt_kw_process p;
    dt_kw_system s = one_process(&p, th, 4);
    uint8_t *dump;
    cJSON *k = kernel_json(&s, &dump);
    ck_assert_int_eq(cJSON_GetArraySize(get(k, "warnings")), 0);

    /* Every thread's walk starts at its captured CONTEXT, and the stack
     * from there is exactly the written one (the CONTEXT's own Rip is not
     * taken for a return address). */
    for (unsigned i = 0; i < 4; i++) {
        const cJSON *t = kthread(k, 0x24 + 4 * i);
        ck_assert_ptr_nonnull(t);
        ck_assert_str_eq(str(get(t, "stack_start"), "source"), "captured_context");
        char want[24];
        snprintf(want, sizeof want, "0x%llx", (unsigned long long)dt_kw_captured_context_va(0, i));
        ck_assert_str_eq(str(get(t, "stack_start"), "context"), want);
        ck_assert_str_eq(str(t, "irp_source"), "irp_list");
        const cJSON *frames = get(t, "frames");
        ck_assert_int_eq(cJSON_GetArraySize(frames), 9);
        ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 0), "function"), "DbgkpLkmdSnapThreadInContext");
        ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 0), "trust"), "context");
        snprintf(want, sizeof want, "0x%llx", (unsigned long long)dt_kw_captured_rsp(0, i));
        ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 0), "sp"), want);
        ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 1), "function"), "KiDeliverApc");
        ck_assert_str_eq(str(cJSON_GetArrayItem(frames, 8), "function"), "KiSystemServiceCopyEnd");
    }
    check_irp(kthread(k, 0x24), "IRP_MJ_READ", NULL, "\\Input", "\\Driver\\condrv", "FILE_DEVICE_CONSOLE");
    check_irp(kthread(k, 0x28), "IRP_MJ_READ", NULL, "\\MyPipe", "\\FileSystem\\Npfs", "FILE_DEVICE_NAMED_PIPE");
    check_irp(kthread(k, 0x2c), "IRP_MJ_DEVICE_CONTROL", "IOCTL_AFD_RECV", "\\Endpoint", "\\Driver\\AFD",
              "FILE_DEVICE_NAMED_PIPE");
    check_irp(kthread(k, 0x30), "IRP_MJ_DEVICE_CONTROL", NULL, "\\Control", "\\Driver\\hello", "FILE_DEVICE_UNKNOWN");

    const cJSON *r = cJSON_GetArrayItem(get(kthread(k, 0x24), "irps"), 0);
    char want[24];
    snprintf(want, sizeof want, "0x%llx", (unsigned long long)dt_kw_irp_va(0, 0, 0));
    ck_assert_str_eq(str(r, "irp"), want);
    ck_assert_int_eq((int)get(r, "length")->valuedouble, 4096);
    ck_assert(cJSON_IsNull(get(r, "code")));
    /* The vendor IOCTL: CTL_CODE decoded, the driver's module from
     * DriverStart, and the filter above it whose objects the -mk writer
     * does not save: its device is known, its driver is not. */
    r = cJSON_GetArrayItem(get(kthread(k, 0x30), "irps"), 0);
    const cJSON *code = get(r, "code");
    ck_assert_str_eq(str(code, "value"), "0x222003");
    ck_assert_str_eq(str(code, "device_type"), "0x22");
    ck_assert_int_eq((int)get(code, "function")->valuedouble, 0x800);
    ck_assert_str_eq(str(code, "method"), "METHOD_NEITHER");
    ck_assert_str_eq(str(code, "access"), "FILE_ANY_ACCESS");
    ck_assert_str_eq(str(get(r, "driver"), "module"), "hello");
    ck_assert_int_eq((int)get(r, "stack_count")->valuedouble, 2);
    const cJSON *ds = get(r, "device_stack");
    ck_assert_int_eq(cJSON_GetArraySize(ds), 2);
    snprintf(want, sizeof want, "0x%llx", (unsigned long long)dt_kw_irp_va(0, 3, 0) + 0x800);
    ck_assert_str_eq(str(cJSON_GetArrayItem(ds, 0), "device"), want);
    ck_assert(cJSON_IsNull(get(cJSON_GetArrayItem(ds, 0), "driver_name")));
    ck_assert_str_eq(str(cJSON_GetArrayItem(ds, 1), "driver_name"), "\\Driver\\hello");

    /* The text rendering shows the start and the IRP like WinDbg's !thread. */
    char *text = NULL;
    size_t tlen = 0;
    FILE *mf = open_memstream(&text, &tlen);
    ck_assert_ptr_nonnull(mf);
    dt_kernel_report_text(k, mf);
    fclose(mf);
    char line[96];
    snprintf(line, sizeof line, "Stack from: captured_context at 0x%llx\n", (unsigned long long)dt_kw_captured_context_va(0, 0));
    ck_assert_msg(strstr(text, line) != NULL, "%s", text);
    ck_assert(strstr(text, "IRP_MJ_DEVICE_CONTROL 0x12017 (IOCTL_AFD_RECV)") != NULL);
    ck_assert(strstr(text, "  \\Driver\\condrv\n") != NULL);
    free(text);

    /* Triage names the driver and the file in each verdict. */
    cJSON *tri = triage_of(k);
    static const struct {
        unsigned tid;
        const char *verdict, *kind, *sig_driver;
    } want_v[] = {
        { 0x24, "blocked 3 min in a synchronous I/O request of console \\Input: \\Driver\\condrv has not completed "
                "IRP_MJ_READ — NtReadFile on NotificationEvent", "console", "condrv" },
        { 0x28, "blocked 3 min in a synchronous I/O request of named pipe \\MyPipe: \\FileSystem\\Npfs has not "
                "completed IRP_MJ_READ — NtReadFile on NotificationEvent", "named_pipe", NULL },
        { 0x2c, "blocked 3 min in a synchronous I/O request of socket \\Endpoint: \\Driver\\AFD has not completed "
                "IRP_MJ_DEVICE_CONTROL (IOCTL_AFD_RECV) — NtDeviceIoControlFile on NotificationEvent", "socket", NULL },
        { 0x30, "blocked 3 min in a synchronous I/O request of \\Control: third-party driver \\Driver\\hello has not "
                "completed IRP_MJ_DEVICE_CONTROL (IOCTL 0x222003) (through 0xffffc08b2e030800) — "
                "NtDeviceIoControlFile on NotificationEvent", "third_party", NULL },
    };
    for (size_t i = 0; i < 4; i++) {
        const cJSON *t = tthread(tri, want_v[i].tid);
        ck_assert_ptr_nonnull(t);
        const char *v = str(t, "verdict");
        ck_assert_msg(strncmp(v, want_v[i].verdict, strlen(want_v[i].verdict)) == 0, "%s", v);
        ck_assert_str_eq(str(get(t, "io"), "driver_kind"), want_v[i].kind);
    }
    /* The wait graph has the edge "thread waits for I/O on device X of driver Y". */
    char io_id[48];
    snprintf(io_id, sizeof io_id, "io:0x%llx", (unsigned long long)dt_kw_irp_va(0, 2, 0));
    const cJSON *e, *found = NULL;
    cJSON_ArrayForEach(e, get(get(tri, "wait_graph"), "edges"))
        if (strcmp(str(e, "from"), "thread:44") == 0 && strcmp(str(e, "to"), io_id) == 0)
            found = e;
    ck_assert_msg(found != NULL, "no I/O edge from thread 44");
    ck_assert_str_eq(str(found, "kind"), "waits_for");
    const cJSON *node;
    bool labelled = false;
    cJSON_ArrayForEach(node, get(get(tri, "wait_graph"), "nodes"))
        if (strcmp(str(node, "id"), io_id) == 0) {
            snprintf(want, sizeof want, "0x%llx", (unsigned long long)dt_kw_irp_device_va(0, 2, 0));
            char label[200];
            snprintf(label, sizeof label, "I/O IRP_MJ_DEVICE_CONTROL of \\Endpoint on device %s of \\Driver\\AFD", want);
            ck_assert_str_eq(str(node, "label"), label);
            labelled = true;
        }
    ck_assert(labelled);
    /* The primary thread's hang signature ends with the driver holding its I/O. */
    ck_assert_str_eq(str(tri, "signature"), "hang|nt!ntreadfile|-|nt!kewaitforsingleobject|condrv");
    cJSON_Delete(tri);
    cJSON_Delete(k);
    free(dump);
}
END_TEST

/* A full dump holds all of memory: the IRP list is followed there, and the
 * filter driver's objects, which a -mk dump lacks, name it. */
START_TEST(full_dump_follows_the_irp_list)
{
    dt_kw_thread th[2] = { io_thread(0x24, console_irp, read_frames), io_thread(0x28, vendor_irp, ioctl_frames) };
    th[0].captured_context = th[1].captured_context = false;
    dt_kw_process p;
    dt_kw_system s = one_process(&p, th, 2);
    char path[] = "/tmp/dt_kernel_io_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dt_kw_physical phys = { .layout = DT_KW_FULL };
    ck_assert_int_eq(dt_kw_write_physical(&s, &phys, path), 0);
    dt_mapped_file mf;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&mf, path, &err), DT_OK);
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(mf.view, NULL, &kd, &err), DT_OK);
    const dt_kernel_thread *t = dt_kernel_dump_find_thread(&kd, 0x20, 0x28);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->irp_source, "irp_list");
    ck_assert_str_eq(t->start_source, "switch_frame");
    ck_assert_uint_eq(t->irp_count, 1);
    const dt_kernel_irp *r = &t->irps[0];
    ck_assert_uint_eq(r->irp, dt_kw_irp_va(0, 1, 0));
    ck_assert_int_eq(r->major, 0x0e);
    ck_assert_uint_eq(r->code, 0x222003);
    ck_assert_str_eq(r->file_name, "\\Control");
    ck_assert_str_eq(r->driver_name, "\\Driver\\hello");
    ck_assert_uint_eq(r->device_count, 2);
    ck_assert_str_eq(r->devices[0].driver_name, "\\Driver\\fltsample");
    ck_assert_uint_eq(r->devices[1].device, dt_kw_irp_device_va(0, 1, 0));
    t = dt_kernel_dump_find_thread(&kd, 0x20, 0x24);
    ck_assert_uint_eq(t->irp_count, 1);
    ck_assert_str_eq(t->irps[0].driver_name, "\\Driver\\condrv");
    ck_assert_uint_eq(kd.warnings.count, 0);
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&mf);
    unlink(path);
}
END_TEST

static cJSON *one_faulty_thread(dt_kw_irp_fault fault, bool lie, uint8_t **dump)
{
    static dt_kw_irp irp;
    irp = console_irp[0];
    irp.fault = fault;
    static dt_kw_thread th[1];
    th[0] = io_thread(0x24, &irp, read_frames);
    th[0].context_lies = lie;
    static dt_kw_process p;
    dt_kw_system s = one_process(&p, th, 1);
    return kernel_json(&s, dump);
}

/* Damaged objects are warnings, never a crash or an endless walk. */
START_TEST(damaged_io_objects_are_warnings)
{
    uint8_t *dump;
    char want[160];

    cJSON *k = one_faulty_thread(DT_KW_IRP_LOOP, false, &dump);
    snprintf(want, sizeof want, "IRP list of thread 36 loops back to 0x%llx after 1 entries; stopped",
             (unsigned long long)dt_kw_irp_va(0, 0, 0) + 0x20);
    ck_assert_msg(has_warning(k, want), "%s", cJSON_PrintUnformatted(get(k, "warnings")));
    ck_assert_int_eq(cJSON_GetArraySize(get(kthread(k, 0x24), "irps")), 1);
    cJSON_Delete(k);
    free(dump);

    k = one_faulty_thread(DT_KW_IRP_NOT_AN_IRP, false, &dump);
    ck_assert(has_warning(k, "on the IRP list of thread 36 has Type 9 Size 0x118, not an IRP; skipped"));
    ck_assert_int_eq(cJSON_GetArraySize(get(kthread(k, 0x24), "irps")), 0);
    cJSON_Delete(k);
    free(dump);

    k = one_faulty_thread(DT_KW_IRP_FILE_MISTYPED, false, &dump);
    snprintf(want, sizeof want, "FILE_OBJECT 0x%llx of IRP 0x%llx has Type 7 Size 0xd8, not a FILE_OBJECT (Type 5); ignored",
             (unsigned long long)dt_kw_irp_file_va(0, 0, 0), (unsigned long long)dt_kw_irp_va(0, 0, 0));
    ck_assert_msg(has_warning(k, want), "%s", cJSON_PrintUnformatted(get(k, "warnings")));
    const cJSON *r = cJSON_GetArrayItem(get(kthread(k, 0x24), "irps"), 0);
    ck_assert(cJSON_IsNull(get(get(r, "file"), "name")));
    ck_assert_str_eq(str(get(r, "driver"), "name"), "\\Driver\\condrv");
    cJSON_Delete(k);
    free(dump);

    k = one_faulty_thread(DT_KW_IRP_DRIVER_ABSENT, false, &dump);
    ck_assert(has_warning(k, "DRIVER_OBJECT 0xffffc08bdead0000 of IRP"));
    ck_assert(has_warning(k, "is not in the dump"));
    r = cJSON_GetArrayItem(get(kthread(k, 0x24), "irps"), 0);
    ck_assert(cJSON_IsNull(get(r, "driver")));
    ck_assert_str_eq(str(get(r, "file"), "name"), "\\Input");
    cJSON *tri = triage_of(k);
    const char *v = str(tthread(tri, 0x24), "verdict");
    ck_assert_msg(strstr(v, "of \\Input: IRP_MJ_READ is pending (its driver is not in the dump)") != NULL, "%s", v);
    cJSON_Delete(tri);
    cJSON_Delete(k);
    free(dump);

    k = one_faulty_thread(DT_KW_IRP_NAME_PAST_BUFFER, false, &dump);
    ck_assert(has_warning(k, "Length 1024 is past its MaximumLength 14; read up to 14 bytes"));
    ck_assert(has_warning(k, "the dump holds 12 of its 14 bytes"));
    r = cJSON_GetArrayItem(get(kthread(k, 0x24), "irps"), 0);
    ck_assert_str_eq(str(get(r, "file"), "name"), "\\Input");
    cJSON_Delete(k);
    free(dump);

    /* A CONTEXT whose Rsp is off the stack is not believed: the walk falls
     * back to the switch frame and says why. */
    k = one_faulty_thread(DT_KW_IRP_OK, true, &dump);
    const cJSON *t = kthread(k, 0x24);
    ck_assert_str_eq(str(get(t, "stack_start"), "source"), "switch_frame");
    ck_assert_str_eq(str(get(t, "stack_start"), "note"),
                     "captured CONTEXT rejected: its Rsp is not on the snapped stack below it");
    ck_assert(has_warning(k, "thread 36: the captured CONTEXT at"));
    ck_assert_str_eq(str(cJSON_GetArrayItem(get(t, "frames"), 0), "function"), "DbgkpLkmdSnapThreadInContext");
    cJSON_Delete(k);
    free(dump);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernel_io");
    TCase *tc = tcase_create("synthesized");
    tcase_add_test(tc, four_kinds_of_pending_io);
    tcase_add_test(tc, full_dump_follows_the_irp_list);
    tcase_add_test(tc, damaged_io_objects_are_warnings);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
