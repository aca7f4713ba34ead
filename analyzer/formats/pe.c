/*
 * pe.c — PE/PE32+ headers, sections, exports, CodeView identity and the
 * x64 / ARM64 exception tables (see pe.h).
 *
 * Two ideas carry the file.  First, everything past the headers goes
 * through dt_pe_read(rva), which hides whether the image is a file (RVA →
 * section → file offset) or a mapped image in a dump (base + RVA, pages may
 * be missing), so each parser below is written once.  Second, nothing is
 * read eagerly: .pdata entries are fetched one by one during a binary
 * search, UNWIND_INFO only for the function being unwound, and the export
 * table once, on the first name lookup.
 */
#include "formats/pe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PE_MAX_SECTIONS 96
#define PE_MAX_HEADER_BYTES 0x10000
#define PE_MAX_EXPORTS 65536
#define PE_MAX_EXPORT_NAME 512
#define PE_MAX_DEBUG_ENTRIES 64
#define PE_MAX_CODEVIEW 1024
#define PE_MAX_INDIRECT_HOPS 4

/* ---- reading ---------------------------------------------------------------- */

const dt_pe_section *dt_pe_section_for_rva(const dt_pe *pe, uint32_t rva)
{
    for (size_t i = 0; i < pe->section_count; i++) {
        const dt_pe_section *s = &pe->sections[i];
        uint32_t span = s->virtual_size > s->raw_size ? s->virtual_size : s->raw_size;
        if (rva >= s->virtual_address && rva - s->virtual_address < span)
            return s;
    }
    return NULL;
}

bool dt_pe_rva_is_code(const dt_pe *pe, uint32_t rva)
{
    const dt_pe_section *s = dt_pe_section_for_rva(pe, rva);
    return s && (s->characteristics & (DT_PE_SCN_CNT_CODE | DT_PE_SCN_MEM_EXECUTE));
}

size_t dt_pe_read(const dt_pe *pe, uint32_t rva, void *buf, size_t len)
{
    if (!len)
        return 0;
    if (pe->mapped) {
        if (rva >= pe->size_of_image)
            return 0;
        if (len > pe->size_of_image - rva)
            len = pe->size_of_image - rva;
        return dt_as_read(pe->as, pe->base + rva, buf, len);
    }
    uint64_t off, avail;
    const dt_pe_section *s = dt_pe_section_for_rva(pe, rva);
    if (s) {
        uint32_t delta = rva - s->virtual_address;
        if (delta >= s->raw_size)
            return 0;  /* zero-fill part of the section: nothing in the file */
        off = (uint64_t)s->raw_offset + delta;
        avail = s->raw_size - delta;
    } else if (rva < pe->size_of_headers) {
        off = rva;
        avail = pe->size_of_headers - rva;
    } else {
        return 0;
    }
    if (off >= pe->file.size)
        return 0;
    if (avail > pe->file.size - off)
        avail = pe->file.size - off;
    if (len > avail)
        len = (size_t)avail;
    memcpy(buf, pe->file.data + off, len);
    return len;
}

bool dt_pe_read_u32(const dt_pe *pe, uint32_t rva, uint32_t *out)
{
    uint8_t b[4];
    if (dt_pe_read(pe, rva, b, 4) != 4)
        return false;
    *out = dt_le32(b);
    return true;
}

bool dt_pe_read_cstring(const dt_pe *pe, uint32_t rva, char *buf, size_t cap)
{
    if (!cap)
        return false;
    size_t got = dt_pe_read(pe, rva, buf, cap - 1);
    buf[got] = '\0';
    size_t n = strnlen(buf, got);
    if (n == got && got == cap - 1) {
        /* no terminator inside cap: accept truncated, but not an empty read */
        return got > 0;
    }
    return n < got;
}

/* ---- headers ----------------------------------------------------------------- */

