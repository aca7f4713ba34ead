/*
 * test_kdump.c — kernel dump parsing on the real files in tests/data/kernel
 * (issue #4 acceptance): the rizin x64 and ARM64 triage dumps and the
 * truncated real full dump from ImHex.  Values are those of
 * docs/formats.md B/C and of rizin's PDB-based stack
 * (tests/data/expected/rizin__triage_x64.dbt.txt).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "formats/kdump.h"
#include "formats/kdump_triage.h"
#include "base/mapped_file.h"
#include "model/kernel_dump.h"
#include "unwind/kernel_stacks.h"
#include "analysis/analysis.h"
#include "report/kernel_report.h"

static dt_mapped_file open_data(const char *rel)
{
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_msg(dt_mapped_file_open(&f, dt_test_data(rel), &err) == DT_OK, "%s", err.message);
    return f;
}

static const dt_kernel_thread *current_thread(const dt_kernel_dump *kd)
{
    for (size_t i = 0; i < kd->thread_count; i++)
        if (kd->threads[i].is_current)
            return &kd->threads[i];
    return NULL;
}

static const dt_kernel_thread *cpu_thread(const dt_kernel_dump *kd, int cpu)
{
    for (size_t i = 0; i < kd->thread_count; i++)
        if (kd->threads[i].cpu == cpu)
            return &kd->threads[i];
    return NULL;
}

START_TEST(x64_triage_header)
{
    dt_mapped_file f = open_data("kernel/rizin__triage_x64.dmp");
    dt_kdump kd;
    dt_warnings w = { 0 };
    ck_assert_int_eq(dt_kdump_parse(f.view, &kd, &w, NULL), DT_OK);
    ck_assert(kd.is64);
    ck_assert_uint_eq(kd.build, 19041);
    ck_assert_uint_eq(kd.machine, 0x8664);
    ck_assert_uint_eq(kd.processors, 16);
    ck_assert_uint_eq(kd.bugcheck_code, 0x1000007E);
    ck_assert_str_eq(dt_bugcheck_name(kd.bugcheck_code), "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
    ck_assert_uint_eq(kd.bugcheck_params[0] & 0xffffffffu, 0xc0000005u);
    ck_assert_uint_eq(kd.bugcheck_params[1], UINT64_C(0xfffff8048b58334c));
    ck_assert_uint_eq(kd.bugcheck_params[2], UINT64_C(0xffff850429891ee8));
    ck_assert_uint_eq(kd.bugcheck_params[3], UINT64_C(0xffff850429891720));
    ck_assert_uint_eq(kd.dump_type, DT_KDUMP_TYPE_TRIAGE);
    ck_assert_uint_eq(kd.directory_table_base, 0x1ad000);
    ck_assert_uint_eq(kd.kd_debugger_data_block, UINT64_C(0xfffff8047c600b20));
    ck_assert_uint_eq(kd.system_time, UINT64_C(0x1d707f23dbb3399));
    ck_assert_uint_eq(kd.system_uptime, 0x23bc1e9);
    ck_assert_uint_eq(kd.exception_code, 0x80000003u);
    ck_assert_str_eq(kd.comment, "");       /* "PAGE" filler = absent */
    ck_assert(!kd.has_attributes);
    ck_assert(!kd.truncated);

    dt_kdump_triage t;
    ck_assert_int_eq(dt_kdump_triage_parse(f.view, &kd, &t, &w, NULL), DT_OK);
    ck_assert(t.valid_signature);
    ck_assert_uint_eq(t.block_count, 0x727);
    ck_assert_uint_eq(t.top_of_stack, UINT64_C(0xffff850429890ee8));
    ck_assert(t.has_kdbg);
    ck_assert_uint_eq(t.kdbg.ki_processor_block, UINT64_C(0xfffff8047c6fdc80));
    ck_assert_uint_eq(t.kdbg.size_ethread, 0x898);
    ck_assert_uint_eq(t.kdbg.prcb_context, 0x85c0);
    ck_assert_uint_eq(t.kdbg.kthread_wait_reason, 0x283);
    ck_assert_uint_eq(t.drivers.count, 151);
    ck_assert_str_eq(t.drivers.items[0].code_file, "ntoskrnl.exe");
    ck_assert_str_eq(t.drivers.items[0].path, "\\SystemRoot\\system32\\ntoskrnl.exe");
    ck_assert_uint_eq(t.drivers.items[0].base, UINT64_C(0xfffff8047ba00000));
    ck_assert_uint_eq(t.drivers.items[0].size, 0x1046000);
    ck_assert_str_eq(t.drivers.items[0].code_id, "0D8333E61046000");
    ck_assert_str_eq(t.drivers.items[150].code_file, "rdpbus.sys");
    ck_assert_uint_eq(t.unloaded_count, 4);
    ck_assert_str_eq(t.unloaded[0].name, "dam.sys");
    ck_assert_uint_eq(t.unloaded[0].start, UINT64_C(0xfffff80487de0000));
    ck_assert_uint_eq(t.unloaded[0].end, UINT64_C(0xfffff80487dfc000));
    dt_kdump_triage_free(&t);
    dt_kdump_free(&kd);
    dt_warnings_free(&w);
    dt_mapped_file_close(&f);
}
END_TEST

