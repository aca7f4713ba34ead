/*
 * kdump.h — Windows kernel crash dump files (PAGEDU64 / PAGEDUMP): the
 * DUMP_HEADER64/32 and the physical-memory layouts behind it.
 *
 * A kernel dump is a fixed header (0x2000 bytes for 64-bit, 0x1000 for
 * 32-bit) followed by one of: a list of physical memory runs (full dumps,
 * type 1), a bitmap of present physical pages (types 5 and 6, signatures
 * SDMP/FDMP, also used by live dumps), an RDMP bitmap (types 8–10) or a
 * triage dump (type 4, see kdump_triage.h).  This file parses the header and
 * answers "where in the file is physical page N"; it never copies page data.
 * Header fields that still hold the filler "PAGE" are absent, not values
 * (docs/formats.md B.1).
 */
#ifndef DT_FORMATS_KDUMP_H
#define DT_FORMATS_KDUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu_context.h"
#include "base/view.h"
#include "base/error.h"

#define DT_KDUMP_PAGE_FILLER 0x45474150u /* "PAGE" */
#define DT_KDUMP_PAGE_SIZE 0x1000u

enum {
    DT_KDUMP_TYPE_FULL = 1,
    DT_KDUMP_TYPE_SUMMARY = 2,
    DT_KDUMP_TYPE_HEADER = 3,
    DT_KDUMP_TYPE_TRIAGE = 4,
    DT_KDUMP_TYPE_BITMAP_FULL = 5,
    DT_KDUMP_TYPE_BITMAP_KERNEL = 6,
    DT_KDUMP_TYPE_AUTOMATIC = 7,
    DT_KDUMP_TYPE_RDMP_KERNEL = 8,
    DT_KDUMP_TYPE_RDMP_KERNEL_USER = 9,
    DT_KDUMP_TYPE_RDMP_COMPLETE = 10,
};

/* How physical pages are located in the file. */
typedef enum {
    DT_KDUMP_PHYS_NONE = 0,   /* triage / header-only: no physical memory */
    DT_KDUMP_PHYS_RUNS,       /* PHYSICAL_MEMORY_DESCRIPTOR runs */
    DT_KDUMP_PHYS_BITMAP,     /* SDMP/FDMP/RDMP bitmap of present pages */
} dt_kdump_phys_kind;

typedef struct {
    uint64_t base_page;
    uint64_t page_count;
    uint64_t file_offset;     /* of base_page */
} dt_kdump_run;

typedef struct {
    bool is64;
    uint32_t major_version;   /* 0xF free, 0xC checked */
    uint32_t build;           /* MinorVersion: the NT build number */
    uint64_t directory_table_base;
    uint64_t pfn_database;
    uint64_t ps_loaded_module_list;
    uint64_t ps_active_process_head;
    uint32_t machine;         /* IMAGE_FILE_MACHINE_* */
    dt_cpu_arch arch;
    uint32_t processors;
    uint32_t bugcheck_code;
    uint64_t bugcheck_params[4];
    uint64_t kd_debugger_data_block;   /* VA, 0 when absent */
    bool pae_enabled;                  /* 32-bit only */
    uint32_t dump_type;
    bool has_dump_type;
    uint64_t required_dump_space;
    uint64_t system_time;              /* FILETIME, 0 when absent */
    uint64_t system_uptime;            /* 100 ns units, 0 when absent */
    char comment[129];                 /* "" when absent */
    uint32_t minidump_fields;          /* triage TRIAGE_DUMP_* bits */
    uint32_t product_type, suite_mask;
    uint32_t attributes;               /* DUMP_FILE_ATTRIBUTES */
    bool has_attributes;
    uint32_t header_size;              /* 0x2000 or 0x1000 */
    dt_view context_record;            /* into the file */
    dt_view exception_record;          /* EXCEPTION_RECORD64/32, into the file */
    uint32_t exception_code;
    uint64_t exception_address;

    dt_kdump_phys_kind phys_kind;
    dt_kdump_run *runs;                /* owned; sorted by base_page */
    size_t run_count;
    uint64_t pages_claimed;            /* pages the layout says are stored */
    uint64_t pages_in_file;            /* of those, how many the file holds */
    /* bitmap layouts */
    dt_view bitmap;                    /* into the file */
    uint64_t bitmap_bits;
    uint64_t first_page_offset;
    uint64_t *bitmap_rank;             /* owned: set bits before each 4096-bit chunk */
    char bitmap_signature[5];          /* "SDMP", "FDMP", "RDMP" or "" */

    bool truncated;                    /* the file ends before the pages it claims */
    uint64_t file_size;
    uint64_t expected_size;            /* what the layout needs, 0 when unknown */
} dt_kdump;

/* Parses the header and physical layout of a kernel dump held in `file`
 * (which must outlive *out).  Truncation is not an error: it sets
 * out->truncated and adds a warning.  Free with dt_kdump_free. */
dt_status dt_kdump_parse(dt_view file, dt_kdump *out, dt_warnings *warnings, dt_error *err);
void dt_kdump_free(dt_kdump *kd);

/* The 4 KiB of physical page pfn in the file, or NULL when the dump does
 * not hold it (absent from the layout or cut off by truncation). */
const uint8_t *dt_kdump_phys_page(const dt_kdump *kd, dt_view file, uint64_t pfn);

/* "full", "kernel_bitmap", "triage", … for a DumpType value. */
const char *dt_kdump_type_name(uint32_t dump_type);
/* Symbolic name of a bugcheck code ("KMODE_EXCEPTION_NOT_HANDLED_M"), or
 * NULL when not in the table (bugcheck_names.c). */
const char *dt_bugcheck_name(uint32_t code);

#endif