static dt_status parse_headers(dt_pe *pe, dt_view h, dt_error *err)
{
    uint16_t mz;
    uint32_t lfanew = 0, sig = 0;
    if (!dt_view_u16(h, 0, &mz) || mz != 0x5A4D)
        return dt_error_set(err, DT_ERR_FORMAT, "PE: no MZ signature");
    if (!dt_view_u32(h, 0x3C, &lfanew) || !dt_view_u32(h, lfanew, &sig))
        return dt_error_set(err, DT_ERR_TRUNCATED, "PE: e_lfanew 0x%x outside the headers", lfanew);
    if (sig != 0x00004550)
        return dt_error_set(err, DT_ERR_FORMAT, "PE: no PE signature at 0x%x", lfanew);
    uint64_t coff = (uint64_t)lfanew + 4;
    uint16_t nsec, opt_size;
    if (!dt_view_u16(h, coff, &pe->machine) || !dt_view_u16(h, coff + 2, &nsec) ||
        !dt_view_u32(h, coff + 4, &pe->time_date_stamp) || !dt_view_u16(h, coff + 16, &opt_size) ||
        !dt_view_u16(h, coff + 18, &pe->characteristics))
        return dt_error_set(err, DT_ERR_TRUNCATED, "PE: COFF header truncated");
    uint64_t opt = coff + 20;
    uint16_t magic;
    if (!dt_view_u16(h, opt, &magic))
        return dt_error_set(err, DT_ERR_TRUNCATED, "PE: optional header truncated");
    uint64_t dir_off;
    uint32_t ndirs = 0;
    if (magic == 0x20B) {
        pe->pe32plus = true;
        if (!dt_view_u64(h, opt + 24, &pe->image_base) || !dt_view_u32(h, opt + 108, &ndirs))
            return dt_error_set(err, DT_ERR_TRUNCATED, "PE: PE32+ optional header truncated");
        dir_off = opt + 112;
    } else if (magic == 0x10B) {
        uint32_t ib;
        if (!dt_view_u32(h, opt + 28, &ib) || !dt_view_u32(h, opt + 92, &ndirs))
            return dt_error_set(err, DT_ERR_TRUNCATED, "PE: PE32 optional header truncated");
        pe->image_base = ib;
        dir_off = opt + 96;
    } else {
        return dt_error_set(err, DT_ERR_FORMAT, "PE: unknown optional header magic 0x%x", magic);
    }
    if (!dt_view_u32(h, opt + 16, &pe->entry_point) || !dt_view_u32(h, opt + 56, &pe->size_of_image) ||
        !dt_view_u32(h, opt + 60, &pe->size_of_headers))
        return dt_error_set(err, DT_ERR_TRUNCATED, "PE: optional header truncated");
    if (ndirs > DT_PE_DIR_COUNT)
        ndirs = DT_PE_DIR_COUNT;
    /* Directories must also fit inside SizeOfOptionalHeader. */
    if (dir_off - opt <= opt_size) {
        uint64_t fit = (opt_size - (dir_off - opt)) / 8;
        if (ndirs > fit)
            ndirs = (uint32_t)fit;
    } else {
        ndirs = 0;
    }
    for (uint32_t i = 0; i < ndirs; i++) {
        if (!dt_view_u32(h, dir_off + i * 8, &pe->dirs[i].rva) ||
            !dt_view_u32(h, dir_off + i * 8 + 4, &pe->dirs[i].size))
            break;
        pe->dir_count = i + 1;
    }
    uint64_t sec_off = opt + opt_size;
    uint64_t n = dt_view_clamp_count(h, sec_off, 40, nsec, NULL);
    if (n > PE_MAX_SECTIONS)
        n = PE_MAX_SECTIONS;
    if (n) {
        pe->sections = calloc((size_t)n, sizeof *pe->sections);
        if (!pe->sections)
            return dt_error_set(err, DT_ERR_NOMEM, "PE: out of memory");
    }
    for (uint64_t i = 0; i < n; i++) {
        dt_pe_section *s = &pe->sections[i];
        uint64_t o = sec_off + i * 40;
        dt_view_copy(h, o, s->name, 8);
        dt_view_u32(h, o + 8, &s->virtual_size);
        dt_view_u32(h, o + 12, &s->virtual_address);
        dt_view_u32(h, o + 16, &s->raw_size);
        dt_view_u32(h, o + 20, &s->raw_offset);
        dt_view_u32(h, o + 36, &s->characteristics);
    }
    pe->section_count = (size_t)n;
    return DT_OK;
}