/* The rizin stack of the current thread, frames 1..35 (frame 0 is the
 * context's RIP; frame 8 is the faulting RIP from a trap frame). */
static size_t expected_stack(uint64_t *out, size_t cap)
{
    FILE *fp = fopen(dt_test_data("expected/rizin__triage_x64.dbt.txt"), "r");
    ck_assert_ptr_nonnull(fp);
    char line[512];
    size_t n = 0;
    while (fgets(line, sizeof line, fp) && n < cap) {
        unsigned idx;
        unsigned long long ip;
        if (sscanf(line, "%u %llx", &idx, &ip) == 2 && ip)
            out[n++] = ip;
    }
    fclose(fp);
    return n;
}

/* Longest common subsequence length: how many expected frames appear in order. */
static size_t in_order(const dt_kernel_frame *f, size_t n, const uint64_t *e, size_t m)
{
    size_t *row = calloc((m + 1) * (n + 1), sizeof *row);
    for (size_t i = n; i-- > 0;)
        for (size_t k = m; k-- > 0;) {
            size_t *c = &row[i * (m + 1) + k];
            if (f[i].ip == e[k])
                *c = row[(i + 1) * (m + 1) + k + 1] + 1;
            else {
                size_t a = row[(i + 1) * (m + 1) + k], b = row[i * (m + 1) + k + 1];
                *c = a > b ? a : b;
            }
        }
    size_t r = row[0];
    free(row);
    return r;
}

START_TEST(x64_triage_threads_and_stack)
{
    dt_mapped_file f = open_data("kernel/rizin__triage_x64.dmp");
    dt_kernel_dump kd;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_kernel_dump_open(f.view, NULL, &kd, &err), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_str_eq(kd.offsets.source, "table");
    ck_assert_uint_eq(kd.drivers.count, 151);
    const dt_module *nt = dt_module_list_find(&kd.drivers, UINT64_C(0xfffff8047ba00000));
    ck_assert_ptr_nonnull(nt);
    ck_assert_str_eq(nt->code_file, "ntoskrnl.exe");
    ck_assert_uint_eq(nt->size, 0x1046000);
    char name[32];
    ck_assert_str_eq(dt_module_short_name(nt->code_file, name, sizeof name), "nt");

    const dt_kernel_thread *cur = current_thread(&kd);
    ck_assert_ptr_nonnull(cur);
    ck_assert(cur->has_cid);
    ck_assert_uint_eq(cur->pid, 4);
    ck_assert_uint_eq(cur->tid, 0x108);
    ck_assert_str_eq(cur->image, "System");
    ck_assert_uint_eq(cur->ethread, UINT64_C(0xffffc08bde9e1640));
    ck_assert_int_eq(cur->state, 2); /* Running */
    ck_assert_int_eq(cur->cpu, 0);
    ck_assert_uint_eq(cur->stack_base, UINT64_C(0xffff850429893000));
    ck_assert_uint_eq(cur->win32_start_address, UINT64_C(0xfffff8047ba00000) + 0x225870);
    ck_assert_str_eq(cur->start_source, "prcb_context");
    /* KeBugCheckEx frame: SP = TopOfStack. */
    ck_assert_uint_eq(cur->frames[0].sp, UINT64_C(0xffff850429890ee8));
    ck_assert_uint_eq(cur->frames[0].ip, UINT64_C(0xfffff8047bdf5a80));

    uint64_t exp[64];
    size_t m = expected_stack(exp, 64);
    ck_assert_uint_eq(m, 36);
    size_t hits = in_order(cur->frames, cur->frame_count, exp, m);
    /* Recall 35/36 in order (all but the trap-frame RIP); the scan also
     * yields ~70 false frames (precision ~33%) until .pdata unwinding. */
    ck_assert_uint_ge(hits, 35);
    ck_assert_uint_le(cur->frame_count, 120);
    /* KiStartSystemThread's return address is on it. */
    bool kistart = false;
    for (size_t i = 0; i < cur->frame_count; i++)
        kistart |= cur->frames[i].ip == UINT64_C(0xfffff8047ba00000) + 0x3fd0d8;
    ck_assert(kistart);

    const dt_kernel_thread *c5 = cpu_thread(&kd, 5);
    ck_assert_ptr_nonnull(c5);
    ck_assert(!c5->has_cid); /* its ETHREAD is not in the dump */
    ck_assert_str_eq(c5->label, "cpu5 running thread");
    ck_assert_uint_eq(c5->ethread, UINT64_C(0xffffc08bdfbac080));
    ck_assert_uint_eq(c5->frames[0].ip, UINT64_C(0xfffff8047ba00000) + 0x25c26e);
    ck_assert_uint_eq(c5->frames[0].sp, UINT64_C(0xffff850429910ba0));
    /* Idle processors are not threads. */
    ck_assert_uint_eq(kd.thread_count, 2);
    ck_assert_uint_eq(kd.process_count, 1);
    ck_assert_uint_eq(kd.processes[0].pid, 4);
    ck_assert_str_eq(kd.processes[0].image, "System");
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
}
END_TEST

