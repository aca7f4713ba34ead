/*
 * kernel_offsets.h — where the fields we read live inside EPROCESS, ETHREAD
 * (KTHREAD) and KPRCB for one Windows build and architecture.
 *
 * These layouts change with nearly every build, and the dump does not say
 * them except for the subset in KDDEBUGGER_DATA64.  Resolution order, per
 * field (docs/kernel_offsets.md):
 *   1. a caller-supplied provider (PDB type info for ntkrnlmp.pdb),
 *   2. KDDEBUGGER_DATA64 (stacks, State, WaitReason, ApcState.Process, …),
 *   3. a built-in table of public layouts per (build, machine),
 *   4. for an unknown build: each known layout of the same machine is tried
 *      and kept only if it passes checks on the dump itself
 *      (kernel_dump.c: Cid.UniqueProcess == EPROCESS.UniqueProcessId, a
 *      printable ImageFileName, plausible TIDs).
 * DT_OFF_UNKNOWN marks a field nobody could vouch for; readers skip it.
 */
#ifndef DT_MODEL_KERNEL_OFFSETS_H
#define DT_MODEL_KERNEL_OFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu_context.h"
#include "formats/kdbg.h"

#define DT_OFF_UNKNOWN UINT32_MAX

/* IRP, IO_STACK_LOCATION, FILE_OBJECT, DEVICE_OBJECT, DRIVER_OBJECT. */
typedef struct {
    uint32_t irp_size;              /* sizeof(IRP): the stack locations follow it */
    uint32_t irp_flags, irp_thread_list_entry, irp_io_status, irp_requestor_mode, irp_pending_returned,
        irp_stack_count, irp_current_location, irp_cancel, irp_user_event, irp_thread,
        irp_current_stack_location, irp_original_file_object;
    uint32_t stack_size;            /* sizeof(IO_STACK_LOCATION) */
    uint32_t stack_parameters, stack_device_object, stack_file_object;
    uint32_t file_size, file_device_object, file_flags, file_name;
    uint32_t device_driver_object, device_attached_device, device_current_irp, device_flags,
        device_type;
    uint32_t driver_size, driver_start, driver_driver_size, driver_name;
} dt_kernel_io_offsets;

/* ALPC: what a thread in an ALPC/LPC wait points at (docs/kernel_offsets.md
 * "ALPC"): the _KALPC_MESSAGE it sent, the _ALPC_PORT it sits on, the
 * port's _ALPC_COMMUNICATION_INFO, and the object header that names a port
 * (_OBJECT_HEADER before the body, _OBJECT_HEADER_NAME_INFO before that). */
typedef struct {
    uint32_t msg_port_queue, msg_waiting_thread, msg_server_thread;
    uint32_t port_communication_info, port_owner_process, port_wait_queue, port_semaphore;
    uint32_t comm_connection_port;
    uint32_t header_body;           /* the object starts this far into its _OBJECT_HEADER */
    uint32_t header_info_mask;      /* _OBJECT_HEADER.InfoMask */
    uint32_t creator_info_size, name_info_size, name_info_directory, name_info_name;
} dt_kernel_alpc_offsets;

