/*
 * test_kernel_offsets.c — the built-in structure-offset table returns, for
 * each (build, machine) row, exactly the values cited in
 * docs/kernel_offsets.md.  The synthetic dump writer only presents the 19041
 * x64 layout, so rows of other builds are checked at the lookup itself; a
 * typo in the table would otherwise only show on a customer's dump.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "dt_test.h"
#include "model/kernel_offsets.h"

/* Field values common to every Windows 10/11 x64 KTHREAD in the table. */
static void check_kthread_x64(const dt_kernel_offsets *o)
{
    ck_assert_uint_eq(o->kthread_initial_stack, 0x28);
    ck_assert_uint_eq(o->kthread_stack_limit, 0x30);
    ck_assert_uint_eq(o->kthread_stack_base, 0x38);
    ck_assert_uint_eq(o->kthread_kernel_stack, 0x58);
    ck_assert_uint_eq(o->kthread_misc_flags, 0x74);
    ck_assert_uint_eq(o->kthread_alertable_bit, 4);
    ck_assert_uint_eq(o->kthread_apc_process, 0xb8);
    ck_assert_uint_eq(o->kthread_wait_block_list, 0xd0);
    ck_assert_uint_eq(o->kthread_teb, 0xf0);
    ck_assert_uint_eq(o->kthread_state, 0x184);
    ck_assert_uint_eq(o->kthread_wait_mode, 0x187);
    ck_assert_uint_eq(o->kthread_wait_time, 0x1b4);
    ck_assert_uint_eq(o->kthread_wait_block_count, 0x24b);
    ck_assert_uint_eq(o->kthread_wait_reason, 0x283);
    ck_assert_uint_eq(o->kthread_kernel_time, 0x28c);
    ck_assert_uint_eq(o->kthread_user_time, 0x2dc);
    ck_assert_uint_eq(o->eprocess_directory_table_base, 0x28);
}

START_TEST(win10_1809_server2019_x64)
{
    dt_kernel_offsets o;
    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(17763, DT_ARCH_AMD64, &o));
    ck_assert_str_eq(o.table_name, "win10-17763-x64");
    ck_assert_str_eq(o.source, "table");
    ck_assert_uint_eq(o.eprocess_unique_process_id, 0x2e0);
    ck_assert_uint_eq(o.eprocess_active_process_links, 0x2e8);
    ck_assert_uint_eq(o.eprocess_create_time, 0x308);
    ck_assert_uint_eq(o.eprocess_peb, 0x3f8);
    ck_assert_uint_eq(o.eprocess_image_file_name, 0x450);
    ck_assert_uint_eq(o.eprocess_thread_list_head, 0x488);
    ck_assert_uint_eq(o.ethread_create_time, 0x5f0);
    ck_assert_uint_eq(o.ethread_cid, 0x638);
    ck_assert_uint_eq(o.ethread_win32_start_address, 0x690);
    ck_assert_uint_eq(o.ethread_thread_list_entry, 0x6a8);
    check_kthread_x64(&o);
}
END_TEST

START_TEST(win11_24h2_server2025_x64)
{
    dt_kernel_offsets o;
    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(26100, DT_ARCH_AMD64, &o));
    ck_assert_str_eq(o.table_name, "win11-26100-x64");
    ck_assert_uint_eq(o.eprocess_unique_process_id, 0x1d0);
    ck_assert_uint_eq(o.eprocess_active_process_links, 0x1d8);
    ck_assert_uint_eq(o.eprocess_create_time, 0x1f8);
    ck_assert_uint_eq(o.eprocess_peb, 0x2e0);
    ck_assert_uint_eq(o.eprocess_image_file_name, 0x338);
    ck_assert_uint_eq(o.eprocess_thread_list_head, 0x370);
    ck_assert_uint_eq(o.ethread_create_time, 0x4c0);
    ck_assert_uint_eq(o.ethread_cid, 0x508);
    ck_assert_uint_eq(o.ethread_win32_start_address, 0x560);
    ck_assert_uint_eq(o.ethread_thread_list_entry, 0x578);
    check_kthread_x64(&o);
}
END_TEST

