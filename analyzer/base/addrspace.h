/*
 * addrspace.h — a virtual address space over dump contents.
 *
 * Everything above the format parsers (the PE reader over a module image in
 * memory, the stack walker, the triage code reading a critical section) reads
 * target memory through this one interface, whatever backs it: a minidump's
 * memory lists, a kernel triage dump's data blocks, or page tables over a
 * full/bitmap dump's physical memory.  Reads may cross backing ranges; a gap
 * (a page the dump did not capture) ends the read, and the caller learns how
 * many bytes were there.
 */
#ifndef DT_BASE_ADDRSPACE_H
#define DT_BASE_ADDRSPACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct dt_addrspace dt_addrspace;

struct dt_addrspace {
    void *ctx;
    /* Copies up to len bytes starting at va into buf and returns how many
     * consecutive bytes were present (0 when va itself is missing). */
    size_t (*read)(void *ctx, uint64_t va, void *buf, size_t len);
    /* Optional, zero-copy: a pointer to the bytes at va and in *avail how many
     * follow contiguously in one backing range; NULL when va is missing. */
    const uint8_t *(*map)(void *ctx, uint64_t va, size_t *avail);
    /* Pointer size of the target in bytes (4 or 8). */
    unsigned pointer_size;
};

static inline size_t dt_as_read(const dt_addrspace *as, uint64_t va, void *buf, size_t len)
{
    return as && as->read ? as->read(as->ctx, va, buf, len) : 0;
}

/* True when all len bytes are present. */
static inline bool dt_as_read_exact(const dt_addrspace *as, uint64_t va, void *buf, size_t len)
{
    return dt_as_read(as, va, buf, len) == len;
}

static inline bool dt_as_u32(const dt_addrspace *as, uint64_t va, uint32_t *out)
{
    uint8_t b[4];
    if (!dt_as_read_exact(as, va, b, 4))
        return false;
    *out = (uint32_t)b[0] | ((uint32_t)b[1] << 8) | ((uint32_t)b[2] << 16) | ((uint32_t)b[3] << 24);
    return true;
}

static inline bool dt_as_u64(const dt_addrspace *as, uint64_t va, uint64_t *out)
{
    uint32_t lo, hi;
    if (!dt_as_u32(as, va, &lo) || !dt_as_u32(as, va + 4, &hi))
        return false;
    *out = (uint64_t)lo | ((uint64_t)hi << 32);
    return true;
}

/* A pointer-sized read (zero-extended on 32-bit targets). */
static inline bool dt_as_ptr(const dt_addrspace *as, uint64_t va, uint64_t *out)
{
    if (as && as->pointer_size == 4) {
        uint32_t v;
        if (!dt_as_u32(as, va, &v))
            return false;
        *out = v;
        return true;
    }
    return dt_as_u64(as, va, out);
}

#endif