/* image_file hook over tests/data/symstore-kernel (symstore layout:
 * NAME/<TimeDateStamp><SizeOfImage, lower-case>/NAME): the real amdppm.sys
 * and Wdf01000.sys of the x64 triage dump. */
typedef struct {
    dt_mapped_file files[8];
    int n;
} image_store;

static bool store_image(void *ctx, const dt_module *m, dt_view *out)
{
    image_store *st = ctx;
    char id[40];
    size_t i = 0;
    for (; m->code_id[i] && i + 1 < sizeof id; i++)
        id[i] = (char)((m->code_id[i] >= 'A' && m->code_id[i] <= 'Z') ? m->code_id[i] + 32 : m->code_id[i]);
    id[i] = 0;
    char rel[512];
    snprintf(rel, sizeof rel, "symstore-kernel/%s/%s/%s", m->code_file, id, m->code_file);
    dt_error err;
    if (st->n == 8 || dt_mapped_file_open(&st->files[st->n], dt_test_data(rel), &err) != DT_OK)
        return false;
    *out = st->files[st->n++].view;
    return true;
}

START_TEST(x64_triage_stack_with_images)
{
    dt_mapped_file f = open_data("kernel/rizin__triage_x64.dmp");
    image_store st = { .n = 0 };
    dt_kernel_options o = { 0 };
    o.image_file = store_image;
    o.image_file_ctx = &st;
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(f.view, &o, &kd, NULL), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_int_eq(st.n, 2); /* amdppm.sys and Wdf01000.sys were found */
    const dt_kernel_thread *cur = current_thread(&kd);
    uint64_t exp[64];
    size_t m = expected_stack(exp, 64);
    /* Sections and code bytes from the images drop false frames in those
     * drivers: still 35/36 in order, 83 frames instead of 106. */
    ck_assert_uint_ge(in_order(cur->frames, cur->frame_count, exp, m), 35);
    ck_assert_uint_le(cur->frame_count, 90);
    dt_kernel_dump_close(&kd);
    for (int i = 0; i < st.n; i++)
        dt_mapped_file_close(&st.files[i]);
    dt_mapped_file_close(&f);
}
END_TEST

/* With the symstore directory as symbol path: the walker and the names.
 * rizin's PDB stack names these amdppm frames with the same offsets. */
