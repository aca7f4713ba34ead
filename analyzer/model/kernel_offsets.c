/*
 * kernel_offsets.c — the built-in per-build structure-offset table and the
 * merge rules (see kernel_offsets.h; sources in docs/kernel_offsets.md).
 *
 * Only values with a public source are filled in; everything else stays
 * DT_OFF_UNKNOWN so it is never guessed.  KDDEBUGGER_DATA64 later overrides
 * the stack/state/wait-reason fields with the running kernel's own values.
 */
#include "model/kernel_offsets.h"

#include <string.h>

#define U DT_OFF_UNKNOWN

typedef struct {
    const char *name;
    dt_cpu_arch arch;
    uint32_t build_min, build_max;
    /* EPROCESS: UniqueProcessId, ActiveProcessLinks, ImageFileName,
     * ThreadListHead, CreateTime, Peb */
    uint32_t ep[6];
    /* ETHREAD: Cid, Win32StartAddress, ThreadListEntry, CreateTime, IrpList,
     * AlpcMessageId, AlpcMessage, AlpcWaitListEntry */
    uint32_t et[8];
    /* KTHREAD: State, WaitReason, WaitMode, MiscFlags, AlertableBit,
     * WaitTime, WaitBlockList, KernelTime, UserTime, Teb, ApcProcess,
     * WaitBlockCount */
    uint32_t kt[12];
    /* the ALPC structures the ETHREAD's Alpc* members lead to; NULL where
     * they are not known (no ALPC decoding) */
    const dt_kernel_alpc_offsets *alpc;
    /* the independent public listings every value of the row was checked
     * against, as codes (SOURCES("VG", "ND"): NULL-terminated); a single code
     * means one source (docs/kernel_offsets.md "Sources per row") */
    const char *const *sources;
} layout;

#define SOURCES(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* [VG] 14393.0, 17134.1, 17763.107, 18362.30/.418, 19041.264/.1288,
 * 19045.2965, 22000.1/.194, 22621.382, 22631.2428 x64 and [ND] 1809 x64
 * give these members the same offsets in every build; [ND] Win11_2409_24H2
 * x64 _KALPC_MESSAGE.h the same for 26100 (docs/kernel_offsets.md "ALPC");
 * _OBJECT_HEADER: Body +0x30, InfoMask +0x1a, and the name info found
 * InfoMask-wise before it [GC object_header, infomask,
 * object_header_name_info]; [JP] (ntkrnlmp.pdb ISF of every 14393, 17763,
 * 18362, 19041, 20348 and 22000 x64 revision listed) has every member
 * below at these offsets too. */
static const dt_kernel_alpc_offsets alpc_x64 = {
    .msg_port_queue = 0x10,          /* _KALPC_MESSAGE.PortQueue */
    .msg_waiting_thread = 0x20,      /* _KALPC_MESSAGE.WaitingThread */
    .msg_server_thread = 0xc8,       /* _KALPC_MESSAGE.ServerThread */
    .port_communication_info = 0x10, /* _ALPC_PORT.CommunicationInfo */
    .port_owner_process = 0x18,      /* _ALPC_PORT.OwnerProcess */
    .port_wait_queue = 0xe8,         /* _ALPC_PORT.WaitQueue */
    .port_semaphore = 0xf8,          /* _ALPC_PORT.Semaphore */
    .comm_connection_port = 0x0,     /* _ALPC_COMMUNICATION_INFO.ConnectionPort */
    .header_body = 0x30,
    .header_info_mask = 0x1a,
    .creator_info_size = 0x20,       /* InfoMask 0x01 */
    .name_info_size = 0x20,          /* InfoMask 0x02 */
    .name_info_directory = 0x0,
    .name_info_name = 0x8,           /* UNICODE_STRING */
};

/* Sources: [RZ] rizin subprojects/rzwinkd/profiles.h; [ND] ntdiff/headers
 * _KTHREAD/_ETHREAD/_EPROCESS dumps (PDB type dumps, one folder per build);
 * [VG] novafacing/vergilius-rs headers/bindings-10.0.BUILD-x64.h (Vergilius
 * Project layouts with offsets); [EO] I3r1h0n/eprocess_offsets README;
 * [GC] Geoff Chappell's structure studies; [JP] JPCERTCC/Windows-Symbol-
 * Tables, Volatility 3 ISF generated from each revision's ntkrnlmp.pdb;
 * [SI] System Informer's kphlib/kphdyn.xml (a few members per kernel file);
 * [V] verified on tests/data/kernel triage dumps (docs/formats.md C.4);
 * [I] inferred (docs/kernel_offsets.md says from what).
 * Per-value confidence is in docs/kernel_offsets.md.  The 19041 row stays
 * first: validation of unknown builds tries rows in this order. */
