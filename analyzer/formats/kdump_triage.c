/*
 * kdump_triage.c — TRIAGE_DUMP64, its driver list, string pool, unloaded
 * drivers, KDBG copy and data-block table (docs/formats.md C, C.1–C.3).
 *
 * Every offset in the header is a file offset supplied by the dump; each
 * section is taken as a view clipped to the file, and every count is
 * clamped to what the file could hold.  DUMP_STRING lengths count WCHARs.
 */
#include "formats/kdump_triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TRIAGE_HDR_OFF 0x2000u
#define DRIVER_ENTRY_SIZE 0x90u
#define UNLOADED_ENTRY_SIZE 0x38u
#define BLOCK_ENTRY_SIZE 16u
#define MAX_NAME_WCHARS 512u

/* UTF-16LE → UTF-8 with every unit bounded by the view; stops at NUL. */
static size_t utf16_to_utf8(dt_view v, uint64_t off, uint64_t nchars, char *out, size_t cap)
{
    size_t o = 0;
    for (uint64_t i = 0; i < nchars; i++) {
        uint16_t c;
        if (!dt_view_u16(v, off + 2 * i, &c) || c == 0)
            break;
        uint32_t cp = c;
        if (c >= 0xD800 && c < 0xDC00) {
            uint16_t lo;
            if (i + 1 < nchars && dt_view_u16(v, off + 2 * (i + 1), &lo) && lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + (((uint32_t)c - 0xD800) << 10) + (lo - 0xDC00);
                i++;
            } else {
                cp = '?';
            }
        } else if (c >= 0xDC00 && c < 0xE000) {
            cp = '?';
        }
        if (cp < 0x20)
            cp = '?';
        char buf[4];
        size_t n;
        if (cp < 0x80) {
            buf[0] = (char)cp;
            n = 1;
        } else if (cp < 0x800) {
            buf[0] = (char)(0xC0 | (cp >> 6));
            buf[1] = (char)(0x80 | (cp & 0x3F));
            n = 2;
        } else if (cp < 0x10000) {
            buf[0] = (char)(0xE0 | (cp >> 12));
            buf[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[2] = (char)(0x80 | (cp & 0x3F));
            n = 3;
        } else {
            buf[0] = (char)(0xF0 | (cp >> 18));
            buf[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[3] = (char)(0x80 | (cp & 0x3F));
            n = 4;
        }
        if (o + n + 1 > cap)
            break;
        memcpy(out + o, buf, n);
        o += n;
    }
    if (cap)
        out[o] = 0;
    return o;
}

static dt_view section(dt_view file, uint32_t off, uint64_t len)
{
    dt_view v;
    if (off == 0 || !dt_view_sub(file, off, len, &v))
        return dt_view_make(NULL, 0);
    return v;
}

static void parse_drivers(dt_view file, dt_kdump_triage *t, dt_warnings *w)
{
    if (!t->driver_list_offset || !t->driver_count)
        return;
    bool clamped;
    uint64_t n = dt_view_clamp_count(file, t->driver_list_offset, DRIVER_ENTRY_SIZE, t->driver_count, &clamped);
    if (clamped)
        dt_warn(w, "triage driver list claims %u entries, the file holds %llu", t->driver_count,
                (unsigned long long)n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = t->driver_list_offset + i * DRIVER_ENTRY_SIZE;
        uint32_t name_off = 0, size = 0, checksum = 0, ts = 0;
        uint64_t base = 0;
        dt_view_u32(file, e, &name_off);
        dt_view_u64(file, e + 0x38, &base);
        dt_view_u32(file, e + 0x48, &size);
        dt_view_u32(file, e + 0x80, &checksum);
        dt_view_u32(file, e + 0x88, &ts);
        char name[MAX_NAME_WCHARS * 3 + 1];
        name[0] = 0;
        uint32_t len = 0;
        if (name_off && dt_view_u32(file, name_off, &len)) {
            if (len > MAX_NAME_WCHARS)
                len = MAX_NAME_WCHARS;
            utf16_to_utf8(file, (uint64_t)name_off + 4, len, name, sizeof name);
        }
        if (!name[0])
            snprintf(name, sizeof name, "driver_%llx", (unsigned long long)base);
        dt_module m = { 0 };
        m.base = base;
        m.size = size;
        m.path = strdup(name);
        m.time_date_stamp = ts;
        m.checksum = checksum;
        if (!m.path)
            continue;
        dt_module_set_code_file_from_path(&m);
        if (size)
            snprintf(m.code_id, sizeof m.code_id, "%08X%X", ts, size);
        if (!dt_module_list_add(&t->drivers, &m)) {
            free(m.path);
            free(m.code_file);
        }
    }
}

static void parse_unloaded(dt_view file, dt_kdump_triage *t, dt_warnings *w)
{
    uint32_t count = 0;
    if (!t->unloaded_offset || !dt_view_u32(file, t->unloaded_offset, &count) || count == 0)
        return;
    bool clamped;
    uint64_t n = dt_view_clamp_count(file, (uint64_t)t->unloaded_offset + 8, UNLOADED_ENTRY_SIZE, count, &clamped);
    if (n > 1024)
        n = 1024;
    if (clamped)
        dt_warn(w, "triage unloaded-driver list claims %u entries, the file holds %llu", count,
                (unsigned long long)n);
    t->unloaded = calloc(n ? n : 1, sizeof *t->unloaded);
    if (!t->unloaded)
        return;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = t->unloaded_offset + 8 + i * UNLOADED_ENTRY_SIZE;
        dt_unloaded_driver *u = &t->unloaded[t->unloaded_count++];
        uint16_t len_bytes = 0;
        dt_view_u16(file, e, &len_bytes);
        uint64_t chars = len_bytes / 2;
        if (chars > 12)
            chars = 12; /* the inline buffer holds 12 WCHARs */
        utf16_to_utf8(file, e + 0x10, chars, u->name, sizeof u->name);
        dt_view_u64(file, e + 0x28, &u->start);
        dt_view_u64(file, e + 0x30, &u->end);
    }
}

static void parse_blocks(dt_view file, dt_kdump_triage *t, dt_warnings *w)
{
    if (!t->data_blocks_offset || !t->data_blocks_count)
        return;
    bool clamped;
    uint64_t n = dt_view_clamp_count(file, t->data_blocks_offset, BLOCK_ENTRY_SIZE, t->data_blocks_count, &clamped);
    if (clamped)
        dt_warn(w, "triage data-block table claims %u blocks, the file holds %llu", t->data_blocks_count,
                (unsigned long long)n);
    t->blocks = calloc(n ? n : 1, sizeof *t->blocks);
    if (!t->blocks)
        return;
    size_t bad = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t e = t->data_blocks_offset + i * BLOCK_ENTRY_SIZE;
        uint64_t va = 0;
        uint32_t off = 0, size = 0;
        dt_view_u64(file, e, &va);
        dt_view_u32(file, e + 8, &off);
        dt_view_u32(file, e + 12, &size);
        if (size == 0 || va + size < va) {
            bad++;
            continue;
        }
        if (!dt_view_has(file, off, size)) {
            /* Keep the part the file really holds. */
            if (off >= file.size) {
                bad++;
                continue;
            }
            size = (uint32_t)(file.size - off);
            bad++;
        }
        dt_triage_block *b = &t->blocks[t->block_count++];
        b->va = va;
        b->file_offset = off;
        b->size = size;
    }
    if (bad)
        dt_warn(w, "%zu triage data blocks are empty or reach past the end of the file", bad);
}