START_TEST(x64_triage_symbolized)
{
    dt_mapped_file f = open_data("kernel/rizin__triage_x64.dmp");
    const char *dirs[] = { dt_test_data("symstore-kernel") };
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", dirs[0]);
    dirs[0] = dir;
    dt_error err = { 0 };
    dt_symbolizer *sym = dt_symbolizer_new(dirs, 1, &err);
    ck_assert_ptr_nonnull(sym);
    cJSON *r = dt_analyze_kernel_view(f.view, NULL, sym, &err);
    ck_assert_ptr_nonnull(r);
    static const struct { const char *fn, *off; } want[] = {
        { "WriteGenAddrEx", "0x6b" }, { "WriteGenAddrMaybeHiddenEx", "0x18" }, { "InitAcpiCpc", "0x317" },
        { "ProcLibDeviceStart", "0x886" }, { "EvtDevicePrepareHardware", "0xd2" },
    };
    cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "threads"), 0);
    size_t k = 0;
    cJSON *fr;
    cJSON_ArrayForEach(fr, cJSON_GetObjectItem(t, "frames")) {
        cJSON *fn = cJSON_GetObjectItem(fr, "function");
        if (k < 5 && cJSON_IsString(fn) && strcmp(fn->valuestring, want[k].fn) == 0) {
            ck_assert_str_eq(cJSON_GetObjectItem(fr, "module")->valuestring, "amdppm");
            ck_assert_str_eq(cJSON_GetObjectItem(fr, "function_offset")->valuestring, want[k].off);
            k++;
        }
    }
    ck_assert_uint_eq(k, 5); /* all five, in order */
    cJSON *drv;
    bool annotated = false;
    cJSON_ArrayForEach(drv, cJSON_GetObjectItem(r, "drivers")) {
        cJSON *fnm = cJSON_GetObjectItem(drv, "filename");
        if (cJSON_IsString(fnm) && strcmp(fnm->valuestring, "amdppm.sys") == 0) {
            cJSON *src = cJSON_GetObjectItem(drv, "symbol_source");
            annotated = cJSON_IsString(src) && strncmp(src->valuestring, "pdb:", 4) == 0;
        }
    }
    ck_assert(annotated);
    cJSON_Delete(r);
    dt_symbolizer_free(sym);
    dt_mapped_file_close(&f);
}
END_TEST

START_TEST(arm64_triage)
{
    dt_mapped_file f = open_data("kernel/rizin__triage_arm64.dmp");
    dt_kernel_dump kd;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_kernel_dump_open(f.view, NULL, &kd, &err), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_uint_eq(kd.header.bugcheck_code, 0x1C8);
    ck_assert_uint_eq(kd.header.build, 22000);
    ck_assert_int_eq(kd.header.arch, DT_ARCH_ARM64);
    ck_assert_uint_eq(kd.drivers.count, 245);
    ck_assert_uint_eq(kd.unloaded_count, 11);

    const dt_kernel_thread *cur = current_thread(&kd);
    ck_assert_ptr_nonnull(cur);
    ck_assert_uint_eq(cur->pid, 4);
    ck_assert_uint_eq(cur->tid, 0x20);
    ck_assert_str_eq(cur->image, "System");
    /* FP/LR walk = rizin's 5 frames. */
    static const uint64_t want[] = { 0xfffff803f32de014, 0xfffff803f33442a0, 0xfffff803f309ff1c,
                                     0xfffff803f3173340, 0xfffff803f3007de4 };
    ck_assert_uint_eq(cur->frame_count, 5);
    for (size_t i = 0; i < 5; i++)
        ck_assert_uint_eq(cur->frames[i].ip, want[i]);

    /* The extra ETHREAD held as a data block, with its whole stack. */
    const dt_kernel_thread *x = dt_kernel_dump_find_thread(&kd, 4, 0x20c);
    ck_assert_ptr_nonnull(x);
    ck_assert_str_eq(x->origin, "data_block");
    ck_assert_uint_eq(x->ethread, UINT64_C(0xffffbb8ebafe2280));
    ck_assert_uint_eq(x->stack_limit, UINT64_C(0xffffe00e0f145000));
    ck_assert_uint_eq(x->stack_base, UINT64_C(0xffffe00e0f14d000));
    ck_assert_uint_eq(x->kernel_stack, UINT64_C(0xffffe00e0f14b620));
    ck_assert_str_eq(x->image, "System");
    ck_assert_uint_eq(x->frames[0].ip, UINT64_C(0xfffff803f2e00000) + 0x251bd4);
    ck_assert_uint_ge(x->frame_count, 15); /* down to KiStartSystemThread */
    ck_assert_uint_eq(x->frames[x->frame_count - 1].ip, UINT64_C(0xfffff803f3007de4));

    const dt_kernel_thread *c6 = cpu_thread(&kd, 6);
    ck_assert_ptr_nonnull(c6);
    const dt_module *m = dt_module_list_find(&kd.drivers, c6->frames[0].ip);
    ck_assert_ptr_nonnull(m);
    ck_assert_str_eq(m->code_file, "qcdxkm7180.sys");
    ck_assert_uint_eq(c6->frames[0].ip - m->base, 0x17c3c);
    ck_assert_uint_eq(c6->frames[0].sp, UINT64_C(0xffffe00e0f6e35c0));
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
}
END_TEST

