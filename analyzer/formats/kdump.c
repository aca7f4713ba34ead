/*
 * kdump.c — DUMP_HEADER64/32 and the physical-memory layouts (full runs,
 * SDMP/FDMP bitmaps, RDMP bitmaps).  See kdump.h and docs/formats.md B.
 *
 * The one idea: a page lookup must cost what it touches.  Runs are few and
 * binary-searched; for bitmaps a rank table (set bits before every 4096-bit
 * chunk, 8 bytes per 16 MiB of physical memory) turns "which stored page is
 * pfn" into one table read plus at most 64 popcounts, so a multi-GB dump is
 * never scanned.
 */
#include "formats/kdump.h"

#include <stdlib.h>
#include <string.h>

#define HDR64_SIZE 0x2000u
#define HDR32_SIZE 0x1000u
#define RANK_CHUNK_BITS 4096u
/* PHYSICAL_MEMORY_DESCRIPTOR occupies 700 bytes in both headers. */
#define PMD_BYTES 700u

static bool absent32(uint32_t v) { return v == DT_KDUMP_PAGE_FILLER; }
static bool absent64(uint64_t v)
{
    return (uint32_t)v == DT_KDUMP_PAGE_FILLER || (uint32_t)(v >> 32) == DT_KDUMP_PAGE_FILLER;
}

static uint32_t get32(dt_view v, uint64_t off)
{
    uint32_t x = 0;
    dt_view_u32(v, off, &x);
    return x;
}
static uint64_t get64(dt_view v, uint64_t off)
{
    uint64_t x = 0;
    dt_view_u64(v, off, &x);
    return x;
}
static uint64_t present64(dt_view v, uint64_t off)
{
    uint64_t x = get64(v, off);
    return absent64(x) ? 0 : x;
}
static uint32_t present32(dt_view v, uint64_t off)
{
    uint32_t x = get32(v, off);
    return absent32(x) ? 0 : x;
}

static void copy_comment(dt_view v, uint64_t off, char *out, size_t cap)
{
    out[0] = 0;
    const uint8_t *p = dt_view_ptr(v, off, 128);
    if (!p || absent32(dt_le32(p)))
        return;
    size_t n = 0;
    for (; n < 128 && n + 1 < cap && p[n]; n++)
        out[n] = (p[n] >= 0x20 && p[n] < 0x7f) ? (char)p[n] : '?';
    out[n] = 0;
}

static int run_cmp(const void *a, const void *b)
{
    const dt_kdump_run *x = a, *y = b;
    return x->base_page < y->base_page ? -1 : x->base_page > y->base_page;
}

/* PHYSICAL_MEMORY_DESCRIPTOR64 (at 0x88) or 32 (at 0x64). */
static dt_status parse_runs(dt_view file, dt_kdump *kd, dt_warnings *w, dt_error *err)
{
    uint64_t pmd = kd->is64 ? 0x88 : 0x64;
    uint32_t nruns = get32(file, pmd);
    if (absent32(nruns))
        return dt_error_set(err, DT_ERR_CORRUPT, "full dump without physical memory runs (NumberOfRuns is \"PAGE\")");
    uint64_t entry = kd->is64 ? 16 : 8;
    uint64_t first = pmd + (kd->is64 ? 16 : 8);
    uint64_t max_runs = (PMD_BYTES - (first - pmd)) / entry;
    if (nruns > max_runs) {
        dt_warn(w, "NumberOfRuns %u exceeds the %u that fit the header; using %u", nruns,
                (unsigned)max_runs, (unsigned)max_runs);
        nruns = (uint32_t)max_runs;
    }
    kd->runs = calloc(nruns ? nruns : 1, sizeof *kd->runs);
    if (!kd->runs)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    uint64_t file_page = kd->header_size;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nruns; i++) {
        uint64_t base, count;
        if (kd->is64) {
            base = get64(file, first + i * entry);
            count = get64(file, first + i * entry + 8);
        } else {
            base = get32(file, first + i * entry);
            count = get32(file, first + i * entry + 4);
        }
        /* A run beyond 2^52 pages cannot be physical memory. */
        if (count == 0 || base >= (UINT64_C(1) << 40) || count > (UINT64_C(1) << 40)) {
            if (count)
                dt_warn(w, "physical run %u (base page 0x%llx, %llu pages) is impossible; skipped", i,
                        (unsigned long long)base, (unsigned long long)count);
            continue;
        }
        dt_kdump_run *r = &kd->runs[kd->run_count++];
        r->base_page = base;
        r->page_count = count;
        r->file_offset = file_page;
        file_page += count * DT_KDUMP_PAGE_SIZE;
        total += count;
    }
    qsort(kd->runs, kd->run_count, sizeof *kd->runs, run_cmp);
    for (size_t i = 1; i < kd->run_count; i++) {
        if (kd->runs[i].base_page < kd->runs[i - 1].base_page + kd->runs[i - 1].page_count)
            dt_warn(w, "physical runs overlap at page 0x%llx; the first one wins",
                    (unsigned long long)kd->runs[i].base_page);
    }
    kd->phys_kind = DT_KDUMP_PHYS_RUNS;
    kd->pages_claimed = total;
    kd->expected_size = file_page;
    return DT_OK;
}

