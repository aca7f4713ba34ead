/*
 * kdbg.h — KDDEBUGGER_DATA64 ("KDBG"): the kernel's own table of global
 * addresses and structure offsets that debuggers rely on.
 *
 * It gives what a dump analyzer needs before it has any symbols: the list
 * heads, KiProcessorBlock, and the KTHREAD/PRCB offsets for stacks, state
 * and wait reason (docs/formats.md B.5).  The header's `Size` bounds every
 * field read; fields past it stay 0 (unknown).  In live memory of Win8+ x64
 * the block is usually encoded; dt_kdbg_decode undoes that when the caller
 * can supply KiWaitNever/KiWaitAlways, and dt_kdbg_parse reports whether
 * the block it was given is plain ('KDBG' tag present).
 */
#ifndef DT_FORMATS_KDBG_H
#define DT_FORMATS_KDBG_H

#include <stdbool.h>
#include <stdint.h>

#include "base/view.h"
#include "base/error.h"

#define DT_KDBG_TAG 0x4742444Bu /* "KDBG" */

typedef struct {
    uint32_t size;
    uint64_t kern_base;
    uint64_t ps_loaded_module_list;
    uint64_t ps_active_process_head;
    uint64_t psp_cid_table;
    uint64_t mm_pfn_database;
    uint64_t nt_build_lab;
    uint64_t ki_processor_block;
    uint64_t mm_unloaded_drivers;
    uint16_t kthread_next_processor;
    uint16_t kthread_teb;
    uint16_t kthread_kernel_stack;
    uint16_t kthread_initial_stack;
    uint16_t kthread_apc_process;
    uint16_t kthread_state;
    uint16_t size_eprocess;
    uint16_t eprocess_peb;
    uint16_t eprocess_parent_cid;
    uint16_t eprocess_directory_table_base;
    uint16_t size_prcb;
    uint16_t prcb_current_thread;
    uint16_t prcb_proc_state_context;
    uint16_t prcb_number;
    uint16_t size_ethread;
    uint16_t prcb_context;
    uint32_t kthread_stack_limit;
    uint32_t kthread_stack_base;
    uint16_t prcb_idle_thread;
    uint16_t kthread_wait_reason;
    uint64_t pte_base;
} dt_kdbg;

/* Decodes a plain KDDEBUGGER_DATA64 from v (a view starting at the block).
 * DT_ERR_FORMAT when the 'KDBG' tag is missing (encoded or not a KDBG). */
dt_status dt_kdbg_parse(dt_view v, dt_kdbg *out, dt_error *err);

/* Undoes the Win8+ x64 encoding in place over n bytes (a multiple of 8):
 * w ^= wait_never; w = rotl(w, wait_never & 0xFF); w ^= block_va;
 * w = bswap(w); w ^= wait_always  [S: MemProcFS].  block_va is the
 * address of the encoded block (KdpDataBlockEncoded). */
void dt_kdbg_decode(uint8_t *buf, size_t n, uint64_t wait_never, uint64_t wait_always, uint64_t block_va);

/* Decodes the block in place without KiWaitNever/KiWaitAlways, from two
 * fields whose plain values the dump header also holds (docs/kernel.md
 * "Encoded KDBG"): every step of the encoding is an XOR, a rotation or a
 * byte swap, so for two qwords of the block plain_j ^ plain_i =
 * bswap(rotl(enc_j ^ enc_i, r)) with r = KiWaitNever & 63, and one known
 * qword decodes all others.  PsLoadedModuleList (+0x48) is the known
 * qword; r is the one rotation of 64 that also gives the 'KDBG' tag with a
 * plausible Size (+0x10) and PsActiveProcessHead (+0x50, when non-zero).
 * False (buf untouched) when no rotation fits. */
bool dt_kdbg_decode_known(uint8_t *buf, size_t n, uint64_t ps_loaded_module_list, uint64_t ps_active_process_head);

#endif
