/*
 * vtop_walk.h — virtual → physical translation by walking the page tables
 * stored in a full or bitmap kernel dump.
 *
 * One function per paging scheme: x64 4-level (4 KiB, 2 MiB, 1 GiB pages),
 * x86 PAE and non-PAE, ARM64 4 KiB-granule 4-level.  The tables are read
 * through a physical reader (the dump's pages), so a walk touches at most
 * four table pages.  Not-present entries follow Windows' software PTE
 * encodings where it is safe (docs/formats.md B.4): a transition PTE still
 * names a page in RAM and is accepted when the caller allows it; prototype,
 * pagefile and demand-zero entries are "not present".
 */
#ifndef DT_MEMORY_VTOP_WALK_H
#define DT_MEMORY_VTOP_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reads len bytes of physical memory at pa; false when any is missing. */
typedef bool (*dt_phys_read_fn)(void *ctx, uint64_t pa, void *buf, size_t len);

typedef struct {
    dt_phys_read_fn read;
    void *ctx;
    bool allow_transition;  /* read through transition PTEs (as WinDbg does) */
} dt_phys_reader;

typedef enum {
    DT_VTOP_OK = 0,
    DT_VTOP_NOT_PRESENT,    /* an entry is invalid, paged out or prototype */
    DT_VTOP_TABLE_MISSING,  /* a page-table page is not in the dump */
    DT_VTOP_BAD_ADDRESS,    /* non-canonical / outside the scheme */
} dt_vtop_status;

typedef struct {
    uint64_t pa;
    uint64_t page_size;     /* 4 KiB, 2/4 MiB or 1 GiB */
    bool transition;        /* reached through a transition PTE */
} dt_vtop_result;

dt_vtop_status dt_vtop_amd64(const dt_phys_reader *pr, uint64_t cr3, uint64_t va, dt_vtop_result *out);
dt_vtop_status dt_vtop_x86_pae(const dt_phys_reader *pr, uint64_t cr3, uint64_t va, dt_vtop_result *out);
dt_vtop_status dt_vtop_x86(const dt_phys_reader *pr, uint64_t cr3, uint64_t va, dt_vtop_result *out);
/* ttbr: the table base for the VA's half (TTBR1 for kernel addresses; the
 * dump header's DirectoryTableBase). */
dt_vtop_status dt_vtop_arm64(const dt_phys_reader *pr, uint64_t ttbr, uint64_t va, dt_vtop_result *out);

#endif
