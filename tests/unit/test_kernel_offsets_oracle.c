/*
 * test_kernel_offsets_oracle.c — the built-in kernel offset table
 * (model/kernel_offsets.c) against oracles that are not our own doc
 * (docs/kernel_offsets.md, "Oracle"):
 *  - tests/data/kernel_offsets_vergilius.tsv, member offsets copied from the
 *    public headers novafacing/vergilius-rs generated from the Vergilius
 *    Project's dumps of Microsoft's ntkrnlmp.pdb types (12 x64 builds, 14393
 *    to 22631) — one of the sources the table was written from;
 *  - tests/data/kernel_offsets_chappell.tsv, from Geoff Chappell's
 *    independently researched KTHREAD/ETHREAD/EPROCESS/KPROCESS studies
 *    (5 x64 builds, 14393 to 19041), a source the table was NOT written
 *    from, with the Alertable bit and WaitBlockCount/IrpList/
 *    DirectoryTableBase that the first oracle lacks;
 *  - tests/data/kernel_offsets_ntdiff.tsv, ntdiff/headers' pdbex dumps of
 *    the 22621 (Windows 11 22H2) PDB types: a second reading of the build
 *    whose table row was written from the Vergilius headers alone; and of
 *    the 26100 (24H2) x64 and ARM64 types, the only public listing of that
 *    build (its rows are single-sourced);
 *  - tests/data/kernel_offsets_jpcert.tsv, JPCERTCC/Windows-Symbol-Tables'
 *    Volatility 3 symbol tables (ISF JSON that volatility3 generated from
 *    Microsoft's own ntkrnlmp.pdb of each ntoskrnl revision): every field
 *    above plus the ALPC path, for the x64 builds 14393, 17763, 18362,
 *    19041, 20348 (Server 2022) and 22000, two revisions each — a source the
 *    table was NOT written from (except the 20348 row, whose only listing
 *    it is);
 *  - tests/data/kernel_offsets_systeminformer.tsv, System Informer's
 *    kernel-driver dynamic data (kphdyn.xml: the offsets its driver reads,
 *    per ntoskrnl.exe file): a partial listing — the KTHREAD stack members
 *    of every row and the ALPC port members of every x64 row — but the only
 *    second one for 26100 besides ntdiff.  Being partial it is compared
 *    value by value and not counted as a row's source below.
 * Each row's machine-readable source list (dt_kernel_layout_info.sources)
 * is tied to these files: a row naming a source must match it.
 * Every field the waiting-thread walk reads (State, WaitReason, WaitMode,
 * WaitBlockList, WaitBlockCount, WaitTime, MiscFlags and its Alertable bit,
 * the stack bounds, KernelStack, Teb, ApcState.Process, Cid,
 * ThreadListEntry, CreateTimes, the EPROCESS identity fields) and what an
 * ALPC wait is followed through (ETHREAD.AlpcMessage…, _KALPC_MESSAGE,
 * _ALPC_PORT, the object header's name info) is compared
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
        { "_KTHREAD", "WaitBlockCount", offsetof(dt_kernel_offsets, kthread_wait_block_count) },
        { "_ETHREAD", "IrpList", offsetof(dt_kernel_offsets, ethread_irp_list) },
        { "_ETHREAD", "AlpcMessageId", offsetof(dt_kernel_offsets, ethread_alpc_message_id) },
        { "_ETHREAD", "AlpcMessage", offsetof(dt_kernel_offsets, ethread_alpc_message) },
        { "_ETHREAD", "AlpcWaitListEntry", offsetof(dt_kernel_offsets, ethread_alpc_wait_list_entry) },
        /* the ALPC objects an ALPC wait is followed through (kernel_alpc.c) */
        { "_KALPC_MESSAGE", "PortQueue", offsetof(dt_kernel_offsets, alpc.msg_port_queue) },
        { "_KALPC_MESSAGE", "WaitingThread", offsetof(dt_kernel_offsets, alpc.msg_waiting_thread) },
        { "_KALPC_MESSAGE", "ServerThread", offsetof(dt_kernel_offsets, alpc.msg_server_thread) },
        { "_ALPC_PORT", "CommunicationInfo", offsetof(dt_kernel_offsets, alpc.port_communication_info) },
        { "_ALPC_PORT", "OwnerProcess", offsetof(dt_kernel_offsets, alpc.port_owner_process) },
        { "_ALPC_PORT", "WaitQueue", offsetof(dt_kernel_offsets, alpc.port_wait_queue) },
        { "_ALPC_PORT", "Semaphore", offsetof(dt_kernel_offsets, alpc.port_semaphore) },
        { "_ALPC_COMMUNICATION_INFO", "ConnectionPort", offsetof(dt_kernel_offsets, alpc.comm_connection_port) },
        { "_OBJECT_HEADER", "InfoMask", offsetof(dt_kernel_offsets, alpc.header_info_mask) },
        { "_OBJECT_HEADER", "Body", offsetof(dt_kernel_offsets, alpc.header_body) },
        { "_OBJECT_HEADER_NAME_INFO", "Directory", offsetof(dt_kernel_offsets, alpc.name_info_directory) },
        { "_OBJECT_HEADER_NAME_INFO", "Name", offsetof(dt_kernel_offsets, alpc.name_info_name) },
        { "_KPROCESS", "DirectoryTableBase", offsetof(dt_kernel_offsets, eprocess_directory_table_base) },
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

