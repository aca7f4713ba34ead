/*
 * minidump_function_table.c — the FunctionTable stream (see
 * minidump_function_table.h).
 */
#include "formats/minidump_function_table.h"

#include <stdlib.h>
#include <string.h>

void dt_md_function_tables_free(dt_md_function_tables *t)
{
    free(t->tables);
    memset(t, 0, sizeof *t);
}

dt_status dt_md_function_tables_parse(dt_view stream, dt_md_function_tables *out, dt_warnings *w, dt_error *err)
{
    memset(out, 0, sizeof *out);
    uint32_t hdr_size, desc_size, native_size, entry_size, count, pad;
    if (!dt_view_u32(stream, 0, &hdr_size) || !dt_view_u32(stream, 4, &desc_size) ||
        !dt_view_u32(stream, 8, &native_size) || !dt_view_u32(stream, 12, &entry_size) ||
        !dt_view_u32(stream, 16, &count) || !dt_view_u32(stream, 20, &pad))
        return dt_error_set(err, DT_ERR_FORMAT, "FunctionTable stream: header truncated");
    if (hdr_size < 24 || desc_size < 32 || entry_size == 0 || entry_size > 64 || native_size > 4096 ||
        pad > 64)
        return dt_error_set(err, DT_ERR_FORMAT, "FunctionTable stream: implausible header sizes");
    if (count > DT_MD_MAX_FUNCTION_TABLES) {
        if (w)
            dt_warn(w, "FunctionTable stream claims %u tables; the first %u are read", count,
                    DT_MD_MAX_FUNCTION_TABLES);
        count = DT_MD_MAX_FUNCTION_TABLES;
    }
    out->entry_size = entry_size;
    if (count && !(out->tables = calloc(count, sizeof *out->tables)))
        return dt_error_set(err, DT_ERR_NOMEM, "out of memory");
    uint64_t off = (uint64_t)hdr_size + pad;
    for (uint32_t i = 0; i < count; i++) {
        dt_md_function_table *t = &out->tables[out->count];
        uint32_t n, tpad;
        if (!dt_view_u64(stream, off, &t->min_address) || !dt_view_u64(stream, off + 8, &t->max_address) ||
            !dt_view_u64(stream, off + 16, &t->base_address) || !dt_view_u32(stream, off + 24, &n) ||
            !dt_view_u32(stream, off + 28, &tpad) || tpad > 64) {
            if (w)
                dt_warn(w, "FunctionTable stream: table %u of %u is truncated", i + 1, count);
            break;
        }
        off += desc_size;
        if (!dt_view_sub(stream, off, native_size, &t->native)) {
            if (w)
                dt_warn(w, "FunctionTable stream: table %u of %u is truncated", i + 1, count);
            break;
        }
        off += native_size;
        if (n > DT_MD_MAX_FUNCTION_ENTRIES || !dt_view_sub(stream, off, (uint64_t)n * entry_size, &t->entries)) {
            if (w)
                dt_warn(w, "FunctionTable stream: table %u claims %u entries that the stream does not hold", i + 1,
                        n);
            break;
        }
        t->entry_count = n;
        off += (uint64_t)n * entry_size + tpad;
        if (t->min_address > t->max_address) {
            if (w)
                dt_warn(w, "FunctionTable stream: table %u has an inverted range; skipped", i + 1);
            continue;
        }
        out->count++;
    }
    return DT_OK;
}

const dt_md_function_table *dt_md_function_table_for(const dt_md_function_tables *t, uint64_t addr)
{
    for (size_t i = 0; i < t->count; i++)
        if (addr >= t->tables[i].min_address && addr < t->tables[i].max_address)
            return &t->tables[i];
    return NULL;
}

bool dt_md_function_table_entry(const dt_md_function_tables *t, const dt_md_function_table *tab, uint32_t i,
                                dt_md_runtime_function *out)
{
    if (t->entry_size != 12 || i >= tab->entry_count)
        return false;
    uint64_t o = (uint64_t)i * 12;
    return dt_view_u32(tab->entries, o, &out->begin) && dt_view_u32(tab->entries, o + 4, &out->end) &&
           dt_view_u32(tab->entries, o + 8, &out->unwind_info);
}
