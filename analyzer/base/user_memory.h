/*
 * user_memory.h — a user-mode process's virtual memory as captured in a
 * minidump: a sorted, non-overlapping index of (virtual range → file offset)
 * built from MemoryList, Memory64List and thread stacks, exposed as a
 * dt_addrspace.
 *
 * Nothing is copied: `map` hands out pointers into the mapped dump, `read`
 * copies only what the caller asks for.  Lookups are binary searches, so a
 * full-memory dump with thousands of ranges costs O(log n) per access.  A
 * read that runs from one range into an adjacent one continues; a gap (a page
 * the dump did not capture) ends it.
 *
 * The index knows nothing of the minidump format (it maps virtual ranges to
 * offsets in any view), which is why the parser in formats/ may fill it
 * without the memory layer depending on formats.
 */
#ifndef DT_BASE_USER_MEMORY_H
#define DT_BASE_USER_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/view.h"
#include "base/addrspace.h"
#include "base/error.h"

typedef struct {
    uint64_t start;      /* virtual address */
    uint64_t size;       /* bytes present in the file (clipped to EOF) */
    uint64_t rva;        /* file offset of the first byte */
} dt_user_range;

typedef struct {
    dt_view file;        /* not owned */
    dt_user_range *ranges;
    size_t count, cap;
    bool sorted;
    uint64_t total_bytes;      /* sum of sizes after de-overlap */
    uint64_t clipped_bytes;    /* bytes the lists claimed but the file lacks */
    size_t overlaps_dropped;   /* ranges (or parts) dropped as duplicates */
    dt_addrspace as;
} dt_user_memory;

/* Starts an empty index over file.  Release with dt_user_memory_free. */
void dt_user_memory_init(dt_user_memory *m, dt_view file, unsigned pointer_size);
/* Adds a range whose bytes are at file offset rva.  Bytes beyond the end of
 * the file are clipped (counted in clipped_bytes); an empty result is ignored.
 * Returns false only on OOM. */
bool dt_user_memory_add(dt_user_memory *m, uint64_t start, uint64_t size, uint64_t rva);
/* Sorts and removes overlaps (the lower-addressed range keeps shared bytes).  Must be called
 * after the last add and before reads. */
void dt_user_memory_finish(dt_user_memory *m);
void dt_user_memory_free(dt_user_memory *m);

/* The address-space interface (valid while m lives). */
const dt_addrspace *dt_user_memory_addrspace(const dt_user_memory *m);

/* The range containing va, or NULL. */
const dt_user_range *dt_user_memory_find(const dt_user_memory *m, uint64_t va);

#endif
