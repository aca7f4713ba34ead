/*
 * fuzz_vtop.c — libFuzzer target for the page-table walkers.  The input is
 * physical memory starting at address 0; its first 16 bytes choose the
 * table base and the virtual address, so hostile tables (loops, huge frame
 * numbers, mixed large-page bits) are explored for every paging scheme.
 */
#include <stdint.h>
#include <string.h>

#include "memory/vtop_walk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const uint8_t *data;
    size_t size;
} phys;

static bool rd(void *ctx, uint64_t pa, void *buf, size_t len)
{
    const phys *p = ctx;
    if (pa > p->size || len > p->size - pa)
        return false;
    memcpy(buf, p->data + pa, len);
    return true;
}

static uint64_t le64(const uint8_t *b)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 16)
        return 0;
    phys p = { data, size };
    dt_phys_reader pr = { rd, &p, (data[0] & 1) != 0 };
    uint64_t base = le64(data) & 0xFFFFFF000ULL;
    uint64_t va = le64(data + 8);
    dt_vtop_result r;
    dt_vtop_amd64(&pr, base, va, &r);
    dt_vtop_amd64(&pr, base, va | 0xFFFF800000000000ULL, &r);
    dt_vtop_x86_pae(&pr, base, va & 0xFFFFFFFF, &r);
    dt_vtop_x86(&pr, base, va & 0xFFFFFFFF, &r);
    dt_vtop_arm64(&pr, base, va, &r);
    dt_vtop_arm64(&pr, base, va | 0xFFFF000000000000ULL, &r);
    return 0;
}
