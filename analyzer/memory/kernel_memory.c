/*
 * kernel_memory.c — the two kernel address-space backings (see header).
 *
 * Triage regions overlap (the call stack is stored as CallStack, again as a
 * data block, and as a page).  Regions are sorted by start and carry a
 * running maximum of their ends, so a lookup binary-searches the last region
 * starting at or below the address and walks back only while an earlier
 * region could still reach it.
 */
#include "memory/kernel_memory.h"

#include <stdlib.h>
#include <string.h>

void dt_kmem_init_regions(dt_kernel_memory *m, unsigned pointer_size)
{
    memset(m, 0, sizeof *m);
    m->kind = DT_KMEM_REGIONS;
    m->pointer_size = pointer_size ? pointer_size : 8;
}

dt_status dt_kmem_add_region(dt_kernel_memory *m, uint64_t va, const uint8_t *data, uint64_t size)
{
    if (!data || !size || va + size < va)
        return DT_OK;
    if (m->count == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 64;
        dt_kmem_region *n = realloc(m->regions, ncap * sizeof *n);
        if (!n)
            return DT_ERR_NOMEM;
        m->regions = n;
        m->cap = ncap;
    }
    m->regions[m->count].va = va;
    m->regions[m->count].size = size;
    m->regions[m->count].data = data;
    m->count++;
    m->sorted = false;
    return DT_OK;
}

static int region_cmp(const void *a, const void *b)
{
    const dt_kmem_region *x = a, *y = b;
    if (x->va != y->va)
        return x->va < y->va ? -1 : 1;
    /* Larger first, so the most complete copy is found first. */
    return x->size > y->size ? -1 : x->size < y->size;
}

dt_status dt_kmem_seal(dt_kernel_memory *m)
{
    if (m->count > 1)
        qsort(m->regions, m->count, sizeof *m->regions, region_cmp);
    free(m->max_end);
    m->max_end = malloc((m->count ? m->count : 1) * sizeof *m->max_end);
    if (!m->max_end)
        return DT_ERR_NOMEM;
    uint64_t mx = 0;
    for (size_t i = 0; i < m->count; i++) {
        uint64_t end = m->regions[i].va + m->regions[i].size;
        if (end > mx)
            mx = end;
        m->max_end[i] = mx;
    }
    m->sorted = true;
    return DT_OK;
}

static const uint8_t *region_map(const dt_kernel_memory *m, uint64_t va, size_t *avail)
{
    if (!m->sorted || !m->count)
        return NULL;
    size_t lo = 0, hi = m->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->regions[mid].va <= va)
            lo = mid + 1;
        else
            hi = mid;
    }
    /* Among regions containing va, prefer the one reaching furthest.  The
     * walk back is bounded: real dumps overlap a few blocks deep, and a
     * hostile file with one giant block must not make every read O(n). */
    const dt_kmem_region *best = NULL;
    size_t steps = 0;
    for (size_t i = lo; i-- > 0 && steps++ < 256;) {
        if (m->max_end[i] <= va)
            break;
        const dt_kmem_region *r = &m->regions[i];
        if (va - r->va < r->size && (!best || r->va + r->size > best->va + best->size))
            best = r;
    }
    if (!best)
        return NULL;
    uint64_t left = best->size - (va - best->va);
    *avail = left > SIZE_MAX ? SIZE_MAX : (size_t)left;
    return best->data + (va - best->va);
}

/* ---- paged ---- */

static bool phys_read_cb(void *ctx, uint64_t pa, void *buf, size_t len)
{
    return dt_kmem_phys_read(ctx, pa, buf, len);
}

bool dt_kmem_phys_read(const dt_kernel_memory *m, uint64_t pa, void *buf, size_t len)
{
    uint8_t *out = buf;
    while (len) {
        const uint8_t *page = dt_kdump_phys_page(m->kd, m->file, pa / DT_KDUMP_PAGE_SIZE);
        if (!page)
            return false;
        size_t off = (size_t)(pa % DT_KDUMP_PAGE_SIZE);
        size_t n = DT_KDUMP_PAGE_SIZE - off;
        if (n > len)
            n = len;
        memcpy(out, page + off, n);
        out += n;
        pa += n;
        len -= n;
    }
    return true;
}