static dt_status build_rank(dt_kdump *kd, dt_error *err)
{
    uint64_t chunks = (kd->bitmap_bits + RANK_CHUNK_BITS - 1) / RANK_CHUNK_BITS;
    kd->bitmap_rank = calloc(chunks + 1, sizeof *kd->bitmap_rank);
    if (!kd->bitmap_rank)
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory for the page bitmap index");
    uint64_t acc = 0;
    const uint8_t *b = kd->bitmap.data;
    uint64_t nbytes = (kd->bitmap_bits + 7) / 8;
    for (uint64_t c = 0; c < chunks; c++) {
        kd->bitmap_rank[c] = acc;
        uint64_t from = c * (RANK_CHUNK_BITS / 8);
        uint64_t to = from + RANK_CHUNK_BITS / 8;
        if (to > nbytes)
            to = nbytes;
        uint64_t i = from;
        for (; i + 8 <= to; i += 8)
            acc += (uint64_t)__builtin_popcountll(dt_le64(b + i));
        for (; i < to; i++)
            acc += (uint64_t)__builtin_popcount(b[i]);
    }
    /* Bits past bitmap_bits in the last byte are not pages. */
    if (kd->bitmap_bits % 8) {
        uint8_t last = b[nbytes - 1];
        acc -= (uint64_t)__builtin_popcount(last & (uint8_t)(0xFFu << (kd->bitmap_bits % 8)));
    }
    kd->bitmap_rank[chunks] = acc;
    kd->pages_claimed = acc;
    return DT_OK;
}

static dt_status parse_bitmap(dt_view file, dt_kdump *kd, uint64_t bitmap_off, uint64_t bits,
                              uint64_t first_page, dt_warnings *w, dt_error *err)
{
    uint64_t avail_bits = file.size > bitmap_off ? (file.size - bitmap_off) * 8 : 0;
    if (bits > avail_bits) {
        dt_warn(w, "page bitmap claims %llu pages but the file holds %llu bits of it; truncated",
                (unsigned long long)bits, (unsigned long long)avail_bits);
        bits = avail_bits;
        kd->truncated = true;
    }
    kd->bitmap_bits = bits;
    dt_view_sub(file, bitmap_off, (bits + 7) / 8, &kd->bitmap);
    kd->first_page_offset = first_page;
    kd->phys_kind = DT_KDUMP_PHYS_BITMAP;
    if (bits == 0)
        return DT_OK;
    dt_status st = build_rank(kd, err);
    if (st != DT_OK)
        return st;
    kd->expected_size = first_page + kd->pages_claimed * DT_KDUMP_PAGE_SIZE;
    return DT_OK;
}