dt_status dt_pe_open_file(dt_pe *pe, dt_view file, dt_error *err)
{
    memset(pe, 0, sizeof *pe);
    pe->file = file;
    dt_status st = parse_headers(pe, file, err);
    if (st != DT_OK) {
        dt_pe_close(pe);
        return st;
    }
    return DT_OK;
}

/* Bytes the headers span (through the section table), from what is in h. */
static size_t headers_extent(dt_view h)
{
    uint32_t lfanew;
    uint16_t nsec, opt_size;
    if (!dt_view_u32(h, 0x3C, &lfanew) || !dt_view_u16(h, (uint64_t)lfanew + 6, &nsec) ||
        !dt_view_u16(h, (uint64_t)lfanew + 20, &opt_size))
        return h.size;
    uint64_t end = (uint64_t)lfanew + 24 + opt_size + (uint64_t)nsec * 40;
    return end > PE_MAX_HEADER_BYTES ? PE_MAX_HEADER_BYTES : (size_t)end;
}

dt_status dt_pe_open_mapped(dt_pe *pe, const dt_addrspace *as, uint64_t base, dt_error *err)
{
    memset(pe, 0, sizeof *pe);
    /* One page holds the headers of nearly every image; read more only
     * when the section table says so (a walk opens many images). */
    uint8_t first[0x1000];
    size_t got = dt_as_read(as, base, first, sizeof first);
    if (!got)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "PE: image header at 0x%llx not in memory",
                            (unsigned long long)base);
    uint8_t *buf = NULL;
    dt_view h = dt_view_make(first, got);
    size_t need = headers_extent(h);
    if (need > got && got == sizeof first) {
        buf = malloc(need);
        if (!buf)
            return dt_error_set(err, DT_ERR_NOMEM, "PE: out of memory");
        h = dt_view_make(buf, dt_as_read(as, base, buf, need));
    }
    pe->mapped = true;
    pe->as = as;
    pe->base = base;
    dt_status st = parse_headers(pe, h, err);
    free(buf);
    if (st != DT_OK) {
        dt_pe_close(pe);
        return st;
    }
    pe->mapped = true;
    return DT_OK;
}

void dt_pe_close(dt_pe *pe)
{
    free(pe->sections);
    free(pe->exports);
    free(pe->exports_by_rva);
    free(pe->export_strings);
    memset(pe, 0, sizeof *pe);
}

void dt_pe_code_id(const dt_pe *pe, char out[32])
{
    snprintf(out, 32, "%08X%X", pe->time_date_stamp, pe->size_of_image);
}

/* ---- CodeView ---------------------------------------------------------------- */

static void basename_into(const char *path, size_t len, char *out, size_t cap)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++)
        if (path[i] == '\\' || path[i] == '/')
            start = i + 1;
    size_t n = len - start;
    if (n >= cap)
        n = cap - 1;
    memcpy(out, path + start, n);
    out[n] = '\0';
}