dt_status dt_kmem_init_paged(dt_kernel_memory *m, const dt_kdump *kd, dt_view file, uint64_t dtb, dt_error *err)
{
    memset(m, 0, sizeof *m);
    m->kind = DT_KMEM_PAGED;
    m->kd = kd;
    m->file = file;
    m->arch = kd->arch;
    m->dtb = dtb;
    m->pae = kd->pae_enabled;
    m->pointer_size = kd->is64 ? 8 : 4;
    m->phys.read = phys_read_cb;
    m->phys.ctx = m;
    m->phys.allow_transition = true;
    if (kd->phys_kind == DT_KDUMP_PHYS_NONE)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, "this dump holds no physical memory");
    if (m->arch != DT_ARCH_AMD64 && m->arch != DT_ARCH_X86 && m->arch != DT_ARCH_ARM64)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, "no page-table walker for machine 0x%x", kd->machine);
    return DT_OK;
}

dt_vtop_status dt_kmem_translate(dt_kernel_memory *m, uint64_t va, dt_vtop_result *out)
{
    switch (m->arch) {
    case DT_ARCH_AMD64: return dt_vtop_amd64(&m->phys, m->dtb, va, out);
    case DT_ARCH_ARM64: return dt_vtop_arm64(&m->phys, m->dtb, va, out);
    case DT_ARCH_X86:
        return m->pae ? dt_vtop_x86_pae(&m->phys, m->dtb, va, out) : dt_vtop_x86(&m->phys, m->dtb, va, out);
    default: return DT_VTOP_BAD_ADDRESS;
    }
}

static const uint8_t *paged_map(dt_kernel_memory *m, uint64_t va, size_t *avail)
{
    uint64_t vpage = va & ~UINT64_C(0xFFF);
    uint64_t ppage;
    if (m->cache_valid && m->cache_vpage == vpage) {
        ppage = m->cache_ppage;
    } else {
        dt_vtop_result r;
        if (dt_kmem_translate(m, vpage, &r) != DT_VTOP_OK)
            return NULL;
        ppage = r.pa & ~UINT64_C(0xFFF);
        m->cache_vpage = vpage;
        m->cache_ppage = ppage;
        m->cache_valid = true;
    }
    const uint8_t *page = dt_kdump_phys_page(m->kd, m->file, ppage / DT_KDUMP_PAGE_SIZE);
    if (!page)
        return NULL;
    *avail = DT_KDUMP_PAGE_SIZE - (size_t)(va & 0xFFF);
    return page + (va & 0xFFF);
}

static const uint8_t *kmem_map(void *ctx, uint64_t va, size_t *avail)
{
    dt_kernel_memory *m = ctx;
    if (m->kind == DT_KMEM_REGIONS)
        return region_map(m, va, avail);
    if (m->kind == DT_KMEM_PAGED)
        return paged_map(m, va, avail);
    return NULL;
}

static size_t kmem_read(void *ctx, uint64_t va, void *buf, size_t len)
{
    uint8_t *out = buf;
    size_t done = 0;
    while (done < len) {
        size_t avail = 0;
        const uint8_t *p = kmem_map(ctx, va + done, &avail);
        if (!p || !avail)
            break;
        size_t n = len - done < avail ? len - done : avail;
        memcpy(out + done, p, n);
        done += n;
        if (va + done < va)
            break;
    }
    return done;
}

dt_addrspace dt_kmem_addrspace(dt_kernel_memory *m)
{
    dt_addrspace as = { m, kmem_read, kmem_map, m->pointer_size };
    return as;
}

void dt_kmem_free(dt_kernel_memory *m)
{
    if (!m)
        return;
    free(m->regions);
    free(m->max_end);
    memset(m, 0, sizeof *m);
}
