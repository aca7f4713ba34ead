/*
 * vtop_arm64.c — AArch64 stage-1 translation, 4 KiB granule, 48-bit VAs,
 * 4 levels (Arm ARM D8): as Windows ARM64 uses for kernel space.
 *
 * Descriptor low bits: 0b11 = table (levels 0–2) or page (level 3),
 * 0b01 = block (1 GiB at level 1, 2 MiB at level 2), bit 0 clear = invalid.
 * Output addresses are bits [47:12].  Windows' software encodings for invalid
 * ARM64 PTEs are not public enough to trust, so invalid is not present.
 */
#include "memory/vtop_walk.h"

#define OA_MASK UINT64_C(0x0000FFFFFFFFF000)

dt_vtop_status dt_vtop_arm64(const dt_phys_reader *pr, uint64_t ttbr, uint64_t va, dt_vtop_result *out)
{
    uint64_t top = va >> 48;
    if (top != 0 && top != 0xFFFF)
        return DT_VTOP_BAD_ADDRESS;
    uint64_t table = ttbr & OA_MASK;
    for (int level = 0; level < 4; level++) {
        unsigned shift = 39 - 9 * (unsigned)level;
        uint64_t idx = (va >> shift) & 0x1FF;
        uint8_t b[8];
        if (!pr->read(pr->ctx, table + idx * 8, b, 8))
            return DT_VTOP_TABLE_MISSING;
        uint64_t e = 0;
        for (int i = 7; i >= 0; i--)
            e = (e << 8) | b[i];
        if (!(e & 1))
            return DT_VTOP_NOT_PRESENT;
        bool is_table_or_page = (e & 2) != 0;
        if (level == 3) {
            if (!is_table_or_page)
                return DT_VTOP_NOT_PRESENT;
            out->pa = (e & OA_MASK) | (va & 0xFFF);
            out->page_size = 0x1000;
            out->transition = false;
            return DT_VTOP_OK;
        }
        if (!is_table_or_page) {
            if (level == 0)
                return DT_VTOP_NOT_PRESENT; /* no blocks at level 0 with 4 KiB granule */
            uint64_t size = UINT64_C(1) << shift;
            out->pa = (e & OA_MASK & ~(size - 1)) | (va & (size - 1));
            out->page_size = size;
            out->transition = false;
            return DT_VTOP_OK;
        }
        table = e & OA_MASK;
    }
    return DT_VTOP_NOT_PRESENT;
}