static const layout layouts[] = {
    /* Windows 10 2004/20H2/21H1/21H2/22H2 (Server 2022, 20348, has its own row). */
    { "win10-19041-x64", DT_ARCH_AMD64, 19041, 19045,
      { 0x440, 0x448, 0x5a8, 0x5e0, 0x468, 0x550 },
      { 0x478, 0x4d0, 0x4e8, 0x430, 0x4b0, 0x528, 0x530, 0x538 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "GC", "JP") },
    /* Windows 11 21H2 ARM64 (build 22000) [RZ WIN11_22000, V: TA]. */
    { "win11-22000-arm64", DT_ARCH_ARM64, 22000, 22000,
      { 0x3f8, 0x400, 0x560, 0x598, U, 0x508 },
      { 0x4e8, 0x540, 0x558, U, U, U, U, U },
      { 0x17c, 0x2a3, U, U, U, U, U, U, U, 0xe8, 0xb0, U }, NULL, SOURCES("RZ") },
    /* Windows 11 24H2 / Server 2025 x64 (build 26100) [ND Win11_2409_24H2
     * x64 ntoskrnl.exe]: KTHREAD head unchanged from 19041, EPROCESS and
     * ETHREAD shrank (KPROCESS 0x1c8, KTHREAD 0x4c0).  _KALPC_MESSAGE as
     * alpc_x64 [ND]; _ALPC_PORT and the object header are not in that
     * folder: alpc_x64's values, unchanged from 14393 to 22631 [I];
     * [SI] lists CommunicationInfo, OwnerProcess and ConnectionPort at
     * these offsets for every 26100 kernel it supports. */
    { "win11-26100-x64", DT_ARCH_AMD64, 26100, 26100,
      { 0x1d0, 0x1d8, 0x338, 0x370, 0x1f8, 0x2e0 },
      { 0x508, 0x560, 0x578, 0x4c0, 0x540, 0x5b8, 0x5c0, 0x5c8 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("ND") },
    /* Windows 11 21H2 x64 (build 22000) [VG 22000.1 and 22000.194; EO for
     * UniqueProcessId/ActiveProcessLinks; JP 22000.318 to .2538 agree on
     * every value]: EPROCESS as 19041, ETHREAD not. */
    { "win11-22000-x64", DT_ARCH_AMD64, 22000, 22000,
      { 0x440, 0x448, 0x5a8, 0x5e0, 0x468, 0x550 },
      { 0x4c8, 0x520, 0x538, 0x480, 0x500, 0x578, 0x580, 0x588 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "JP") },
    /* Windows 11 22H2/23H2 x64 (22621, 22631 = 22621 + enablement package)
     * [VG 22621.382 and 22631.2428; EO for 22621 UniqueProcessId/
     * ActiveProcessLinks]. */
    { "win11-22621-x64", DT_ARCH_AMD64, 22621, 22631,
      { 0x440, 0x448, 0x5a8, 0x5e0, 0x468, 0x550 },
      { 0x4c8, 0x520, 0x538, 0x480, 0x500, 0x578, 0x580, 0x588 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "ND") },
    /* Windows 11 24H2 ARM64 (build 26100) [ND Win11_2409_24H2 ARM64
     * ntoskrnl.exe]: ETHREAD and the KDBG-visible KTHREAD fields equal the
     * 22000 ARM64 row; EPROCESS moved (KPROCESS 0x1b8).  No ARM64 ALPC
     * layout is known (docs/kernel_offsets.md "ALPC"), so no ALPC decoding. */
    { "win11-26100-arm64", DT_ARCH_ARM64, 26100, 26100,
      { 0x1c0, 0x1c8, 0x328, 0x360, 0x1e8, 0x2d0 },
      { 0x4e8, 0x540, 0x558, 0x4a0, 0x520, 0x598, 0x5a0, 0x5a8 },
      { 0x17c, 0x2a3, 0x17f, 0x6c, 4, 0x1ac, 0xc8, 0x2ac, 0x2fc, 0xe8, 0xb0, 0x26b }, NULL, SOURCES("ND") },
    /* Windows 10 1809 / Server 2019 x64 (build 17763) [ND Win10_1809_RS5
     * x64 and VG 17763.107 agree on every value; GC, JP too]. */
    { "win10-17763-x64", DT_ARCH_AMD64, 17763, 17763,
      { 0x2e0, 0x2e8, 0x450, 0x488, 0x308, 0x3f8 },
      { 0x638, 0x690, 0x6a8, 0x5f0, 0x670, 0x6e0, 0x6e8, 0x6f0 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "GC", "JP") },
    /* Windows 10 1903/1909 x64 [RZ WIN10_19H1 and VG 18362.30/.418 for the
     * identity fields; VG alone for CreateTime and KTHREAD; GC and JP
     * 18362.30 to .836 agree on every value]. */
    { "win10-18362-x64", DT_ARCH_AMD64, 18362, 18363,
      { 0x2e8, 0x2f0, 0x450, 0x488, 0x310, 0x3f8 },
      { 0x648, 0x6a0, 0x6b8, 0x600, 0x680, 0x6f0, 0x6f8, 0x700 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "GC", "JP") },
    /* Windows 10 1803 x64 [RZ WIN10_RS4 and VG 17134.1; VG alone for
     * CreateTime and KTHREAD]. */
    { "win10-17134-x64", DT_ARCH_AMD64, 17134, 17134,
      { 0x2e0, 0x2e8, 0x450, 0x488, 0x308, 0x3f8 },
      { 0x638, 0x690, 0x6a8, 0x5f0, 0x670, 0x6e0, 0x6e8, 0x6f0 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "GC") },
    /* Windows 10 1607 / Server 2016 x64 [RZ WIN10_RS1 and VG 14393.0; VG
     * alone for CreateTime and KTHREAD; GC and JP 14393.4583 to .6343
     * agree on every value]. */
    { "win10-14393-x64", DT_ARCH_AMD64, 14393, 14393,
      { 0x2e8, 0x2f0, 0x450, 0x488, 0x308, 0x3f8 },
      { 0x630, 0x688, 0x698, 0x5e0, 0x668, 0x6d0, 0x6d8, 0x6e0 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("VG", "GC", "JP") },
    /* Windows Server 2022 x64 (build 20348) [JP 20348.288 to .2529, every
     * value; the only per-member listing of 20348 found]: the same offsets
     * as the 22000 x64 row (EPROCESS as 19041, ETHREAD as 22000).  Last, so
     * the validation order of the other rows is unchanged. */
    { "win-server-2022-20348-x64", DT_ARCH_AMD64, 20348, 20348,
      { 0x440, 0x448, 0x5a8, 0x5e0, 0x468, 0x550 },
      { 0x4c8, 0x520, 0x538, 0x480, 0x500, 0x578, 0x580, 0x588 },
      { 0x184, 0x283, 0x187, 0x74, 4, 0x1b4, 0xd0, 0x28c, 0x2dc, 0xf0, 0xb8, 0x24b }, &alpc_x64, SOURCES("JP") },
};

void dt_kernel_offsets_init(dt_kernel_offsets *o)
{
    memset(o, 0xFF, sizeof *o);
    o->source = "unknown";
    o->table_name = NULL;
    o->table_sources = NULL;
}

static void fill(const layout *l, dt_kernel_offsets *o)
{
    o->eprocess_unique_process_id = l->ep[0];
    o->eprocess_active_process_links = l->ep[1];
    o->eprocess_image_file_name = l->ep[2];
    o->eprocess_thread_list_head = l->ep[3];
    o->eprocess_create_time = l->ep[4];
    o->eprocess_peb = l->ep[5];
    o->ethread_cid = l->et[0];
    o->ethread_win32_start_address = l->et[1];
    o->ethread_thread_list_entry = l->et[2];
    o->ethread_create_time = l->et[3];
    o->ethread_irp_list = l->et[4];
    o->ethread_alpc_message_id = l->et[5];
    o->ethread_alpc_message = l->et[6];
    o->ethread_alpc_wait_list_entry = l->et[7];
    o->kthread_state = l->kt[0];
    o->kthread_wait_reason = l->kt[1];
    o->kthread_wait_mode = l->kt[2];
    o->kthread_misc_flags = l->kt[3];
    o->kthread_alertable_bit = l->kt[4];
    o->kthread_wait_time = l->kt[5];
    o->kthread_wait_block_list = l->kt[6];
    o->kthread_kernel_time = l->kt[7];
    o->kthread_user_time = l->kt[8];
    o->kthread_teb = l->kt[9];
    o->kthread_apc_process = l->kt[10];
    o->kthread_wait_block_count = l->kt[11];
    /* Stable since Vista x64 / Win8 ARM (all sources agree; KDBG confirms). */
    o->eprocess_directory_table_base = 0x28;
    o->kthread_initial_stack = 0x28;
    o->kthread_stack_limit = 0x30;
    o->kthread_stack_base = 0x38;
    o->kthread_kernel_stack = 0x58;
    o->prcb_current_thread = 0x8;
    o->prcb_idle_thread = 0x18;
    o->table_name = l->name;
    dt_kernel_io_offsets_64(&o->io);
    o->table_sources = l->sources;
    /* The ALPC structures only matter where the ETHREAD points at them. */
    if (l->alpc && l->et[6] != U)
        o->alpc = *l->alpc;
}

/* wdm.h declares these structures the same for every 64-bit target; the
 * offsets below are [VG] 19041.1288 and 22631.2428 x64 (identical in both
 * and in every x64 build between) and what the -mk writer reads
 * (docs/formats.md D).  ARM64 uses the same declarations [I]. */
void dt_kernel_io_offsets_64(dt_kernel_io_offsets *io)
{
    io->irp_size = 0xd0;
    io->irp_flags = 0x10;
    io->irp_thread_list_entry = 0x20;
    io->irp_io_status = 0x30;
    io->irp_requestor_mode = 0x40;
    io->irp_pending_returned = 0x41;
    io->irp_stack_count = 0x42;
    io->irp_current_location = 0x43;
    io->irp_cancel = 0x44;
    io->irp_user_event = 0x50;
    io->irp_thread = 0x98;                  /* Tail.Overlay.Thread */
    io->irp_current_stack_location = 0xb8;  /* Tail.Overlay.CurrentStackLocation */
    io->irp_original_file_object = 0xc0;
    io->stack_size = 0x48;
    io->stack_parameters = 0x08;
    io->stack_device_object = 0x28;
    io->stack_file_object = 0x30;
    io->file_size = 0xd8;
    io->file_device_object = 0x08;
    io->file_flags = 0x50;
    io->file_name = 0x58;
    io->device_driver_object = 0x08;
    io->device_attached_device = 0x18;
    io->device_current_irp = 0x20;
    io->device_flags = 0x30;
    io->device_type = 0x48;
    io->driver_size = 0x150;
    io->driver_start = 0x18;
    io->driver_driver_size = 0x20;
    io->driver_name = 0x38;
}

bool dt_kernel_offsets_from_table(uint32_t build, dt_cpu_arch arch, dt_kernel_offsets *o)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        const layout *l = &layouts[i];
        if (l->arch == arch && build >= l->build_min && build <= l->build_max) {
            fill(l, o);
            o->source = "table";
            return true;
        }
    }
    return false;
}

