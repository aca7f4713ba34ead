/*
 * vtop_x86.c — 32-bit x86 paging: PAE (3 levels, 8-byte entries, 2 MiB
 * large pages) and classic (2 levels, 4-byte entries, 4 MiB large pages),
 * Intel SDM vol. 3 §4.3–4.4.  Transition PTEs as in vtop_amd64.c.
 */
#include "memory/vtop_walk.h"

#define PROTO_BIT (UINT64_C(1) << 10)
#define TRANS_BIT (UINT64_C(1) << 11)

static bool rd(const dt_phys_reader *pr, uint64_t pa, unsigned width, uint64_t *e)
{
    uint8_t b[8];
    if (!pr->read(pr->ctx, pa, b, width))
        return false;
    *e = 0;
    for (int i = (int)width - 1; i >= 0; i--)
        *e = (*e << 8) | b[i];
    return true;
}

static dt_vtop_status last_level(const dt_phys_reader *pr, uint64_t e, uint64_t mask, uint64_t va,
                                 dt_vtop_result *out)
{
    out->transition = false;
    if (!(e & 1)) {
        if (!pr->allow_transition || (e & PROTO_BIT) || !(e & TRANS_BIT))
            return DT_VTOP_NOT_PRESENT;
        out->transition = true;
    }
    out->pa = (e & mask) | (va & 0xFFF);
    out->page_size = 0x1000;
    return DT_VTOP_OK;
}

dt_vtop_status dt_vtop_x86_pae(const dt_phys_reader *pr, uint64_t cr3, uint64_t va, dt_vtop_result *out)
{
    if (va >> 32)
        return DT_VTOP_BAD_ADDRESS;
    const uint64_t mask = UINT64_C(0x000FFFFFFFFFF000);
    uint64_t e;
    if (!rd(pr, (cr3 & ~UINT64_C(0x1F)) + ((va >> 30) & 3) * 8, 8, &e))
        return DT_VTOP_TABLE_MISSING;
    if (!(e & 1))
        return DT_VTOP_NOT_PRESENT;
    if (!rd(pr, (e & mask) + ((va >> 21) & 0x1FF) * 8, 8, &e))
        return DT_VTOP_TABLE_MISSING;
    if (!(e & 1))
        return DT_VTOP_NOT_PRESENT;
    if (e & 0x80) {
        out->pa = (e & UINT64_C(0x000FFFFFFFE00000)) | (va & 0x1FFFFF);
        out->page_size = UINT64_C(1) << 21;
        out->transition = false;
        return DT_VTOP_OK;
    }
    if (!rd(pr, (e & mask) + ((va >> 12) & 0x1FF) * 8, 8, &e))
        return DT_VTOP_TABLE_MISSING;
    return last_level(pr, e, mask, va, out);
}

dt_vtop_status dt_vtop_x86(const dt_phys_reader *pr, uint64_t cr3, uint64_t va, dt_vtop_result *out)
{
    if (va >> 32)
        return DT_VTOP_BAD_ADDRESS;
    uint64_t e;
    if (!rd(pr, (cr3 & 0xFFFFF000u) + ((va >> 22) & 0x3FF) * 4, 4, &e))
        return DT_VTOP_TABLE_MISSING;
    if (!(e & 1))
        return DT_VTOP_NOT_PRESENT;
    if (e & 0x80) {
        out->pa = (e & 0xFFC00000u) | (va & 0x3FFFFF);
        out->page_size = UINT64_C(1) << 22;
        out->transition = false;
        return DT_VTOP_OK;
    }
    if (!rd(pr, (e & 0xFFFFF000u) + ((va >> 12) & 0x3FF) * 4, 4, &e))
        return DT_VTOP_TABLE_MISSING;
    return last_level(pr, e, 0xFFFFF000u, va, out);
}
