/*
 * kdump_triage.h — kernel triage dumps (DumpType 4): TRIAGE_DUMP64 at 0x2000.
 *
 * A triage dump (minidump of the kernel, Mini*.dmp, live triage dumps such as
 * procdump -mk's .Kernel.dmp) holds no physical memory.  It holds copies of
 * the bugchecking PRCB, EPROCESS, ETHREAD, the current call stack, the
 * driver list, the KDDEBUGGER_DATA64 block, and "data blocks": ranges of
 * kernel virtual memory stored verbatim.  This file decodes the header and
 * those tables (docs/formats.md C); kernel_memory.h turns them into an
 * address space.  Everything here points into the file (views) except the
 * block array, the unloaded-driver array and the module list, which the
 * struct owns.
 */
#ifndef DT_FORMATS_KDUMP_TRIAGE_H
#define DT_FORMATS_KDUMP_TRIAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "formats/kdbg.h"
#include "formats/kdump.h"
#include "base/view.h"
#include "base/module.h"
#include "base/error.h"

#define DT_TRIAGE_VALID 0x44475254u /* bytes "TRGD" */

typedef struct {
    uint64_t va;
    uint64_t file_offset;
    uint64_t size;
} dt_triage_block;

typedef struct {
    char name[64];          /* UTF-8, as stored (may be cut at 12 chars) */
    uint64_t start, end;
} dt_unloaded_driver;

typedef struct {
    uint32_t size_of_dump;
    uint32_t valid_offset;
    uint32_t mm_offset;
    uint32_t prcb_offset, process_offset, thread_offset;
    uint32_t callstack_offset, callstack_size;
    uint32_t driver_list_offset, driver_count;
    uint32_t string_pool_offset, string_pool_size;
    uint32_t unloaded_offset;
    uint32_t debugger_data_offset, debugger_data_size;
    uint32_t data_blocks_offset, data_blocks_count;
    uint64_t top_of_stack;
    bool valid_signature;

    dt_view prcb, eprocess, ethread, callstack, kdbg_copy;   /* into the file; empty when absent */
    bool has_kdbg;
    dt_kdbg kdbg;

    dt_triage_block *blocks;   /* owned, in file order */
    size_t block_count;
    dt_module_list drivers;    /* owned */
    dt_unloaded_driver *unloaded; /* owned */
    size_t unloaded_count;
} dt_kdump_triage;

/* Parses the triage part of a 64-bit DumpType 4 dump.  Damaged tables are
 * warnings; only a missing/short TRIAGE_DUMP header is an error.  The
 * caller frees with dt_kdump_triage_free. */
dt_status dt_kdump_triage_parse(dt_view file, const dt_kdump *hdr, dt_kdump_triage *out,
                                dt_warnings *warnings, dt_error *err);
void dt_kdump_triage_free(dt_kdump_triage *t);

#endif