/* SDMP/FDMP (types 2, 5, 6, 7) and RDMP (8-10) headers at 0x2000. */
static dt_status parse_bitmap_header(dt_view file, dt_kdump *kd, dt_warnings *w, dt_error *err)
{
    dt_view h = dt_view_tail(file, kd->header_size);
    uint32_t sig = get32(h, 0);
    if (sig == 0x504D4453u || sig == 0x504D4446u) { /* "SDMP", "FDMP" */
        memcpy(kd->bitmap_signature, h.data, 4);
        uint32_t valid = get32(h, 4);
        if (valid != 0x504D5544u) /* "DUMP" */
            dt_warn(w, "bitmap header ValidDump is 0x%08x, not \"DUMP\"", valid);
        uint64_t first = get64(h, 0x20);
        uint64_t bits = get64(h, 0x30);
        uint64_t present = get64(h, 0x28);
        dt_status st = parse_bitmap(file, kd, kd->header_size + 0x38, bits, first, w, err);
        if (st == DT_OK && present != kd->pages_claimed)
            dt_warn(w, "bitmap header says %llu pages are present, the bitmap has %llu",
                    (unsigned long long)present, (unsigned long long)kd->pages_claimed);
        return st;
    }
    if (sig == 0x40 && get32(h, 4) == 0x504D4452u) { /* 0x40, "RDMP" */
        memcpy(kd->bitmap_signature, "RDMP", 4);
        uint64_t metadata = get64(h, 0x10);
        uint64_t first = get64(h, 0x18);
        /* [I] bitmap at +0x30, its size from the metadata block (KDMP's
         * reading); bounded by where the first page starts. */
        uint64_t bytes = metadata > 0x30 ? metadata - 0x30 : 0;
        if (first > kd->header_size + 0x30 && bytes > first - kd->header_size - 0x30)
            bytes = first - kd->header_size - 0x30;
        return parse_bitmap(file, kd, kd->header_size + 0x30, bytes * 8, first, w, err);
    }
    return dt_error_set(err, DT_ERR_UNSUPPORTED, "dump type %u without a known page bitmap at 0x%x",
                        kd->dump_type, kd->header_size);
}

static void parse_header64(dt_view f, dt_kdump *kd)
{
    kd->header_size = HDR64_SIZE;
    kd->major_version = get32(f, 0x08);
    kd->build = get32(f, 0x0C);
    kd->directory_table_base = present64(f, 0x10);
    kd->pfn_database = present64(f, 0x18);
    kd->ps_loaded_module_list = present64(f, 0x20);
    kd->ps_active_process_head = present64(f, 0x28);
    kd->machine = present32(f, 0x30);
    kd->processors = present32(f, 0x34);
    kd->bugcheck_code = present32(f, 0x38);
    for (int i = 0; i < 4; i++)
        kd->bugcheck_params[i] = present64(f, 0x40 + 8 * (uint64_t)i);
    kd->kd_debugger_data_block = present64(f, 0x80);
    dt_view_sub(f, 0x348, 3000, &kd->context_record);
    dt_view_sub(f, 0xF00, 0x98, &kd->exception_record);
    kd->exception_code = present32(f, 0xF00);
    kd->exception_address = present64(f, 0xF10);
    uint32_t type = get32(f, 0xF98);
    kd->has_dump_type = !absent32(type);
    kd->dump_type = kd->has_dump_type ? type : 0;
    kd->required_dump_space = present64(f, 0xFA0);
    kd->system_time = present64(f, 0xFA8);
    copy_comment(f, 0xFB0, kd->comment, sizeof kd->comment);
    kd->system_uptime = present64(f, 0x1030);
    kd->minidump_fields = present32(f, 0x1038);
    kd->product_type = present32(f, 0x1040);
    kd->suite_mask = present32(f, 0x1044);
    uint32_t attr = get32(f, 0x1050);
    kd->has_attributes = !absent32(attr);
    kd->attributes = kd->has_attributes ? attr : 0;
}