/* Windows 11 21H2 and 22H2/23H2 x64: EPROCESS as in 19041, ETHREAD shifted
 * by the smaller KTHREAD (0x480). */
static void check_win11_x64(uint32_t build, const char *row)
{
    dt_kernel_offsets o;
    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(build, DT_ARCH_AMD64, &o));
    ck_assert_str_eq(o.table_name, row);
    ck_assert_uint_eq(o.eprocess_unique_process_id, 0x440);
    ck_assert_uint_eq(o.eprocess_active_process_links, 0x448);
    ck_assert_uint_eq(o.eprocess_create_time, 0x468);
    ck_assert_uint_eq(o.eprocess_peb, 0x550);
    ck_assert_uint_eq(o.eprocess_image_file_name, 0x5a8);
    ck_assert_uint_eq(o.eprocess_thread_list_head, 0x5e0);
    ck_assert_uint_eq(o.ethread_create_time, 0x480);
    ck_assert_uint_eq(o.ethread_cid, 0x4c8);
    ck_assert_uint_eq(o.ethread_win32_start_address, 0x520);
    ck_assert_uint_eq(o.ethread_thread_list_entry, 0x538);
    check_kthread_x64(&o);
}

START_TEST(win11_21h2_22h2_23h2_x64)
{
    check_win11_x64(22000, "win11-22000-x64");
    check_win11_x64(22621, "win11-22621-x64");
    check_win11_x64(22631, "win11-22621-x64");
}
END_TEST

START_TEST(win11_24h2_arm64)
{
    dt_kernel_offsets o;
    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(26100, DT_ARCH_ARM64, &o));
    ck_assert_str_eq(o.table_name, "win11-26100-arm64");
    ck_assert_uint_eq(o.eprocess_unique_process_id, 0x1c0);
    ck_assert_uint_eq(o.eprocess_active_process_links, 0x1c8);
    ck_assert_uint_eq(o.eprocess_create_time, 0x1e8);
    ck_assert_uint_eq(o.eprocess_peb, 0x2d0);
    ck_assert_uint_eq(o.eprocess_image_file_name, 0x328);
    ck_assert_uint_eq(o.eprocess_thread_list_head, 0x360);
    ck_assert_uint_eq(o.ethread_create_time, 0x4a0);
    ck_assert_uint_eq(o.ethread_cid, 0x4e8);
    ck_assert_uint_eq(o.ethread_win32_start_address, 0x540);
    ck_assert_uint_eq(o.ethread_thread_list_entry, 0x558);
    ck_assert_uint_eq(o.kthread_misc_flags, 0x6c);
    ck_assert_uint_eq(o.kthread_alertable_bit, 4);
    ck_assert_uint_eq(o.kthread_apc_process, 0xb0);
    ck_assert_uint_eq(o.kthread_wait_block_list, 0xc8);
    ck_assert_uint_eq(o.kthread_teb, 0xe8);
    ck_assert_uint_eq(o.kthread_state, 0x17c);
    ck_assert_uint_eq(o.kthread_wait_mode, 0x17f);
    ck_assert_uint_eq(o.kthread_wait_time, 0x1ac);
    ck_assert_uint_eq(o.kthread_wait_block_count, 0x26b);
    ck_assert_uint_eq(o.kthread_wait_reason, 0x2a3);
    ck_assert_uint_eq(o.kthread_kernel_time, 0x2ac);
    ck_assert_uint_eq(o.kthread_user_time, 0x2fc);
    ck_assert_uint_eq(o.kthread_kernel_stack, 0x58);
}
END_TEST

/* 1607 / 1803 / 1903: the KTHREAD fields and CreateTimes that used to come
 * from KDBG only are now in the table. */
