/*
 * test_kernel_offsets_oracle.c — the built-in kernel offset table
 * (model/kernel_offsets.c) against an oracle that is not our own doc:
 * tests/data/kernel_offsets_vergilius.tsv, member offsets copied from the
 * public headers novafacing/vergilius-rs generated from the Vergilius
 * Project's dumps of Microsoft's ntkrnlmp.pdb types (12 x64 builds, 14393 to
 * 22631; see docs/kernel_offsets.md, "Oracle").  Every field the waiting-
 * thread walk reads (State, WaitReason, WaitMode, WaitBlockList, WaitTime,
 * MiscFlags, the stack bounds, KernelStack, Teb, ApcState.Process, Cid,
 * ThreadListEntry, CreateTimes, the EPROCESS identity fields) is compared
 * for the table row that covers each build; a wrong value in the table, or a
 * build the table no longer covers, fails here.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dt_test.h"
#include "model/kernel_offsets.h"

/* Our field for (struct, member); apc_state is handled by the caller. */
static const uint32_t *field(const dt_kernel_offsets *o, const char *st, const char *mem)
{
    static const struct {
        const char *st, *mem;
        size_t off;
    } map[] = {
        { "_KTHREAD", "InitialStack", offsetof(dt_kernel_offsets, kthread_initial_stack) },
        { "_KTHREAD", "StackLimit", offsetof(dt_kernel_offsets, kthread_stack_limit) },
        { "_KTHREAD", "StackBase", offsetof(dt_kernel_offsets, kthread_stack_base) },
        { "_KTHREAD", "KernelStack", offsetof(dt_kernel_offsets, kthread_kernel_stack) },
        { "_KTHREAD", "MiscFlags", offsetof(dt_kernel_offsets, kthread_misc_flags) },
        { "_KTHREAD", "WaitBlockList", offsetof(dt_kernel_offsets, kthread_wait_block_list) },
        { "_KTHREAD", "State", offsetof(dt_kernel_offsets, kthread_state) },
        { "_KTHREAD", "WaitMode", offsetof(dt_kernel_offsets, kthread_wait_mode) },
        { "_KTHREAD", "WaitTime", offsetof(dt_kernel_offsets, kthread_wait_time) },
        { "_KTHREAD", "WaitReason", offsetof(dt_kernel_offsets, kthread_wait_reason) },
        { "_KTHREAD", "KernelTime", offsetof(dt_kernel_offsets, kthread_kernel_time) },
        { "_KTHREAD", "UserTime", offsetof(dt_kernel_offsets, kthread_user_time) },
        { "_KTHREAD", "Teb", offsetof(dt_kernel_offsets, kthread_teb) },
        { "_ETHREAD", "CreateTime", offsetof(dt_kernel_offsets, ethread_create_time) },
        { "_ETHREAD", "Cid", offsetof(dt_kernel_offsets, ethread_cid) },
        { "_ETHREAD", "Win32StartAddress", offsetof(dt_kernel_offsets, ethread_win32_start_address) },
        { "_ETHREAD", "ThreadListEntry", offsetof(dt_kernel_offsets, ethread_thread_list_entry) },
        { "_EPROCESS", "UniqueProcessId", offsetof(dt_kernel_offsets, eprocess_unique_process_id) },
        { "_EPROCESS", "ActiveProcessLinks", offsetof(dt_kernel_offsets, eprocess_active_process_links) },
        { "_EPROCESS", "CreateTime", offsetof(dt_kernel_offsets, eprocess_create_time) },
        { "_EPROCESS", "Peb", offsetof(dt_kernel_offsets, eprocess_peb) },
        { "_EPROCESS", "ImageFileName", offsetof(dt_kernel_offsets, eprocess_image_file_name) },
        { "_EPROCESS", "ThreadListHead", offsetof(dt_kernel_offsets, eprocess_thread_list_head) },
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].st, st) == 0 && strcmp(map[i].mem, mem) == 0)
            return (const uint32_t *)((const char *)o + map[i].off);
    return NULL;
}

START_TEST(table_matches_the_vergilius_headers)
{
    FILE *f = fopen(dt_test_data("kernel_offsets_vergilius.tsv"), "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    unsigned checked = 0, builds = 0, apc_state = 0;
    char last_ver[32] = "";
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char ver[32], st[64], mem[64];
        unsigned off;
        ck_assert_int_eq(sscanf(line, "%31s %63s %63s %x", ver, st, mem, &off), 4);
        uint32_t build = (uint32_t)strtoul(ver + 5, NULL, 10); /* "10.0.19041.264" */
        if (strcmp(ver, last_ver) != 0) {
            builds++;
            snprintf(last_ver, sizeof last_ver, "%s", ver);
        }
        dt_kernel_offsets o;
        dt_kernel_offsets_init(&o);
        ck_assert_msg(dt_kernel_offsets_from_table(build, DT_ARCH_AMD64, &o), "no table row covers x64 build %u", build);
        if (strcmp(st, "_KTHREAD") == 0 && strcmp(mem, "ApcState") == 0) {
            apc_state = off;
            continue;
        }
        if (strcmp(st, "_KAPC_STATE") == 0 && strcmp(mem, "Process") == 0) {
            /* ApcState comes first in the file for each build. */
            ck_assert_msg(o.kthread_apc_process == apc_state + off, "%s KTHREAD ApcState.Process: table 0x%x, oracle 0x%x",
                          ver, o.kthread_apc_process, apc_state + off);
            checked++;
            continue;
        }
        const uint32_t *ours = field(&o, st, mem);
        ck_assert_msg(ours != NULL, "no table field for %s.%s", st, mem);
        ck_assert_msg(*ours == off, "%s %s.%s: table 0x%x, oracle 0x%x (%s)", ver, st, mem, *ours, off, o.table_name);
        checked++;
    }
    fclose(f);
    ck_assert_uint_eq(builds, 12);
    ck_assert_uint_ge(checked, 12 * 24);
}
END_TEST

static Suite *oracle_suite(void)
{
    Suite *s = suite_create("kernel_offsets_oracle");
    TCase *tc = tcase_create("vergilius");
    tcase_add_test(tc, table_matches_the_vergilius_headers);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(oracle_suite)