/* Which rows of an oracle file to compare: all of them, or those of one
 * architecture and build range (one table row). */
typedef struct {
    bool all;
    dt_cpu_arch arch;
    uint32_t build_min, build_max;
} oracle_filter;

static const oracle_filter ALL = { .all = true };

/* Compares every (filtered) value of one oracle file with the table;
 * returns the number of values compared and the number of distinct builds
 * seen.  A build column "10.0.26100-arm64" is an ARM64 value. */
static unsigned check_oracle_filtered(const char *file, oracle_filter flt, unsigned *nbuilds)
{
    FILE *f = fopen(dt_test_data(file), "r");
    ck_assert_msg(f != NULL, "cannot open %s", file);
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
        dt_cpu_arch arch = strstr(ver, "-arm64") ? DT_ARCH_ARM64 : DT_ARCH_AMD64;
        if (!flt.all && (arch != flt.arch || build < flt.build_min || build > flt.build_max))
            continue;
        if (strcmp(ver, last_ver) != 0) {
            builds++;
            snprintf(last_ver, sizeof last_ver, "%s", ver);
        }
        dt_kernel_offsets o;
        dt_kernel_offsets_init(&o);
        ck_assert_msg(dt_kernel_offsets_from_table(build, arch, &o), "no table row covers %s build %u",
                      arch == DT_ARCH_ARM64 ? "ARM64" : "x64", build);
        if (strcmp(st, "_KTHREAD") == 0 && strcmp(mem, "ApcState") == 0) {
            apc_state = off;
            continue;
        }
        if (strcmp(st, "_KAPC_STATE") == 0 && strcmp(mem, "Process") == 0) {
            /* ApcState comes first in the file for each build. */
            ck_assert_msg(apc_state != 0, "%s %s: _KAPC_STATE.Process before _KTHREAD.ApcState", file, ver);
            ck_assert_msg(o.kthread_apc_process == apc_state + off, "%s %s KTHREAD ApcState.Process: table 0x%x, oracle 0x%x",
                          file, ver, o.kthread_apc_process, apc_state + off);
            apc_state = 0;
            checked++;
            continue;
        }
        if (strcmp(st, "_KTHREAD") == 0 && strcmp(mem, "MiscFlags.Alertable") == 0) {
            /* The oracle gives the bit as a mask of MiscFlags. */
            ck_assert_msg(o.kthread_alertable_bit < 32 && (1u << o.kthread_alertable_bit) == off,
                          "%s %s KTHREAD MiscFlags.Alertable: table bit %u, oracle mask 0x%x (%s)", file, ver,
                          o.kthread_alertable_bit, off, o.table_name);
            checked++;
            continue;
        }
        const uint32_t *ours = field(&o, st, mem);
        ck_assert_msg(ours != NULL, "no table field for %s.%s", st, mem);
        ck_assert_msg(*ours == off, "%s %s %s.%s: table 0x%x, oracle 0x%x (%s)", file, ver, st, mem, *ours, off, o.table_name);
        checked++;
    }
    fclose(f);
    *nbuilds = builds;
    return checked;
}

static unsigned check_oracle(const char *file, unsigned *nbuilds) { return check_oracle_filtered(file, ALL, nbuilds); }

START_TEST(table_matches_the_vergilius_headers)
{
    unsigned builds;
    unsigned checked = check_oracle("kernel_offsets_vergilius.tsv", &builds);
    ck_assert_uint_eq(builds, 12);
    /* 24 waiting-thread values (ApcState + KAPC_STATE.Process count as one)
     * and 15 for ALPC waits (#15) per build */
    ck_assert_uint_eq(checked, 12 * 39);
}
END_TEST

