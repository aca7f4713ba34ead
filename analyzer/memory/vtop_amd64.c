/*
 * vtop_amd64.c — x64 4-level paging (Intel SDM vol. 3 §4.5) with Windows'
 * not-present encodings (docs/formats.md B.4).
 *
 * CR3's low 12 bits carry PCID / KVA-shadow flags and are masked off.  Large
 * pages end the walk at the PDPT (1 GiB) or PD (2 MiB).  At the last level a
 * not-present PTE with bit 11 (transition) set and bit 10 (prototype) clear
 * still names its page frame.
 */
#include "memory/vtop_walk.h"

#define PFN_MASK UINT64_C(0x000FFFFFFFFFF000)
#define P_BIT 0x1u
#define PS_BIT 0x80u
#define PROTO_BIT (UINT64_C(1) << 10)
#define TRANS_BIT (UINT64_C(1) << 11)

static bool canonical48(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1FFFF;
}

static dt_vtop_status entry(const dt_phys_reader *pr, uint64_t table, unsigned idx, uint64_t *e)
{
    uint8_t b[8];
    if (!pr->read(pr->ctx, (table & PFN_MASK) + (uint64_t)idx * 8, b, 8))
        return DT_VTOP_TABLE_MISSING;
    *e = 0;
    for (int i = 7; i >= 0; i--)
        *e = (*e << 8) | b[i];
    return DT_VTOP_OK;
}

dt_vtop_status dt_vtop_amd64(const dt_phys_reader *pr, uint64_t cr3, uint64_t va, dt_vtop_result *out)
{
    if (!canonical48(va))
        return DT_VTOP_BAD_ADDRESS;
    uint64_t e;
    dt_vtop_status st;
    if ((st = entry(pr, cr3, (va >> 39) & 0x1FF, &e)) != DT_VTOP_OK)
        return st;
    if (!(e & P_BIT))
        return DT_VTOP_NOT_PRESENT;
    if ((st = entry(pr, e, (va >> 30) & 0x1FF, &e)) != DT_VTOP_OK)
        return st;
    if (!(e & P_BIT))
        return DT_VTOP_NOT_PRESENT;
    if (e & PS_BIT) {
        out->pa = (e & UINT64_C(0x000FFFFFC0000000)) | (va & 0x3FFFFFFF);
        out->page_size = UINT64_C(1) << 30;
        out->transition = false;
        return DT_VTOP_OK;
    }
    if ((st = entry(pr, e, (va >> 21) & 0x1FF, &e)) != DT_VTOP_OK)
        return st;
    if (!(e & P_BIT))
        return DT_VTOP_NOT_PRESENT;
    if (e & PS_BIT) {
        out->pa = (e & UINT64_C(0x000FFFFFFFE00000)) | (va & 0x1FFFFF);
        out->page_size = UINT64_C(1) << 21;
        out->transition = false;
        return DT_VTOP_OK;
    }
    if ((st = entry(pr, e, (va >> 12) & 0x1FF, &e)) != DT_VTOP_OK)
        return st;
    out->transition = false;
    if (!(e & P_BIT)) {
        if (!pr->allow_transition || (e & PROTO_BIT) || !(e & TRANS_BIT))
            return DT_VTOP_NOT_PRESENT;
        out->transition = true;
        e &= UINT64_C(0x0000FFFFFFFFF000); /* transition PFN: bits 12-47 */
    }
    out->pa = (e & PFN_MASK) | (va & 0xFFF);
    out->page_size = 0x1000;
    return DT_VTOP_OK;
}