START_TEST(win10_older_rows_filled)
{
    static const struct {
        uint32_t build;
        const char *row;
        uint32_t ep_create, et_create, cid;
    } rows[] = {
        { 14393, "win10-14393-x64", 0x308, 0x5e0, 0x630 },
        { 17134, "win10-17134-x64", 0x308, 0x5f0, 0x638 },
        { 18362, "win10-18362-x64", 0x310, 0x600, 0x648 },
        { 18363, "win10-18362-x64", 0x310, 0x600, 0x648 },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        dt_kernel_offsets o;
        dt_kernel_offsets_init(&o);
        ck_assert(dt_kernel_offsets_from_table(rows[i].build, DT_ARCH_AMD64, &o));
        ck_assert_str_eq(o.table_name, rows[i].row);
        ck_assert_uint_eq(o.eprocess_create_time, rows[i].ep_create);
        ck_assert_uint_eq(o.ethread_create_time, rows[i].et_create);
        ck_assert_uint_eq(o.ethread_cid, rows[i].cid);
        check_kthread_x64(&o);
    }
}
END_TEST

START_TEST(existing_rows_unchanged)
{
    dt_kernel_offsets o;
    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(19045, DT_ARCH_AMD64, &o));
    ck_assert_str_eq(o.table_name, "win10-19041-x64");
    ck_assert_uint_eq(o.eprocess_unique_process_id, 0x440);
    ck_assert_uint_eq(o.ethread_cid, 0x478);
    check_kthread_x64(&o);

    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(22000, DT_ARCH_ARM64, &o));
    ck_assert_str_eq(o.table_name, "win11-22000-arm64");
    ck_assert_uint_eq(o.ethread_cid, 0x4e8);
    ck_assert_uint_eq(o.kthread_wait_mode, DT_OFF_UNKNOWN);
}
END_TEST

/* Builds with no cited source stay out of the table: the dump-side
 * validation handles them instead of a guessed row. */
START_TEST(unsourced_builds_are_not_in_table)
{
    static const uint32_t x64_missing[] = { 15063, 16299, 20347, 20349, 22635, 26200, 28000 };
    dt_kernel_offsets o;
    for (size_t i = 0; i < sizeof x64_missing / sizeof x64_missing[0]; i++) {
        dt_kernel_offsets_init(&o);
        ck_assert_msg(!dt_kernel_offsets_from_table(x64_missing[i], DT_ARCH_AMD64, &o), "build %u",
                      (unsigned)x64_missing[i]);
        ck_assert_str_eq(o.source, "unknown");
    }
    ck_assert(!dt_kernel_offsets_from_table(22621, DT_ARCH_ARM64, &o));
    ck_assert(!dt_kernel_offsets_from_table(17763, DT_ARCH_X86, &o));
}
END_TEST

/* Validation tries the 19041 layout first (the one seen on real dumps),
 * and every x64 row is offered once. */
START_TEST(candidates_cover_every_x64_row)
{
    dt_kernel_offsets o;
    size_t n = 0;
    bool saw_17763 = false, saw_26100 = false, saw_22621 = false;
    for (size_t i = 0; dt_kernel_offsets_candidate(DT_ARCH_AMD64, i, &o); i++) {
        if (i == 0)
            ck_assert_str_eq(o.table_name, "win10-19041-x64");
        ck_assert_str_eq(o.source, "validated");
        saw_17763 |= strcmp(o.table_name, "win10-17763-x64") == 0;
        saw_26100 |= strcmp(o.table_name, "win11-26100-x64") == 0;
        saw_22621 |= strcmp(o.table_name, "win11-22621-x64") == 0;
        n++;
    }
    ck_assert_uint_eq(n, 9);
    ck_assert(saw_17763 && saw_26100 && saw_22621);
    ck_assert(dt_kernel_offsets_candidate(DT_ARCH_ARM64, 1, &o));
    ck_assert(!dt_kernel_offsets_candidate(DT_ARCH_ARM64, 2, &o));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("kernel_offsets");
    TCase *tc = tcase_create("table");
    tcase_add_test(tc, win10_1809_server2019_x64);
    tcase_add_test(tc, win11_24h2_server2025_x64);
    tcase_add_test(tc, win11_21h2_22h2_23h2_x64);
    tcase_add_test(tc, win11_24h2_arm64);
    tcase_add_test(tc, win10_older_rows_filled);
    tcase_add_test(tc, existing_rows_unchanged);
    tcase_add_test(tc, unsourced_builds_are_not_in_table);
    tcase_add_test(tc, candidates_cover_every_x64_row);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(suite)
