/*
 * test_kernel_synth.c — kernel dumps SYNTHESIZED by tests/support/kdump_writer.c
 * (no real procdump -mk file is public; full/bitmap dumps are GBs):
 *   - a procdump -mk style triage dump (type 4) of one process with several
 *     ETHREAD data blocks and stacks, one thread inside the LKMD snapshot
 *     frames, one running on a processor;
 *   - full (type 1) and bitmap (types 5/6) dumps whose structures are reached
 *     through x64 page tables, incl. 2 MiB and 1 GiB pages and a transition PTE;
 *   - the same layout announced as an unknown build (offsets validated on the dump);
 *   - a Windows Server 2022 (20348) dump in that build's own ETHREAD layout,
 *     read through its table row.
 * The analyzer must recover every thread's Cid, state, wait facts and stack.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dt_test.h"
#include "base/mapped_file.h"
#include "kdump_writer.h"
#include "memory/kernel_memory.h"
#include "model/kernel_dump.h"
#include "unwind/kernel_stacks.h"
#include "report/kernel_report.h"

#define NT(off) (DT_KW_NT_BASE + (off))
#define DRV(off) (DT_KW_DRV_BASE + (off))

/* Frames as a hung user thread shows them in a live triage dump: the
 * snapshot routine the kernel ran in the thread's context on top
 * (nt!DbgkpLkmdSnapThreadInContext and the APC delivery under it), then the
 * real wait: KiSwapContext … KeWaitForSingleObject … NtWaitForSingleObject
 * … KiSystemServiceCopyEnd.  Offsets are illustrative, not a real build's. */
static const uint64_t lkmd_frames[] = { NT(0x5a1234), NT(0x2e4455), NT(0x3f1000), NT(0x2b0a10),
                                        NT(0x6a2b30), NT(0x40a1b5) };
static const uint64_t sleep_frames[] = { NT(0x3f1000), NT(0x2b0a10), NT(0x2f7e20), NT(0x40a1b5) };
static const uint64_t driver_frames[] = { DRV(0x1a2c), DRV(0x1105), NT(0x252f55), NT(0x3fd0d8) };
static const uint64_t running_frames[] = { NT(0x25c26e), DRV(0x3300), NT(0x3fd0d8) };

static const dt_kw_thread app_threads[] = {
    /* tid 36 = 0x24: the Wine hello_block main thread id */
    /* waits on a mutant owned by thread 0x2c */
    { 0x24, 5, 6 /* UserRequest */, 1, false, 0x1000, NT(0x225870), lkmd_frames, 6, -1, 2, 0x2c, false, false, NULL, 0 },
    { 0x28, 5, 4 /* DelayExecution */, 1, true, 0x2000, NT(0x225870), sleep_frames, 4, -1, 1, 0, false, false, NULL, 0 },
    { 0x2c, 5, 0 /* Executive */, 0, false, 0x3000, DRV(0x1000), driver_frames, 4, -1, 0, 0, false, false, NULL, 0 },
    { 0x30, 2, 0, 0, false, 0, DRV(0x1000), running_frames, 3, 1, 0, 0, false, false, NULL, 0 },
};
static const dt_kw_thread sys_threads[] = {
    { 0x108, 5, 15 /* WrQueue */, 0, false, 0x10, NT(0x225870), sleep_frames, 4, -1, 4, 0, false, false, NULL, 0 },
};
static const dt_kw_process procs[] = {
    { 4, "System", sys_threads, 1 },
    { 0x20, "hello_block.ex", app_threads, 4 },
};

static dt_kw_system system_desc(uint32_t build)
{
    dt_kw_system s = { 0 };
    s.build = build;
    s.processors = 2;
    s.bugcheck_code = 0x161; /* LIVE_SYSTEM_DUMP */
    s.attributes = 0x10;
    s.processes = procs;
    s.process_count = 2;
    s.current_process = 1;
    s.current_thread = 0;
    return s;
}

static void check_frames(const dt_kernel_thread *t, const dt_kw_thread *want)
{
    ck_assert_msg(t->frame_count == want->frame_count, "tid 0x%llx: %zu frames, want %zu",
                  (unsigned long long)t->tid, t->frame_count, want->frame_count);
    for (size_t i = 0; i < want->frame_count; i++)
        ck_assert_uint_eq(t->frames[i].ip, want->frames[i]);
}

