/*
 * kernel_memory.h — kernel virtual memory of a kernel dump as a dt_addrspace.
 *
 * Two backings behind one interface:
 *  - triage dumps: a VA → file map built from the data blocks plus the
 *    copies the triage header names (KDBG, call stack, PRCB, EPROCESS,
 *    ETHREAD), docs/formats.md C.3;
 *  - full/bitmap dumps: the page tables at DirectoryTableBase, walked over
 *    the dump's physical pages (vtop_walk.h) for each read.
 * Nothing is copied: regions point into the mapped file.  The struct owns
 * only its region index; the file and dt_kdump must outlive it.
 */
#ifndef DT_MEMORY_KERNEL_MEMORY_H
#define DT_MEMORY_KERNEL_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/cpu_context.h"
#include "formats/kdump.h"
#include "base/addrspace.h"
#include "memory/vtop_walk.h"
#include "base/error.h"

typedef struct {
    uint64_t va;
    uint64_t size;
    const uint8_t *data;
} dt_kmem_region;

typedef enum { DT_KMEM_NONE = 0, DT_KMEM_REGIONS, DT_KMEM_PAGED } dt_kmem_kind;

typedef struct {
    dt_kmem_kind kind;
    unsigned pointer_size;
    /* regions (triage) */
    dt_kmem_region *regions;
    uint64_t *max_end;       /* max end of regions[0..i], for overlap lookups */
    size_t count, cap;
    bool sorted;
    /* paged (full/bitmap) */
    const dt_kdump *kd;
    dt_view file;
    dt_cpu_arch arch;
    uint64_t dtb;
    bool pae;
    dt_phys_reader phys;
    /* one-entry translation cache: consecutive reads hit the same page */
    uint64_t cache_vpage, cache_ppage;
    bool cache_valid;
} dt_kernel_memory;

/* Region-backed memory (triage).  Add regions, then dt_kmem_seal. */
void dt_kmem_init_regions(dt_kernel_memory *m, unsigned pointer_size);
dt_status dt_kmem_add_region(dt_kernel_memory *m, uint64_t va, const uint8_t *data, uint64_t size);
dt_status dt_kmem_seal(dt_kernel_memory *m);

/* Page-table-backed memory over a full/bitmap dump. */
dt_status dt_kmem_init_paged(dt_kernel_memory *m, const dt_kdump *kd, dt_view file, uint64_t dtb, dt_error *err);

/* Physical reads (paged memory only); false when any byte is missing. */
bool dt_kmem_phys_read(const dt_kernel_memory *m, uint64_t pa, void *buf, size_t len);
/* Translates one VA (paged memory only). */
dt_vtop_status dt_kmem_translate(dt_kernel_memory *m, uint64_t va, dt_vtop_result *out);

/* The address space view; valid while m lives. */
dt_addrspace dt_kmem_addrspace(dt_kernel_memory *m);
void dt_kmem_free(dt_kernel_memory *m);

#endif
