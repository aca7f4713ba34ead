/*
 * view.h — bounds-checked, read-only views over bytes.
 *
 * Every parser reads its input through a dt_view: a pointer and a length that
 * the view itself never lets a read step outside of.  Accessors return false
 * instead of reading out of range, so a count, size or offset taken from a
 * hostile file can at worst produce "missing", never a wild read.  All
 * integers are little-endian and may be unaligned (MDMP packs u64s at odd
 * offsets), so they are assembled byte by byte.
 *
 * A view does not own its bytes: it lives as long as the mapping or buffer it
 * was taken from.
 */
#ifndef DT_BASE_VIEW_H
#define DT_BASE_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    const uint8_t *data;
    size_t size;
} dt_view;

static inline dt_view dt_view_make(const void *data, size_t size)
{
    dt_view v = { (const uint8_t *)data, data ? size : 0 };
    return v;
}

/* True when [off, off+len) lies inside the view (overflow-safe). */
static inline bool dt_view_has(dt_view v, uint64_t off, uint64_t len)
{
    return off <= v.size && len <= v.size - off;
}

/* A sub-view of [off, off+len); false (and an empty *out) when out of range. */
static inline bool dt_view_sub(dt_view v, uint64_t off, uint64_t len, dt_view *out)
{
    if (!dt_view_has(v, off, len)) {
        *out = dt_view_make(NULL, 0);
        return false;
    }
    /* An empty view may have no data at all: NULL + 0 is undefined in C. */
    *out = dt_view_make(v.data ? v.data + off : NULL, (size_t)len);
    return true;
}

/* The sub-view from off to the end, clipped: never fails, may be empty. */
static inline dt_view dt_view_tail(dt_view v, uint64_t off)
{
    if (off >= v.size)
        return dt_view_make(NULL, 0);
    return dt_view_make(v.data + off, v.size - (size_t)off);
}

/* A pointer to len bytes at off, or NULL. */
static inline const uint8_t *dt_view_ptr(dt_view v, uint64_t off, uint64_t len)
{
    return dt_view_has(v, off, len) && v.data ? v.data + off : NULL;
}

static inline bool dt_view_u8(dt_view v, uint64_t off, uint8_t *out)
{
    if (!dt_view_has(v, off, 1))
        return false;
    *out = v.data[off];
    return true;
}

static inline bool dt_view_u16(dt_view v, uint64_t off, uint16_t *out)
{
    if (!dt_view_has(v, off, 2))
        return false;
    const uint8_t *p = v.data + off;
    *out = (uint16_t)(p[0] | (p[1] << 8));
    return true;
}

static inline bool dt_view_u32(dt_view v, uint64_t off, uint32_t *out)
{
    if (!dt_view_has(v, off, 4))
        return false;
    const uint8_t *p = v.data + off;
    *out = (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
    return true;
}

static inline bool dt_view_u64(dt_view v, uint64_t off, uint64_t *out)
{
    uint32_t lo, hi;
    if (!dt_view_u32(v, off, &lo) || !dt_view_u32(v, off + 4, &hi))
        return false;
    *out = (uint64_t)lo | ((uint64_t)hi << 32);
    return true;
}

/* Copies len bytes at off into dst; false (dst untouched) when out of range. */
static inline bool dt_view_copy(dt_view v, uint64_t off, void *dst, size_t len)
{
    if (!dt_view_has(v, off, len))
        return false;
    if (len)
        memcpy(dst, v.data + off, len);
    return true;
}

/* Unchecked little-endian loads for callers that have already proven the
 * range with dt_view_has/dt_view_ptr (hot loops over arrays). */
static inline uint16_t dt_le16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t dt_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}
static inline uint64_t dt_le64(const uint8_t *p)
{
    return (uint64_t)dt_le32(p) | ((uint64_t)dt_le32(p + 4) << 32);
}

/*
 * How many elements of elem_size bytes starting at off can really be in the
 * view — the count a parser may use when the file claims `claimed`.
 * *clamped is set when the claim was larger (the caller warns).
 */
static inline uint64_t dt_view_clamp_count(dt_view v, uint64_t off, uint64_t elem_size,
                                           uint64_t claimed, bool *clamped)
{
    uint64_t fit = 0;
    if (elem_size && off <= v.size)
        fit = (v.size - off) / elem_size;
    if (clamped)
        *clamped = claimed > fit;
    return claimed > fit ? fit : claimed;
}

#endif