static void check_app_threads(const dt_kernel_dump *kd)
{
    for (size_t i = 0; i < 4; i++) {
        const dt_kw_thread *w = &app_threads[i];
        const dt_kernel_thread *t = dt_kernel_dump_find_thread(kd, 0x20, w->tid);
        ck_assert_msg(t != NULL, "thread 0x20.%x missing", w->tid);
        ck_assert_str_eq(t->image, "hello_block.ex");
        ck_assert_int_eq(t->state, w->state);
        ck_assert_int_eq(t->wait_reason, w->wait_reason);
        ck_assert_int_eq(t->wait_mode, w->wait_mode);
        ck_assert_int_eq(t->alertable, w->alertable);
        ck_assert_int_eq(t->wait_time, w->wait_time);
        ck_assert_int_eq(t->wait_ticks, w->state == 5 ? (int64_t)(DT_KW_TICK_COUNT - w->wait_time) : -1);
        ck_assert_uint_eq(t->wait_object_count, w->state == 5 ? 1 : 0);
        if (w->state == 5) {
            ck_assert_uint_eq(t->wait_objects[0].object, dt_kw_wait_object_va(1, i));
            ck_assert_int_eq(t->wait_objects[0].type, w->wait_object_type);
            ck_assert(t->wait_objects[0].has_owner == (w->mutant_owner_tid != 0));
            if (w->mutant_owner_tid)
                ck_assert_uint_eq(t->wait_objects[0].owner_tid, w->mutant_owner_tid);
        }
        ck_assert_uint_eq(t->ethread, dt_kw_thread_va(1, i));
        ck_assert_uint_eq(t->stack_base, dt_kw_stack_base(1, i));
        ck_assert_uint_eq(t->win32_start_address, w->win32_start_address);
        ck_assert_int_eq(t->cpu, w->running_cpu);
        ck_assert_str_eq(t->start_source, w->running_cpu >= 0 ? "prcb_context" : "switch_frame");
        check_frames(t, w);
    }
}

START_TEST(procdump_mk_triage)
{
    dt_kw_system s = system_desc(19041);
    size_t size;
    uint8_t *dump = dt_kw_build_triage(&s, &size);
    ck_assert_ptr_nonnull(dump);
    dt_kernel_dump kd;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_kernel_dump_open(dt_view_make(dump, size), NULL, &kd, &err), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_uint_eq(kd.header.dump_type, 4);
    ck_assert(kd.header.has_attributes && (kd.header.attributes & 0x10));
    ck_assert(kd.triage.valid_signature);
    ck_assert_str_eq(kd.offsets.source, "table");
    ck_assert_uint_eq(kd.drivers.count, 2);
    check_app_threads(&kd);
    const dt_kernel_thread *main_thread = dt_kernel_dump_find_thread(&kd, 0x20, 0x24);
    ck_assert(main_thread->is_current);
    ck_assert_str_eq(main_thread->origin, "current_thread");
    ck_assert_str_eq(dt_kernel_dump_find_thread(&kd, 0x20, 0x28)->origin, "data_block");
    /* The System worker thread was added as a block too. */
    ck_assert_ptr_nonnull(dt_kernel_dump_find_thread(&kd, 4, 0x108));
    /* JSON: the pairing keys and wait names. */
    cJSON *r = dt_kernel_report(&kd, NULL);
    cJSON *t;
    bool seen = false;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(r, "threads")) {
        if (cJSON_GetObjectItem(t, "thread_id")->valuedouble == 0x28) {
            seen = true;
            ck_assert_int_eq((int)cJSON_GetObjectItem(t, "pid")->valuedouble, 0x20);
            ck_assert_str_eq(cJSON_GetObjectItem(t, "wait_reason")->valuestring, "DelayExecution");
            /* (0x5000 - 0x2000) ticks of 15.625 ms */
            ck_assert(cJSON_GetObjectItem(t, "wait_seconds")->valuedouble == 0x3000 * 15.625 / 1000.0);
            ck_assert_str_eq(cJSON_GetObjectItem(t, "wait_mode")->valuestring, "UserMode");
            ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(t, "alertable")));
            ck_assert_str_eq(cJSON_GetObjectItem(t, "state")->valuestring, "Waiting");
            ck_assert_int_eq((int)cJSON_GetObjectItem(t, "state_code")->valuedouble, 5);
        }
        if (cJSON_GetObjectItem(t, "thread_id")->valuedouble == 0x24) {
            cJSON *wo = cJSON_GetArrayItem(cJSON_GetObjectItem(t, "wait_objects"), 0);
            ck_assert_str_eq(cJSON_GetObjectItem(wo, "type")->valuestring, "Mutant");
            ck_assert_int_eq((int)cJSON_GetObjectItem(wo, "owner_thread_id")->valuedouble, 0x2c);
        }
    }
    ck_assert(seen);
    cJSON_Delete(r);
    dt_kernel_dump_close(&kd);
    free(dump);
}
END_TEST