/* [S: RZ] DUMP_HEADER32 layout; not verified on a file. */
static void parse_header32(dt_view f, dt_kdump *kd)
{
    kd->header_size = HDR32_SIZE;
    kd->major_version = get32(f, 0x08);
    kd->build = get32(f, 0x0C);
    kd->directory_table_base = present32(f, 0x10);
    kd->pfn_database = present32(f, 0x14);
    kd->ps_loaded_module_list = present32(f, 0x18);
    kd->ps_active_process_head = present32(f, 0x1C);
    kd->machine = present32(f, 0x20);
    kd->processors = present32(f, 0x24);
    kd->bugcheck_code = present32(f, 0x28);
    for (int i = 0; i < 4; i++)
        kd->bugcheck_params[i] = present32(f, 0x2C + 4 * (uint64_t)i);
    uint8_t pae = 0;
    dt_view_u8(f, 0x5C, &pae);
    kd->pae_enabled = pae == 1;
    kd->kd_debugger_data_block = present32(f, 0x60);
    dt_view_sub(f, 0x320, 1200, &kd->context_record);
    dt_view_sub(f, 0x7D0, 0x50, &kd->exception_record);
    kd->exception_code = present32(f, 0x7D0);
    kd->exception_address = present32(f, 0x7DC);
    copy_comment(f, 0x820, kd->comment, sizeof kd->comment);
    uint32_t type = get32(f, 0xF88);
    kd->has_dump_type = !absent32(type);
    kd->dump_type = kd->has_dump_type ? type : 0;
    kd->minidump_fields = present32(f, 0xF8C);
    kd->product_type = present32(f, 0xF94);
    kd->suite_mask = present32(f, 0xF98);
    kd->required_dump_space = present64(f, 0xFA0);
    kd->system_uptime = present64(f, 0xFB8);
    kd->system_time = present64(f, 0xFC0);
}

dt_status dt_kdump_parse(dt_view file, dt_kdump *kd, dt_warnings *w, dt_error *err)
{
    dt_error local = { 0 };
    if (!err)
        err = &local;
    memset(kd, 0, sizeof *kd);
    kd->file_size = file.size;
    uint32_t sig = get32(file, 0), valid = get32(file, 4);
    if (sig != DT_KDUMP_PAGE_FILLER || (valid != 0x34365544u && valid != 0x504D5544u))
        return dt_error_set(err, DT_ERR_FORMAT, "not a kernel dump (no PAGEDU64/PAGEDUMP signature)");
    kd->is64 = valid == 0x34365544u; /* "DU64" */
    uint32_t hsize = kd->is64 ? HDR64_SIZE : HDR32_SIZE;
    if (file.size < hsize) {
        /* Keep what the partial header has, but nothing after it exists. */
        dt_warn(w, "kernel dump header is truncated: file has %zu of 0x%x header bytes", file.size, hsize);
        kd->truncated = true;
    }
    if (kd->is64)
        parse_header64(file, kd);
    else
        parse_header32(file, kd);
    kd->arch = dt_cpu_arch_from_machine(kd->machine);
    if (kd->arch == DT_ARCH_UNKNOWN)
        dt_warn(w, "unknown machine type 0x%x in the kernel dump header", kd->machine);
    if (kd->processors > 4096) {
        dt_warn(w, "implausible processor count %u; treated as unknown", kd->processors);
        kd->processors = 0;
    }
    if (!kd->has_dump_type) {
        dt_warn(w, "kernel dump header has no DumpType");
        return DT_OK;
    }
    if (file.size < hsize)
        return DT_OK;

    dt_status st = DT_OK;
    switch (kd->dump_type) {
    case DT_KDUMP_TYPE_FULL:
        st = parse_runs(file, kd, w, err);
        break;
    case DT_KDUMP_TYPE_TRIAGE:
    case DT_KDUMP_TYPE_HEADER:
        return DT_OK;
    case DT_KDUMP_TYPE_SUMMARY:
    case DT_KDUMP_TYPE_BITMAP_FULL:
    case DT_KDUMP_TYPE_BITMAP_KERNEL:
    case DT_KDUMP_TYPE_AUTOMATIC:
    case DT_KDUMP_TYPE_RDMP_KERNEL:
    case DT_KDUMP_TYPE_RDMP_KERNEL_USER:
    case DT_KDUMP_TYPE_RDMP_COMPLETE:
        if (!kd->is64) {
            dt_warn(w, "32-bit dump type %u (%s) is not supported: header only", kd->dump_type,
                    dt_kdump_type_name(kd->dump_type));
            return DT_OK;
        }
        st = parse_bitmap_header(file, kd, w, err);
        break;
    default:
        dt_warn(w, "unknown DumpType %u: header only", kd->dump_type);
        return DT_OK;
    }
    if (st != DT_OK) {
        if (st == DT_ERR_NOMEM)
            return st;
        /* The header is still worth reporting; the memory is not usable. */
        dt_warn(w, "%s", err->message);
        kd->phys_kind = DT_KDUMP_PHYS_NONE;
        return DT_OK;
    }
    if (kd->expected_size > file.size) {
        kd->truncated = true;
        uint64_t stored = file.size > kd->header_size && kd->phys_kind == DT_KDUMP_PHYS_RUNS
                              ? (file.size - kd->header_size) / DT_KDUMP_PAGE_SIZE
                              : (file.size > kd->first_page_offset
                                     ? (file.size - kd->first_page_offset) / DT_KDUMP_PAGE_SIZE
                                     : 0);
        kd->pages_in_file = stored < kd->pages_claimed ? stored : kd->pages_claimed;
        dt_warn(w,
                "dump is truncated: %llu bytes of the %llu its layout needs; %llu of %llu physical pages are "
                "present, the rest read as missing",
                (unsigned long long)file.size, (unsigned long long)kd->expected_size,
                (unsigned long long)kd->pages_in_file, (unsigned long long)kd->pages_claimed);
    } else {
        kd->pages_in_file = kd->pages_claimed;
    }
    return DT_OK;
}