/* The independent oracle: every waiting-thread field of the five x64 rows
 * 14393, 17134, 17763, 18362 and 19041 (28 values per build) and the
 * ETHREAD's three ALPC members (#15). */
START_TEST(table_matches_geoff_chappell)
{
    unsigned builds;
    unsigned checked = check_oracle("kernel_offsets_chappell.tsv", &builds);
    ck_assert_uint_eq(builds, 5);
    ck_assert_uint_eq(checked, 5 * 31);
}
END_TEST

/* ntdiff's dumps: the second source for the 22H2 row (win11-22621-x64,
 * written from the Vergilius headers), 28 values; and the only public
 * listing of 26100 (Windows 11 24H2 / Server 2025): every value the
 * win11-26100-x64 row has (31 waiting-thread values and the ETHREAD's and
 * _KALPC_MESSAGE's three ALPC members each) and every value of
 * win11-26100-arm64 (31). */
START_TEST(table_matches_ntdiff)
{
    unsigned builds;
    unsigned checked = check_oracle("kernel_offsets_ntdiff.tsv", &builds);
    ck_assert_uint_eq(builds, 3);
    ck_assert_uint_eq(checked, 28 + 34 + 31);
    oracle_filter x64 = { .arch = DT_ARCH_AMD64, .build_min = 26100, .build_max = 26100 };
    ck_assert_uint_eq(check_oracle_filtered("kernel_offsets_ntdiff.tsv", x64, &builds), 34);
    oracle_filter arm64 = { .arch = DT_ARCH_ARM64, .build_min = 26100, .build_max = 26100 };
    ck_assert_uint_eq(check_oracle_filtered("kernel_offsets_ntdiff.tsv", arm64, &builds), 31);
}
END_TEST

/* JPCERT's ISF files (the PDB's own type records, converted by
 * volatility3): 43 values per revision (waiting-thread fields incl. the
 * Alertable bit, IrpList, DirectoryTableBase, the ETHREAD's, _KALPC_MESSAGE's,
 * _ALPC_PORT's, _ALPC_COMMUNICATION_INFO's and the object header's ALPC
 * members), two revisions of each of 14393, 17763, 18362, 19041, 20348 and
 * 22000.  A mismatch names the file, revision, member, both values and row. */
START_TEST(table_matches_jpcert_isf)
{
    unsigned builds;
    unsigned checked = check_oracle("kernel_offsets_jpcert.tsv", &builds);
    ck_assert_uint_eq(builds, 12);
    ck_assert_uint_eq(checked, 12 * 43);
    /* the rows without a second listing before: 22000 x64 (VG only) and
     * Server 2022 (no row), each every value at both revisions */
    oracle_filter w11 = { .arch = DT_ARCH_AMD64, .build_min = 22000, .build_max = 22000 };
    ck_assert_uint_eq(check_oracle_filtered("kernel_offsets_jpcert.tsv", w11, &builds), 2 * 43);
    ck_assert_uint_eq(builds, 2);
    oracle_filter srv = { .arch = DT_ARCH_AMD64, .build_min = 20348, .build_max = 20348 };
    ck_assert_uint_eq(check_oracle_filtered("kernel_offsets_jpcert.tsv", srv, &builds), 2 * 43);
    dt_kernel_offsets o;
    dt_kernel_offsets_init(&o);
    ck_assert(dt_kernel_offsets_from_table(20348, DT_ARCH_AMD64, &o));
    ck_assert_str_eq(o.table_name, "win-server-2022-20348-x64");
}
END_TEST

/* System Informer's dynamic data: the first and last ntoskrnl.exe version
 * of each build a row covers — 7 values per x64 version (KTHREAD
 * InitialStack, StackLimit, StackBase, KernelStack; _ALPC_PORT
 * CommunicationInfo, OwnerProcess; _ALPC_COMMUNICATION_INFO.ConnectionPort),
 * 4 per ARM64 one.  For 26100 these are the values that no longer rest on
 * ntdiff alone (x64: the three ALPC port members were inferred before). */