bool dt_kernel_offsets_candidate(dt_cpu_arch arch, size_t i, dt_kernel_offsets *o)
{
    size_t seen = 0;
    for (size_t k = 0; k < sizeof layouts / sizeof layouts[0]; k++) {
        if (layouts[k].arch != arch)
            continue;
        if (seen++ == i) {
            dt_kernel_offsets_init(o);
            fill(&layouts[k], o);
            o->source = "validated";
            return true;
        }
    }
    return false;
}

bool dt_kernel_offsets_layout_info(size_t i, dt_kernel_layout_info *info)
{
    if (i >= sizeof layouts / sizeof layouts[0])
        return false;
    const layout *l = &layouts[i];
    info->name = l->name;
    info->arch = l->arch;
    info->build_min = l->build_min;
    info->build_max = l->build_max;
    info->sources = l->sources;
    return true;
}

void dt_kernel_offsets_apply_kdbg(dt_kernel_offsets *o, const dt_kdbg *k)
{
#define SET(field, v) do { if ((v) != 0) o->field = (v); } while (0)
    SET(kthread_kernel_stack, k->kthread_kernel_stack);
    SET(kthread_initial_stack, k->kthread_initial_stack);
    SET(kthread_stack_limit, k->kthread_stack_limit);
    SET(kthread_stack_base, k->kthread_stack_base);
    SET(kthread_apc_process, k->kthread_apc_process);
    SET(kthread_teb, k->kthread_teb);
    SET(kthread_state, k->kthread_state);
    SET(kthread_wait_reason, k->kthread_wait_reason);
    SET(eprocess_peb, k->eprocess_peb);
    SET(eprocess_directory_table_base, k->eprocess_directory_table_base);
    SET(prcb_current_thread, k->prcb_current_thread);
    SET(prcb_idle_thread, k->prcb_idle_thread);
    SET(prcb_context, k->prcb_context);
    SET(prcb_number, k->prcb_number);
    SET(size_eprocess, k->size_eprocess);
    SET(size_ethread, k->size_ethread);
    SET(size_prcb, k->size_prcb);
#undef SET
}

