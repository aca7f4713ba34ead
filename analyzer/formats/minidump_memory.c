/*
 * minidump_memory.c — MemoryList (5), Memory64List (9) and MemoryInfoList
 * (16): where the captured process memory lives in the file, and the
 * process's region map.
 *
 * The memory lists only feed the range index of base/user_memory.c; no
 * byte of captured memory is copied.  Memory64List stores its data
 * back-to-back from BaseRva, so each range's file offset is a running sum —
 * computed with overflow checks, since every size in it is untrusted.
 */
#include "formats/minidump_internal.h"

#include <stdlib.h>

#define MD_MEMORY_DESCRIPTOR_SIZE 16
#define MD_MEMORY64_DESCRIPTOR_SIZE 16
#define MD_MEMORY_INFO_MIN_ENTRY 48

void dt_md_parse_memory_list(dt_minidump *md, dt_view s)
{
    uint32_t claimed;
    if (!dt_view_u32(s, 0, &claimed)) {
        dt_warn(&md->warnings, "MemoryList is empty");
        return;
    }
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, 4, MD_MEMORY_DESCRIPTOR_SIZE, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "MemoryList claims %u ranges, stream holds %llu", claimed,
                (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + 4 + i * MD_MEMORY_DESCRIPTOR_SIZE;
        uint64_t start = dt_le64(p);
        uint32_t size = dt_le32(p + 8), rva = dt_le32(p + 12);
        if (!dt_user_memory_add(&md->memory, start, size, rva)) {
            dt_warn(&md->warnings, "out of memory indexing the MemoryList");
            return;
        }
    }
}

void dt_md_parse_memory64_list(dt_minidump *md, dt_view s)
{
    uint64_t claimed, rva;
    if (!dt_view_u64(s, 0, &claimed) || !dt_view_u64(s, 8, &rva)) {
        dt_warn(&md->warnings, "Memory64List header truncated");
        return;
    }
    md->has_memory64 = true;
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, 16, MD_MEMORY64_DESCRIPTOR_SIZE, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "Memory64List claims %llu ranges, stream holds %llu",
                (unsigned long long)claimed, (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + 16 + i * MD_MEMORY64_DESCRIPTOR_SIZE;
        uint64_t start = dt_le64(p), size = dt_le64(p + 8);
        if (rva >= md->file.size) {
            dt_warn(&md->warnings, "Memory64List: data of ranges %llu..%llu lies beyond the end of the file",
                    (unsigned long long)i, (unsigned long long)(n - 1));
            return;
        }
        if (!dt_user_memory_add(&md->memory, start, size, rva)) {
            dt_warn(&md->warnings, "out of memory indexing the Memory64List");
            return;
        }
        if (rva + size < rva) {
            dt_warn(&md->warnings, "Memory64List: range %llu size overflows", (unsigned long long)i);
            return;
        }
        rva += size;
    }
}

void dt_md_parse_memory_info_list(dt_minidump *md, dt_view s)
{
    uint32_t hdr, entry;
    uint64_t claimed;
    if (!dt_view_u32(s, 0, &hdr) || !dt_view_u32(s, 4, &entry) || !dt_view_u64(s, 8, &claimed)) {
        dt_warn(&md->warnings, "MemoryInfoList header truncated");
        return;
    }
    if (hdr < 16 || entry < MD_MEMORY_INFO_MIN_ENTRY) {
        dt_warn(&md->warnings, "MemoryInfoList: header %u / entry %u bytes too small", hdr, entry);
        return;
    }
    md->has_memory_info = true;
    bool clamped;
    uint64_t n = dt_view_clamp_count(s, hdr, entry, claimed, &clamped);
    if (clamped)
        dt_warn(&md->warnings, "MemoryInfoList claims %llu regions, stream holds %llu",
                (unsigned long long)claimed, (unsigned long long)n);
    if (n == 0)
        return;
    md->regions = calloc((size_t)n, sizeof *md->regions);
    if (!md->regions) {
        dt_warn(&md->warnings, "out of memory for %llu memory regions", (unsigned long long)n);
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        const uint8_t *p = s.data + hdr + i * entry;
        dt_md_memory_region *r = &md->regions[md->nregions++];
        r->base = dt_le64(p);
        r->allocation_base = dt_le64(p + 8);
        r->allocation_protect = dt_le32(p + 16);
        r->region_size = dt_le64(p + 24);
        r->state = dt_le32(p + 32);
        r->protect = dt_le32(p + 36);
        r->type = dt_le32(p + 40);
    }
}