dt_status dt_pe_codeview(const dt_pe *pe, char *debug_file, size_t debug_file_cap,
                         char debug_id[48], dt_error *err)
{
    if (debug_file_cap)
        debug_file[0] = '\0';
    debug_id[0] = '\0';
    if (pe->dir_count <= DT_PE_DIR_DEBUG || !pe->dirs[DT_PE_DIR_DEBUG].rva)
        return dt_error_set(err, DT_ERR_NOT_FOUND, "PE: no debug directory");
    dt_pe_dir d = pe->dirs[DT_PE_DIR_DEBUG];
    uint32_t n = d.size / 28;
    if (n > PE_MAX_DEBUG_ENTRIES)
        n = PE_MAX_DEBUG_ENTRIES;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t e[28];
        if (dt_pe_read(pe, d.rva + i * 28, e, 28) != 28)
            break;
        uint32_t type = dt_le32(e + 12), size = dt_le32(e + 16);
        uint32_t rva = dt_le32(e + 20), fileoff = dt_le32(e + 24);
        if (type != 2)
            continue;
        uint8_t cv[PE_MAX_CODEVIEW];
        if (size > sizeof cv)
            size = sizeof cv;
        size_t got = 0;
        if (rva)
            got = dt_pe_read(pe, rva, cv, size);
        if (!got && !pe->mapped) {
            dt_view tail = dt_view_tail(pe->file, fileoff);
            got = size < tail.size ? size : tail.size;
            if (got)
                memcpy(cv, tail.data, got);
        }
        dt_view v = dt_view_make(cv, got);
        uint32_t magic;
        if (!dt_view_u32(v, 0, &magic))
            continue;
        size_t name_off;
        if (magic == 0x53445352) { /* RSDS */
            uint32_t age, d1;
            uint16_t d2, d3;
            const uint8_t *g = dt_view_ptr(v, 4, 16);
            if (!g || !dt_view_u32(v, 20, &age))
                continue;
            d1 = dt_le32(g);
            d2 = dt_le16(g + 4);
            d3 = dt_le16(g + 6);
            snprintf(debug_id, 48, "%08X%04X%04X%02X%02X%02X%02X%02X%02X%02X%02X%X", d1, d2, d3,
                     g[8], g[9], g[10], g[11], g[12], g[13], g[14], g[15], age);
            name_off = 24;
        } else if (magic == 0x3031424E) { /* NB10 */
            uint32_t sig, age;
            if (!dt_view_u32(v, 8, &sig) || !dt_view_u32(v, 12, &age))
                continue;
            snprintf(debug_id, 48, "%08X%x", sig, age);
            name_off = 16;
        } else {
            continue;
        }
        dt_view name = dt_view_tail(v, name_off);
        size_t len = name.size ? strnlen((const char *)name.data, name.size) : 0;
        if (debug_file_cap && len)
            basename_into((const char *)name.data, len, debug_file, debug_file_cap);
        return DT_OK;
    }
    return dt_error_set(err, DT_ERR_NOT_FOUND, "PE: no CodeView record");
}