typedef struct {
    /* EPROCESS / KPROCESS */
    uint32_t eprocess_directory_table_base;
    uint32_t eprocess_unique_process_id;
    uint32_t eprocess_active_process_links;
    uint32_t eprocess_image_file_name;
    uint32_t eprocess_thread_list_head;
    uint32_t eprocess_create_time;
    uint32_t eprocess_peb;
    /* KTHREAD */
    uint32_t kthread_initial_stack;
    uint32_t kthread_stack_limit;
    uint32_t kthread_stack_base;
    uint32_t kthread_kernel_stack;
    uint32_t kthread_apc_process;   /* ApcState.Process */
    uint32_t kthread_teb;
    uint32_t kthread_state;
    uint32_t kthread_wait_reason;
    uint32_t kthread_wait_mode;
    uint32_t kthread_misc_flags;    /* Alertable is a bit of this u32 */
    uint32_t kthread_alertable_bit;
    uint32_t kthread_wait_time;
    uint32_t kthread_wait_block_list;
    uint32_t kthread_wait_block_count;
    uint32_t kthread_kernel_time;
    uint32_t kthread_user_time;
    /* ETHREAD */
    uint32_t ethread_create_time;
    uint32_t ethread_cid;
    uint32_t ethread_win32_start_address;
    uint32_t ethread_thread_list_entry;
    uint32_t ethread_irp_list;      /* LIST_ENTRY of the thread's IRPs (IRP.ThreadListEntry) */
    uint32_t ethread_alpc_message_id;   /* ULONG_PTR AlpcMessageId */
    uint32_t ethread_alpc_message;      /* PVOID AlpcMessage: the _KALPC_MESSAGE a client waits on */
    uint32_t ethread_alpc_wait_list_entry; /* LIST_ENTRY: a receiver's link in ALPC_PORT.WaitQueue */
    /* KPRCB */
    uint32_t prcb_current_thread;
    uint32_t prcb_idle_thread;
    uint32_t prcb_context;          /* the PCONTEXT member */
    uint32_t prcb_number;
    /* sizes */
    uint32_t size_eprocess, size_ethread, size_prcb;
    /* I/O objects (wdm.h layouts, the same in every 64-bit Windows 10/11
     * build; docs/kernel_offsets.md "I/O objects"): DT_OFF_UNKNOWN on
     * 32-bit or when no layout is known. */
    dt_kernel_io_offsets io;
    /* ALPC structures (per table row; identical in every x64 layout from
     * 14393 to 26100 for the members read): DT_OFF_UNKNOWN where the
     * ETHREAD's ALPC members or the row's ALPC layout are not known. */
    dt_kernel_alpc_offsets alpc;
    /* where the identity fields came from: "pdb", "table:NAME",
     * "validated:NAME" or "unknown" (static string) */
    const char *source;
    const char *table_name;
    /* the independent public listings the table row was checked against:
     * codes ("VG", "ND"; docs/kernel_offsets.md "Sources per row"),
     * NULL-terminated; NULL when no row was used (static) */
    const char *const *table_sources;
} dt_kernel_offsets;

/* PDB type-info provider: the offset of `field` ("Cid", "Tcb.State") in
 * `type` ("_ETHREAD"); false when unknown.  The symbol track's
 * dt_pdb_field_offset fits behind this. */
typedef bool (*dt_kernel_field_offset_fn)(void *ctx, const char *type, const char *field, uint32_t *offset);

/* All fields DT_OFF_UNKNOWN. */
void dt_kernel_offsets_init(dt_kernel_offsets *o);

/* Built-in layout for (build, arch); false when the build is not in the
 * table (o untouched). */
bool dt_kernel_offsets_from_table(uint32_t build, dt_cpu_arch arch, dt_kernel_offsets *o);

/* Candidate layouts for validation on an unknown build: the i-th known
 * layout of arch (i from 0); false past the last. */
bool dt_kernel_offsets_candidate(dt_cpu_arch arch, size_t i, dt_kernel_offsets *o);

/* The 64-bit I/O object layouts (IRP, IO_STACK_LOCATION, FILE_OBJECT,
 * DEVICE_OBJECT, DRIVER_OBJECT). */
void dt_kernel_io_offsets_64(dt_kernel_io_offsets *io);

/* One row of the built-in table: what it covers and the independent public
 * listings its values were checked against (kernel_offsets.c). */
typedef struct {
    const char *name;      /* "win11-26100-x64" */
    dt_cpu_arch arch;
    uint32_t build_min, build_max;
    const char *const *sources; /* {"VG", "ND", NULL}; docs/kernel_offsets.md "Sources per row" */
} dt_kernel_layout_info;

/* The i-th row of the table (i from 0); false past the last. */
bool dt_kernel_offsets_layout_info(size_t i, dt_kernel_layout_info *info);

/* Overrides what KDDEBUGGER_DATA64 states (non-zero fields only). */
void dt_kernel_offsets_apply_kdbg(dt_kernel_offsets *o, const dt_kdbg *k);

/* Asks the provider for every field; returns how many it answered. */
size_t dt_kernel_offsets_apply_provider(dt_kernel_offsets *o, dt_kernel_field_offset_fn fn, void *ctx);

#endif