size_t dt_kernel_offsets_apply_provider(dt_kernel_offsets *o, dt_kernel_field_offset_fn fn, void *ctx)
{
    if (!fn)
        return 0;
    static const struct {
        const char *type, *field;
        size_t off;
    } q[] = {
        { "_EPROCESS", "UniqueProcessId", offsetof(dt_kernel_offsets, eprocess_unique_process_id) },
        { "_EPROCESS", "ActiveProcessLinks", offsetof(dt_kernel_offsets, eprocess_active_process_links) },
        { "_EPROCESS", "ImageFileName", offsetof(dt_kernel_offsets, eprocess_image_file_name) },
        { "_EPROCESS", "ThreadListHead", offsetof(dt_kernel_offsets, eprocess_thread_list_head) },
        { "_EPROCESS", "CreateTime", offsetof(dt_kernel_offsets, eprocess_create_time) },
        { "_ETHREAD", "Cid", offsetof(dt_kernel_offsets, ethread_cid) },
        { "_ETHREAD", "Win32StartAddress", offsetof(dt_kernel_offsets, ethread_win32_start_address) },
        { "_ETHREAD", "ThreadListEntry", offsetof(dt_kernel_offsets, ethread_thread_list_entry) },
        { "_ETHREAD", "CreateTime", offsetof(dt_kernel_offsets, ethread_create_time) },
        { "_ETHREAD", "IrpList", offsetof(dt_kernel_offsets, ethread_irp_list) },
        { "_ETHREAD", "AlpcMessageId", offsetof(dt_kernel_offsets, ethread_alpc_message_id) },
        { "_ETHREAD", "AlpcMessage", offsetof(dt_kernel_offsets, ethread_alpc_message) },
        { "_ETHREAD", "AlpcWaitListEntry", offsetof(dt_kernel_offsets, ethread_alpc_wait_list_entry) },
        { "_KTHREAD", "State", offsetof(dt_kernel_offsets, kthread_state) },
        { "_KTHREAD", "WaitReason", offsetof(dt_kernel_offsets, kthread_wait_reason) },
        { "_KTHREAD", "WaitMode", offsetof(dt_kernel_offsets, kthread_wait_mode) },
        { "_KTHREAD", "MiscFlags", offsetof(dt_kernel_offsets, kthread_misc_flags) },
        { "_KTHREAD", "WaitTime", offsetof(dt_kernel_offsets, kthread_wait_time) },
        { "_KTHREAD", "WaitBlockList", offsetof(dt_kernel_offsets, kthread_wait_block_list) },
        { "_KTHREAD", "KernelTime", offsetof(dt_kernel_offsets, kthread_kernel_time) },
        { "_KTHREAD", "UserTime", offsetof(dt_kernel_offsets, kthread_user_time) },
        { "_KTHREAD", "KernelStack", offsetof(dt_kernel_offsets, kthread_kernel_stack) },
        { "_KTHREAD", "StackBase", offsetof(dt_kernel_offsets, kthread_stack_base) },
        { "_KTHREAD", "StackLimit", offsetof(dt_kernel_offsets, kthread_stack_limit) },
    };
    size_t n = 0;
    for (size_t i = 0; i < sizeof q / sizeof q[0]; i++) {
        uint32_t v;
        if (fn(ctx, q[i].type, q[i].field, &v)) {
            memcpy((char *)o + q[i].off, &v, sizeof v);
            n++;
        }
    }
    if (n) {
        o->source = "pdb";
        /* Alertable is bit 4 of MiscFlags in every public Win10+ layout. */
        if (o->kthread_misc_flags != DT_OFF_UNKNOWN && o->kthread_alertable_bit == DT_OFF_UNKNOWN)
            o->kthread_alertable_bit = 4;
    }
    return n;
}