/* ---- exports ----------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} strbuf;

/* Appends s (with its NUL) and returns its offset, or SIZE_MAX on OOM. */
static size_t strbuf_add(strbuf *b, const char *s)
{
    size_t n = strlen(s) + 1;
    if (b->len + n > b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 4096;
        while (ncap < b->len + n)
            ncap *= 2;
        char *p = realloc(b->data, ncap);
        if (!p)
            return SIZE_MAX;
        b->data = p;
        b->cap = ncap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return b->len - n;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Reads count u32 (or u16) values at rva into a new array; count shrinks to
 * what was readable. */
static void *read_array(const dt_pe *pe, uint32_t rva, size_t elem, size_t *count)
{
    if (!*count)
        return NULL;
    uint8_t *raw = malloc(*count * elem);
    if (!raw) {
        *count = 0;
        return NULL;
    }
    size_t got = dt_pe_read(pe, rva, raw, *count * elem);
    *count = got / elem;
    return raw;
}

static dt_status load_exports(dt_pe *pe, dt_error *err)
{
    if (pe->exports_loaded)
        return DT_OK;
    pe->exports_loaded = true;
    if (pe->dir_count <= DT_PE_DIR_EXPORT || !pe->dirs[DT_PE_DIR_EXPORT].rva)
        return DT_OK;
    dt_pe_dir d = pe->dirs[DT_PE_DIR_EXPORT];
    uint8_t h[40];
    if (dt_pe_read(pe, d.rva, h, 40) != 40)
        return dt_error_set(err, DT_ERR_TRUNCATED, "PE: export directory not readable");
    uint32_t ord_base = dt_le32(h + 16);
    size_t nfunc = dt_le32(h + 20), nnames = dt_le32(h + 24);
    uint32_t funcs_rva = dt_le32(h + 28), names_rva = dt_le32(h + 32), ords_rva = dt_le32(h + 36);
    size_t image_cap = pe->size_of_image / 4;
    if (nfunc > PE_MAX_EXPORTS) nfunc = PE_MAX_EXPORTS;
    if (nfunc > image_cap) nfunc = image_cap;
    if (nnames > PE_MAX_EXPORTS) nnames = PE_MAX_EXPORTS;
    if (nnames > image_cap) nnames = image_cap;

    uint8_t *funcs = read_array(pe, funcs_rva, 4, &nfunc);
    size_t nords = nnames;
    uint8_t *names = read_array(pe, names_rva, 4, &nnames);
    uint8_t *ords = read_array(pe, ords_rva, 2, &nords);
    if (nords < nnames)
        nnames = nords;
    size_t *name_of = NULL; /* per function: offset+1 of its first name in strbuf */
    strbuf sb = { 0 };
    dt_status st = DT_OK;
    if (nfunc) {
        pe->exports = calloc(nfunc, sizeof *pe->exports);
        name_of = calloc(nfunc, sizeof *name_of);
        pe->exports_by_rva = calloc(nfunc, sizeof *pe->exports_by_rva);
        if (!pe->exports || !name_of || !pe->exports_by_rva) {
            st = dt_error_set(err, DT_ERR_NOMEM, "PE: out of memory");
            goto out;
        }
    }
    char tmp[PE_MAX_EXPORT_NAME];
    for (size_t i = 0; i < nnames; i++) {
        uint16_t idx = dt_le16(ords + i * 2);
        if (idx >= nfunc || name_of[idx])
            continue;
        if (!dt_pe_read_cstring(pe, dt_le32(names + i * 4), tmp, sizeof tmp))
            continue;
        size_t off = strbuf_add(&sb, tmp);
        if (off == SIZE_MAX) {
            st = dt_error_set(err, DT_ERR_NOMEM, "PE: out of memory");
            goto out;
        }
        name_of[idx] = off + 1;
    }
    /* Offsets now; pointers once the string buffer stops moving. */
    size_t *label_of = calloc(nfunc ? nfunc : 1, sizeof *label_of);
    size_t *fwd_of = calloc(nfunc ? nfunc : 1, sizeof *fwd_of);
    if (!label_of || !fwd_of) {
        free(label_of);
        free(fwd_of);
        st = dt_error_set(err, DT_ERR_NOMEM, "PE: out of memory");
        goto out;
    }
    for (size_t i = 0; i < nfunc; i++) {
        uint32_t rva = dt_le32(funcs + i * 4);
        dt_pe_export *e = &pe->exports[i];
        e->ordinal = ord_base + (uint32_t)i;
        e->rva = rva;
        if (name_of[i]) {
            label_of[i] = name_of[i];
        } else {
            snprintf(tmp, sizeof tmp, "#%u", e->ordinal);
            size_t off = strbuf_add(&sb, tmp);
            label_of[i] = off == SIZE_MAX ? 0 : off + 1;
        }
        bool forwarder = rva >= d.rva && rva - d.rva < d.size;
        if (forwarder && dt_pe_read_cstring(pe, rva, tmp, sizeof tmp)) {
            size_t off = strbuf_add(&sb, tmp);
            fwd_of[i] = off == SIZE_MAX ? 0 : off + 1;
        }
        if (rva && !forwarder)
            pe->exports_by_rva[pe->exports_by_rva_count++] =
                ((uint64_t)rva << 32) | ((uint64_t)(name_of[i] == 0) << 20) | i;
    }
    static const char unknown[] = "?";
    for (size_t i = 0; i < nfunc; i++) {
        dt_pe_export *e = &pe->exports[i];
        e->name = name_of[i] ? sb.data + name_of[i] - 1 : NULL;
        e->label = label_of[i] ? sb.data + label_of[i] - 1 : unknown;
        e->forwarder = fwd_of[i] ? sb.data + fwd_of[i] - 1 : NULL;
    }
    free(label_of);
    free(fwd_of);
    pe->export_count = nfunc;
    if (pe->exports_by_rva_count)
        qsort(pe->exports_by_rva, pe->exports_by_rva_count, sizeof *pe->exports_by_rva, cmp_u64);
    pe->export_strings = sb.data;
    sb.data = NULL;
out:
    free(sb.data);
    free(name_of);
    free(funcs);
    free(names);
    free(ords);
    if (st != DT_OK) {
        free(pe->exports);
        free(pe->exports_by_rva);
        pe->exports = NULL;
        pe->exports_by_rva = NULL;
        pe->export_count = pe->exports_by_rva_count = 0;
    }
    return st;
}

dt_status dt_pe_exports(dt_pe *pe, const dt_pe_export **out, size_t *count, dt_error *err)
{
    dt_status st = load_exports(pe, err);
    *out = pe->exports;
    *count = pe->export_count;
    return st;
}

bool dt_pe_export_lookup(dt_pe *pe, uint32_t rva, const char **name, uint32_t *offset)
{
    if (load_exports(pe, NULL) != DT_OK || !pe->exports_by_rva_count)
        return false;
    /* last key whose rva <= target */
    size_t lo = 0, hi = pe->exports_by_rva_count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if ((uint32_t)(pe->exports_by_rva[mid] >> 32) <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return false;
    uint32_t found = (uint32_t)(pe->exports_by_rva[lo - 1] >> 32);
    size_t first = lo - 1;
    while (first > 0 && (uint32_t)(pe->exports_by_rva[first - 1] >> 32) == found)
        first--;
    /* An export in another section (data, or code far away) explains nothing. */
    if (dt_pe_section_for_rva(pe, found) != dt_pe_section_for_rva(pe, rva))
        return false;
    const dt_pe_export *e = &pe->exports[pe->exports_by_rva[first] & 0xFFFFF];
    *name = e->label;
    *offset = rva - found;
    return true;
}

bool dt_pe_export_find(dt_pe *pe, const char *name, uint32_t *rva)
{
    if (load_exports(pe, NULL) != DT_OK)
        return false;
    for (size_t i = 0; i < pe->export_count; i++) {
        const dt_pe_export *e = &pe->exports[i];
        if (e->name && !e->forwarder && strcmp(e->name, name) == 0) {
            *rva = e->rva;
            return true;
        }
    }
    return false;
}

/* ---- x64 .pdata -------------------------------------------------------------- */

static size_t exception_count(const dt_pe *pe, uint32_t entry)
{
    if (pe->dir_count <= DT_PE_DIR_EXCEPTION)
        return 0;
    dt_pe_dir d = pe->dirs[DT_PE_DIR_EXCEPTION];
    if (!d.rva || d.rva >= pe->size_of_image)
        return 0;
    uint32_t size = d.size;
    if (size > pe->size_of_image - d.rva)
        size = pe->size_of_image - d.rva;
    return size / entry;
}

size_t dt_pe_pdata_count(const dt_pe *pe)
{
    return pe->machine == DT_PE_MACHINE_AMD64 ? exception_count(pe, 12) : 0;
}

bool dt_pe_pdata_get(const dt_pe *pe, size_t index, dt_pe_runtime_function *out)
{
    if (index >= dt_pe_pdata_count(pe))
        return false;
    uint8_t b[12];
    if (dt_pe_read(pe, pe->dirs[DT_PE_DIR_EXCEPTION].rva + (uint32_t)index * 12, b, 12) != 12)
        return false;
    out->begin = dt_le32(b);
    out->end = dt_le32(b + 4);
    out->unwind_info = dt_le32(b + 8);
    return true;
}

bool dt_pe_pdata_find(const dt_pe *pe, uint32_t rva, dt_pe_runtime_function *out)
{
    size_t lo = 0, hi = dt_pe_pdata_count(pe);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        dt_pe_runtime_function rf;
        if (!dt_pe_pdata_get(pe, mid, &rf))
            return false;  /* a missing page: the search cannot go on honestly */
        if (rva < rf.begin) {
            hi = mid;
        } else if (rva >= rf.end) {
            lo = mid + 1;
        } else {
            *out = rf;
            return true;
        }
    }
    return false;
}

bool dt_pe_resolve_runtime_function(const dt_pe *pe, dt_pe_runtime_function *rf)
{
    for (int hop = 0; hop < PE_MAX_INDIRECT_HOPS; hop++) {
        if (!(rf->unwind_info & 1))
            return true;
        uint8_t b[12];
        if (dt_pe_read(pe, rf->unwind_info & ~1u, b, 12) != 12)
            return false;
        rf->unwind_info = dt_le32(b + 8);
    }
    return false;
}

dt_status dt_pe_unwind_info(const dt_pe *pe, uint32_t rva, dt_unwind_info *out, dt_error *err)
{
    memset(out, 0, offsetof(dt_unwind_info, ops));
    out->op_count = 0;
    out->has_chain = out->has_handler = false;
    out->rva = rva;
    uint8_t h[4];
    if (dt_pe_read(pe, rva, h, 4) != 4)
        return dt_error_set(err, DT_ERR_TRUNCATED, "UNWIND_INFO at 0x%x not readable", rva);
    out->version = h[0] & 7;
    out->flags = h[0] >> 3;
    out->prolog_size = h[1];
    out->code_count = h[2];
    out->frame_reg = h[3] & 15;
    out->frame_offset = h[3] >> 4;
    out->rva = rva;
    if (out->version != 1 && out->version != 2)
        return dt_error_set(err, DT_ERR_CORRUPT, "UNWIND_INFO at 0x%x: version %u", rva, out->version);
    uint8_t codes[2 * 256];
    size_t nslots = out->code_count;
    if (dt_pe_read(pe, rva + 4, codes, nslots * 2) != nslots * 2)
        return dt_error_set(err, DT_ERR_TRUNCATED, "UNWIND_INFO at 0x%x: codes not readable", rva);
    size_t i = 0;
    while (i < nslots) {
        dt_unwind_op *op = &out->ops[out->op_count];
        op->code_offset = codes[i * 2];
        op->op = codes[i * 2 + 1] & 15;
        op->info = codes[i * 2 + 1] >> 4;
        op->value = 0;
        switch (op->op) {
        case DT_UWOP_PUSH_NONVOL:
        case DT_UWOP_PUSH_MACHFRAME:
            op->slots = 1;
            break;
        case DT_UWOP_ALLOC_SMALL:
            op->slots = 1;
            op->value = op->info * 8u + 8u;
            break;
        case DT_UWOP_SET_FPREG:
            op->slots = 1;
            op->value = out->frame_offset * 16u;
            break;
        case DT_UWOP_ALLOC_LARGE:
            if (op->info > 1)
                return dt_error_set(err, DT_ERR_CORRUPT, "UNWIND_INFO at 0x%x: ALLOC_LARGE info %u", rva, op->info);
            op->slots = op->info ? 3 : 2;
            break;
        case DT_UWOP_SAVE_NONVOL:
        case DT_UWOP_SAVE_XMM128:
        case DT_UWOP_EPILOG:
            op->slots = 2;
            break;
        case DT_UWOP_SAVE_NONVOL_FAR:
        case DT_UWOP_SAVE_XMM128_FAR:
        case DT_UWOP_SPARE:
            op->slots = 3;
            break;
        default:
            return dt_error_set(err, DT_ERR_CORRUPT, "UNWIND_INFO at 0x%x: unknown opcode %u", rva, op->op);
        }
        if (i + op->slots > nslots)
            return dt_error_set(err, DT_ERR_CORRUPT, "UNWIND_INFO at 0x%x: opcode %u runs past the codes",
                                rva, op->op);
        uint32_t s1 = op->slots > 1 ? dt_le16(codes + (i + 1) * 2) : 0;
        uint32_t s2 = op->slots > 2 ? dt_le16(codes + (i + 2) * 2) : 0;
        switch (op->op) {
        case DT_UWOP_ALLOC_LARGE:
            op->value = op->info ? (s1 | (s2 << 16)) : s1 * 8;
            break;
        case DT_UWOP_SAVE_NONVOL:
            op->value = s1 * 8;
            break;
        case DT_UWOP_SAVE_XMM128:
            op->value = s1 * 16;
            break;
        case DT_UWOP_SAVE_NONVOL_FAR:
        case DT_UWOP_SAVE_XMM128_FAR:
            op->value = s1 | (s2 << 16);
            break;
        default:
            break;
        }
        i += op->slots;
        out->op_count++;
    }
    uint32_t tail = rva + 4 + ((nslots + 1) & ~(size_t)1) * 2;
    if (out->flags & DT_UNW_FLAG_CHAININFO) {
        uint8_t b[12];
        if (dt_pe_read(pe, tail, b, 12) != 12)
            return dt_error_set(err, DT_ERR_TRUNCATED, "UNWIND_INFO at 0x%x: chained entry not readable", rva);
        out->has_chain = true;
        out->chained.begin = dt_le32(b);
        out->chained.end = dt_le32(b + 4);
        out->chained.unwind_info = dt_le32(b + 8);
    } else if (out->flags & (DT_UNW_FLAG_EHANDLER | DT_UNW_FLAG_UHANDLER)) {
        if (dt_pe_read_u32(pe, tail, &out->handler))
            out->has_handler = true;
    }
    return DT_OK;
}

/* ---- ARM64 .pdata ------------------------------------------------------------ */

size_t dt_pe_arm64_pdata_count(const dt_pe *pe)
{
    return pe->machine == DT_PE_MACHINE_ARM64 ? exception_count(pe, 8) : 0;
}

static bool arm64_entry(const dt_pe *pe, size_t index, dt_pe_arm64_function *out, bool want_length)
{
    uint8_t b[8];
    if (dt_pe_read(pe, pe->dirs[DT_PE_DIR_EXCEPTION].rva + (uint32_t)index * 8, b, 8) != 8)
        return false;
    out->begin = dt_le32(b);
    out->unwind_data = dt_le32(b + 4);
    out->length = 0;
    if (!want_length)
        return true;
    if (out->unwind_data & 3) {
        out->length = ((out->unwind_data >> 2) & 0x7FF) * 4;
    } else {
        uint32_t hdr;
        if (!dt_pe_read_u32(pe, out->unwind_data, &hdr))
            return false;
        out->length = (hdr & 0x3FFFF) * 4;
    }
    return true;
}

bool dt_pe_arm64_pdata_get(const dt_pe *pe, size_t index, dt_pe_arm64_function *out)
{
    if (index >= dt_pe_arm64_pdata_count(pe))
        return false;
    return arm64_entry(pe, index, out, true);
}

bool dt_pe_arm64_pdata_find(const dt_pe *pe, uint32_t rva, dt_pe_arm64_function *out)
{
    /* last entry with begin <= rva, then check its length */
    size_t lo = 0, hi = dt_pe_arm64_pdata_count(pe);
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        dt_pe_arm64_function f;
        if (!arm64_entry(pe, mid, &f, false))
            return false;
        if (f.begin <= rva)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return false;
    dt_pe_arm64_function f;
    if (!arm64_entry(pe, lo - 1, &f, true) || rva - f.begin >= f.length)
        return false;
    *out = f;
    return true;
}