START_TEST(table_matches_system_informer)
{
    unsigned builds;
    unsigned checked = check_oracle("kernel_offsets_systeminformer.tsv", &builds);
    ck_assert_uint_eq(builds, 9 * 2 + 2 * 2);
    ck_assert_uint_eq(checked, 9 * 2 * 7 + 2 * 2 * 4);
    oracle_filter x64 = { .arch = DT_ARCH_AMD64, .build_min = 26100, .build_max = 26100 };
    ck_assert_uint_eq(check_oracle_filtered("kernel_offsets_systeminformer.tsv", x64, &builds), 2 * 7);
    oracle_filter arm64 = { .arch = DT_ARCH_ARM64, .build_min = 26100, .build_max = 26100 };
    ck_assert_uint_eq(check_oracle_filtered("kernel_offsets_systeminformer.tsv", arm64, &builds), 2 * 4);
}
END_TEST

/* Each row's claimed sources (#22), tied to the oracle files: a row naming
 * VG must match every Vergilius value for its architecture and build range,
 * ND every ntdiff value, GC every Chappell value, JP every JPCERT ISF value,
 * and each named file must hold values for it; conversely a row for which
 * a file holds values must name that file's code (a confirming listing is
 * never left out of the claim).  RZ (rizin's profiles) has no oracle file.
 * A row with fewer than two file-backed sources is single-sourced; the list
 * is exact, so a row cannot lose its second source (or a new single-sourced
 * row appear) without this test and docs/kernel_offsets.md changing. */
START_TEST(row_sources_match_the_oracles)
{
    static const struct {
        const char *code, *file;
    } files[] = {
        { "VG", "kernel_offsets_vergilius.tsv" },
        { "ND", "kernel_offsets_ntdiff.tsv" },
        { "GC", "kernel_offsets_chappell.tsv" },
        { "JP", "kernel_offsets_jpcert.tsv" },
    };
    static const char *const single_sourced[] = {
        "win11-22000-arm64", /* RZ: no second listing of 22000 ARM64 */
        "win11-26100-x64",   /* ND: no Vergilius/Chappell/JPCERT listing of 26100 */
        "win11-26100-arm64", /* ND */
        "win-server-2022-20348-x64", /* JP: no Vergilius/ntdiff/Chappell listing of 20348 */
    };
    char single[512] = "", want[512] = "";
    for (size_t k = 0; k < sizeof single_sourced / sizeof single_sourced[0]; k++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s ", single_sourced[k]);
    dt_kernel_layout_info row;
    size_t rows = 0;
    for (size_t i = 0; dt_kernel_offsets_layout_info(i, &row); i++, rows++) {
        ck_assert_ptr_nonnull(row.sources);
        unsigned backed = 0;
        oracle_filter flt = { .arch = row.arch, .build_min = row.build_min, .build_max = row.build_max };
        for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
            bool named = false;
            for (const char *const *code = row.sources; *code; code++)
                named |= strcmp(*code, files[f].code) == 0;
            unsigned builds;
            /* compares too: a row the file covers must match it even unnamed */
            unsigned n = check_oracle_filtered(files[f].file, flt, &builds);
            ck_assert_msg(named || n == 0, "%s: %s holds %u matching values for it but the row does not name %s",
                          row.name, files[f].file, n, files[f].code);
        }
        for (const char *const *code = row.sources; *code; code++) {
            const char *c = *code;
            size_t f = 0;
            while (f < sizeof files / sizeof files[0] && strcmp(files[f].code, c) != 0)
                f++;
            if (f == sizeof files / sizeof files[0]) {
                ck_assert_msg(strcmp(c, "RZ") == 0, "%s: unknown source code %s", row.name, c);
                continue;
            }
            unsigned builds;
            unsigned n = check_oracle_filtered(files[f].file, flt, &builds);
            ck_assert_msg(n > 0, "%s names %s but %s has no value for it", row.name, c, files[f].file);
            backed++;
        }
        if (backed < 2)
            snprintf(single + strlen(single), sizeof single - strlen(single), "%s ", row.name);
    }
    ck_assert_uint_eq(rows, 11);
    ck_assert_str_eq(single, want);
}
END_TEST

static Suite *oracle_suite(void)
{
    Suite *s = suite_create("kernel_offsets_oracle");
    TCase *tc = tcase_create("vergilius");
    tcase_add_test(tc, table_matches_the_vergilius_headers);
    tcase_add_test(tc, table_matches_geoff_chappell);
    tcase_add_test(tc, table_matches_ntdiff);
    tcase_add_test(tc, table_matches_jpcert_isf);
    tcase_add_test(tc, table_matches_system_informer);
    tcase_add_test(tc, row_sources_match_the_oracles);
    suite_add_tcase(s, tc);
    return s;
}

DT_TEST_MAIN(oracle_suite)