dt_status dt_kdump_triage_parse(dt_view file, const dt_kdump *hdr, dt_kdump_triage *t, dt_warnings *w,
                                dt_error *err)
{
    memset(t, 0, sizeof *t);
    if (!hdr->is64)
        return dt_error_set(err, DT_ERR_UNSUPPORTED, "32-bit triage dumps (TRIAGE_DUMP32) are not supported");
    dt_view h;
    if (!dt_view_sub(file, TRIAGE_HDR_OFF, 0x80, &h))
        return dt_error_set(err, DT_ERR_TRUNCATED, "triage dump ends before its TRIAGE_DUMP64 header");
    uint32_t f[32];
    for (int i = 0; i < 32; i++)
        dt_view_u32(h, 4 * (uint64_t)i, &f[i]);
    t->size_of_dump = f[1];
    t->valid_offset = f[2];
    t->mm_offset = f[5];
    t->unloaded_offset = f[6];
    t->prcb_offset = f[7];
    t->process_offset = f[8];
    t->thread_offset = f[9];
    t->callstack_offset = f[10];
    t->callstack_size = f[11];
    t->driver_list_offset = f[12];
    t->driver_count = f[13];
    t->string_pool_offset = f[14];
    t->string_pool_size = f[15];
    dt_view_u64(h, 0x48, &t->top_of_stack);
    t->debugger_data_offset = f[0x70 / 4];
    t->debugger_data_size = f[0x74 / 4];
    t->data_blocks_offset = f[0x78 / 4];
    t->data_blocks_count = f[0x7C / 4];

    uint32_t valid = 0;
    t->valid_signature = t->valid_offset && dt_view_u32(file, t->valid_offset, &valid) && valid == DT_TRIAGE_VALID;
    if (!t->valid_signature)
        dt_warn(w, "triage dump lacks its 'TRGD' validity mark at 0x%x (damaged or truncated)", t->valid_offset);

    uint32_t fields = hdr->minidump_fields;
    if (t->debugger_data_offset && t->debugger_data_size) {
        t->kdbg_copy = section(file, t->debugger_data_offset, t->debugger_data_size);
        dt_error kerr = { 0 };
        if (t->kdbg_copy.size && dt_kdbg_parse(t->kdbg_copy, &t->kdbg, &kerr) == DT_OK)
            t->has_kdbg = true;
        else
            dt_warn(w, "triage KDDEBUGGER_DATA64 copy unusable: %s", kerr.message[0] ? kerr.message : "cut off");
    }
    uint64_t size_prcb = t->has_kdbg && t->kdbg.size_prcb ? t->kdbg.size_prcb : 0;
    uint64_t size_eprocess = t->has_kdbg && t->kdbg.size_eprocess ? t->kdbg.size_eprocess : 0;
    uint64_t size_ethread = t->has_kdbg && t->kdbg.size_ethread ? t->kdbg.size_ethread : 0;
    /* Without a KDBG the sizes follow from the section order (C). */
    if (!size_prcb && t->process_offset > t->prcb_offset)
        size_prcb = t->process_offset - t->prcb_offset;
    if (!size_eprocess && t->thread_offset > t->process_offset)
        size_eprocess = t->thread_offset - t->process_offset;
    if (!size_ethread && t->callstack_offset > t->thread_offset)
        size_ethread = t->callstack_offset - t->thread_offset;
    if (size_prcb > 0x40000) size_prcb = 0x40000;
    if (size_eprocess > 0x4000) size_eprocess = 0x4000;
    if (size_ethread > 0x4000) size_ethread = 0x4000;
    if (fields & 0x4)
        t->prcb = section(file, t->prcb_offset, size_prcb);
    if (fields & 0x8)
        t->eprocess = section(file, t->process_offset, size_eprocess);
    if (fields & 0x10)
        t->ethread = section(file, t->thread_offset, size_ethread);
    if (fields & 0x20) {
        t->callstack = section(file, t->callstack_offset, t->callstack_size);
        if (!t->callstack.size && t->callstack_size)
            dt_warn(w, "triage call stack (0x%x bytes at 0x%x) lies outside the file", t->callstack_size,
                    t->callstack_offset);
    }
    if (fields & 0x40)
        parse_drivers(file, t, w);
    parse_unloaded(file, t, w);
    /* dbgeng only trusts the data blocks with the basic set and the flag. */
    if ((fields & 0x800) || t->data_blocks_count)
        parse_blocks(file, t, w);
    return DT_OK;
}

void dt_kdump_triage_free(dt_kdump_triage *t)
{
    if (!t)
        return;
    free(t->blocks);
    free(t->unloaded);
    dt_module_list_free(&t->drivers);
    memset(t, 0, sizeof *t);
}