/* A build the table does not cover must take the validation path, never a
 * neighbouring row by guess: the synthesized dump carries the 19041-family
 * layout, which validation finds on the dump itself, and a warning names the
 * build. */
static void check_validated_as_19041(uint32_t build)
{
    dt_kw_system s = system_desc(build);
    size_t size;
    uint8_t *dump = dt_kw_build_triage(&s, &size);
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(dt_view_make(dump, size), NULL, &kd, NULL), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_str_eq(kd.offsets.source, "validated");
    ck_assert_str_eq(kd.offsets.table_name, "win10-19041-x64");
    char want[16];
    snprintf(want, sizeof want, "%u", (unsigned)build);
    bool warned = false;
    for (size_t i = 0; i < kd.warnings.count; i++)
        warned |= strstr(kd.warnings.items[i], want) != NULL;
    ck_assert(warned);
    check_app_threads(&kd);
    dt_kernel_dump_close(&kd);
    free(dump);
}

START_TEST(unknown_build_validates_layout) { check_validated_as_19041(28000); }
END_TEST

/* The build after Server 2022's has no row either: a row covers its own
 * build only, so a neighbour is validated, not read through 20348's row. */
START_TEST(build_next_to_server_2022_takes_the_validation_path) { check_validated_as_19041(20349); }
END_TEST

/* Windows Server 2022 x64 (20348): EPROCESS as 19041, ETHREAD moved (KTHREAD
 * as 19041), copied from JPCERTCC/Windows-Symbol-Tables@11ad856cd9fb
 * symbols/windows/ntkrnlmp.pdb/C2EADB24A615E9472CE47C8ADD31F130-1.json.xz
 * (ntkrnlmp.pdb of 10.0.20348.288), not from the analyzer's table. */
static const dt_kw_structs structs_20348 = {
    .ep_pid = 0x440, .ep_links = 0x448, .ep_image = 0x5a8, .ep_threads = 0x5e0, .ep_create = 0x468, .ep_peb = 0x550,
    .et_cid = 0x4c8, .et_link = 0x538, .et_start = 0x520, .et_create = 0x480, .et_irp_list = 0x500,
    .et_alpc_id = 0x578, .et_alpc_msg = 0x580, .et_alpc_wait = 0x588,
};

/* Server 2022 has its own row (docs/kernel_offsets.md, win-server-2022-
 * 20348-x64): a dump in its layout is read through the table, every thread
 * found with its Cid, image, wait facts and stack, and no validation
 * warning. */
START_TEST(server_2022_uses_its_row)
{
    dt_kw_system s = system_desc(20348);
    s.structs = &structs_20348;
    size_t size;
    uint8_t *dump = dt_kw_build_triage(&s, &size);
    ck_assert_ptr_nonnull(dump);
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(dt_view_make(dump, size), NULL, &kd, NULL), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_str_eq(kd.offsets.source, "table");
    ck_assert_str_eq(kd.offsets.table_name, "win-server-2022-20348-x64");
    for (size_t i = 0; i < kd.warnings.count; i++)
        ck_assert_msg(strstr(kd.warnings.items[i], "20348") == NULL, "warning: %s", kd.warnings.items[i]);
    check_app_threads(&kd);
    ck_assert_ptr_nonnull(dt_kernel_dump_find_thread(&kd, 4, 0x108));
    dt_kernel_dump_close(&kd);
    free(dump);
}
END_TEST

static bool pdb_says_cid_elsewhere(void *ctx, const char *type, const char *field, uint32_t *off)
{
    (void)ctx;
    if (strcmp(type, "_ETHREAD") == 0 && strcmp(field, "Cid") == 0) {
        *off = 0x478;
        return true;
    }
    return false;
}

START_TEST(pdb_provider_is_used)
{
    dt_kw_system s = system_desc(28000);
    size_t size;
    uint8_t *dump = dt_kw_build_triage(&s, &size);
    dt_kernel_options o = { 0 };
    o.field_offset = pdb_says_cid_elsewhere;
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(dt_view_make(dump, size), &o, &kd, NULL), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_str_eq(kd.offsets.source, "pdb");
    const dt_kernel_thread *t = dt_kernel_dump_find_thread(&kd, 0x20, 0x24);
    ck_assert_ptr_nonnull(t);
    ck_assert_str_eq(t->image, ""); /* ImageFileName offset unknown without the table: not guessed */
    dt_kernel_dump_close(&kd);
    free(dump);
}
END_TEST