void dt_kdump_free(dt_kdump *kd)
{
    if (!kd)
        return;
    free(kd->runs);
    free(kd->bitmap_rank);
    kd->runs = NULL;
    kd->bitmap_rank = NULL;
    kd->run_count = 0;
}

static const uint8_t *page_at(dt_view file, uint64_t off)
{
    return dt_view_ptr(file, off, DT_KDUMP_PAGE_SIZE);
}

const uint8_t *dt_kdump_phys_page(const dt_kdump *kd, dt_view file, uint64_t pfn)
{
    if (kd->phys_kind == DT_KDUMP_PHYS_RUNS) {
        size_t lo = 0, hi = kd->run_count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const dt_kdump_run *r = &kd->runs[mid];
            if (pfn < r->base_page)
                hi = mid;
            else if (pfn - r->base_page >= r->page_count)
                lo = mid + 1;
            else
                return page_at(file, r->file_offset + (pfn - r->base_page) * DT_KDUMP_PAGE_SIZE);
        }
        return NULL;
    }
    if (kd->phys_kind == DT_KDUMP_PHYS_BITMAP) {
        if (pfn >= kd->bitmap_bits || !kd->bitmap_rank)
            return NULL;
        const uint8_t *b = kd->bitmap.data;
        if (!(b[pfn / 8] & (1u << (pfn % 8))))
            return NULL;
        uint64_t chunk = pfn / RANK_CHUNK_BITS;
        uint64_t rank = kd->bitmap_rank[chunk];
        uint64_t i = chunk * (RANK_CHUNK_BITS / 8);
        uint64_t end = pfn / 8;
        for (; i + 8 <= end; i += 8)
            rank += (uint64_t)__builtin_popcountll(dt_le64(b + i));
        for (; i < end; i++)
            rank += (uint64_t)__builtin_popcount(b[i]);
        rank += (uint64_t)__builtin_popcount(b[end] & ((1u << (pfn % 8)) - 1));
        if (rank > (UINT64_MAX - kd->first_page_offset) / DT_KDUMP_PAGE_SIZE)
            return NULL;
        return page_at(file, kd->first_page_offset + rank * DT_KDUMP_PAGE_SIZE);
    }
    return NULL;
}

const char *dt_kdump_type_name(uint32_t t)
{
    switch (t) {
    case DT_KDUMP_TYPE_FULL: return "full";
    case DT_KDUMP_TYPE_SUMMARY: return "summary";
    case DT_KDUMP_TYPE_HEADER: return "header";
    case DT_KDUMP_TYPE_TRIAGE: return "triage";
    case DT_KDUMP_TYPE_BITMAP_FULL: return "bitmap_full";
    case DT_KDUMP_TYPE_BITMAP_KERNEL: return "bitmap_kernel";
    case DT_KDUMP_TYPE_AUTOMATIC: return "automatic";
    case DT_KDUMP_TYPE_RDMP_KERNEL: return "kernel_memory";
    case DT_KDUMP_TYPE_RDMP_KERNEL_USER: return "kernel_and_user_memory";
    case DT_KDUMP_TYPE_RDMP_COMPLETE: return "complete_memory";
    default: return "unknown";
    }
}
