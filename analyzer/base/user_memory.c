/*
 * user_memory.c — the minidump memory index behind dt_addrspace (see
 * user_memory.h).
 *
 * Ranges are collected in any order, then sorted by start address once (ties
 * broken by insertion order, so a memory-list range beats the thread-stack
 * descriptor that usually repeats it).  Overlaps are resolved in that sweep by
 * trimming the later range, so every lookup afterwards is a plain binary
 * search over disjoint ranges.
 */
#include "base/user_memory.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    dt_user_range r;
    size_t order;        /* insertion order: lower wins overlaps */
} ranked_range;

static size_t um_read(void *ctx, uint64_t va, void *buf, size_t len);
static const uint8_t *um_map(void *ctx, uint64_t va, size_t *avail);

void dt_user_memory_init(dt_user_memory *m, dt_view file, unsigned pointer_size)
{
    memset(m, 0, sizeof *m);
    m->file = file;
    m->as.ctx = m;
    m->as.read = um_read;
    m->as.map = um_map;
    m->as.pointer_size = pointer_size == 4 ? 4 : 8;
}

bool dt_user_memory_add(dt_user_memory *m, uint64_t start, uint64_t size, uint64_t rva)
{
    uint64_t avail = rva < m->file.size ? m->file.size - rva : 0;
    uint64_t keep = size < avail ? size : avail;
    /* Wrap-around ranges cannot be addressed; keep what fits below 2^64. */
    if (keep && start + keep - 1 < start)
        keep = UINT64_MAX - start + 1;
    m->clipped_bytes += size - keep;
    if (keep == 0)
        return true;
    if (m->count == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        dt_user_range *n = realloc(m->ranges, ncap * sizeof *n);
        if (!n)
            return false;
        m->ranges = n;
        m->cap = ncap;
    }
    m->ranges[m->count++] = (dt_user_range){ start, keep, rva };
    m->sorted = false;
    return true;
}

static int by_start_then_order(const void *a, const void *b)
{
    const ranked_range *x = a, *y = b;
    if (x->r.start != y->r.start)
        return x->r.start < y->r.start ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void dt_user_memory_finish(dt_user_memory *m)
{
    m->sorted = true;
    m->total_bytes = 0;
    if (m->count == 0)
        return;
    ranked_range *tmp = malloc(m->count * sizeof *tmp);
    if (!tmp) {
        /* Without scratch space fall back to dropping the index: reads then
         * report everything missing rather than search an unsorted array. */
        m->count = 0;
        return;
    }
    for (size_t i = 0; i < m->count; i++)
        tmp[i] = (ranked_range){ m->ranges[i], i };
    qsort(tmp, m->count, sizeof *tmp, by_start_then_order);

    /* Sweep in address order; a range overlapping the last kept one is
     * trimmed to the part past it, or dropped when wholly inside. */
    size_t n = 0;
    for (size_t i = 0; i < m->count; i++) {
        ranked_range cur = tmp[i];
        if (n > 0) {
            const ranked_range *prev = &tmp[n - 1];
            uint64_t prev_end = prev->r.start + prev->r.size;
            if (cur.r.start < prev_end) {
                uint64_t cur_end = cur.r.start + cur.r.size;
                m->overlaps_dropped++;
                if (cur_end <= prev_end)
                    continue;
                uint64_t skip = prev_end - cur.r.start;
                cur.r.start += skip;
                cur.r.rva += skip;
                cur.r.size -= skip;
            }
        }
        tmp[n++] = cur;
    }
    for (size_t i = 0; i < n; i++) {
        m->ranges[i] = tmp[i].r;
        m->total_bytes += tmp[i].r.size;
    }
    m->count = n;
    free(tmp);
}

void dt_user_memory_free(dt_user_memory *m)
{
    free(m->ranges);
    m->ranges = NULL;
    m->count = m->cap = 0;
}

const dt_addrspace *dt_user_memory_addrspace(const dt_user_memory *m)
{
    return &m->as;
}

const dt_user_range *dt_user_memory_find(const dt_user_memory *m, uint64_t va)
{
    if (!m->sorted)
        return NULL;
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->ranges[mid].start <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0)
        return NULL;
    const dt_user_range *r = &m->ranges[lo - 1];
    return va - r->start < r->size ? r : NULL;
}

static const uint8_t *um_map(void *ctx, uint64_t va, size_t *avail)
{
    const dt_user_memory *m = ctx;
    const dt_user_range *r = dt_user_memory_find(m, va);
    if (!r) {
        if (avail)
            *avail = 0;
        return NULL;
    }
    uint64_t off = va - r->start;
    /* Ranges were clipped to the file when added, so this holds. */
    const uint8_t *p = dt_view_ptr(m->file, r->rva + off, r->size - off);
    if (avail)
        *avail = p ? (size_t)(r->size - off) : 0;
    return p;
}

static size_t um_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    size_t done = 0;
    uint8_t *out = buf;
    while (done < len) {
        size_t avail = 0;
        const uint8_t *p = um_map(ctx, va, &avail);
        if (!p || avail == 0)
            break;
        size_t n = avail < len - done ? avail : len - done;
        memcpy(out + done, p, n);
        done += n;
        if (va + n < va)
            break;
        va += n;
    }
    return done;
}