static void physical_case(dt_kw_layout layout, bool large, bool transition)
{
    char path[] = "/tmp/dt_kw_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    dt_kw_system s = system_desc(19041);
    dt_kw_physical o = { layout, large, transition, 0 };
    ck_assert_int_eq(dt_kw_write_physical(&s, &o, path), 0);
    dt_mapped_file f;
    dt_error err = { 0 };
    ck_assert_int_eq(dt_mapped_file_open(&f, path, &err), DT_OK);
    dt_kernel_dump kd;
    ck_assert_int_eq(dt_kernel_dump_open(f.view, NULL, &kd, &err), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert_uint_eq(kd.header.dump_type, (unsigned)layout);
    ck_assert(!kd.header.truncated);
    ck_assert(kd.has_kdbg);
    ck_assert_uint_eq(kd.process_count, 2);
    ck_assert_uint_eq(kd.processes[0].pid, 4);
    ck_assert_str_eq(kd.processes[0].image, "System");
    ck_assert_uint_eq(kd.processes[1].pid, 0x20);
    ck_assert_uint_eq(kd.processes[1].thread_count, 4);
    ck_assert_uint_eq(kd.drivers.count, 2);
    ck_assert_str_eq(kd.drivers.items[0].code_file, "ntoskrnl.exe");
    ck_assert_str_eq(kd.drivers.items[1].code_file, "hello.sys");
    ck_assert_str_eq(kd.drivers.items[1].code_id, "5F00000120000");
    check_app_threads(&kd);
    ck_assert_str_eq(dt_kernel_dump_find_thread(&kd, 0x20, 0x24)->origin, "process_list");
    ck_assert_ptr_nonnull(dt_kernel_dump_find_thread(&kd, 4, 0x108));

    dt_vtop_result r;
    ck_assert_int_eq(dt_kmem_translate(&kd.memory, dt_kw_stack_base(1, 0) - 8, &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.page_size, large ? (UINT64_C(1) << 21) : 0x1000);
    ck_assert_int_eq(dt_kmem_translate(&kd.memory, dt_kw_process_va(1), &r), DT_VTOP_OK);
    ck_assert_uint_eq(r.page_size, large ? (UINT64_C(1) << 30) : 0x1000);
    if (large)
        ck_assert_uint_eq(r.pa, UINT64_C(0x40000000) + (dt_kw_process_va(1) & 0x3fffffff));
    ck_assert_int_eq(dt_kmem_translate(&kd.memory, kd.header.ps_active_process_head, &r), DT_VTOP_OK);
    ck_assert(r.transition == transition);
    ck_assert_int_eq(dt_kmem_translate(&kd.memory, UINT64_C(0xffff900000000000), &r), DT_VTOP_NOT_PRESENT);
    ck_assert_int_eq(dt_kmem_translate(&kd.memory, UINT64_C(0x0000900000000000) | (UINT64_C(1) << 47), &r),
                     DT_VTOP_BAD_ADDRESS);
    dt_kernel_dump_close(&kd);

    /* Cut the file in half: truncation reported, no crash, header intact. */
    size_t half = f.view.size / 2;
    ck_assert_int_eq(dt_kernel_dump_open(dt_view_make(f.view.data, half), NULL, &kd, &err), DT_OK);
    dt_kernel_walk_stacks(&kd, NULL);
    ck_assert(kd.header.truncated);
    ck_assert_uint_lt(kd.header.pages_in_file, kd.header.pages_claimed);
    dt_kernel_dump_close(&kd);
    dt_mapped_file_close(&f);
    unlink(path);
}

START_TEST(full_dump_4k_pages) { physical_case(DT_KW_FULL, false, false); }
END_TEST
START_TEST(full_dump_large_pages_transition) { physical_case(DT_KW_FULL, true, true); }
END_TEST
START_TEST(bitmap_kernel_dump) { physical_case(DT_KW_BITMAP_KERNEL, true, true); }
END_TEST
START_TEST(bitmap_full_dump) { physical_case(DT_KW_BITMAP_FULL, false, true); }
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernel_synth");
    TCase *tc = tcase_create("synthesized");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, procdump_mk_triage);
    tcase_add_test(tc, unknown_build_validates_layout);
    tcase_add_test(tc, build_next_to_server_2022_takes_the_validation_path);
    tcase_add_test(tc, server_2022_uses_its_row);
    tcase_add_test(tc, pdb_provider_is_used);
    tcase_add_test(tc, full_dump_4k_pages);
    tcase_add_test(tc, full_dump_large_pages_transition);
    tcase_add_test(tc, bitmap_kernel_dump);
    tcase_add_test(tc, bitmap_full_dump);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