START_TEST(truncated_full_dump)
{
    dt_mapped_file f = open_data("kernel/imhex__dmp64.hexpat.bin");
    dt_kernel_dump kd;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_kernel_dump_open(f.view, NULL, &kd, &err), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    const dt_kdump *h = &kd.header;
    ck_assert_uint_eq(h->dump_type, DT_KDUMP_TYPE_FULL);
    ck_assert_uint_eq(h->build, 19045);
    ck_assert_uint_eq(h->processors, 4);
    ck_assert_int_eq(h->phys_kind, DT_KDUMP_PHYS_RUNS);
    ck_assert_uint_gt(h->run_count, 0);
    ck_assert_uint_eq(h->pages_claimed, 523910);
    ck_assert(h->truncated);
    ck_assert_uint_eq(h->pages_in_file, 2);
    ck_assert_uint_eq(h->expected_size, 0x2000 + UINT64_C(523910) * 0x1000);
    bool said = false;
    for (size_t i = 0; i < kd.warnings.count; i++)
        said |= strstr(kd.warnings.items[i], "truncated") != NULL;
    ck_assert(said);
    cJSON *r = dt_kernel_report(&kd, NULL);
    cJSON *d = cJSON_GetObjectItem(r, "dump");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(d, "truncated")));
    ck_assert_str_eq(cJSON_GetObjectItem(d, "type_name")->valuestring, "full");
    cJSON_Delete(r);
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
}
END_TEST

START_TEST(report_json_fields)
{
    dt_mapped_file f = open_data("kernel/rizin__triage_x64.dmp");
    dt_error err = { 0 };
    cJSON *r = dt_analyze_kernel_view(f.view, NULL, NULL, &err);
    ck_assert_ptr_nonnull(r);
    cJSON *bc = cJSON_GetObjectItem(r, "bugcheck");
    ck_assert_str_eq(cJSON_GetObjectItem(bc, "code")->valuestring, "0x1000007e");
    ck_assert_str_eq(cJSON_GetObjectItem(bc, "name")->valuestring, "SYSTEM_THREAD_EXCEPTION_NOT_HANDLED_M");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(r, "drivers")), 151);
    cJSON *d0 = cJSON_GetArrayItem(cJSON_GetObjectItem(r, "drivers"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(d0, "base_addr")->valuestring, "0xfffff80479440000"); /* hal: lowest */
    cJSON *threads = cJSON_GetObjectItem(r, "threads");
    cJSON *t0 = cJSON_GetArrayItem(threads, 0);
    ck_assert_int_eq((int)cJSON_GetObjectItem(t0, "thread_id")->valuedouble, 0x108);
    cJSON *fr1 = cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "frames"), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(fr1, "module")->valuestring, "nt");
    ck_assert_str_eq(cJSON_GetObjectItem(fr1, "module_offset")->valuestring, "0x40f4e1");
    ck_assert_str_eq(cJSON_GetObjectItem(fr1, "trust")->valuestring, "scan");
    char *text = NULL;
    size_t text_len = 0;
    FILE *mem = open_memstream(&text, &text_len);
    ck_assert_ptr_nonnull(mem);
    dt_kernel_report_text(r, mem);
    fclose(mem);
    ck_assert_ptr_nonnull(strstr(text, "BugCheck 0x1000007e"));
    ck_assert_ptr_nonnull(strstr(text, "Cid 0004.0108"));
    ck_assert_ptr_nonnull(strstr(text, "nt+0x40f4e1"));
    free(text);
    cJSON_Delete(r);
    dt_mapped_file_close(&f);
}
END_TEST

START_TEST(not_a_kernel_dump)
{
    dt_mapped_file f = open_data("user/" "rizin__calc.dmp");
    dt_kdump kd;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_kdump_parse(f.view, &kd, NULL, &err), DT_ERR_FORMAT);
    dt_mapped_file_close(&f);
    /* A header cut at 0x100 bytes still reports what it has. */
    dt_mapped_file t = open_data("kernel/rizin__triage_x64.dmp");
    dt_warnings w = { 0 };
    ck_assert_int_eq(dt_kdump_parse(dt_view_make(t.view.data, 0x100), &kd, &w, NULL), DT_OK);
    ck_assert(kd.truncated);
    ck_assert_uint_eq(kd.build, 19041);
    dt_kdump_free(&kd);
    dt_warnings_free(&w);
    dt_mapped_file_close(&t);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kdump");
    TCase *tc = tcase_create("real");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, x64_triage_header);
    tcase_add_test(tc, x64_triage_threads_and_stack);
    tcase_add_test(tc, x64_triage_stack_with_images);
    tcase_add_test(tc, x64_triage_symbolized);
    tcase_add_test(tc, arm64_triage);
    tcase_add_test(tc, truncated_full_dump);
    tcase_add_test(tc, report_json_fields);
    tcase_add_test(tc, not_a_kernel_dump);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
